/** The one table of exit codes (src/cli/exitCodes.ts) and what a daemon says and logs when an error ends it. */
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { EXIT, exitCodeFor, exitOnError, isConfigProblem } from '../../src/cli/exitCodes.js';
import { ConfigError } from '../../src/config/load.js';
import { Hs58Error } from '../../src/errors.js';
import { RegistryError } from '../../src/marketplace/providers.js';
import { AddressGuardError } from '../../src/miner/addressGuard.js';
import { createLogger } from '../../src/observability/logger.js';
import { ForkError } from '../../src/rehearse/fork.js';
import { WalletError } from '../../src/wallet/errors.js';

const aborted = () => {
  const c = new AbortController();
  c.abort(new Error('received SIGTERM'));
  return c.signal;
};

function capture() {
  const chunks: string[] = [];
  return { stream: new Writable({ write: (c, _e, done) => (chunks.push(String(c)), done()) }), text: () => chunks.join('') };
}

describe('exitCodeFor', () => {
  test.each([
    [new ConfigError('CONFIG_INVALID', 'x'), 2],
    [new ConfigError('CONFIG_UNKNOWN_FLAG', 'x'), 2],
    [new WalletError('WALLET_FILE_MISSING', 'x'), 2],
    [new WalletError('POLYGON_KEY_INVALID', 'x'), 2],
    [new WalletError('POLYGON_WALLET_MISMATCH', 'x'), 2],
    [new AddressGuardError('ADDRESS_GUARD_BAD_ALLOW_ENTRY', 'x'), 2],
    [new RegistryError('REGISTRY_BAD_URL', 'x'), 2],
    [new ForkError('CHOPSTICKS_MISSING', 'x'), 2],
    [new Hs58Error('CHAIN_SPEC_NOT_FOUND', 'x'), 2],
    [new Hs58Error('CHAIN_SPEC_MISSING', 'x'), 1],
    [new WalletError('WALLET_CRYPTO_NOT_READY', 'x'), 1],
    [new ForkError('NOT_A_FORK', 'x'), 1],
    [new Hs58Error('REDIS_UNAVAILABLE', 'x'), 1],
    [new Hs58Error('POLYGON_RPC_FAILED', 'x'), 1],
    [new Error('a bug'), 1],
    ['a string', 1],
  ])('%s → %i', (err, code) => {
    expect(exitCodeFor(err)).toBe(code);
    expect(isConfigProblem(err)).toBe(code === 2);
  });

  test('after the signal: a daemon exits 0, a one-shot command 130; a configuration problem stays 2', () => {
    expect(exitCodeFor(new Error('socket closed'), { signal: aborted(), code: EXIT.ok })).toBe(0);
    expect(exitCodeFor(new Error('socket closed'), { signal: aborted(), code: EXIT.interrupted })).toBe(130);
    expect(exitCodeFor(new ConfigError('CONFIG_INVALID', 'x'), { signal: aborted(), code: EXIT.interrupted })).toBe(2);
    expect(exitCodeFor(new Error('socket closed'), { signal: new AbortController().signal, code: EXIT.ok })).toBe(1);
  });
});

/** exitOnError as a daemon calls it: what it returned, said on stderr and logged. */
function exitWith(command: string, err: unknown, signal: AbortSignal, options: Omit<Parameters<typeof exitOnError>[3], 'logger'> = {}) {
  const stderr = capture();
  const log = capture();
  const code = exitOnError({ stderr: stderr.stream, signal }, command, err, { ...options, logger: createLogger({ level: 'trace', destination: log.stream }) });
  return { code, stderr: stderr.text(), log: log.text() };
}

describe('exitOnError', () => {
  test('a configuration problem: its message alone on stderr, nothing logged, exit 2', () => {
    const r = exitWith('miner', new ConfigError('CONFIG_INVALID', '--axon.port: "http" is not valid'), new AbortController().signal);
    expect(r).toEqual({ code: 2, stderr: 'hs58 miner: --axon.port: "http" is not valid\n', log: '' });
  });

  test('a failure: its code and message on stderr, logged as "<command> stopped", exit 1', () => {
    const r = exitWith('validator', new Hs58Error('REDIS_UNAVAILABLE', 'no Redis within 60 s'), new AbortController().signal);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('hs58 validator: REDIS_UNAVAILABLE: no Redis within 60 s\n');
    expect(r.log).toContain('validator stopped');
    expect(r.log).toContain('REDIS_UNAVAILABLE: no Redis within 60 s');
  });

  test('an endpoint with credentials in the message reaches neither stderr nor the log', () => {
    const failed = exitWith(
      'validator',
      new Hs58Error('CONNECT_FAILED', 'no answer from wss://op:pa55@node.example/SECRETPATH?key=K3Y'),
      new AbortController().signal,
    );
    const config = exitWith(
      'miner',
      new ConfigError('CONFIG_INVALID', '--redis.url redis://:pa55@r.example:6379/0?key=K3Y is not reachable'),
      new AbortController().signal,
    );
    for (const r of [failed, config]) {
      expect(r.stderr).toMatch(/\.example/);
      expect(`${r.stderr}${r.log}`).not.toMatch(/pa55|SECRETPATH|K3Y/);
    }
  });

  test("stopped by the signal: nothing on stderr, the stop logged, the command's stop code", () => {
    const daemon = exitWith('validator', new Error('aborted'), aborted(), { stoppedMessage: 'stopped by signal' });
    expect(daemon).toEqual({ code: 0, stderr: '', log: expect.stringContaining('stopped by signal') });
    expect(exitWith('rehearse', new Error('aborted'), aborted(), { stoppedCode: EXIT.interrupted })).toEqual({ code: 130, stderr: '', log: '' });
  });
});
