import type { ClaimsCompleteness, ClaimsScanStatus } from '../chain/polygon/scanner.js';
import type { BlockHead, PendingCommit, PendingTimelockedCommit } from '../chain/subtensor/types.js';
import type { StateStore } from '../store/jsonFile.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { HealthReport } from '../observability/server.js';
import { sleep } from '../util/deadline.js';
import { roundBudgetMs, SAVE_BUDGET_MS, STEP_NAMES, stepBudgets, type StepName } from './budgets.js';
import { emptyReport, type RoundReport } from './report.js';
import { runRound } from './round.js';
import { summarizeScoring, type ScoringSummary } from './scoringChoice.js';
import { loadValidatorState, type ValidatorState } from './state.js';
import type { ClaimsScanPort, RoundDeps, RoundSettings } from './steps/context.js';
import { runSaveStep } from './steps/save.js';
import { WeightsActivity, type PendingCommitView, type WeightTx } from './weightsActivity.js';

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
  /** The chain adapter's weight commits waiting for their reveal (`Subtensor.pendingCommits`), for /status. */
  pendingCommits?: () => Promise<PendingCommit[]>;
  /** This hotkey's timelocked commits still on chain (`Subtensor.pendingTimelockedCommits`), for /status. */
  timelockedCommits?: () => Promise<PendingTimelockedCommit[]>;
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
  /** The claims window and the scan running now; null when the preset scores no claims. */
  claims: { completeness: ClaimsCompleteness; scan: ClaimsScanStatus | null } | null;
  /** The last weight transaction sent (or tried) since the start. */
  lastWeightTx: WeightTx | null;
  /** Weight commits waiting for their reveal; `error` when the commit store could not be read. */
  pendingCommits: { commits: PendingCommitView[]; error: string | null };
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

export interface ValidatorSettings extends RoundSettings {
  /** How the scoring was chosen (neurons/validator.ts); absent: described as given by the caller. */
  scoring?: ScoringSummary;
}

/** A step is reported as overrunning once it runs this much past its budget (it is abandoned at the budget). */
const OVERRUN_GRACE_MS = 5_000;

/** A claims port whose `runRound` joins the scan in flight instead of starting a second one. */
export function joinScans(claims: ClaimsScanPort): ClaimsScanPort {
  let inFlight: ReturnType<ClaimsScanPort['runRound']> | null = null;
  return {
    claimsByProvider: () => claims.claimsByProvider(),
    completeness: () => claims.completeness(),
    scanStatus: claims.scanStatus?.bind(claims),
    runRound: (options) => {
      inFlight ??= claims.runRound(options).finally(() => {
        inFlight = null;
      });
      return inFlight;
    },
  };
}

export async function createValidator(deps: ValidatorDeps, settings: ValidatorSettings): Promise<Validator> {
  const state = await loadValidatorState(deps.stateStore, settings.netuid, settings.hotkey);
  return new ValidatorLoop(deps, settings, state);
}

interface CurrentRound {
  block: number;
  step: StepName | 'save' | null;
  stepStartedAt: number;
  budgetMs: number;
}

class ValidatorLoop implements Validator {
  private readonly deps: ValidatorDeps;
  private readonly settings: ValidatorSettings;
  private readonly roundDeps: RoundDeps;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly staleHeadMs: number;
  private readonly budgetMs: number;
  private readonly scoring: ScoringSummary;
  private readonly startedAt: number;
  private readonly listeners: ((r: RoundReport, s: ValidatorState) => void)[] = [];
  private state: ValidatorState;
  private lastHead: number | null = null;
  private lastHeadAt: number | null = null;
  private headError: string | null = null;
  private rounds = 0;
  private lastReport: RoundReport | null = null;
  private current: CurrentRound | null = null;
  private readonly weightsActivity: WeightsActivity;

  constructor(deps: ValidatorDeps, settings: ValidatorSettings, state: ValidatorState) {
    this.deps = deps;
    this.settings = settings;
    this.state = state;
    this.log = deps.logger.child({ module: 'validator' });
    this.now = deps.now ?? Date.now;
    this.staleHeadMs = deps.staleHeadMs ?? 60_000;
    this.budgetMs = roundBudgetMs(stepBudgets(settings)) + SAVE_BUDGET_MS;
    this.startedAt = this.now();
    this.weightsActivity = new WeightsActivity({
      netuid: settings.netuid,
      hotkey: settings.hotkey,
      pendingCommits: deps.pendingCommits,
      timelockedCommits: deps.timelockedCommits,
      log: this.log,
      now: this.now,
    });
    this.roundDeps = {
      ...deps,
      claims: deps.claims ? joinScans(deps.claims) : null,
      onStep: (step, stepBudgetMs) => {
        if (this.current) this.current = { ...this.current, step, stepStartedAt: this.now(), budgetMs: stepBudgetMs };
        deps.onStep?.(step, stepBudgetMs);
      },
    };
    const given = 'given by the caller';
    this.scoring =
      settings.scoring ??
      summarizeScoring({ preset: settings.preset, presetReason: given, alphaSource: given, versionKey: settings.versionKey, versionKeySource: given });
    this.log.info(
      { step: state.step, uids: state.scores.length, lastRoundBlock: state.lastRoundBlock, roundBudgetSec: Math.round(this.budgetMs / 1000) },
      'state loaded',
    );
  }

  onRound(cb: (report: RoundReport, state: ValidatorState) => void): void {
    this.listeners.push(cb);
  }

  async runOnce(block: number, signal: AbortSignal): Promise<RoundReport> {
    const { deps, log } = this;
    const timer = deps.metrics?.roundSeconds.startTimer();
    this.current = { block, step: null, stepStartedAt: this.now(), budgetMs: 0 };
    const report = await this.round(block, signal);
    this.lastReport = report;
    this.rounds += 1;
    // Never awaited: /status must not hold a round up.
    void this.weightsActivity.afterRound(report);
    timer?.();
    deps.metrics?.rounds.inc({ outcome: report.ok ? 'ok' : 'degraded' });
    this.current = { block, step: 'save', stepStartedAt: this.now(), budgetMs: SAVE_BUDGET_MS };
    const unsaved = await runSaveStep({ store: deps.stateStore, state: this.state, log, metrics: deps.metrics });
    if (unsaved) {
      report.failedSteps.push(unsaved);
      report.ok = false;
    }
    this.current = null;
    log.info(
      { block, ok: report.ok, failed: report.failedSteps.map((f) => f.step), ms: Math.round(report.durationMs), weights: report.weights?.uids.length ?? 0 },
      'round finished',
    );
    for (const l of this.listeners) {
      try {
        l(report, this.state);
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'round listener failed');
      }
    }
    return report;
  }

  /** The round's report; the state moves on only when the round finished inside its steps. */
  private async round(block: number, signal: AbortSignal): Promise<RoundReport> {
    const started = performance.now();
    try {
      const result = await runRound(this.roundDeps, this.settings, this.state, block, signal);
      this.state = result.state;
      return result.report;
    } catch (err) {
      if (signal.aborted) {
        this.current = null;
        throw err;
      }
      // A fault outside the steps (a bug, a state the steps cannot use): named, contained, the state kept.
      const error = `failed outside its steps: ${errorMessage(err)}`;
      this.deps.metrics?.stepFailures.inc({ step: 'round' });
      this.log.error({ block, err: error }, 'round failed; the state is kept as it was');
      return emptyReport(block, [{ step: 'round', error }], [], started);
    }
  }

  async run(signal: AbortSignal): Promise<void> {
    const bucket = (b: number) => Math.floor(b / this.settings.epochLength);
    while (!signal.aborted) {
      try {
        // The stream keeps the newest head that arrived during a round: when it is in a new
        // bucket, the next round starts as soon as this one ends.
        for await (const head of this.deps.heads(signal)) {
          this.lastHead = head.number;
          this.lastHeadAt = this.now();
          this.log.debug({ head: head.number }, 'new head');
          void this.weightsActivity.onHead(head.number);
          this.headError = null;
          const last = this.state.lastRoundBlock;
          if (last !== null && bucket(head.number) === bucket(last)) continue;
          await this.runOnce(head.number, signal);
        }
      } catch (err) {
        if (signal.aborted) break;
        this.headError = errorMessage(err);
        this.log.warn({ err: this.headError }, 'block stream failed; retrying in 5 s');
        await sleep(5_000, signal);
      }
    }
  }

  status(): ValidatorStatus {
    const { settings, current } = this;
    return {
      netuid: settings.netuid,
      hotkey: settings.hotkey,
      preset: settings.preset.name,
      formula: settings.preset.formula,
      scoring: this.scoring,
      startedAt: this.startedAt,
      lastHead: this.lastHead,
      rounds: this.rounds,
      lastReport: this.lastReport,
      state: this.state,
      degraded: Object.entries(this.healthParts())
        .filter(([, p]) => !p.ok)
        .map(([name, p]) => `${name}: ${p.detail ?? 'failing'}`),
      current: current
        ? { block: current.block, step: current.step, stepMs: current.step ? this.now() - current.stepStartedAt : 0, budgetMs: current.budgetMs }
        : null,
      roundBudgetMs: this.budgetMs,
      claims: this.claimsStatus(),
      lastWeightTx: this.weightsActivity.lastWeightTx(),
      pendingCommits: this.weightsActivity.pending(),
    };
  }

  private claimsStatus(): ValidatorStatus['claims'] {
    const claims = this.roundDeps.claims;
    if (!claims || !this.settings.preset.uses.claims) return null;
    return { completeness: claims.completeness(), scan: claims.scanStatus?.() ?? null };
  }

  health(): HealthReport {
    const parts = this.healthParts();
    const bad = Object.values(parts).filter((p) => !p.ok).length;
    const down = !parts.chain!.ok && !parts.metagraph!.ok;
    return { status: down ? 'down' : bad > 0 ? 'degraded' : 'ok', parts };
  }

  private healthParts(): HealthReport['parts'] {
    const parts: HealthReport['parts'] = { chain: this.chainHealth(), round: this.roundHealth() };
    for (const name of STEP_NAMES) {
      const f = this.lastReport?.failedSteps.find((s) => s.step === name);
      parts[name] = f ? { ok: false, detail: f.error } : { ok: true };
    }
    return parts;
  }

  private chainHealth(): HealthReport['parts'][string] {
    const { lastHead, lastHeadAt, now, staleHeadMs, startedAt } = this;
    if (this.headError !== null) return { ok: false, detail: this.headError };
    if (lastHead === null || lastHeadAt === null) {
      return now() - startedAt > staleHeadMs
        ? { ok: false, detail: `no head for ${Math.round((now() - startedAt) / 1000)} s` }
        : { ok: true, detail: 'no head yet' };
    }
    const age = now() - lastHeadAt;
    if (age > staleHeadMs) return { ok: false, detail: `head ${lastHead} is ${Math.round(age / 1000)} s old: no new block since` };
    return { ok: true, detail: `head ${lastHead}` };
  }

  private roundHealth(): HealthReport['parts'][string] {
    const { current } = this;
    const failed = this.lastReport?.failedSteps.find((s) => s.step === 'round' || s.step === 'save');
    if (current?.step) {
      const running = this.now() - current.stepStartedAt;
      if (running > current.budgetMs + OVERRUN_GRACE_MS) {
        return {
          ok: false,
          detail: `step ${current.step} of the round at block ${current.block} has run ${Math.round(running / 1000)} s, past its budget of ${Math.round(current.budgetMs / 1000)} s`,
        };
      }
    }
    if (failed) return { ok: false, detail: failed.error };
    return current ? { ok: true, detail: `round at block ${current.block} running${current.step ? `: ${current.step}` : ''}` } : { ok: true };
  }
}
