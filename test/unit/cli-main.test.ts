import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { Command } from '../../src/cli/context.js';

async function run(argv: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const started: string[] = [];
  const daemon = (name: string): (() => Promise<Command>) => async () => async () => (started.push(name), 0);
  const code = await runCli(
    { argv, env: {}, cwd: '/', homeDir: '/nonexistent', stdout: out, stderr: err, signal: new AbortController().signal },
    { daemons: { miner: daemon('miner'), validator: daemon('validator'), localnet: daemon('localnet'), rehearse: daemon('rehearse') } },
  );
  return { code, stdout, stderr, started };
}

describe('the hs58 dispatcher', () => {
  test('`hs58 --help` lists the commands and the config flags; no command is exit 2', async () => {
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    for (const c of ['miner', 'validator', 'localnet', 'rehearse', 'wallet', 'sample', 'weights', 'scan']) expect(help.stdout).toContain(`  ${c} `);
    expect(help.stdout).toContain('--wallet.name');
    expect((await run([])).code).toBe(2);
  });

  test.for(['miner', 'validator', 'localnet', 'rehearse'])('`hs58 %s --help` prints its usage and starts nothing', async (name) => {
    for (const flag of ['--help', '-h']) {
      const r = await run([name, '--netuid', '58', flag]);
      expect(r.code).toBe(0);
      expect(r.started).toEqual([]);
      expect(r.stdout).toContain(`Usage: hs58 ${name} [flags]`);
      expect(r.stdout).toContain('--subtensor.network');
      expect(r.stdout.includes('--epochs N')).toBe(name === 'localnet');
      expect(r.stdout.includes('--rehearse.block N')).toBe(name === 'rehearse');
    }
    expect((await run([name])).started).toEqual([name]);
  });

  test('an unknown command names itself and exits 2', async () => {
    const r = await run(['minr']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "minr"');
  });
});
