/**
 * The step runner of a round (src/validator/steps/runStep.ts) and the save step after it: a step
 * returns its value, or on failure its fallback (the last value it kept) with the failure and its
 * notes; work left behind at the budget changes nothing after the step ended; every step, the
 * save included, is timed into hs58_validator_step_seconds{step}.
 */
import { describe, expect, test } from 'vitest';
import { createMemoryStateStore } from '../../src/store/jsonFile.js';
import { createLogger } from '../../src/observability/logger.js';
import { createValidatorMetrics } from '../../src/observability/metrics.js';
import { stepBudgets } from '../../src/validator/budgets.js';
import { createValidator } from '../../src/validator/loop.js';
import type { ValidatorState } from '../../src/validator/state.js';
import type { RoundContext } from '../../src/validator/steps/context.js';
import { runStep } from '../../src/validator/steps/runStep.js';
import { deps, settings } from '../support/roundPorts.js';

async function context(signal = new AbortController().signal) {
  const metrics = createValidatorMetrics();
  const { d } = await deps({ metrics });
  const ctx: RoundContext = {
    deps: d,
    settings: settings(),
    block: 100,
    signal,
    log: createLogger({ level: 'silent' }),
    budgets: stepBudgets({ timeoutSec: 1, probesPerRound: 1, budgets: { probes: 200 } }),
  };
  return { ctx, metrics };
}

async function observed(metrics: ReturnType<typeof createValidatorMetrics>, metric: string): Promise<string[]> {
  return (await metrics.registry.getSingleMetricAsString(metric)).split('\n').filter((l) => l.startsWith(`${metric}{`) || l.startsWith(`${metric}_count{`));
}

describe('runStep', () => {
  test('a step returns its value and its notes, timed into hs58_validator_step_seconds', async () => {
    const { ctx, metrics } = await context();
    const r = await runStep(ctx, 'rewards', 0, async (scope) => (scope.note('a note'), 42));
    expect(r).toEqual({ value: 42, failure: null, notes: ['a note'] });
    expect(await observed(metrics, 'hs58_validator_step_seconds')).toContain('hs58_validator_step_seconds_count{step="rewards"} 1');
  });

  test('a failing step returns its fallback, or the last value it kept, with the error and the notes made before it', async () => {
    const { ctx, metrics } = await context();
    const plain = await runStep(ctx, 'providers', 'fallback', async () => {
      throw new Error('registry exploded');
    });
    expect(plain).toEqual({ value: 'fallback', failure: { step: 'providers', error: 'registry exploded' }, notes: [] });
    const kept = await runStep(ctx, 'weights', 'fallback', async (scope) => {
      scope.note('computed');
      scope.keep('computed, not sent');
      throw new Error('refused');
    });
    expect(kept).toEqual({ value: 'computed, not sent', failure: { step: 'weights', error: 'refused' }, notes: ['computed'] });
    expect(await observed(metrics, 'hs58_validator_step_failures_total')).toEqual([
      'hs58_validator_step_failures_total{step="providers"} 1',
      'hs58_validator_step_failures_total{step="weights"} 1',
    ]);
  });

  test('abandoned at its budget: the kept value is returned, and what the work does after that changes nothing', async () => {
    const { ctx, metrics } = await context();
    let late!: () => void;
    const r = await runStep(ctx, 'probes', 'nothing', async (scope) => {
      scope.keep('sampled');
      await new Promise<void>((resolve) => (late = resolve));
      scope.keep('late value');
      scope.note('late note');
      return 'late return';
    });
    expect(r).toEqual({ value: 'sampled', failure: { step: 'probes', error: 'abandoned at its budget of 0 s; the round goes on without it' }, notes: [] });
    late();
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(r).toEqual({ value: 'sampled', failure: expect.anything(), notes: [] });
    expect(await observed(metrics, 'hs58_validator_step_overruns_total')).toEqual(['hs58_validator_step_overruns_total{step="probes"} 1']);
  });

  test("the validator's signal ends the round: the step rejects instead of returning its fallback", async () => {
    const stop = new AbortController();
    const { ctx } = await context(stop.signal);
    const step = runStep(ctx, 'proofs', 'fallback', () => new Promise<string>(() => undefined));
    stop.abort(new Error('received SIGTERM'));
    await expect(step).rejects.toThrow('received SIGTERM');
  });
});

describe('the save step', () => {
  test("a state that cannot be saved is reported as the step 'save', timed, and /health says so", async () => {
    const metrics = createValidatorMetrics();
    const { d } = await deps({ metrics });
    const store = createMemoryStateStore<ValidatorState>();
    let full = true;
    const stateStore = { load: store.load, save: async (s: ValidatorState) => (full ? Promise.reject(new Error('disk full')) : store.save(s)) };
    const v = await createValidator({ ...d, heads: () => ({ [Symbol.asyncIterator]: async function* () {} }), stateStore }, settings());
    const report = await v.runOnce(100, new AbortController().signal);
    expect(report.ok).toBe(false);
    expect(report.failedSteps).toEqual([{ step: 'save', error: 'state not saved: disk full' }]);
    expect(v.health().parts.round).toEqual({ ok: false, detail: 'state not saved: disk full' });
    expect(await observed(metrics, 'hs58_validator_step_seconds')).toContain('hs58_validator_step_seconds_count{step="save"} 1');
    full = false;
    expect((await v.runOnce(110, new AbortController().signal)).ok).toBe(true);
    // The state moved on in memory after the unsaved round; the next save writes both rounds' step.
    expect(store.current()).toMatchObject({ step: 2, lastRoundBlock: 110 });
  });
});
