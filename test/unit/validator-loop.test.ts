/**
 * The validator loop over in-memory ports (pure logic; the same against real chains and miners
 * is test/e2e/validator-tarpit.test.ts): every step ends within its budget whatever a port does,
 * the round still scores what it has, a failure outside the steps is contained and named, heads
 * that arrive during a round start the next one as soon as it ends, and /health reports a stale
 * head and a step running past its budget.
 */
import { describe, expect, test } from 'vitest';
import type { BlockHead } from '../../src/chain/subtensor/types.js';
import { createMemoryStateStore } from '../../src/store/jsonFile.js';
import { createValidatorMetrics } from '../../src/observability/metrics.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import { roundBudgetMs, stepBudgets } from '../../src/validator/budgets.js';
import { runRound } from '../../src/validator/round.js';
import { emptyState, loadValidatorState, type ValidatorState } from '../../src/validator/state.js';
import { createValidator } from '../../src/validator/loop.js';
import { deps, HOTKEYS, metagraph, settings } from '../support/roundPorts.js';

const never = <T>() => new Promise<T>(() => undefined);

/** Heads pushed by the test, as an async iterable that keeps only the newest unread one (as the chain adapter does). */
function headSource() {
  let pending: BlockHead | null = null;
  let wake: (() => void) | null = null;
  return {
    push(n: number) {
      pending = { number: n, hash: `0x${n.toString(16).padStart(64, '0')}` };
      wake?.();
    },
    heads: (signal: AbortSignal): AsyncIterable<BlockHead> => ({
      async *[Symbol.asyncIterator]() {
        while (!signal.aborted) {
          while (pending === null && !signal.aborted) await new Promise<void>((r) => ((wake = r), signal.addEventListener('abort', () => r(), { once: true })));
          if (signal.aborted) return;
          const h = pending!;
          pending = null;
          yield h;
        }
      },
    }),
  };
}

describe('round budget', () => {
  test('the round budget is the sum of the step budgets plus a margin; the probe budget follows the probes per round', () => {
    const b = stepBudgets({ timeoutSec: 30, probesPerRound: 5 });
    expect(b.proofs).toBe(40_000);
    expect(b.probes).toBe(5 * 35_000 + 30_000);
    expect(roundBudgetMs(b)).toBe(Object.values(b).reduce((a, x) => a + x, 0) + 5_000);
    expect(stepBudgets({ timeoutSec: 30, probesPerRound: 5, budgets: { claims: 7 } }).claims).toBe(7);
  });

  test('ports that never answer: each step is abandoned at its budget, the round ends within the sum, and still scores what it has', async () => {
    const metrics = createValidatorMetrics();
    const hangingQueue = createInProcessQueue({ providerCheck: () => never(), probe: () => never() } as never, { concurrency: 4 });
    const { d } = await deps({
      metrics,
      queue: {
        mode: 'in-process',
        // Ignores its signal and its own timeout: only the step budget can end it.
        runAll: () => never(),
        close: () => hangingQueue.close(),
      },
      registry: { fetchProviders: () => never() },
      chain: { getMetagraph: async () => metagraph(), blockHash: () => never(), setWeights: () => never() },
      claims: {
        runRound: () => never(),
        claimsByProvider: () => new Map([[`0x${'ab'.repeat(20)}`, { amount: 5n, claims: 1, channels: 1 }]]),
        completeness: () => ({ lastCompleteWindow: null, lastCompleteAt: null, lastRound: null }),
      },
    });
    const budgets = { metagraph: 400, proofs: 300, claims: 300, providers: 300, probes: 300, rewards: 300, weights: 300 };
    const started = performance.now();
    const { report } = await runRound(d, settings('hs58', { budgets }), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    const took = performance.now() - started;
    expect(took).toBeLessThan(roundBudgetMs(budgets));
    expect(report.failedSteps.map((f) => f.step)).toEqual(['proofs', 'claims', 'providers']);
    for (const f of report.failedSteps) expect(f.error).toMatch(/^abandoned at its budget of 0 s; /);
    expect(report.failedSteps.find((f) => f.step === 'claims')!.error).toMatch(/the scan goes on in the background; scoring with the last complete window/);
    // Rewards, EMA and weights still ran with what was known (no proofs, no probes: all 0 → not set).
    expect(report.rows).toHaveLength(5);
    const overruns = (await metrics.registry.getSingleMetricAsString('hs58_validator_step_overruns_total'))
      .split('\n')
      .filter((l) => l.startsWith('hs58_validator_step_overruns_total{'));
    expect(overruns.sort()).toEqual([
      'hs58_validator_step_overruns_total{step="claims"} 1',
      'hs58_validator_step_overruns_total{step="proofs"} 1',
      'hs58_validator_step_overruns_total{step="providers"} 1',
    ]);
  });

  test('a chain that never answers the metagraph: the round ends at that budget and the next one runs', async () => {
    let calls = 0;
    const { d } = await deps({
      chain: {
        getMetagraph: () => (++calls === 1 ? never() : Promise.resolve(metagraph())),
        blockHash: async () => `0x${'11'.repeat(32)}`,
        setWeights: async () => ({ kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: 1, events: [] }),
      },
    });
    const v = await createValidator(
      { ...d, heads: headSource().heads, stateStore: createMemoryStateStore<ValidatorState>() },
      settings('hs58', { budgets: { metagraph: 300 } }),
    );
    const first = await v.runOnce(100, new AbortController().signal);
    expect(first.failedSteps).toEqual([{ step: 'metagraph', error: 'abandoned at its budget of 0 s; the round goes on without it' }]);
    expect(v.health().parts.metagraph).toEqual({ ok: false, detail: first.failedSteps[0]!.error });
    const second = await v.runOnce(110, new AbortController().signal);
    expect(second.ok).toBe(true);
    expect(v.health().status).toBe('ok');
  });
});

describe('validator loop', () => {
  test('a failure outside the steps is contained, named "round", keeps the state, and the loop goes on', async () => {
    let bad = true;
    const { d } = await deps({
      chain: {
        // A metagraph the steps cannot use: its hotkeys are not a list.
        getMetagraph: async () => (bad ? ({ ...metagraph(), hotkeys: null } as never) : metagraph()),
        blockHash: async () => `0x${'11'.repeat(32)}`,
        setWeights: async () => ({ kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: 1, events: [] }),
      },
    });
    const store = createMemoryStateStore<ValidatorState>();
    const v = await createValidator({ ...d, heads: headSource().heads, stateStore: store }, settings());
    const report = await v.runOnce(100, new AbortController().signal);
    expect(report.failedSteps).toHaveLength(1);
    expect(report.failedSteps[0]!.step).toBe('round');
    expect(report.failedSteps[0]!.error).toMatch(/^failed outside its steps: /);
    expect(v.health().parts.round).toMatchObject({ ok: false });
    expect(v.health().parts.chain).toMatchObject({ ok: true });
    expect(store.current()!.step).toBe(0);
    bad = false;
    expect((await v.runOnce(110, new AbortController().signal)).ok).toBe(true);
    expect(v.health().parts.round).toEqual({ ok: true });
    expect(store.current()!.step).toBe(1);
  });

  test('heads that arrive during a round are not lost: a new bucket starts the next round as soon as it ends', async () => {
    const source = headSource();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let metagraphCalls = 0;
    const { d } = await deps({
      chain: {
        getMetagraph: async () => {
          metagraphCalls += 1;
          if (metagraphCalls === 1) await held;
          return metagraph();
        },
        blockHash: async () => `0x${'11'.repeat(32)}`,
        setWeights: async () => ({ kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: 1, events: [] }),
      },
    });
    const v = await createValidator({ ...d, heads: source.heads, stateStore: createMemoryStateStore<ValidatorState>() }, settings());
    const blocks: number[] = [];
    const two = new Promise<void>((resolve) => v.onRound((r) => (blocks.push(r.block), blocks.length === 2 && resolve())));
    const stop = new AbortController();
    const running = v.run(stop.signal);
    source.push(100);
    while (metagraphCalls === 0) await new Promise((r) => setTimeout(r, 5));
    // During the first round: two heads of the next bucket (epoch length 10), the newest wins.
    source.push(112);
    source.push(115);
    release();
    await two;
    expect(blocks).toEqual([100, 115]);
    stop.abort();
    await running;
  });

  test('/health: a head older than the stale limit, and a step running past its budget, are degraded and named', async () => {
    let t = 1_000_000;
    const source = headSource();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const { d } = await deps({ registry: { fetchProviders: async () => (await held, { providers: [], source: 'x', failures: [] }) } });
    const v = await createValidator(
      { ...d, heads: source.heads, stateStore: createMemoryStateStore<ValidatorState>(), now: () => t, staleHeadMs: 60_000 },
      settings('hs58', { budgets: { providers: 60_000 } }),
    );
    const stop = new AbortController();
    const running = v.run(stop.signal);
    source.push(100);
    while (v.status().current?.step !== 'providers') await new Promise((r) => setTimeout(r, 5));
    expect(v.health().parts.chain).toEqual({ ok: true, detail: 'head 100' });
    t += 66_000; // the providers step runs past 60 s + the grace; no head for 66 s
    const h = v.health();
    expect(h.status).toBe('degraded');
    expect(h.parts.chain).toEqual({ ok: false, detail: 'head 100 is 66 s old: no new block since' });
    expect(h.parts.round!.detail).toBe('step providers of the round at block 100 has run 66 s, past its budget of 60 s');
    expect(v.status().degraded).toContain('round: step providers of the round at block 100 has run 66 s, past its budget of 60 s');
    release();
    source.push(111);
    while (v.status().rounds < 2) await new Promise((r) => setTimeout(r, 5));
    expect(v.health().parts.chain).toEqual({ ok: true, detail: 'head 111' });
    stop.abort();
    await running;
  });
});

describe('state on load', () => {
  test.each([[1e308], [-0.5], [1.5], ['0.3'], [null]])('a score of %j in state.json is refused with the uid, the value and the fix', async (bad) => {
    const store = createMemoryStateStore<ValidatorState>({ ...emptyState(7, 'hk'), hotkeys: ['a', 'b'], scores: [0.5, bad as number] });
    await expect(loadValidatorState(store, 7, 'hk')).rejects.toMatchObject({
      code: 'STATE_INVALID',
      message: `validator state: the score of uid 1 is ${JSON.stringify(bad)}, not a number from 0 to 1; move the file away to start fresh`,
    });
  });

  test('malformed history entries are dropped, not fatal', async () => {
    const store = createMemoryStateStore<ValidatorState>({
      ...emptyState(7, 'hk'),
      hotkeys: ['a'],
      scores: [0.5],
      history: [{ block: 1, scores: [0.5] }, { block: 2, scores: [1e308] }, { block: 'x', scores: [] } as never],
    });
    expect((await loadValidatorState(store, 7, 'hk')).history).toEqual([{ block: 1, scores: [0.5] }]);
  });
});
