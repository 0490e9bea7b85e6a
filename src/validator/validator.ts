import type { BlockHead } from '../chain/subtensor/types.js';
import type { StateStore } from '../chain/polygon/stateFile.js';
import { errorMessage, isAbortError } from '../errors.js';
import type { HealthReport } from '../observability/server.js';
import { runRound, type RoundDeps, type RoundReport, type RoundSettings } from './round.js';
import { summarizeScoring, type ScoringSummary } from './scoringChoice.js';
import { loadValidatorState, type ValidatorState } from './state.js';

/**
 * The validator loop, driven by chain blocks: a round runs when `block // epoch_length`
 * changes (the Python validator's bucket, not the chain's own epoch), one at a time; heads
 * that arrive during a round are dropped, not queued. After every round the state is saved
 * atomically. Errors of a round are contained in its report; errors outside a round (the
 * head stream) are logged and the loop goes on until the signal aborts.
 */
export interface ValidatorDeps extends RoundDeps {
  heads: (signal: AbortSignal) => AsyncIterable<BlockHead>;
  stateStore: StateStore<ValidatorState>;
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

export async function createValidator(deps: ValidatorDeps, settings: ValidatorSettings): Promise<Validator> {
  const log = deps.logger.child({ module: 'validator' });
  let state = await loadValidatorState(deps.stateStore, settings.netuid, settings.hotkey);
  const startedAt = Date.now();
  let lastHead: number | null = null;
  let rounds = 0;
  let lastReport: RoundReport | null = null;
  let headError: string | null = null;
  const listeners: ((r: RoundReport, s: ValidatorState) => void)[] = [];
  log.info({ step: state.step, uids: state.scores.length, lastRoundBlock: state.lastRoundBlock }, 'state loaded');

  const bucket = (b: number) => Math.floor(b / settings.epochLength);
  const scoring =
    settings.scoring ??
    summarizeScoring({ preset: settings.preset, presetReason: 'given by the caller', alphaSource: 'given by the caller', versionKey: settings.versionKey, versionKeySource: 'given by the caller' });

  async function runOnce(block: number, signal: AbortSignal): Promise<RoundReport> {
    const timer = deps.metrics?.roundSeconds.startTimer();
    const { report, state: next } = await runRound(deps, settings, state, block, signal);
    state = next;
    lastReport = report;
    rounds += 1;
    timer?.();
    deps.metrics?.rounds.inc({ outcome: report.ok ? 'ok' : 'degraded' });
    try {
      await deps.stateStore.save(state);
    } catch (err) {
      report.failedSteps.push({ step: 'weights', error: `state not saved: ${errorMessage(err)}` });
      log.error({ err: errorMessage(err) }, 'state not saved');
    }
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
        for await (const head of deps.heads(signal)) {
          lastHead = head.number;
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
      degraded: [...(lastReport?.failedSteps.map((f) => `${f.step}: ${f.error}`) ?? []), ...(headError ? [`chain heads: ${headError}`] : [])],
    }),
    health: () => {
      const parts: HealthReport['parts'] = {
        chain: { ok: headError === null, detail: headError ?? (lastHead === null ? 'no head yet' : `head ${lastHead}`) },
      };
      for (const name of ['metagraph', 'proofs', 'claims', 'providers', 'probes', 'rewards', 'weights'] as const) {
        const f = lastReport?.failedSteps.find((s) => s.step === name);
        parts[name] = f ? { ok: false, detail: f.error } : { ok: true };
      }
      const bad = Object.values(parts).filter((p) => !p.ok).length;
      const down = !parts.chain!.ok && !parts.metagraph!.ok;
      return { status: down ? 'down' : bad > 0 ? 'degraded' : 'ok', parts };
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
