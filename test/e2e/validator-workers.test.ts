/**
 * The validator with other processes, on ONE local network whose axons are on chain at loopback
 * addresses (so processes without the in-process address mapping reach them): three TypeScript
 * miner daemons and a miner built on the REAL bittensor Python axon (test/interop/python_miner.py,
 * its hotkey loaded from wallet files our code wrote, its wallet proof signed by eth_account).
 *
 * - `hs58 validator --dry-run` (the real CLI, a child process) prints the weight table it would
 *   set and sets nothing: the validator's row on chain stays empty.
 * - The TypeScript validator's dendrite queries the Python axon; its proof, claims and probes are credited.
 * - Redis mode with two `hs58 validator --neuron.worker` processes sets the same weights as in-process mode.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, test } from 'vitest';
import { validatorQueueName } from '../../src/validator/jobs.js';
import { exited, lineReader, lineWith } from '../support/childLines.js';
import { startPythonMiner } from '../support/pythonMiner.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { deadline, expectedRewards, expectedWeightRow, expectWeightRow, withLocalNetwork, type MinerFacts } from '../support/validatorNet.js';

const EPOCH_LENGTH = 3;
const PY_CLAIMS_USDC = 12;

interface PythonMiner {
  uid: number;
  wallet: string;
  stats(): Promise<{ ProviderCheck: number; ProviderProbe: number; dendrites: string[] }>;
  stop(): Promise<void>;
}

let python: PythonMiner | null = null;
let pythonSkip: string | null = null;
const children: ChildProcess[] = [];

/** `node bin/hs58.js …` with a clean environment (no .env of the developer's). */
function hs58(args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/hs58.js'), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: os.tmpdir(), HS58_ENV_FILE: path.join(os.tmpdir(), 'hs58-no-such.env'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr!.resume();
  children.push(child);
  return child;
}

const fx = withLocalNetwork(
  {
    miners: 3,
    claimsUsdc: [20, 5, 0],
    withoutWallet: [2],
    providers: [
      { id: 'alpha', behaviour: 'healthy' },
      { id: 'beta', behaviour: 'slow', delayMs: 300 },
      { id: 'omega', behaviour: 'down' },
    ],
    extraHotkeys: ['python'],
    axonAddressing: 'loopback',
    blockIntervalMs: 1000,
  },
  async (net) => {
    const { python: py, reason } = requireInteropPython();
    if (reason || !py) {
      pythonSkip = reason ?? 'no interop Python';
      return;
    }
    const account = await net.polygonAccount(2);
    await net.pay(account, PY_CLAIMS_USDC);
    const miner = await startPythonMiner<{ hotkey: string; wallet: string }, Awaited<ReturnType<PythonMiner['stats']>>>(net, {
      python: py,
      hotkeyName: 'python',
      probeBase: `${net.providers[0]!.probeUrl.replace('/health', '')}`,
      env: { POLYGON_PRIVATE_KEY: `0x${Buffer.from(account.getHdKey().privateKey!).toString('hex')}` },
    });
    children.push(miner.child);
    expect(miner.ready.hotkey).toBe(net.hotkeys.python);
    python = { uid: miner.uid, wallet: miner.ready.wallet.toLowerCase(), stats: miner.stats, stop: miner.stop };
  },
);

afterAll(async () => {
  await python?.stop();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

function scenario(): MinerFacts[] {
  const { net } = fx;
  const wallet = (i: number) => net.minerWallets[i]!.address.toLowerCase();
  const facts: MinerFacts[] = [
    { uid: net.uids.miner1!, provenWallet: wallet(0), answersProbes: true },
    { uid: net.uids.miner2!, provenWallet: wallet(1), answersProbes: true },
    { uid: net.uids.miner3!, provenWallet: null, answersProbes: true },
  ];
  if (python) facts.push({ uid: python.uid, provenWallet: python.wallet, answersProbes: true });
  return facts;
}

function allUids(): number[] {
  return Object.values(fx.net.uids)
    .concat(0)
    .sort((a, b) => a - b);
}

const newStatePath = () => mkdtemp(path.join(fx.net.workDir, 'validator-state-'));
const argv = async (extra: string[] = []) => [
  ...fx.net.validatorArgv({ preset: 'hs58', statePath: await newStatePath(), epochLength: EPOCH_LENGTH, timeoutSec: 4, probesPerRound: 2 }),
  ...extra,
];

/** The in-process run's row, which the Redis run must reproduce. */
let inProcessRow: Map<number, number> | null = null;

async function runInProcess(): Promise<Map<number, number>> {
  const { code, rounds } = await fx.net.runValidator({ argv: await argv(), maxRounds: 2, signal: deadline() });
  expect(code).toBe(0);
  expect(rounds).toHaveLength(2);
  for (const r of rounds) expect(r.report.failedSteps, `round ${r.round}`).toEqual([]);
  return fx.net.weightsOnChain();
}

describe('the validator with other processes: the CLI, the Python axon, Redis workers', () => {
  test('hs58 validator --dry-run prints the weight table it would set and sets no weights', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    const { net } = fx;
    expect(await net.weightsOnChain()).toEqual(new Map());
    const child = hs58(['validator', '--dry-run', ...(await argv())]);
    const out = lineReader(child);
    const uids = allUids();
    await out.waitFor(
      (lines) => (lines.some((l) => l.startsWith('round at block')) && tableRows(lines).size >= uids.length ? true : undefined),
      'the dry-run table',
    );
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);

    const rows = tableRows(out.lines);
    expect([...rows.keys()].sort((a, b) => a - b)).toEqual(uids);
    // Round 1 from a fresh state: the weights are the rewards, max-upscaled.
    expectWeightRow(new Map([...rows].map(([uid, r]) => [uid, r.weight])), expectedWeightRow(expectedRewards('hs58', scenario(), net.claimed)), uids);
    expect(rows.get(net.uids.miner1!)!.proof).toBe('yes');
    expect(rows.get(net.uids.miner3!)!.proof).toBe('no');
    expect(rows.get(net.uids.miner1!)!.claims).toBeCloseTo(20, 6);
    // Nothing was set: the validator's row on chain is still empty.
    await net.chain.newBlock();
    expect(await net.weightsOnChain()).toEqual(new Map());
  });

  test('a miner on the Python bittensor axon answers the TypeScript dendrite: its proof, claims and probes are credited', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    if (!python) return ctx.skip(pythonSkip ?? 'no Python miner');
    const { net } = fx;
    const before = await python.stats();
    const { code, rounds } = await net.runValidator({ argv: await argv(), maxRounds: 2, signal: deadline() });
    expect(code).toBe(0);
    const last = rounds.at(-1)!;
    const row = last.report.rows.find((r) => r.uid === python!.uid)!;
    expect(row.answered).toBe(true);
    expect(row.proof).toBe(true);
    expect(row.wallet).toBe(python.wallet);
    expect(row.claims).toBe(BigInt(PY_CLAIMS_USDC * 1e6));
    expect(row.probeAccuracy).toBeCloseTo(1, 6);
    const after = await python.stats();
    expect(after.ProviderCheck - before.ProviderCheck).toBe(2);
    expect(after.ProviderProbe - before.ProviderProbe).toBe(4); // 2 rounds × 2 sampled providers

    inProcessRow = await net.weightsOnChain();
    expectWeightRow(inProcessRow, expectedWeightRow(expectedRewards('hs58', scenario(), net.claimed)), allUids());
    // miner1 (20 USDC) > the Python miner (12 USDC) > miner2 (5 USDC) > miner3 (no wallet): 0.
    const w = (uid: number) => inProcessRow!.get(uid) ?? 0;
    expect(w(net.uids.miner1!)).toBeGreaterThan(w(python.uid));
    expect(w(python.uid)).toBeGreaterThan(w(net.uids.miner2!));
    expect(w(net.uids.miner3!)).toBe(0);
  });

  test('Redis mode with two worker processes sets the same weights as in-process mode', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    const redis = await startRedis();
    if ('skip' in redis) return ctx.skip(redis.skip);
    const { net } = fx;
    try {
      inProcessRow ??= await runInProcess();
      const common = [
        '--netuid',
        String(net.netuid),
        '--wallet.path',
        net.walletPath,
        '--wallet.name',
        net.walletName,
        '--wallet.hotkey',
        'validator',
        '--neuron.timeout',
        '4',
      ];
      // The option and its short form, one each.
      const workers = [
        hs58(['validator', '--neuron.worker', ...common], { REDIS_URL: redis.url }),
        hs58(['validator', '--worker', ...common], { REDIS_URL: redis.url }),
      ];
      await Promise.all(workers.map((w) => lineReader(w).waitFor(lineWith('worker taking jobs'), 'a worker to start')));
      const pyBefore = python ? await python.stats() : null;

      const { code, rounds } = await net.runValidator({ argv: await argv(), env: { REDIS_URL: redis.url }, maxRounds: 2, signal: deadline() });
      expect(code).toBe(0);
      for (const r of rounds) expect(r.report.failedSteps, `round ${r.round}`).toEqual([]);
      const redisRow = await net.weightsOnChain();
      expect(redisRow).toEqual(inProcessRow);

      // The jobs went through Redis and were run by the worker processes, never by the validator.
      const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue(validatorQueueName(net.netuid, net.hotkeys.validator!), { connection });
      const done = await queue.getJobs(['completed']);
      const failed = await queue.getJobs(['failed']);
      await queue.close();
      connection.disconnect();
      expect(failed).toEqual([]);
      const served = python ? 4 : 3;
      expect(done.length).toBe(2 * (served + 2 * served)); // per round: one ProviderCheck and two probes per miner
      const workerNames = new Set(workers.map((w) => `${os.hostname()}:${w.pid}`));
      const processedBy = new Set(done.map((j) => j.processedBy));
      expect([...processedBy].every((n) => workerNames.has(n!))).toBe(true);
      if (pyBefore) {
        // The Python axon was called by dendrites it had not seen before: the workers'.
        const pyAfter = await python!.stats();
        const newDendrites = pyAfter.dendrites.filter((d) => !pyBefore.dendrites.includes(d));
        expect(newDendrites.length).toBeGreaterThanOrEqual(1);
        expect(newDendrites.length).toBeLessThanOrEqual(2);
        expect(pyAfter.ProviderCheck - pyBefore.ProviderCheck).toBe(2);
      }

      for (const w of workers) w.kill('SIGTERM');
      expect(await Promise.all(workers.map((w) => exited(w)))).toEqual([0, 0]);
    } finally {
      await (redis as RedisServer).stop();
    }
  });
});

/** The rows of the `--dry-run` table (uid, hotkey, proof, claims, probe, score, weight) found in the output. */
function tableRows(lines: readonly string[]): Map<number, { proof: string; claims: number; weight: number }> {
  const rows = new Map<number, { proof: string; claims: number; weight: number }>();
  for (const line of lines) {
    const m = /^(\d+)\s+(\S+)\s+(yes|no|-)\s+([\d.]+)\s+(\S+)\s+([\d.]+)\s+(\d+)$/.exec(line.trim());
    if (m) rows.set(Number(m[1]), { proof: m[3]!, claims: Number(m[4]), weight: Number(m[7]) });
  }
  return rows;
}
