/** How every daemon reads its settings (src/cli/daemonConfig.ts): options, short flags, the command's own flags. */
import { describe, expect, test } from 'vitest';
import { intFlag, loadDaemonConfig, logLevel } from '../../src/cli/daemonConfig.js';

const ctx = (argv: string[], env: Record<string, string> = {}, dotenv?: string) => ({ argv, env, dotenv, homeDir: '/home/op' });
const SHORT = { 'dry-run': 'neuron.dry_run', worker: 'neuron.worker' } as const;

describe('loadDaemonConfig', () => {
  test('flag > env > .env > default, with where each value came from', () => {
    const d = loadDaemonConfig(ctx(['--netuid', '7'], { NETUID: '8', AXON_PORT: '9001' }, 'AXON_PORT=9002\nMETRICS_PORT=9200\n'));
    expect(d.config).toMatchObject({ netuid: 7, 'axon.port': 9001, 'metrics.port': 9200 });
    expect(d.sources).toMatchObject({ netuid: 'flag', 'axon.port': 'env', 'metrics.port': '.env', 'neuron.timeout': 'default' });
    expect(d.positional).toEqual([]);
  });

  test('short flags set their boolean option, bare or with a value; a bad value names the flag', () => {
    expect(loadDaemonConfig(ctx(['--dry-run']), { shortFlags: SHORT }).config['neuron.dry_run']).toBe(true);
    expect(loadDaemonConfig(ctx(['--worker', 'yes']), { shortFlags: SHORT }).config['neuron.worker']).toBe(true);
    expect(loadDaemonConfig(ctx(['--dry-run', 'off'], { DRY_RUN: 'true' }), { shortFlags: SHORT }).config['neuron.dry_run']).toBe(false);
    expect(() => loadDaemonConfig(ctx(['--dry-run', 'maybe']), { shortFlags: SHORT })).toThrow('--dry-run: expected true or false, got "maybe".');
    // Without them declared, a short flag is an unknown flag.
    expect(() => loadDaemonConfig(ctx(['--dry-run']))).toThrow(/unknown flag --dry-run/);
  });

  test("the command's own flags come back in extra, the other arguments in positional", () => {
    const d = loadDaemonConfig(ctx(['--epochs', '3', 'extra-arg', '--miners', '2']), { extraFlags: ['epochs', 'miners'] });
    expect(d.extra).toEqual({ epochs: '3', miners: '2' });
    expect(d.positional).toEqual(['extra-arg']);
  });
});

describe('intFlag and logLevel', () => {
  test('an integer flag within its range; a missing value or another text names the flag and the range', () => {
    expect(intFlag({ 'rehearse.port': '40123' }, 'rehearse.port', 0, 65535)).toBe(40123);
    expect(intFlag({}, 'rehearse.port', 0, 65535)).toBeUndefined();
    expect(() => intFlag({ 'rehearse.port': '70000' }, 'rehearse.port', 0, 65535)).toThrow(
      '--rehearse.port: "70000" is not valid; expected an integer from 0 to 65535.',
    );
    expect(() => intFlag({ 'rehearse.block': true }, 'rehearse.block', 0, 10)).toThrow('--rehearse.block: needs a value; expected an integer from 0 to 10.');
  });

  test('--logging.trace over --logging.debug over --logging.info over LOG_LEVEL over info', () => {
    const none = { 'logging.trace': false, 'logging.debug': false, 'logging.info': false, 'logging.level': null };
    expect(logLevel({ ...none, 'logging.trace': true, 'logging.debug': true })).toBe('trace');
    expect(logLevel({ ...none, 'logging.debug': true })).toBe('debug');
    expect(logLevel(none)).toBe('info');
    expect(logLevel({ ...none, 'logging.level': 'warn' })).toBe('warn');
    expect(logLevel({ ...none, 'logging.level': 'warn', 'logging.info': true })).toBe('info');
    expect(logLevel({ ...none, 'logging.level': 'error', 'logging.debug': true })).toBe('debug');
  });
});
