/**
 * The backfill's progress as the validator reports it (pure logic over a fake clock and in-memory
 * ports): log lines only for large or slow scans, at most one per interval, and one at the end;
 * a round whose claims step is abandoned while the backfill runs says how far it is; the last
 * weight transaction and the pending commits on the validator's status, without salts. The same
 * against a real anvil chain is test/e2e/validator-backfill.test.ts.
 */
import { describe, expect, test } from 'vitest';
import type { ClaimsScanStatus, ScanProgress } from '../../src/chain/polygon/scanner.js';
import type { BlockHead, PendingCommit, PendingTimelockedCommit } from '../../src/chain/subtensor/types.js';
import { createMemoryStateStore } from '../../src/store/jsonFile.js';
import { backfillPhrase, backfillProgressLog, formatDuration, percentDone } from '../../src/validator/backfill.js';
import { createValidator } from '../../src/validator/loop.js';
import { emptyReport } from '../../src/validator/report.js';
import { runRound } from '../../src/validator/round.js';
import type { ValidatorState } from '../../src/validator/state.js';
import { emptyState } from '../../src/validator/state.js';
import { statusToJson } from '../../src/validator/statusPage.js';
import type { ClaimsScanPort } from '../../src/validator/steps/context.js';
import { WeightsActivity } from '../../src/validator/weightsActivity.js';
import { capturingLogger } from '../support/localChain.js';
import { waitUntil } from '../support/wait.js';
import { deps, HOTKEYS, metagraph, settings } from '../support/roundPorts.js';

const never = <T>() => new Promise<T>(() => undefined);
/** These tests call `runOnce` and `status` themselves: no head ever comes. */
const noHeads = (): AsyncIterable<BlockHead> => ({ [Symbol.asyncIterator]: () => ({ next: () => never() }) });
const WINDOW = { from: 1_000, to: 303_399 };

function progress(doneBlocks: number, elapsedMs: number, totalBlocks = 302_400): ScanProgress {
  const rate = elapsedMs > 0 ? (doneBlocks * 1000) / elapsedMs : 0;
  return {
    window: WINDOW,
    totalBlocks,
    doneBlocks,
    requests: Math.ceil(doneBlocks / 2000),
    claimsFound: 3,
    elapsedMs,
    blocksPerSecond: rate,
    etaMs: rate > 0 ? ((totalBlocks - doneBlocks) * 1000) / rate : null,
  };
}

describe('backfill progress in the log', () => {
  test('a large scan: one line at its start, then at most one per interval (percent, blocks/s, time left), and one at its end', () => {
    const { logger, lines } = capturingLogger();
    let t = 0;
    const onProgress = backfillProgressLog(logger, { now: () => t });
    for (let ms = 0; ms <= 20_000; ms += 1_000) {
      t = ms;
      onProgress(progress(ms * 10, ms));
    }
    t = 30_000;
    onProgress(progress(302_400, 30_000));
    const backfill = lines.filter((l) => l.module === 'claims-backfill');
    expect(backfill.map((l) => l.msg)).toEqual([
      'claims backfill: 0 % of 302,400 blocks, 0 blocks/s, time left unknown yet',
      'claims backfill: 16 % of 302,400 blocks, 10,000 blocks/s, about 25 s left',
      'claims backfill: 33 % of 302,400 blocks, 10,000 blocks/s, about 20 s left',
      'claims backfill: 49 % of 302,400 blocks, 10,000 blocks/s, about 15 s left',
      'claims backfill: 66 % of 302,400 blocks, 10,000 blocks/s, about 10 s left',
      'claims backfill: 302,400 blocks fetched in 30 s',
    ]);
    expect(backfill[2]).toMatchObject({ percent: 33, doneBlocks: 100_000, totalBlocks: 302_400, blocksPerSecond: 10_000, etaSec: 20, window: WINDOW });
  });

  test('the small scans of later rounds say nothing; a small one that runs long does', () => {
    const { logger, lines } = capturingLogger();
    let t = 0;
    const onProgress = backfillProgressLog(logger, { now: () => t });
    const small = (done: number, ms: number) => ({ ...progress(done, ms, 40), window: { from: 303_400, to: 303_439 } });
    onProgress(small(0, 0));
    onProgress(small(40, 300));
    expect(lines.filter((l) => l.module === 'claims-backfill')).toEqual([]);
    // The same size, but an RPC so slow that it has run 6 s.
    const slow = (done: number, ms: number) => ({ ...progress(done, ms, 40), window: { from: 303_440, to: 303_479 } });
    t = 10_000;
    onProgress(slow(0, 0));
    onProgress(slow(20, 6_000));
    onProgress(slow(40, 9_000));
    expect(lines.filter((l) => l.module === 'claims-backfill').map((l) => l.msg)).toEqual([
      'claims backfill: 50 % of 40 blocks, 3 blocks/s, about 6 s left',
      'claims backfill: 40 blocks fetched in 9 s',
    ]);
  });

  test('durations, percents and the phrase a round uses', () => {
    expect([formatDuration(400), formatDuration(45_000), formatDuration(240_000), formatDuration(7_500_000)]).toEqual(['0 s', '45 s', '4 min', '2 h 05 min']);
    expect([percentDone({ doneBlocks: 302_399, totalBlocks: 302_400 }), percentDone({ doneBlocks: 0, totalBlocks: 0 })]).toEqual([99, 100]);
    const scan: ClaimsScanStatus = { window: WINDOW, coveredBlocks: 111_888, running: progress(111_888, 60_000) };
    expect(backfillPhrase(scan, { lastCompleteWindow: null })).toBe('first backfill 37 % of 302,400 blocks (ETA 2 min)');
    expect(backfillPhrase(scan, { lastCompleteWindow: { from: 0, to: 10 } })).toBe('backfill 37 % of 302,400 blocks (ETA 2 min)');
    expect(backfillPhrase({ ...scan, running: null }, { lastCompleteWindow: null })).toBeNull();
  });
});

/** A claims port whose scan never ends within the step, with the progress a scanner would report. */
function backfillingClaims(running: ScanProgress | null, lastCompleteWindow: { from: number; to: number } | null): ClaimsScanPort {
  return {
    runRound: () => never(),
    claimsByProvider: () => new Map(),
    completeness: () => ({ lastCompleteWindow, lastCompleteAt: lastCompleteWindow ? 1 : null, lastRound: null }),
    scanStatus: () => ({ window: WINDOW, coveredBlocks: running?.doneBlocks ?? 0, running }),
  };
}

describe('a round while the backfill runs', () => {
  test('the claims step is abandoned at its budget and the report says how far the first backfill is', async () => {
    const { d } = await deps({ claims: backfillingClaims(progress(111_888, 60_000), null) });
    const { report } = await runRound(d, settings('hs58', { budgets: { claims: 200 } }), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(report.failedSteps).toEqual([
      {
        step: 'claims',
        error:
          'abandoned at its budget of 0 s; first backfill 37 % of 302,400 blocks (ETA 2 min); the scan goes on in the background; scoring with the last complete window',
      },
    ]);
    expect(report.notes).toContain('claims: first backfill 37 % of 302,400 blocks (ETA 2 min); no complete window yet: claims count 0 this round');
  });

  test('catching up after a stop: scoring with the last complete window', async () => {
    const { d } = await deps({ claims: backfillingClaims(progress(50_000, 10_000, 60_000), { from: 0, to: 10 }) });
    const { report } = await runRound(d, settings('hs58', { budgets: { claims: 200 } }), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(report.notes).toContain('claims: backfill 83 % of 60,000 blocks (ETA 2 s); scoring with the last complete window');
  });

  test('/status.json: the window, covered blocks and the backfill while it runs', async () => {
    const { d } = await deps({ claims: backfillingClaims(progress(111_888, 60_000), null) });
    const v = await createValidator({ ...d, heads: noHeads, stateStore: createMemoryStateStore<ValidatorState>() }, settings());
    expect(statusToJson(v.status()).claims).toEqual({
      window: WINDOW,
      windowBlocks: 302_400,
      coveredBlocks: 111_888,
      coveredPercent: 37,
      backfill: {
        first: true,
        summary: 'first backfill 37 % of 302,400 blocks (ETA 2 min)',
        percent: 37,
        doneBlocks: 111_888,
        totalBlocks: 302_400,
        blocksPerSecond: 1865,
        etaSec: 102,
        elapsedSec: 60,
        requests: 56,
        claimsFound: 3,
      },
      lastCompleteWindow: null,
      lastCompleteAt: null,
      lastRound: null,
    });
  });
});

describe('weights on the status', () => {
  const commit = (over: Partial<PendingCommit>): PendingCommit => ({
    scheme: 'hash-v2',
    genesisHash: `0x${'00'.repeat(32)}`,
    netuid: 7,
    hotkey: HOTKEYS[0]!,
    uids: [1, 2],
    values: [65535, 54321],
    salt: [31337, 27182, 33333, 44444, 55555, 1, 2, 3],
    versionKey: '2010',
    commitHash: `0x${'c1'.repeat(32)}`,
    createdAt: '2026-01-01T00:00:00.000Z',
    commitBlock: 101,
    revealFrom: 130,
    revealUntil: 139,
    revealEpoch: null,
    ...over,
  });

  test('the last weight transaction (hashes, block, outcome) and the own pending commits with their reveal window, never a salt', async () => {
    const { d } = await deps({
      chain: {
        getMetagraph: async () => metagraph(),
        blockHash: async () => `0x${'11'.repeat(32)}`,
        setWeights: async () => ({ kind: 'set', txHash: `0x${'7a'.repeat(32)}`, blockHash: `0x${'b1'.repeat(32)}`, blockNumber: 101, events: [] }),
      },
    });
    const others = commit({ hotkey: '5SomeoneElse', commitHash: `0x${'ee'.repeat(32)}` });
    const pendingCommits = async () => [
      commit({}),
      commit({ commitHash: `0x${'c2'.repeat(32)}`, commitBlock: null, revealFrom: null, revealUntil: null }),
      others,
    ];
    const v = await createValidator({ ...d, heads: noHeads, stateStore: createMemoryStateStore<ValidatorState>(), pendingCommits }, settings());
    expect(statusToJson(v.status()).lastWeightTx).toBeNull();
    await v.runOnce(100, new AbortController().signal);
    // The commit store is read after the round, not during it.
    await waitUntil('the pending commits read', () => v.status().pendingCommits.commits.length > 0);
    const json = statusToJson(v.status());
    expect(json.lastWeightTx).toMatchObject({
      roundBlock: 100,
      kind: 'set',
      outcome: 'set',
      blockNumber: 101,
      blockHash: `0x${'b1'.repeat(32)}`,
      txHash: `0x${'7a'.repeat(32)}`,
    });
    expect(json.pendingCommits.error).toBeNull();
    expect(json.pendingCommits.commits.map((c) => [c.commitHash, c.commitBlock, c.revealFromBlock, c.revealUntilBlock])).toEqual([
      [`0x${'c1'.repeat(32)}`, 101, 130, 139],
      [`0x${'c2'.repeat(32)}`, null, null, null],
    ]);
    const text = JSON.stringify(json);
    for (const secret of ['31337', '27182', 'salt', '54321']) expect(text).not.toContain(secret);
  });

  test('a timelocked commit is listed until the head reaches its reveal block; a failed send is the last transaction; a store that cannot be read is said', async () => {
    let fail = false;
    const { logger } = capturingLogger();
    const activity = new WeightsActivity({
      netuid: 7,
      hotkey: HOTKEYS[0]!,
      pendingCommits: async () => {
        if (fail) throw new Error('commit store unreadable');
        return [];
      },
      log: logger,
      now: () => Date.UTC(2026, 0, 1),
    });
    const receipt = { txHash: `0x${'7a'.repeat(32)}`, blockHash: `0x${'b1'.repeat(32)}`, blockNumber: 120, events: [] };
    const timelocked = {
      ...emptyReport(118, [], [], 0),
      submitted: { kind: 'committed-timelocked' as const, revealRound: 777n, revealTargetBlock: 480, ...receipt },
      weightsOutcome: 'committed-timelocked',
    };
    await activity.afterRound(timelocked);
    await activity.onHead(479);
    expect(activity.pending().commits).toEqual([
      expect.objectContaining({ scheme: 'timelocked', commitBlock: 120, drandRound: '777', revealTargetBlock: 480, commitHash: null }),
    ]);
    expect(activity.lastWeightTx()).toMatchObject({ kind: 'committed-timelocked', revealRound: '777', revealTargetBlock: 480, blockNumber: 120 });
    await activity.onHead(480);
    expect(activity.pending().commits).toEqual([]);

    await activity.afterRound({ ...emptyReport(130, [], [], 0), weightsOutcome: 'failed: TX_DISPATCH_FAILED: SettingWeightsTooFast' });
    expect(activity.lastWeightTx()).toMatchObject({
      roundBlock: 130,
      kind: 'failed',
      outcome: 'failed: TX_DISPATCH_FAILED: SettingWeightsTooFast',
      txHash: null,
    });
    // A round that sent nothing keeps the last transaction.
    await activity.afterRound({ ...emptyReport(140, [], [], 0), weightsOutcome: 'all scores are 0: weights not set' });
    expect(activity.lastWeightTx()!.roundBlock).toBe(130);
    fail = true;
    await activity.onHead(481);
    expect(activity.pending().error).toBe('commit store unreadable');
  });

  test('timelocked commits are read from the chain (listed after a restart), with the reveal block this process computed; the read is throttled on heads', async () => {
    const { logger } = capturingLogger();
    let now = Date.UTC(2026, 0, 1);
    let reads = 0;
    let fail = false;
    const hash = (b: string) => `0x${b.repeat(32)}`;
    let onChain: PendingTimelockedCommit[] = [
      { netuid: 7, epoch: 40, commitBlock: null, commitHash: hash('c1'), revealRound: 555n }, // sent before a restart
      { netuid: 8, epoch: 40, commitBlock: 99, commitHash: hash('c2'), revealRound: 556n }, // another subnet
    ];
    const activity = new WeightsActivity({
      netuid: 7,
      hotkey: HOTKEYS[0]!,
      timelockedCommits: async () => {
        reads += 1;
        if (fail) throw new Error('chain read timed out');
        return onChain;
      },
      log: logger,
      now: () => now,
    });
    await activity.onHead(100);
    expect(reads).toBe(1);
    expect(activity.pending()).toEqual({
      commits: [
        expect.objectContaining({ scheme: 'timelocked', netuid: 7, commitBlock: null, commitHash: hash('c1'), drandRound: '555', revealTargetBlock: null }),
      ],
      error: null,
    });
    // On heads, at most one read a minute.
    now += 30_000;
    await activity.onHead(101);
    expect(reads).toBe(1);
    // This process commits: the round's receipt gives the block and the reveal block, the chain the hash.
    const receipt = { txHash: `0x${'7a'.repeat(32)}`, blockHash: `0x${'b1'.repeat(32)}`, blockNumber: 120, events: [] };
    onChain = [...onChain, { netuid: 7, epoch: 41, commitBlock: 120, commitHash: hash('c3'), revealRound: 777n }];
    await activity.afterRound({
      ...emptyReport(118, [], [], 0),
      submitted: { kind: 'committed-timelocked' as const, revealRound: 777n, revealTargetBlock: 480, ...receipt },
      weightsOutcome: 'committed-timelocked',
    });
    expect(reads).toBe(2); // a round always reads
    expect(activity.pending().commits).toEqual([
      expect.objectContaining({ commitBlock: 120, commitHash: hash('c3'), drandRound: '777', revealTargetBlock: 480 }),
      expect.objectContaining({ commitBlock: null, drandRound: '555', revealTargetBlock: null }),
    ]);
    // The chain revealed the first: it leaves the list when the chain says so, whatever the head.
    onChain = onChain.filter((c) => c.revealRound !== 555n);
    now += 60_000;
    await activity.onHead(130);
    expect(reads).toBe(3);
    expect(activity.pending().commits.map((c) => c.drandRound)).toEqual(['777']);
    // A failed read is said; the last list read is kept.
    fail = true;
    now += 60_000;
    await activity.onHead(131);
    expect(activity.pending()).toEqual({ commits: [expect.objectContaining({ drandRound: '777' })], error: 'chain read timed out' });
  });
});
