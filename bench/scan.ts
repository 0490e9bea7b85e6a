/**
 * `npm run bench:scan`: the DRAIN claims scanner against a baseline that does what the Python
 * validator did (one endpoint, sequential 2,000-block eth_getLogs), over a 7-day window
 * (302,400 blocks) of a real anvil chain with DRAIN claims, behind proxies that add 30–80 ms
 * to every request (a public RPC's round trip; local anvil alone answers in about a millisecond).
 *
 * Prints wall time, requests and the ratios; checks both results against the ground truth.
 * Options: --blocks N (window, default 302400), --latency MIN,MAX (ms, default 30,80),
 * --endpoints N (default 3), --epoch N (new blocks before the incremental round, default 360),
 * --runs N (each run: a fresh full backfill, the baseline, an incremental round; medians reported).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { ClaimsScanner, type ScanRoundResult } from '../src/chain/polygon/scanner.js';
import { EndpointPool } from '../src/chain/polygon/endpointPool.js';
import { ClaimsDatabase } from '../src/chain/polygon/claimsDatabase.js';
import { CHANNEL_CLAIMED_TOPIC } from '../src/chain/polygon/getLogs.js';
import type { ProviderClaims } from '../src/chain/polygon/claimsStore.js';
import { buildDrainChain, totalsOf, type TruthClaim } from '../test/support/drainChain.js';

const { values } = parseArgs({
  options: {
    blocks: { type: 'string', default: '302400' },
    latency: { type: 'string', default: '30,80' },
    endpoints: { type: 'string', default: '3' },
    epoch: { type: 'string', default: '360' },
    runs: { type: 'string', default: '3' },
  },
});
const WINDOW = Number(values.blocks);
const [LAT_MIN, LAT_MAX] = values.latency!.split(',').map(Number) as [number, number];
const ENDPOINTS = Number(values.endpoints);
const EPOCH = Number(values.epoch);
const RUNS = Math.max(1, Number(values.runs));
const CONFIRMATIONS = 32;

const log = (s: string) => process.stderr.write(`${s}\n`);
const same = (a: ReadonlyMap<string, ProviderClaims>, b: ReadonlyMap<string, ProviderClaims>) =>
  JSON.stringify(
    [...a].sort(([x], [y]) => (x < y ? -1 : 1)),
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  ) ===
  JSON.stringify(
    [...b].sort(([x], [y]) => (x < y ? -1 : 1)),
    (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
  );

/** The Python validator's loop: one endpoint, 2,000-block chunks, one request after the other. */
async function baselineScan(url: string, contracts: readonly string[], from: number, to: number) {
  let requests = 0;
  const claims: TruthClaim[] = [];
  for (let start = from; start <= to; start += 2000) {
    const end = Math.min(to, start + 1999);
    requests += 1;
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: requests,
        method: 'eth_getLogs',
        params: [{ address: contracts, topics: [CHANNEL_CLAIMED_TOPIC], fromBlock: `0x${start.toString(16)}`, toBlock: `0x${end.toString(16)}` }],
      }),
    });
    const body = (await res.json()) as {
      result: { address: `0x${string}`; topics: string[]; data: string; blockNumber: string; transactionHash: `0x${string}` }[];
    };
    for (const l of body.result) {
      claims.push({
        contract: l.address,
        provider: `0x${l.topics[2]!.slice(26)}`,
        channelId: l.topics[1] as `0x${string}`,
        amount: BigInt(l.data),
        block: Number(l.blockNumber),
        txHash: l.transactionHash,
      });
    }
  }
  return { requests, totals: totalsOf(claims) };
}

const t0 = performance.now();
log(`building a chain of ${WINDOW + 2_000} blocks with DRAIN claims (anvil) …`);
const chain = await buildDrainChain({ minBlocks: WINDOW + 2_000, channels: 20, meanGap: 2_500, seed: 7 });
const scanned = [chain.v1, chain.v2];
log(`  built in ${((performance.now() - t0) / 1000).toFixed(1)} s: head ${await chain.head()}, ${chain.truth.length} claims`);

// The proxies run in their own process, like remote endpoints would.
const proxyProcess = spawn(
  process.execPath,
  ['--import', 'tsx', new URL('./scan-proxies.ts', import.meta.url).pathname, chain.url, String(ENDPOINTS), String(LAT_MIN), String(LAT_MAX)],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
const proxyUrls = await new Promise<string[]>((resolve, reject) => {
  proxyProcess.stdout!.once('data', (d: Buffer) => resolve(JSON.parse(d.toString()) as string[]));
  proxyProcess.once('exit', (code) => reject(new Error(`proxy process exited with ${code}`)));
});
const proxies = proxyUrls.map((url) => ({ url }));
try {
  interface Run {
    fullMs: number;
    full: ScanRoundResult;
    baseMs: number;
    baseRequests: number;
    incMs: number;
    inc: ScanRoundResult;
    exact: boolean;
  }
  const runs: Run[] = [];
  for (let r = 1; r <= RUNS; r++) {
    // Ours: a fresh scanner's full backfill of the window.
    const pool = new EndpointPool({ urls: proxies.map((p) => p.url), expectedChainId: 137 });
    // As the validator keeps it: the claims database in a file.
    const stateDir = mkdtempSync(path.join(os.tmpdir(), 'hs58-bench-scan-'));
    const store = ClaimsDatabase.open({ path: path.join(stateDir, 'drain-claims.sqlite'), identity: { contracts: scanned, chainId: 137 } });
    const scanner = new ClaimsScanner({ pool, contracts: scanned, chainId: 137, confirmations: CONFIRMATIONS, windowBlocks: WINDOW, store });
    let t = performance.now();
    const full = await scanner.runRound();
    const fullMs = performance.now() - t;
    const fullOk = full.complete && same(full.totals, chain.expected(scanned, full.window));

    // Baseline over the same window, through the first proxy.
    t = performance.now();
    const base = await baselineScan(proxies[0]!.url, scanned, full.window.from, full.window.to);
    const baseMs = performance.now() - t;
    const baseOk = same(base.totals, chain.expected(scanned, full.window));

    // One epoch later: new blocks with new claims, then an incremental round.
    await chain.batch({ claims: 6 });
    await chain.mine(EPOCH - 1);
    t = performance.now();
    const inc = await scanner.runRound();
    const incMs = performance.now() - t;
    const incOk = inc.complete && same(inc.totals, chain.expected(scanned, inc.window));
    pool.close();
    store.close();
    rmSync(stateDir, { recursive: true, force: true });
    log(
      `run ${r}: full ${fullMs.toFixed(0)} ms / ${full.requests} req, baseline ${baseMs.toFixed(0)} ms / ${base.requests} req, ` +
        `incremental ${incMs.toFixed(0)} ms / ${inc.requests} req / ${inc.blocksFetched} blocks; exact ${fullOk && baseOk && incOk}`,
    );
    runs.push({ fullMs, full, baseMs, baseRequests: base.requests, incMs, inc, exact: fullOk && baseOk && incOk });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const range = (xs: number[], f: (x: number) => string) => `${f(Math.min(...xs))}–${f(Math.max(...xs))}`;
  const sec = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const fullMs = median(runs.map((r) => r.fullMs));
  const baseMs = median(runs.map((r) => r.baseMs));
  const incMs = median(runs.map((r) => r.incMs));
  const { full, inc } = runs[0]!;
  const exact = runs.every((r) => r.exact);
  const rows = [
    [`run (median of ${RUNS})`, 'wall time', 'range', 'requests', 'blocks fetched', 'exact'],
    [
      'baseline: 1 endpoint, sequential 2,000-block chunks',
      sec(baseMs),
      range(
        runs.map((r) => r.baseMs),
        sec,
      ),
      String(runs[0]!.baseRequests),
      String(full.window.to - full.window.from + 1),
      String(exact),
    ],
    [
      `hs58 full backfill: ${ENDPOINTS} endpoints × 4 in flight, 2,000-block chunks`,
      sec(fullMs),
      range(
        runs.map((r) => r.fullMs),
        sec,
      ),
      String(full.requests),
      String(full.blocksFetched),
      String(exact),
    ],
    [
      `hs58 incremental round, ${EPOCH} new blocks`,
      `${incMs.toFixed(0)} ms`,
      range(
        runs.map((r) => r.incMs),
        (x) => `${x.toFixed(0)} ms`,
      ),
      String(inc.requests),
      String(inc.blocksFetched),
      String(exact),
    ],
  ];
  const table = rows.map((row, i) => `| ${row.join(' | ')} |${i === 0 ? `\n|${row.map(() => '---').join('|')}|` : ''}`).join('\n');
  process.stdout.write(
    [
      `window ${WINDOW} blocks, latency ${LAT_MIN}-${LAT_MAX} ms per request, ${chain.truth.filter((c) => scanned.includes(c.contract)).length} claims on the scanned contracts`,
      '',
      table,
      '',
      `speed-up over the baseline: ${(baseMs / fullMs).toFixed(1)}x median, ${range(
        runs.map((r) => r.baseMs / r.fullMs),
        (x) => `${x.toFixed(1)}x`,
      )} (target >= 5x)`,
      `incremental / full backfill: requests ${((100 * inc.requests) / full.requests).toFixed(2)} %, wall time ${((100 * incMs) / fullMs).toFixed(1)} % (target < 2 %)`,
      `incremental / baseline: requests ${((100 * inc.requests) / runs[0]!.baseRequests).toFixed(2)} %, wall time ${((100 * incMs) / baseMs).toFixed(2)} %`,
      '',
    ].join('\n'),
  );
  if (!exact) {
    process.stderr.write('a result differs from the ground truth\n');
    process.exitCode = 1;
  }
} finally {
  proxyProcess.kill('SIGTERM');
  await chain.stop();
}
