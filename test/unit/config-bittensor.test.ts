/**
 * Operators come from the Python daemons and btcli: the bittensor SDK's env vars (`BT_*`) are read
 * where they mean the same as ours, with a documented precedence (flag > the HS58 daemons' name >
 * the SDK's `BT_*` name > .env > default); the Python daemons' flags that mean nothing here are
 * accepted with one notice; `--subtensor.network` takes what the SDK takes; the log level comes
 * from `--logging.*` or LOG_LEVEL and the format follows the terminal.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { logFormat, logLevel, loadDaemonConfig } from '../../src/cli/daemonConfig.js';
import { loadConfig, NETWORK_ENDPOINTS, subtensorEndpoint } from '../../src/config/load.js';
import { startMiner } from '../../neurons/miner.js';
import { runCommand } from '../support/cli.js';

const load = (argv: string[], env: Record<string, string> = {}, dotenv?: string) => loadDaemonConfig({ argv, env, dotenv, homeDir: '/home/op' });

describe("the bittensor SDK's environment", () => {
  test.each([
    ['BT_WALLET_NAME', 'wallet.name', 'cold'],
    ['BT_WALLET_HOTKEY', 'wallet.hotkey', 'hot'],
    ['BT_WALLET_PATH', 'wallet.path', '/srv/wallets'],
    ['BT_SUBTENSOR_NETWORK', 'subtensor.network', 'test'],
    ['BT_SUBTENSOR_CHAIN_ENDPOINT', 'subtensor.chain_endpoint', 'ws://10.0.0.9:9944'],
    ['BT_AXON_PORT', 'axon.port', 8099],
    ['BT_AXON_IP', 'axon.ip', '127.0.0.1'],
    ['BT_AXON_EXTERNAL_IP', 'axon.external_ip', 'miner.example.org'],
    ['BT_AXON_EXTERNAL_PORT', 'axon.external_port', 18091],
    ['BT_LOGGING_DEBUG', 'logging.debug', true],
    ['BT_LOGGING_TRACE', 'logging.trace', true],
    ['BT_LOGGING_INFO', 'logging.info', true],
  ] as const)('%s sets --%s', (env, option, value) => {
    const { config, sources } = load([], { [env]: String(value) });
    expect(config[option]).toEqual(value);
    expect(sources[option]).toBe('env');
  });

  test('precedence: flag > the HS58 name > the BT_ name > .env > default', () => {
    const dotenv = 'WALLET_NAME=from-dotenv\n';
    expect(load([], {}, dotenv).config['wallet.name']).toBe('from-dotenv');
    expect(load([], { BT_WALLET_NAME: 'bt' }, dotenv).config['wallet.name']).toBe('bt');
    expect(load([], { BT_WALLET_NAME: 'bt', WALLET_NAME: 'hs58' }, dotenv).config['wallet.name']).toBe('hs58');
    expect(load(['--wallet.name', 'flag'], { BT_WALLET_NAME: 'bt', WALLET_NAME: 'hs58' }, dotenv).config['wallet.name']).toBe('flag');
    expect(load([]).config['wallet.name']).toBe('default');
  });

  test('a bad BT_ value names that variable', () => {
    expect(() => load([], { BT_AXON_PORT: 'eighty' })).toThrow('BT_AXON_PORT (environment): "eighty" is not valid; expected an integer from 1 to 65535.');
  });
});

describe("the Python daemons' flags", () => {
  test('flags that mean nothing here are accepted, with their values, and named in one notice', () => {
    const r = load([
      '--netuid',
      '58',
      '--neuron.device',
      'cuda',
      '--no_prompt',
      '--wandb.off',
      'true',
      '--config',
      '/etc/x.yml',
      '--logging.record_log',
      '--neuron.name=validator',
      '--axon.port',
      '8092',
    ]);
    expect(r.config.netuid).toBe(58);
    expect(r.config['axon.port']).toBe(8092);
    expect(r.positional).toEqual([]);
    expect(r.notices).toEqual([
      'accepted for compatibility with the Python daemons and ignored (no meaning here): --neuron.device cuda, --no_prompt, --wandb.off true, --config /etc/x.yml, --logging.record_log, --neuron.name=validator',
    ]);
    expect(load(['--netuid', '58']).notices).toEqual([]);
  });

  test('the logging flags are ours: --logging.debug, --logging.trace, --logging.info', () => {
    expect(logLevel(load(['--logging.debug']).config)).toBe('debug');
    expect(logLevel(load(['--logging.trace']).config)).toBe('trace');
    expect(logLevel(load(['--logging.info'], { LOG_LEVEL: 'warn' }).config)).toBe('info');
    expect(logLevel(load([], { LOG_LEVEL: 'warn' }).config)).toBe('warn');
    expect(() => load([], { LOG_LEVEL: 'loud' })).toThrow('LOG_LEVEL (environment): "loud" is not valid; expected one of trace, debug, info, warn, error.');
  });

  test('a truly unknown flag is still refused with a suggestion', () => {
    expect(() => load(['--neuron.timout', '5'])).toThrow('unknown flag --neuron.timout; did you mean --neuron.timeout?');
  });
});

describe('--subtensor.network as the SDK takes it', () => {
  test.each([
    ['finney', 'wss://entrypoint-finney.opentensor.ai:443'],
    ['test', 'wss://test.finney.opentensor.ai:443'],
    ['archive', 'wss://archive.chain.opentensor.ai:443'],
    ['local', 'ws://127.0.0.1:9944'],
    ['latent-lite', 'wss://lite.sub.latent.to:443'],
    ['wss://my-node.example:9944', 'wss://my-node.example:9944'],
    ['ws://10.1.2.3:9944', 'ws://10.1.2.3:9944'],
  ])('%s → %s', (network, endpoint) => {
    expect(subtensorEndpoint(loadConfig({ argv: ['--subtensor.network', network] }).config)).toBe(endpoint);
  });

  test('the five names are the SDK 10.5 NETWORK_MAP; anything else is refused with the accepted forms', () => {
    expect(Object.keys(NETWORK_ENDPOINTS)).toEqual(['finney', 'test', 'archive', 'local', 'latent-lite']);
    expect(() => loadConfig({ argv: ['--subtensor.network', 'https://node.example'] })).toThrow(
      /expected one of finney, test, archive, local, latent-lite, or a ws:\/\/ or wss:\/\/ URL/,
    );
  });
});

describe('log format', () => {
  const tty = Object.assign(new PassThrough(), { isTTY: true });
  const pipe = new PassThrough();
  test('auto: readable lines with colours on a terminal, JSON elsewhere; NO_COLOR and LOG_FORMAT are obeyed', () => {
    const auto = load([]).config;
    expect(logFormat(auto, { stdout: tty, env: {} })).toEqual({ format: 'pretty', colors: true });
    expect(logFormat(auto, { stdout: tty, env: { NO_COLOR: '1' } })).toEqual({ format: 'pretty', colors: false });
    expect(logFormat(auto, { stdout: pipe, env: {} })).toEqual({ format: 'json', colors: false });
    expect(logFormat(load([], { LOG_FORMAT: 'json' }).config, { stdout: tty, env: {} })).toEqual({ format: 'json', colors: false });
    expect(logFormat(load(['--logging.format', 'pretty']).config, { stdout: pipe, env: {} })).toEqual({ format: 'pretty', colors: false });
  });

  test("a miner started with a Python miner's flags and env writes readable lines (here it stops at the missing wallet)", async () => {
    const r = await runCommand(
      (ctx) => startMiner(ctx, {}),
      [
        '--netuid',
        '58',
        '--wallet.name',
        'nowhere',
        '--wallet.hotkey',
        'default',
        '--logging.debug',
        '--neuron.device',
        'cpu',
        '--no_prompt',
        '--metrics.port',
        '0',
      ],
      { env: { BT_WALLET_PATH: '/nonexistent/wallets', BT_AXON_PORT: '18092', LOG_FORMAT: 'pretty' } },
    );
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}hs58-miner accepted for compatibility with the Python daemons and ignored \(no meaning here\): --neuron\.device cpu, --no_prompt$/m,
    );
    expect(r.stdout).not.toMatch(/^\{/m);
    expect(r.stderr).toContain('/nonexistent/wallets/nowhere');
  });
});
