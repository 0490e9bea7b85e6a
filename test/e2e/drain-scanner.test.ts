import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toEventSelector } from 'viem';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ClaimsDatabase } from '../../src/chain/polygon/claimsDatabase.js';
import { ClaimsStore, type ClaimsStateJSON, type ProviderClaims } from '../../src/chain/polygon/claimsStore.js';
import { EndpointPool, type EndpointPoolOptions } from '../../src/chain/polygon/endpointPool.js';
import { CHANNEL_CLAIMED_TOPIC } from '../../src/chain/polygon/getLogs.js';
import { ClaimsScanner, type ClaimsScannerOptions } from '../../src/chain/polygon/scanner.js';
import { createFileStateStore } from '../../src/store/jsonFile.js';
import { runCli } from '../../src/cli/main.js';
import { anvilBinaryPath, startAnvil } from '../../localnet/anvil.js';
import { compileDrainContracts } from '../../localnet/contracts.js';
import { buildDrainChain, type DrainChain } from '../support/drainChain.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { readClaimsDatabase } from '../support/claimsDatabase.js';
import { capturingLogger } from '../support/localChain.js';
import { REPO_ROOT } from '../support/programs.js';

/**
 * The DRAIN claims scanner against a real anvil chain of 110,000+ blocks with claims on two
 * scanned DrainChannel deployments (and a decoy that is not scanned). Ground truth is the chain
 * builder's own bookkeeping of every successful claim, never a log scan.
 */

const ALL_BLOCKS = 1_000_000_000;
let chain: DrainChain;
let scanned: readonly `0x${string}`[];
const cleanups: (() => Promise<void> | void)[] = [];

/** Test timings: short timeouts and cool-downs so faults cost milliseconds, not seconds. */
function pool(urls: string[], extra: Partial<EndpointPoolOptions> = {}): EndpointPool {
  return new EndpointPool({ urls, expectedChainId: 137, timeoutMs: 400, cooldownMs: 150, cooldownMaxMs: 600, backoffBaseMs: 10, backoffMaxMs: 100, ...extra });
}

function scanner(p: EndpointPool, extra: Partial<ClaimsScannerOptions> = {}): ClaimsScanner {
  return new ClaimsScanner({ pool: p, contracts: scanned, chainId: 137, confirmations: 0, windowBlocks: ALL_BLOCKS, ...extra });
}

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'hs58-scanner-state-'));
let databases = 0;

/** A claims database of its own in a file, as the validator keeps one (closed after the tests). */
function claimsDatabase(file = path.join(stateDir, `claims-${++databases}.sqlite`)): ClaimsDatabase {
  const db = ClaimsDatabase.open({ path: file, identity: { contracts: scanned, chainId: 137 } });
  cleanups.push(() => db.close());
  return db;
}

async function proxy(options: Parameters<typeof startFaultProxy>[0]): Promise<FaultProxy> {
  const p = await startFaultProxy(options);
  cleanups.push(() => p.close());
  return p;
}

/** Maps compared as sorted JSON-safe entries: exact bigint equality, no tolerance. */
function plain(m: ReadonlyMap<string, ProviderClaims>): [string, { amount: string; claims: number; channels: number }][] {
  return [...m].sort(([a], [b]) => (a < b ? -1 : 1)).map(([p, t]) => [p, { amount: t.amount.toString(), claims: t.claims, channels: t.channels }]);
}

beforeAll(async () => {
  chain = await buildDrainChain({ minBlocks: 110_000, channels: 16 });
  scanned = [chain.v1, chain.v2];
  cleanups.push(() => chain.stop());
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(stateDir, { recursive: true, force: true });
});

describe('ground truth chain', () => {
  test('spans 100,000+ blocks with claims on both scanned contracts, the decoy and reverted claims', async () => {
    expect(await chain.head()).toBeGreaterThanOrEqual(110_000);
    const on = (c: string) => chain.truth.filter((t) => t.contract === c);
    expect(on(chain.v1).length).toBeGreaterThan(30);
    expect(on(chain.v2).length).toBeGreaterThan(30);
    expect(on(chain.decoy).length).toBeGreaterThan(0);
    expect(chain.reverted).toBeGreaterThan(0);
    expect(new Set(chain.truth.map((t) => t.channelId)).size).toBeGreaterThanOrEqual(10);
    expect(new Set(chain.truth.map((t) => t.provider)).size).toBeGreaterThanOrEqual(4);
    // Several claims share a block, and some sit on the edges of 2,000-block chunks.
    const perBlock = new Map<number, number>();
    for (const t of chain.truth) perBlock.set(t.block, (perBlock.get(t.block) ?? 0) + 1);
    expect([...perBlock.values()].some((n) => n > 1)).toBe(true);
    expect(chain.truth.some((t) => t.block % 2000 === 0 || t.block % 2000 === 1999)).toBe(true);
  });

  test('the compiled contracts log the DRAIN events with the topics of drain.md; V2 logs FeePaid before ChannelClaimed', async () => {
    const { DrainChannel } = await compileDrainContracts();
    const topics = Object.fromEntries(DrainChannel.abi.filter((x) => x.type === 'event').map((e) => [e.name, toEventSelector(e)]));
    expect(topics).toEqual({
      ChannelOpened: '0x506f81b7a67b45bfbc6167fd087b3dd9b65b4531a2380ec406aab5b57ac62152',
      ChannelClaimed: CHANNEL_CLAIMED_TOPIC,
      ChannelClosed: '0x180ea96fa778b12bb1fc654d1945f3a13b23f0d7c6e600f2cbee2ab553d7ed18',
      FeePaid: '0x0ae7c9bfbc7dfc3426a34852f9a1cdd2f750abec8190abbff0bbe13d8118c30c',
    });
    const v2claim = chain.truth.find((t) => t.contract === chain.v2 && t.amount >= 100n)!;
    const res = await fetch(chain.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getTransactionReceipt', params: [v2claim.txHash] }),
    });
    const logs = ((await res.json()) as { result: { logs: { address: string; topics: string[]; data: string }[] } }).result.logs.filter(
      (l) => l.address.toLowerCase() === chain.v2.toLowerCase(),
    );
    const claimLog = logs.findIndex((l) => l.topics[0] === CHANNEL_CLAIMED_TOPIC);
    expect(logs[claimLog - 1]!.topics[0]).toBe(topics.FeePaid);
    // The claimed amount is the payout before the fee; the fee is 2 % of it.
    expect(BigInt(logs[claimLog]!.data)).toBe(v2claim.amount);
    expect(BigInt(logs[claimLog - 1]!.data)).toBe((v2claim.amount * 200n) / 10_000n);
  });
});

describe('local anvil', () => {
  test('runs the package binary, answers on a free port and stops when its signal aborts', async () => {
    expect(anvilBinaryPath()).toMatch(/@foundry-rs[\\/]anvil-[a-z0-9-]+[\\/]bin[\\/]anvil(\.exe)?$/);
    const ac = new AbortController();
    const a = await startAnvil({ signal: ac.signal, chainId: 31337 });
    const ask = () =>
      fetch(a.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
      }).then(async (r) => ((await r.json()) as { result: string }).result);
    expect(await ask()).toBe('0x7a69');
    ac.abort();
    await a.stop();
    await expect(ask()).rejects.toThrow();
  });
});

describe('scanner totals equal the ground truth', () => {
  test('three endpoints, whole chain: exact per provider, decoy excluded, every claim once', async () => {
    const clean = await proxy({ upstream: chain.url, seed: 5 });
    const p = pool([chain.url, clean.url, `${chain.url}/`]);
    const s = scanner(p);
    const r = await s.runRound();
    expect(r.complete).toBe(true);
    expect(r.missingRanges).toEqual([]);
    expect(r.window).toEqual({ from: 0, to: r.head });
    expect(plain(r.totals)).toEqual(plain(chain.expected(scanned)));
    expect(r.totals.size).toBeGreaterThanOrEqual(4);
    expect(plain(s.claimsByProvider())).toEqual(plain(r.totals));
    const seen = (await s.claims()).map((c) => `${c.txHash}:${c.amount}`).sort();
    const truth = chain.truth
      .filter((t) => scanned.includes(t.contract))
      .map((t) => `${t.txHash.toLowerCase()}:${t.amount}`)
      .sort();
    expect(seen).toEqual(truth);
    // The load was spread: every endpoint served part of it.
    for (const st of p.stats()) expect(st.requests).toBeGreaterThan(3);
    p.close();
  });

  test('exact while one endpoint answers ~45 % of requests with 429, 500, timeouts, resets, garbage and "range too large"', async () => {
    const faulty = await proxy({
      upstream: chain.url,
      faultRate: 0.45,
      faults: ['429', '500', 'timeout', 'reset', 'rpc_error', 'garbage', 'range'],
      latencyMs: [1, 3],
      retryAfter: null,
      seed: 11,
    });
    // The healthy endpoint is slower, so the faulty one keeps getting a large share of the work.
    const healthy = await proxy({ upstream: chain.url, latencyMs: [20, 40], seed: 12 });
    const p = pool([faulty.url, healthy.url], { concurrencyPerEndpoint: 3 });
    const r = await scanner(p, { chunkSize: 500 }).runRound();
    expect(r.complete).toBe(true);
    expect(plain(r.totals)).toEqual(plain(chain.expected(scanned)));
    const f = faulty.counts.faults;
    expect(f['429']).toBeGreaterThan(0);
    expect(f['500']).toBeGreaterThan(0);
    expect(f.timeout).toBeGreaterThan(0);
    expect(f.range).toBeGreaterThan(0);
    expect(f['429'] + f['500'] + f.timeout + f.reset + f.rpc_error + f.garbage + f.range).toBeGreaterThan(25);
    expect(faulty.counts.byMethod.eth_getLogs).toBeGreaterThan(60);
    expect(p.stats()[0]!.failures).toBeGreaterThan(20);
    p.close();
  });

  test('exact with only bad endpoints: both faulty, one also limited to 700-block ranges (chunks split)', async () => {
    const a = await proxy({ upstream: chain.url, faultRate: 0.35, faults: ['429', '500', 'timeout', 'range'], seed: 21 });
    const b = await proxy({ upstream: chain.url, faultRate: 0.2, faults: ['500', 'rpc_error'], maxRange: 700, seed: 22 });
    const p = pool([a.url, b.url], { maxAttempts: 10 });
    const r = await scanner(p, { chunkSize: 2000 }).runRound();
    expect(r.complete).toBe(true);
    expect(plain(r.totals)).toEqual(plain(chain.expected(scanned)));
    expect(r.rangeSplits).toBeGreaterThan(0);
    expect(b.counts.faults.maxRange).toBeGreaterThan(0);
    p.close();
  });

  test('an endpoint lagging 20,000 blocks (answering [] for blocks it has not seen) is never asked for them', async () => {
    const lagging = await proxy({ upstream: chain.url, lagBlocks: 20_000, seed: 31 });
    const p = pool([lagging.url, chain.url]);
    const r = await scanner(p).runRound();
    expect(r.complete).toBe(true);
    expect(plain(r.totals)).toEqual(plain(chain.expected(scanned)));
    expect(lagging.counts.byMethod.eth_getLogs).toBeGreaterThan(0);
    expect(lagging.counts.faults.lagEmpty).toBe(0);
    p.close();
  });
});

describe('rounds over time', () => {
  test('a range no endpoint can serve is reported exactly; scoring keeps the last complete totals; the next round fills it', async () => {
    const only = await proxy({ upstream: chain.url, seed: 41 });
    const p = pool([only.url], { maxAttempts: 3 });
    const store = claimsDatabase();
    const s = scanner(p, { store, retryPasses: 0 });
    const first = await s.runRound();
    expect(first.complete).toBe(true);
    const before = plain(s.claimsByProvider());

    const { block, claims } = await chain.batch({ claims: 5 });
    expect(claims.length).toBeGreaterThan(0);
    await chain.mine(3_000);
    only.set({ brokenRange: { from: block, to: block } });
    const second = await s.runRound();
    expect(second.complete).toBe(false);
    expect(second.missingRanges.length).toBe(1);
    const gap = second.missingRanges[0]!;
    expect(gap.from).toBeLessThanOrEqual(block);
    expect(gap.to).toBeGreaterThanOrEqual(block);
    expect(gap.to - gap.from + 1).toBeLessThanOrEqual(2000);
    expect(gap.reason).toMatch(/failed after 3 attempts/);
    expect(second.coveredThrough).toBe(gap.from - 1);
    // What the validator scores with is still the last complete round's data.
    expect(plain(s.claimsByProvider())).toEqual(before);
    expect(s.completeness().lastRound?.complete).toBe(false);
    expect(s.completeness().lastCompleteWindow).toEqual(first.window);

    only.set({ brokenRange: undefined });
    const third = await s.runRound();
    expect(third.complete).toBe(true);
    expect(plain(s.claimsByProvider())).toEqual(plain(chain.expected(scanned)));
    expect(third.blocksFetched).toBe(gap.to - gap.from + 1 + (third.window.to - second.window.to));
    p.close();
  });

  test('incremental: the next round fetches only new blocks and counts nothing twice', async () => {
    const p = pool([chain.url]);
    const s = scanner(p, { store: claimsDatabase() });
    const first = await s.runRound();
    await chain.batch({ claims: 6 });
    await chain.mine(360);
    const second = await s.runRound();
    expect(second.complete).toBe(true);
    expect(second.blocksFetched).toBe(second.window.to - first.window.to);
    expect(second.requests).toBeLessThanOrEqual(2);
    expect(plain(second.totals)).toEqual(plain(chain.expected(scanned)));
    const third = await s.runRound();
    expect(third.blocksFetched).toBe(third.window.to - second.window.to);
    expect(plain(third.totals)).toEqual(plain(second.totals));
    p.close();
  });

  test('claims in the last unconfirmed blocks count only once 32 blocks deep', async () => {
    const p = pool([chain.url]);
    const s = scanner(p, { confirmations: 32, store: claimsDatabase() });
    await chain.mine(40);
    const settled = await s.runRound();
    const { block, claims } = await chain.batch({ claims: 6 });
    expect(claims.length).toBeGreaterThan(0);
    await chain.mine(10);
    const early = await s.runRound();
    expect(early.window.to).toBe(early.head - 32);
    expect(early.window.to).toBeLessThan(block);
    expect(plain(early.totals)).toEqual(plain(settled.totals));
    await chain.mine(32 - 10);
    const deep = await s.runRound();
    expect(deep.window.to).toBeGreaterThanOrEqual(block);
    expect(plain(deep.totals)).toEqual(plain(chain.expected(scanned, { from: 0, to: deep.window.to })));
    expect(plain(deep.totals)).not.toEqual(plain(settled.totals));
    p.close();
  });

  test('the rolling window drops old claims and never fetches below its start', async () => {
    const store = claimsDatabase();
    const p = pool([chain.url]);
    await scanner(p, { store }).runRound();
    const watcher = await proxy({ upstream: chain.url, seed: 51 });
    const p2 = pool([watcher.url]);
    const windowed = scanner(p2, { store, windowBlocks: 30_000 });
    const r = await windowed.runRound();
    expect(r.window.to - r.window.from + 1).toBe(30_000);
    expect(plain(r.totals)).toEqual(plain(chain.expected(scanned, r.window)));
    expect(plain(r.totals)).not.toEqual(plain(chain.expected(scanned)));
    expect((await windowed.claims()).every((c) => c.blockNumber >= r.window.from)).toBe(true);
    expect(watcher.counts.lowestFrom).toBeGreaterThanOrEqual(r.window.from);
    // A fresh scanner of the same window never asks for older blocks either.
    const watcher2 = await proxy({ upstream: chain.url, seed: 52 });
    const p3 = pool([watcher2.url]);
    const fresh = await scanner(p3, { windowBlocks: 30_000 }).runRound();
    expect(plain(fresh.totals)).toEqual(plain(chain.expected(scanned, fresh.window)));
    expect(watcher2.counts.lowestFrom).toBe(fresh.window.from);
    for (const x of [p, p2, p3]) x.close();
  });
});

describe('hs58 scan', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs58-scan-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));

  function runScanProcess(args: string[]) {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/hs58.js'), 'scan', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, POLYGON_RPC_URL: '', DRAIN_CONTRACTS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })),
    );
    return { child, done };
  }

  test('killed mid-way (SIGKILL) and restarted: exact totals, nothing fetched or counted twice', async () => {
    const slow = await proxy({ upstream: chain.url, latencyMs: [15, 30], seed: 61 });
    const statePath = path.join(dir, 'killed.sqlite');
    const to = await chain.head();
    const args = [
      '--rpc',
      slow.url,
      '--contract',
      scanned.join(','),
      '--from',
      '0',
      '--to',
      String(to),
      '--state',
      statePath,
      '--polygon.confirmations',
      '0',
      '--polygon.log_chunk_size',
      '500',
      '--polygon.concurrency',
      '2',
    ];
    const first = runScanProcess(args);
    const total = to + 1;
    let coveredAtKill = 0;
    for (;;) {
      await new Promise((r) => setTimeout(r, 50));
      const state = readClaimsDatabase(statePath);
      if (state === null) continue;
      coveredAtKill = state.covered.reduce((n, [a, b]) => n + b - a + 1, 0);
      if (coveredAtKill >= total * 0.3) break;
    }
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    expect(coveredAtKill).toBeLessThan(total);

    // What was saved is exactly the truth inside the covered ranges: no lost and no extra claim.
    const saved = readClaimsDatabase(statePath)!;
    const inCovered = (b: number) => saved.covered.some(([a, z]) => a <= b && b <= z);
    const savedClaims = saved.claims.map((c) => `${c.tx}:${c.amount}`).sort();
    const truthCovered = chain.truth
      .filter((t) => scanned.includes(t.contract) && inCovered(t.block))
      .map((t) => `${t.txHash.toLowerCase()}:${t.amount}`)
      .sort();
    expect(savedClaims).toEqual(truthCovered);
    const coveredSaved = saved.covered.reduce((n, [a, b]) => n + b - a + 1, 0);

    const second = await runScanProcess(args).done;
    expect(second.code).toBe(0);
    const out = JSON.parse(second.stdout) as {
      complete: boolean;
      blocksFetched: number;
      providers: Record<string, { amount: string; claims: number; channels: number }>;
    };
    expect(out.complete).toBe(true);
    expect(out.blocksFetched).toBe(total - coveredSaved);
    const expected = Object.fromEntries(plain(chain.expected(scanned, { from: 0, to })).map(([p, t]) => [p, t]));
    const got = Object.fromEntries(Object.entries(out.providers).map(([p, t]) => [p, { amount: t.amount, claims: t.claims, channels: t.channels }]));
    expect(got).toEqual(expected);
  });

  test('Ctrl-C saves progress and exits 130; non-terminal progress is plain lines', async () => {
    const slow = await proxy({ upstream: chain.url, latencyMs: [20, 30], seed: 62 });
    const statePath = path.join(dir, 'interrupted.sqlite');
    const run = runScanProcess([
      '--rpc',
      slow.url,
      '--contract',
      scanned.join(','),
      '--from',
      '0',
      '--state',
      statePath,
      '--polygon.confirmations',
      '0',
      '--polygon.log_chunk_size',
      '500',
      '--polygon.concurrency',
      '1',
    ]);
    // Each fetched range is stored as it completes: interrupt once the first one is.
    for (let i = 0; i < 200 && !readClaimsDatabase(statePath)?.covered.length; i++) await new Promise((r) => setTimeout(r, 50));
    run.child.kill('SIGINT');
    const res = await run.done;
    expect(res.code).toBe(130);
    expect(res.stderr).toMatch(/^scan: [\d,]+\/[\d,]+ blocks \(\d+%\)/m);
    expect(res.stderr).toContain('a rerun resumes');
    const state = readClaimsDatabase(statePath)!;
    expect(state.covered.length).toBeGreaterThan(0);
  });

  test('prints per-provider totals as JSON; bad flags exit 2 with a clear message', async () => {
    let stdout = '';
    let stderr = '';
    const ctx = (argv: string[]) => ({
      argv: ['scan', ...argv],
      env: {},
      cwd: dir,
      homeDir: dir,
      stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((stderr += s), true) } as unknown as NodeJS.WritableStream,
      signal: new AbortController().signal,
    });
    const head = await chain.head();
    const code = await runCli(
      ctx(['--rpc', chain.url, '--contract', chain.v1, '--contract', chain.v2, '--from', '0', '--to', String(head), '--polygon.confirmations', '0']),
      { daemons: {} },
    );
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as {
      complete: boolean;
      window: unknown;
      providers: Record<string, { amount: string; usdc: string }>;
      totals: { amount: string };
    };
    expect(out.complete).toBe(true);
    expect(out.window).toEqual({ from: 0, to: head });
    const expected = chain.expected(scanned, { from: 0, to: head });
    for (const [provider, t] of expected) {
      expect(out.providers[provider]?.amount).toBe(t.amount.toString());
      expect(out.providers[provider]?.usdc).toBe(`${t.amount / 1_000_000n}.${(t.amount % 1_000_000n).toString().padStart(6, '0')}`);
    }
    expect(BigInt(out.totals.amount)).toBe([...expected.values()].reduce((n, t) => n + t.amount, 0n));

    stderr = '';
    expect(await runCli(ctx(['--rpc', chain.url, '--from', '10', '--to', '5']), { daemons: {} })).toBe(2);
    expect(stderr).toContain('--from 10 is after --to 5');
    stderr = '';
    expect(await runCli(ctx(['--rpc', chain.url, '--contract', '0x1234', '--from', '0', '--to', '5']), { daemons: {} })).toBe(1);
    expect(stderr).toContain('is not a 0x-prefixed 20-byte hex address');
    stderr = '';
    // An endpoint of another chain is refused, not silently scanned.
    expect(await runCli(ctx(['--rpc', chain.url, '--chain-id', '80002', '--from', '0', '--to', '5']), { daemons: {} })).toBe(1);
    expect(stderr).toMatch(/chain id 137, expected 80002/);
  });

  test('a saved state whose covered ranges reach past the chain head is clamped to the head: the claims that come later are fetched', async () => {
    const p = pool([chain.url]);
    const file = path.join(dir, 'past-head.sqlite');
    const store = claimsDatabase(file);
    const first = await scanner(p, { store }).runRound();
    expect(first.complete).toBe(true);
    // The cursor of another chain or an edited file: "covered" 100,000 blocks beyond the head, and a
    // complete window that claims them too.
    const beyondHead = first.window.to + 100_000;
    store.addRange({ from: 0, to: beyondHead }, []);
    store.setLastComplete({ ...store.lastComplete!, window: { ...store.lastComplete!.window, to: beyondHead } });
    store.close();
    expect(readClaimsDatabase(file)!.covered).toEqual([[0, beyondHead]]);
    const log = capturingLogger();
    const resumed = scanner(p, { store: claimsDatabase(file), logger: log.logger });
    const atLoad = await resumed.runRound();
    expect(log.messages()).toContain('scanner state reaches past the chain head: that part is forgotten and fetched again once the blocks exist');
    expect(atLoad.complete).toBe(true);

    const { claims: later } = await chain.batch({ claims: 6 });
    await chain.mine(5);
    expect(later.filter((c) => scanned.includes(c.contract)).length).toBeGreaterThan(0);
    const second = await resumed.runRound();
    expect(second.complete).toBe(true);
    expect(second.blocksFetched).toBe(second.window.to - atLoad.window.to);
    expect(plain(resumed.claimsByProvider())).toEqual(plain(chain.expected(scanned, second.window)));
    p.close();
  });

  test('the claims database survives a reload and a fresh scanner resumes from it', async () => {
    const file = path.join(dir, 'nested', 'state.sqlite');
    const p = pool([chain.url]);
    const first = claimsDatabase(file);
    const a = scanner(p, { store: first });
    const r1 = await a.runRound();
    first.close();
    const b = scanner(p, { store: claimsDatabase(file) });
    const r2 = await b.runRound();
    expect(r2.blocksFetched).toBe(r2.window.to - r1.window.to);
    expect(plain(b.claimsByProvider())).toEqual(plain(chain.expected(scanned, r2.window)));
    p.close();
  });

  test('--state FILE holding the JSON state of an earlier version: imported once, only the rest is fetched, totals exact', async () => {
    const head = await chain.head();
    const half = Math.floor(head / 2);
    // Today's format, written as today's code wrote it: ClaimsStore.jsonPieces through the atomic file store.
    const p = pool([chain.url]);
    const memory = new ClaimsStore({ contracts: scanned, chainId: 137 });
    const earlier = await scanner(p, { store: memory }).runRound({ window: { from: 0, to: half } });
    expect(earlier.complete).toBe(true);
    p.close();
    const file = path.join(dir, 'earlier.json');
    await createFileStateStore<ClaimsStateJSON>(file).saveSerialized!(memory.jsonPieces());
    const json = JSON.parse(readFileSync(file, 'utf8')) as ClaimsStateJSON;
    expect(json.claims.length).toBeGreaterThan(0);

    let stdout = '';
    const ctx = {
      argv: ['scan', '--rpc', chain.url, '--contract', scanned.join(','), '--from', '0', '--to', String(head), '--state', file, '--polygon.confirmations', '0'],
      env: {},
      cwd: dir,
      homeDir: dir,
      stdout: { write: (s: string) => ((stdout += s), true) } as unknown as NodeJS.WritableStream,
      stderr: { write: () => true } as unknown as NodeJS.WritableStream,
      signal: new AbortController().signal,
    };
    expect(await runCli(ctx, { daemons: {} })).toBe(0);
    const out = JSON.parse(stdout) as {
      complete: boolean;
      blocksFetched: number;
      providers: Record<string, { amount: string; claims: number; channels: number }>;
    };
    expect(out.complete).toBe(true);
    expect(out.blocksFetched).toBe(head - half);
    const got = Object.fromEntries(Object.entries(out.providers).map(([a, t]) => [a, { amount: t.amount, claims: t.claims, channels: t.channels }]));
    expect(got).toEqual(Object.fromEntries(plain(chain.expected(scanned, { from: 0, to: head }))));
    // The JSON is kept beside the database, renamed; the database holds every claim once.
    expect(readFileSync(`${file}.imported`, 'utf8')).toBe(JSON.stringify(json));
    expect(existsSync(`${file}.importing`)).toBe(false);
    const db = readClaimsDatabase(file)!;
    expect(db.covered).toEqual([[0, head]]);
    const truth = chain.truth.filter((t) => scanned.includes(t.contract) && t.block <= head).map((t) => `${t.txHash.toLowerCase()}:${t.amount}`);
    expect(db.claims.map((c) => `${c.tx}:${c.amount}`).sort()).toEqual(truth.sort());
  });
});
