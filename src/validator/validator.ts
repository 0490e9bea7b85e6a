import type { BlockHead } from '../chain/subtensor/types.js';
import type { StateStore } from '../store/jsonFile.js';
import { errorMessage, isAbortError } from '../errors.js';
import type { HealthReport } from '../observability/server.js';
import { sleep, withDeadline } from '../util/deadline.js';
import { emptyReport, roundBudgetMs, runRound, STEP_NAMES, stepBudgets, type ClaimsScanPort, type RoundDeps, type RoundReport, type RoundSettings, type StepName } from './round.js';
import { summarizeScoring, type ScoringSummary } from './scoringChoice.js';
import { loadValidatorState, type ValidatorState } from './state.js';

/**
 * The validator loop, driven by chain blocks: a round runs when `block // epoch_length`
 * changes (the Python validator's bucket, not the chain's own epoch), one at a time. Heads that
 * arrive during a round are not lost: the newest is kept, and when its bucket differs the next
 * round starts as soon as the current one ends. Every round ends within its budget
 * (`roundBudgetMs`); its errors, inside or outside its steps, are contained in its report, and
 * the state is saved atomically after it. Errors of the head stream are logged and the loop goes
 * on until the signal aborts.
 */
export interface ValidatorDeps extends RoundDeps {
  heads: (signal: AbortSignal) => AsyncIterable<BlockHead>;
  stateStore: StateStore<ValidatorState>;
  /** No new head for this long makes the chain part of /health degraded (default 60 s, five blocks). */
  staleHeadMs?: number;
  now?: () => number;
}

export interface ValidatorStatus {
  netuid: number;
  hotkey: string;
  preset: string;
  formula: string;
  /** Which preset runs and why, its α, the version key and where it came from, the synapses sent. */
  scoring: ScoringSummary;
  startedAt: number;
  lastHead: number | null;
  rounds: number;
  lastReport: RoundReport | null;
  state: ValidatorState;
  degraded: string[];
  /** The round running now: its block, step, and how long that step has run against its budget. */
  current: { block: number; step: StepName | 'save' | null; stepMs: number; budgetMs: number } | null;
  roundBudgetMs: number;
}

export interface Validator {
  /** Runs until the signal aborts; resolves after the current round finished and the state was saved. */
  run(signal: AbortSignal): Promise<void>;
  /** Runs one round now at `block` (tests, `--epochs`). */
  runOnce(block: number, signal: AbortSignal): Promise<RoundReport>;
  status(): ValidatorStatus;
  health(): HealthReport;
  onRound(cb: (report: RoundReport, state: ValidatorState) => void): void;
}

const SAVE_BUDGET_MS = 30_000;
/** A step is reported as overrunning once it runs this much past its budget (it is abandoned at the budget). */
const OVERRUN_GRACE_MS = 5_000;

/** A claims port whose `runRound` joins the scan in flight instead of starting a second one. */
export function joinScans(claims: ClaimsScanPort): ClaimsScanPort {
  let inFlight: ReturnType<ClaimsScanPort['runRound']> | null = null;
  return {
    claimsByProvider: () => claims.claimsByProvider(),
    completeness: () => claims.completeness(),
    runRound: (options) => {
      inFlight ??= claims.runRound(options).finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
  };
}

export interface ValidatorSettings extends RoundSettings {
  /** How the scoring was chosen (neurons/validator.ts); absent: described as given by the caller. */
  scoring?: ScoringSummary;
}

export async function createValidator(deps: ValidatorDeps, settings: ValidatorSettings): Promise<Validator> {
  const log = deps.logger.child({ module: 'validator' });
  const now = deps.now ?? Date.now;
  const staleHeadMs = deps.staleHeadMs ?? 60_000;
  const budgets = stepBudgets(settings);
  const budgetMs = roundBudgetMs(budgets) + SAVE_BUDGET_MS;
  let state = await loadValidatorState(deps.stateStore, settings.netuid, settings.hotkey);
  const startedAt = now();
  let lastHead: number | null = null;
  let lastHeadAt: number | null = null;
  let rounds = 0;
  let lastReport: RoundReport | null = null;
  let headError: string | null = null;
  let current: { block: number; step: StepName | 'save' | null; stepStartedAt: number; budgetMs: number } | null = null;
  const listeners: ((r: RoundReport, s: ValidatorState) => void)[] = [];
  const roundDeps: RoundDeps = {
    ...deps,
    claims: deps.claims ? joinScans(deps.claims) : null,
    onStep: (step, stepBudgetMs) => {
      if (current) current = { ...current, step, stepStartedAt: now(), budgetMs: stepBudgetMs };
      deps.onStep?.(step, stepBudgetMs);
    },
  };
  log.info({ step: state.step, uids: state.scores.length, lastRoundBlock: state.lastRoundBlock, roundBudgetSec: Math.round(budgetMs / 1000) }, 'state loaded');

  const bucket = (b: number) => Math.floor(b / settings.epochLength);
  const scoring =
    settings.scoring ??
    summarizeScoring({ preset: settings.preset, presetReason: 'given by the caller', alphaSource: 'given by the caller', versionKey: settings.versionKey, versionKeySource: 'given by the caller' });

  async function runOnce(block: number, signal: AbortSignal): Promise<RoundReport> {
    const timer = deps.metrics?.roundSeconds.startTimer();
    const started = performance.now();
    current = { block, step: null, stepStartedAt: now(), budgetMs: 0 };
    let report: RoundReport;
    try {
      const result = await runRound(roundDeps, settings, state, block, signal);
      state = result.state;
      report = result.report;
    } catch (err) {
      if (signal.aborted) {
        current = null;
        throw err;
      }
      // A fault outside the steps (a bug, a state the steps cannot use): named, contained, the state kept.
      const error = `failed outside its steps: ${errorMessage(err)}`;
      deps.metrics?.stepFailures.inc({ step: 'round' });
      log.error({ block, err: error }, 'round failed; the state is kept as it was');
      report = emptyReport(block, [{ step: 'round', error }], [], started);
    }
    lastReport = report;
    rounds += 1;
    timer?.();
    deps.metrics?.rounds.inc({ outcome: report.ok ? 'ok' : 'degraded' });
    current = { block, step: 'save', stepStartedAt: now(), budgetMs: SAVE_BUDGET_MS };
    try {
      const snapshot = state;
      await withDeadline(SAVE_BUDGET_MS, () => deps.stateStore.save(snapshot), { label: 'saving the state' });
    } catch (err) {
      report.failedSteps.push({ step: 'save', error: `state not saved: ${errorMessage(err)}` });
      report.ok = false;
      log.error({ err: errorMessage(err) }, 'state not saved');
    }
    current = null;
    log.info(
      { block, ok: report.ok, failed: report.failedSteps.map((f) => f.step), ms: Math.round(report.durationMs), weights: report.weights?.uids.length ?? 0 },
      'round finished',
    );
    for (const l of listeners) {
      try {
        l(report, state);
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'round listener failed');
      }
    }
    return report;
  }

  async function run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        // The stream keeps the newest head that arrived during a round: when it is in a new
        // bucket, the next round starts as soon as this one ends.
        for await (const head of deps.heads(signal)) {
          lastHead = head.number;
          lastHeadAt = now();
          log.debug({ head: head.number }, 'new head');
          headError = null;
          if (state.lastRoundBlock !== null && bucket(head.number) === bucket(state.lastRoundBlock)) continue;
          await runOnce(head.number, signal);
        }
      } catch (err) {
        if (signal.aborted && isAbortError(err)) break;
        if (signal.aborted) break;
        headError = errorMessage(err);
        log.warn({ err: headError }, 'block stream failed; retrying in 5 s');
        await sleep(5_000, signal);
      }
    }
  }

  function chainHealth(): HealthReport['parts'][string] {
    if (headError !== null) return { ok: false, detail: headError };
    if (lastHead === null || lastHeadAt === null) return now() - startedAt > staleHeadMs ? { ok: false, detail: `no head for ${Math.round((now() - startedAt) / 1000)} s` } : { ok: true, detail: 'no head yet' };
    const age = now() - lastHeadAt;
    if (age > staleHeadMs) return { ok: false, detail: `head ${lastHead} is ${Math.round(age / 1000)} s old: no new block since` };
    return { ok: true, detail: `head ${lastHead}` };
  }

  function roundHealth(): HealthReport['parts'][string] {
    const failed = lastReport?.failedSteps.find((s) => s.step === 'round' || s.step === 'save');
    if (current?.step) {
      const running = now() - current.stepStartedAt;
      if (running > current.budgetMs + OVERRUN_GRACE_MS) {
        return { ok: false, detail: `step ${current.step} of the round at block ${current.block} has run ${Math.round(running / 1000)} s, past its budget of ${Math.round(current.budgetMs / 1000)} s` };
      }
    }
    if (failed) return { ok: false, detail: failed.error };
    return current ? { ok: true, detail: `round at block ${current.block} running${current.step ? `: ${current.step}` : ''}` } : { ok: true };
  }

  return {
    run,
    runOnce,
    onRound: (cb) => listeners.push(cb),
    status: () => ({
      netuid: settings.netuid,
      hotkey: settings.hotkey,
      preset: settings.preset.name,
      formula: settings.preset.formula,
      scoring,
      startedAt,
      lastHead,
      rounds,
      lastReport,
      state,
      degraded: Object.entries(healthParts())
        .filter(([, p]) => !p.ok)
        .map(([name, p]) => `${name}: ${p.detail ?? 'failing'}`),
      current: current ? { block: current.block, step: current.step, stepMs: current.step ? now() - current.stepStartedAt : 0, budgetMs: current.budgetMs } : null,
      roundBudgetMs: budgetMs,
    }),
    health: () => {
      const parts = healthParts();
      const bad = Object.values(parts).filter((p) => !p.ok).length;
      const down = !parts.chain!.ok && !parts.metagraph!.ok;
      return { status: down ? 'down' : bad > 0 ? 'degraded' : 'ok', parts };
    },
  };

  function healthParts(): HealthReport['parts'] {
    const parts: HealthReport['parts'] = { chain: chainHealth(), round: roundHealth() };
    for (const name of STEP_NAMES) {
      const f = lastReport?.failedSteps.find((s) => s.step === name);
      parts[name] = f ? { ok: false, detail: f.error } : { ok: true };
    }
    return parts;
  }
}
