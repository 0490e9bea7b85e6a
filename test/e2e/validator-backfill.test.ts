/**
 * The validator's first claims backfill against a real anvil chain with DRAIN claims, behind a
 * JSON-RPC proxy that adds 250–350 ms to every answer (a slow public RPC), so the first scan of
 * a 30,000-block window takes several progress reports. The claims are wired as
 * neurons/validator.ts wires them (`createClaimsScanner` from the `polygon.*` options, the claims
 * database in a state folder, `backfillProgressLog` as `onProgress`), and /status is served over
 * HTTP as the validator serves it. While the backfill runs:
 * - the log has lines with percent, blocks/s and time left, every 5 s, and one when it is done;
 * - a round's claims step is abandoned at its budget and its report says how far the first
 *   backfill is, and that claims count 0 until then; the round still ends;
 * - /status.json and /status show the window, covered blocks and the backfill's progress.
 * Afterwards the next round scores the complete window (equal to the chain's ground truth), and
 * its small incremental scan logs nothing. The metagraph, miners and registry are the in-memory
 * ports of the round tests (test/support/roundPorts.ts): what is tested here is the claims side;
 * the same validator on the real subtensor runtime is test/e2e/localnet.test.ts.
 * No speed is asserted: only that the steps happen, in order, within generous deadlines.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLAIMS_DATABASE_FILE, createClaimsScanner } from '../../src/chain/polygon/index.js';
import type { BlockHead } from '../../src/chain/subtensor/types.js';
import { loadConfig } from '../../src/config/load.js';
import { createValidatorMetrics } from '../../src/observability/metrics.js';
import { startOpsServer } from '../../src/observability/server.js';
import { createMemoryStateStore } from '../../src/store/jsonFile.js';
import { backfillProgressLog } from '../../src/validator/backfill.js';
import { createValidator, type Validator } from '../../src/validator/loop.js';
import type { RoundReport } from '../../src/validator/report.js';
import type { ValidatorState } from '../../src/validator/state.js';
import { statusRoutes, type statusToJson } from '../../src/validator/statusPage.js';
import { buildDrainChain, type DrainChain } from '../support/drainChain.js';
import { startFaultProxy, type FaultProxy } from '../support/faultProxy.js';
import { capturingLogger } from '../support/localChain.js';
import { deps, settings } from '../support/roundPorts.js';
import { waitUntil } from '../support/wait.js';

const WINDOW_BLOCKS = 30_000;
const CHUNK = 500;
/** A short claims budget, so the first round scores while the backfill goes on. */
const CLAIMS_BUDGET_MS = 2_000;
const PROGRESS_LINE = /^claims backfill: (\d+) % of 30,000 blocks, [\d,]+ blocks\/s, (about \d+ (s|min) left|time left unknown yet)$/;

type StatusJson = ReturnType<typeof statusToJson>;

const never = <T>() => new Promise<T>(() => undefined);
const noHeads = (): AsyncIterable<BlockHead> => ({ [Symbol.asyncIterator]: () => ({ next: () => never() }) });

let chain: DrainChain;
let slowRpc: FaultProxy;
const stateDir = mkdtempSync(path.join(os.tmpdir(), 'hs58-backfill-'));
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  chain = await buildDrainChain({ minBlocks: WINDOW_BLOCKS + 2_000, channels: 8, seed: 13 });
  cleanups.push(() => chain.stop());
  slowRpc = await startFaultProxy({ upstream: chain.url, latencyMs: [250, 350], seed: 13 });
  cleanups.push(() => slowRpc.close());
}, 300_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(stateDir, { recursive: true, force: true });
});

/** The validator's claims as neurons/validator.ts builds them, over the slow RPC. */
function validatorClaims(logger: ReturnType<typeof capturingLogger>['logger']) {
  const { config } = loadConfig({
    argv: [
      ...['--polygon.rpc_url', slowRpc.url, '--polygon.contracts', `${chain.v1},${chain.v2}`],
      ...['--polygon.log_chunk_size', String(CHUNK), '--polygon.concurrency', '1', '--polygon.confirmations', '0'],
      ...['--polygon.window_days', '1', '--polygon.blocks_per_day', String(WINDOW_BLOCKS)],
    ],
    env: {},
  });
  const claims = createClaimsScanner(config, {
    logger,
    chainId: 137,
    databasePath: path.join(stateDir, CLAIMS_DATABASE_FILE),
    onProgress: backfillProgressLog(logger),
  });
  cleanups.push(claims.close);
  return claims.scanner;
}

describe('the first claims backfill of a validator', () => {
  test('progress in the log and on /status while it runs; rounds score meanwhile and say so; the next round scores the complete window', {
    timeout: 400_000,
  }, async () => {
    const captured = capturingLogger();
    const scanner = validatorClaims(captured.logger);
    const metrics = createValidatorMetrics();
    const { d } = await deps({ logger: captured.logger, claims: scanner, metrics });
    const validator: Validator = await createValidator(
      { ...d, heads: noHeads, stateStore: createMemoryStateStore<ValidatorState>() },
      settings('hs58', { budgets: { claims: CLAIMS_BUDGET_MS } }),
    );
    const ops = await startOpsServer({
      host: '127.0.0.1',
      port: 0,
      registry: metrics.registry,
      health: () => validator.health(),
      routes: statusRoutes(() => validator.status()),
    });
    cleanups.push(() => ops.close());
    const statusJson = async () => (await (await fetch(`${ops.url}/status.json`)).json()) as StatusJson;

    // Round 1: the claims step ends at its budget; the backfill goes on.
    const first: RoundReport = await validator.runOnce(100, new AbortController().signal);
    const claimsFailure = first.failedSteps.find((f) => f.step === 'claims');
    expect(claimsFailure?.error).toMatch(
      /^abandoned at its budget of 2 s; first backfill \d+ % of 30,000 blocks \((ETA \d+ (s|min)|ETA unknown yet)\); the scan goes on in the background; scoring with the last complete window$/,
    );
    expect(first.notes.find((n) => n.startsWith('claims:'))).toMatch(
      /^claims: first backfill \d+ % of 30,000 blocks \([^)]+\); no complete window yet: claims count 0 this round$/,
    );
    expect(first.rows.every((r) => r.claims === 0n)).toBe(true);
    expect(await (await fetch(`${ops.url}/metrics`)).text()).toContain('hs58_validator_step_overruns_total{step="claims"} 1');

    // While it runs: /status.json and /status show it, and the covered blocks grow.
    const seen: NonNullable<NonNullable<StatusJson['claims']>['backfill']>[] = [];
    const covered: number[] = [];
    let page = '';
    await waitUntil(
      'the end of the backfill',
      async () => {
        const c = (await statusJson()).claims!;
        if (c.backfill) {
          seen.push(c.backfill);
          covered.push(c.coveredBlocks!);
          if (!page) page = await (await fetch(`${ops.url}/status`, { headers: { accept: 'text/html' } })).text();
        }
        return c.backfill === null;
      },
      300_000,
    );
    expect(seen.length).toBeGreaterThan(1);
    for (const b of seen) {
      expect(b).toMatchObject({ first: true, totalBlocks: WINDOW_BLOCKS });
      expect(b.percent).toBeGreaterThanOrEqual(0);
      expect(b.percent).toBeLessThan(100);
      expect(b.summary).toMatch(/^first backfill \d+ % of 30,000 blocks/);
    }
    expect(seen.some((b) => b.blocksPerSecond > 0 && b.etaSec !== null)).toBe(true);
    expect(covered).toEqual([...covered].sort((a, b) => a - b));
    expect(covered.at(-1)!).toBeGreaterThan(covered[0]!);
    expect(page).toMatch(/First backfill running: <b>\d+ %<\/b> of 30,000 blocks/);
    expect(page).toContain('No complete window yet: claims count 0 until the first backfill ends.');

    // The log: a line at the start and every 5 s (percent, blocks/s, time left), then one when done.
    const lines = captured.lines.filter((l) => l.module === 'claims-backfill');
    const progress = lines.slice(0, -1);
    expect(progress.length).toBeGreaterThanOrEqual(3);
    for (const l of progress) {
      expect(String(l.msg)).toMatch(PROGRESS_LINE);
      expect(l).toMatchObject({ totalBlocks: WINDOW_BLOCKS, window: { to: expect.any(Number) } });
    }
    const percents = progress.map((l) => Number(PROGRESS_LINE.exec(String(l.msg))![1]));
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    expect(progress.some((l) => typeof l.etaSec === 'number' && /about \d+ (s|min) left$/.test(String(l.msg)))).toBe(true);
    expect(String(lines.at(-1)!.msg)).toMatch(/^claims backfill: 30,000 blocks fetched in \d+ (s|min)$/);
    console.info(`backfill of ${WINDOW_BLOCKS} blocks over a slow RPC, as logged:\n${lines.map((l) => `  ${l.msg}`).join('\n')}`);

    // Round 2: a few new blocks, a small scan (no log line), the complete window scored.
    await chain.mine(40);
    const before = lines.length;
    const second = await validator.runOnce(110, new AbortController().signal);
    expect(second.failedSteps).toEqual([]);
    expect(second.claimsComplete).toBe(true);
    expect(second.notes.filter((n) => n.includes('backfill'))).toEqual([]);
    expect(captured.lines.filter((l) => l.module === 'claims-backfill')).toHaveLength(before);
    const after = (await statusJson()).claims!;
    expect(after).toMatchObject({
      backfill: null,
      windowBlocks: WINDOW_BLOCKS,
      coveredBlocks: WINDOW_BLOCKS,
      coveredPercent: 100,
      lastRound: { complete: true },
    });
    const window = after.lastCompleteWindow!;
    expect(window.to - window.from + 1).toBe(WINDOW_BLOCKS);
    const expected = chain.expected([chain.v1, chain.v2], window);
    expect(expected.size).toBeGreaterThan(0);
    expect(new Map([...scanner.claimsByProvider()].map(([p, t]) => [p, t.amount]))).toEqual(new Map([...expected].map(([p, t]) => [p, t.amount])));
  });
});
