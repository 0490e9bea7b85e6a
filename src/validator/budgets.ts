/**
 * The round's steps by name, and how long each may take. A step still running at its budget is
 * abandoned and reported (the round goes on with what it has), so a round ends within
 * `roundBudgetMs` whatever miners, RPCs, Redis or the chain do. The figures follow the waits
 * inside each step: the subtensor adapter waits up to 30 s for a dropped link and 60 s for an
 * answer; a transaction up to 120 s; each query the synapse timeout plus 5 s of queue slack;
 * registries 15 s each.
 */
export type StepName = 'metagraph' | 'proofs' | 'claims' | 'providers' | 'probes' | 'rewards' | 'weights';
export const STEP_NAMES: readonly StepName[] = ['metagraph', 'proofs', 'claims', 'providers', 'probes', 'rewards', 'weights'];

/** A failure outside the steps is 'round'; the state file not written is 'save'. */
export type ReportedStep = StepName | 'round' | 'save';

export type StepBudgets = Record<StepName, number>;

/** Added to the sum of the step budgets: the bookkeeping between steps. */
export const ROUND_MARGIN_MS = 5_000;

/** Saving the state after a round (not part of `roundBudgetMs`; the loop adds it). */
export const SAVE_BUDGET_MS = 30_000;

export interface StepBudgetSettings {
  timeoutSec: number;
  probesPerRound: number;
  /** Per-step budgets in ms that replace the defaults. */
  budgets?: Partial<StepBudgets>;
}

/** How long a queue may take for one batch of queries: the synapse timeout and 5 s of slack. */
export function queryTimeoutMs(settings: { timeoutSec: number }): number {
  return settings.timeoutSec * 1000 + 5_000;
}

export function stepBudgets(s: StepBudgetSettings): StepBudgets {
  const query = queryTimeoutMs(s);
  return {
    metagraph: 90_000,
    proofs: query + 5_000,
    claims: 120_000,
    providers: 60_000,
    probes: Math.max(1, s.probesPerRound) * query + 30_000,
    rewards: 10_000,
    weights: 150_000,
    ...s.budgets,
  };
}

export function roundBudgetMs(b: StepBudgets): number {
  return STEP_NAMES.reduce((sum, name) => sum + b[name], ROUND_MARGIN_MS);
}
