import { PassThrough } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { Command } from '../../src/cli/context.js';

async function run(argv: string[], build?: { version: string; commit: string; node: string }) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const started: string[] = [];
  const daemon =
    (name: string): (() => Promise<Command>) =>
    async () =>
    async () => (started.push(name), 0);
  const code = await runCli(
    { argv, env: {}, cwd: '/', homeDir: '/nonexistent', stdout: out, stderr: err, signal: new AbortController().signal, build },
    { daemons: { miner: daemon('miner'), validator: daemon('validator'), localnet: daemon('localnet'), rehearse: daemon('rehearse') } },
  );
  return { code, stdout, stderr, started };
}

describe('the hs58 dispatcher', () => {
  test("each daemon's help lists its own flags only, grouped, within 100 columns", async () => {
    const miner = (await run(['miner', '--help'])).stdout;
    const validator = (await run(['validator', '--help'])).stdout;
    for (const text of [miner, validator]) {
      for (const line of text.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
      expect(text).toContain('  Subnet, chain and wallet:');
      expect(text).toContain('--wallet.hotkey TEXT');
      expect(text).toContain('  Logs, health and metrics:');
    }
    expect(miner).toContain('  Axon (what validators call):');
    expect(miner).toContain('--axon.port N');
    expect(miner).toContain('POLYGON_PRIVATE_KEY');
    for (const other of ['--polygon.rpc_url', '--dry-run', '--scoring.preset', '--redis.url']) expect(miner).not.toContain(other);
    expect(validator).toMatch(/^ {4}--dry-run {2,}everything but the submission/m);
    expect(validator).toMatch(/^ {4}--worker {2,}take proof and probe jobs from Redis/m);
    for (const own of ['--polygon.rpc_url A,B', '--scoring.preset', '--redis.url TEXT', 'VALIDATOR_SECRET']) expect(validator).toContain(own);
    for (const other of ['--axon.port', '--probe.timeout_ms', 'POLYGON_PRIVATE_KEY']) expect(validator).not.toContain(other);
  });

  test('`hs58 --version` prints the version, the commit it was built from and the Node.js running it', async () => {
    const r = await run(['--version'], { version: '0.1.0', commit: 'abc123def456', node: 'v24.22.3' });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('hs58 0.1.0 (commit abc123def456, node v24.22.3)\n');
    expect((await run(['-V'])).stdout).toBe('hs58 unknown (commit unknown, node unknown)\n');
  });

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
