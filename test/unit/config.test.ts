import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ConfigError, loadConfig, parseArgv, renderConfigTable, renderEnvExample, subtensorEndpoint } from '../../src/config/load.js';
import { OPTIONS } from '../../src/config/schema.js';
import { REPO_ROOT } from '../support/programs.js';

describe('config precedence: flag > env > .env > default', () => {
  test('defaults', () => {
    const { config, sources } = loadConfig({});
    expect(config.netuid).toBe(58);
    expect(config['axon.port']).toBe(8091);
    expect(config['neuron.timeout']).toBe(30);
    expect(config['neuron.epoch_length']).toBe(360);
    expect(config['polygon.log_chunk_size']).toBe(2000);
    expect(config['blacklist.force_validator_permit']).toBe(true);
    expect(sources.netuid).toBe('default');
  });

  test('each layer overrides the one below', () => {
    const dotenv = 'AXON_PORT=1001\nWALLET_NAME=fromdotenv\nLOG_CHUNK_SIZE=500\n';
    const env = { AXON_PORT: '1002', WALLET_NAME: 'fromenv' };
    const { config, sources } = loadConfig({ argv: ['--axon.port', '1003'], env, dotenv });
    expect(config['axon.port']).toBe(1003);
    expect(sources['axon.port']).toBe('flag');
    expect(config['wallet.name']).toBe('fromenv');
    expect(sources['wallet.name']).toBe('env');
    expect(config['polygon.log_chunk_size']).toBe(500);
    expect(sources['polygon.log_chunk_size']).toBe('.env');
  });

  test('flag forms: =value, bare boolean, explicit false, --no-, dashes for underscores', () => {
    const { config } = loadConfig({
      argv: ['--netuid=3', '--neuron.axon_off', '--blacklist.force-validator-permit', 'false', '--no-marketplace.register'],
    });
    expect(config.netuid).toBe(3);
    expect(config['neuron.axon_off']).toBe(true);
    expect(config['blacklist.force_validator_permit']).toBe(false);
    expect(config['marketplace.register']).toBe(false);
  });

  test('lists: comma-separated env, repeated flags', () => {
    const a = loadConfig({ env: { POLYGON_RPC_URL: 'http://a, http://b,,' } });
    expect(a.config['polygon.rpc_url']).toEqual(['http://a', 'http://b']);
    const b = loadConfig({ argv: ['--polygon.rpc_url', 'http://x', '--polygon.rpc_url=http://y,http://z'] });
    expect(b.config['polygon.rpc_url']).toEqual(['http://x', 'http://y', 'http://z']);
  });

  test('~ expands to the home directory', () => {
    const { config } = loadConfig({ homeDir: '/home/u' });
    expect(config['wallet.path']).toBe('/home/u/.bittensor/wallets');
  });

  test('extra flags and positionals are returned', () => {
    const { rest } = loadConfig({ argv: ['import', '--block-hash', '0xab', '--flagonly'], extraFlags: ['block-hash', 'flagonly'] });
    expect(rest.positional).toEqual(['import']);
    expect(rest.extra).toEqual({ 'block-hash': '0xab', flagonly: true });
  });
});

describe('bad values name the flag or variable and what is accepted', () => {
  const cases: [Parameters<typeof loadConfig>[0], RegExp][] = [
    [{ argv: ['--netuid', 'abc'] }, /--netuid: "abc" is not valid; expected an integer from 0 to 65535/],
    [{ env: { AXON_PORT: '70000' } }, /AXON_PORT \(environment\): "70000" is not valid; expected an integer from 1 to 65535/],
    [{ dotenv: 'LOG_CHUNK_SIZE=0\n' }, /LOG_CHUNK_SIZE \(.env file\).*at least 1|LOG_CHUNK_SIZE \(.env file\).*from 1/],
    [
      { argv: ['--subtensor.network', 'mainnet'] },
      /--subtensor.network: "mainnet" is not valid; expected one of finney, test, archive, local, latent-lite, or a ws:\/\/ or wss:\/\/ URL/,
    ],
    [{ argv: ['--neuron.timeout', '1e999'] }, /--neuron.timeout/],
    [{ argv: ['--neuron.axon_off=maybe'] }, /--neuron.axon_off: "maybe" is not valid; expected true or false/],
    [{ argv: ['--netuid'] }, /--netuid needs a value/],
    [{ argv: ['--wallet.nmae', 'x'] }, /unknown flag --wallet.nmae; did you mean --wallet.name\?/],
    [{ argv: ['--no-netuid'] }, /only boolean flags can be negated/],
  ];
  for (const [input, re] of cases) {
    test(JSON.stringify(input), () => {
      expect(() => loadConfig(input)).toThrow(ConfigError);
      expect(() => loadConfig(input)).toThrow(re);
    });
  }

  test('secrets are refused on the command line and never echoed', () => {
    expect(() => parseArgv(['--polygon.private_key', '0xdead'])).toThrow(/set POLYGON_PRIVATE_KEY in the environment or .env instead/);
    let message = '';
    try {
      loadConfig({ env: { REDIS_URL: 'redis://:hunter2@h' }, argv: ['--netuid', 'bad'] });
    } catch (err) {
      message = String(err);
    }
    expect(message).toMatch(/--netuid/);
    expect(message).not.toMatch(/hunter2/);
  });

  test('a bad chain endpoint names the flag', () => {
    expect(() => subtensorEndpoint({ 'subtensor.network': 'local', 'subtensor.chain_endpoint': 'http://x' })).toThrow(/--subtensor.chain_endpoint/);
    expect(subtensorEndpoint({ 'subtensor.network': 'local', 'subtensor.chain_endpoint': null })).toBe('ws://127.0.0.1:9944');
    expect(subtensorEndpoint({ 'subtensor.network': 'finney', 'subtensor.chain_endpoint': null })).toMatch(/^wss:\/\/entrypoint-finney/);
  });
});

describe('.env.example', () => {
  test('agrees with the schema (regenerate with `npm run gen:docs`)', () => {
    const onDisk = readFileSync(path.join(REPO_ROOT, '.env.example'), 'utf8');
    expect(onDisk).toBe(renderEnvExample());
  });

  test('the per-daemon examples in config/ agree with the schema', () => {
    for (const role of ['miner', 'validator'] as const) {
      expect(readFileSync(path.join(REPO_ROOT, 'config', `${role}.env.example`), 'utf8')).toBe(renderEnvExample(role));
    }
    expect(renderEnvExample('miner')).toContain('POLYGON_PRIVATE_KEY');
    expect(renderEnvExample('miner')).not.toContain('LOG_CHUNK_SIZE');
    expect(renderEnvExample('validator')).toContain('LOG_CHUNK_SIZE');
  });

  test('lists every env var of the Python daemons', () => {
    const all = new Set(Object.values(OPTIONS).flatMap((o) => [...((o as { env?: readonly string[] }).env ?? [])]));
    for (const v of [
      'NEURON_TYPE',
      'WALLET_NAME',
      'HOTKEY_NAME',
      'BT_HOTKEY_B64',
      'BT_COLDKEYPUB_B64',
      'BT_COLDKEY_B64',
      'POLYGON_WALLET',
      'POLYGON_PRIVATE_KEY',
      'API_URL',
      'MARKETPLACE_URL',
      'POLYGON_RPC_URL',
      'LOG_CHUNK_SIZE',
      'REGISTRY_URLS',
      'VALIDATOR_SECRET',
      'AXON_PORT',
      'AXON_EXTERNAL_IP',
      'AXON_EXTERNAL_PORT',
      'REDIS_URL',
    ]) {
      expect(all.has(v), v).toBe(true);
    }
  });
});

describe('README', () => {
  test('its config table is the schema’s (regenerate with `npm run gen:docs`)', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(renderConfigTable());
  });
});
