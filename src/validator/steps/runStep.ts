/**
 * Runs one step of a round within its budget: its signal aborts at the budget, and a step still
 * running then is left behind. A step's failure (an error, or its budget) is caught, logged,
 * counted and returned with the step's fallback value, so the steps after it run with what is
 * known; only the validator's own signal ends the round. Every step's duration goes into
 * `hs58_validator_step_seconds{step}`, an abandoned one into `hs58_validator_step_overruns_total`.
 */
import { errorMessage } from '../../errors.js';
import { raceSignal, startDeadline } from '../../util/deadline.js';
import type { ReportedStep, StepName } from '../budgets.js';
import type { RoundContext } from './context.js';

export interface FailedStep {
  step: ReportedStep;
  error: string;
}

/** What a step's work gets besides its signal. Calls after the step ended (abandoned work) are ignored. */
export interface StepScope<T> {
  /** Aborts at the step's budget and when the validator stops. */
  signal: AbortSignal;
  /** A line for the round report. */
  note(text: string): void;
  /** What the round uses if the step fails from here on (e.g. the weights computed before sending them). */
  keep(value: T): void;
}

export interface StepResult<T> {
  /** The step's value, or its fallback (the last kept) when it failed. */
  value: T;
  failure: FailedStep | null;
  notes: string[];
}

const GOES_ON = 'the round goes on without it';

/** The result of a step the preset does not run. */
export function skipped<T>(value: T): StepResult<T> {
  return { value, failure: null, notes: [] };
}

export async function runStep<T>(
  ctx: RoundContext,
  name: StepName,
  fallback: T,
  work: (scope: StepScope<T>) => Promise<T>,
  /** What the report says after `abandoned at its budget of N s; `: a text, or one made when the budget ends. */
  overrun: string | (() => string) = GOES_ON,
): Promise<StepResult<T>> {
  const { deps, log, signal } = ctx;
  const budgetMs = ctx.budgets[name];
  const deadline = startDeadline(budgetMs, { parent: signal, label: `the ${name} step` });
  const began = performance.now();
  const notes: string[] = [];
  let kept = fallback;
  let open = true;
  const scope: StepScope<T> = {
    signal: deadline.signal,
    note: (text) => {
      if (open) notes.push(text);
    },
    keep: (value) => {
      if (open) kept = value;
    },
  };
  deps.onStep?.(name, budgetMs);
  try {
    log.debug({ step: name, budgetMs }, 'round step');
    const value = await raceSignal(work(scope), deadline.signal);
    signal.throwIfAborted();
    return { value, failure: null, notes };
  } catch (err) {
    // Stopped mid-round (whatever the abort reason): abandon the round. Finishing it would score
    // the queries the abort cut short as failures and decay every miner's EMA in the saved state.
    if (signal.aborted) throw err;
    const why = () => (typeof overrun === 'function' ? overrun() : overrun);
    const error = deadline.expired ? `abandoned at its budget of ${Math.round(budgetMs / 1000)} s; ${why()}` : errorMessage(err);
    deps.metrics?.stepFailures.inc({ step: name });
    if (deadline.expired) {
      deps.metrics?.stepOverruns.inc({ step: name });
      log.warn({ step: name, budgetMs }, 'round step past its budget: abandoned; continuing with what is known');
    } else {
      log.warn({ step: name, err: error }, 'round step failed; continuing with what is known');
    }
    return { value: kept, failure: { step: name, error }, notes };
  } finally {
    open = false;
    deadline.clear();
    deps.metrics?.stepSeconds.observe({ step: name }, (performance.now() - began) / 1000);
  }
}
