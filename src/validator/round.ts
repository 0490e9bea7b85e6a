/**
 * One validator round as a sequence of named steps over ports (src/validator/steps/):
 * metagraph → ProviderCheck proofs → claims → providers → probes (sample, consensus) →
 * rewards and EMA → u16 weights, set on chain; the loop saves the state after it. Each step
 * runs within its budget, is timed, and returns its value; a step that fails is reported and
 * returns its fallback, so the steps after it run with what is known, and one bad step never
 * ends the loop. The report is assembled from the steps' values at the end.
 */
import { resyncScores } from '../scoring/ema.js';
import { stepBudgets } from './budgets.js';
import { emptyReport, roundReport, type RoundReport } from './report.js';
import { stateAfterRound, type ValidatorState } from './state.js';
import { runClaimsStep } from './steps/claims.js';
import type { RoundContext, RoundDeps, RoundSettings } from './steps/context.js';
import { runMetagraphStep, viewOf } from './steps/metagraph.js';
import { runProbesStep } from './steps/probes.js';
import { runProofsStep } from './steps/proofs.js';
import { runProvidersStep } from './steps/providers.js';
import { runRewardsStep } from './steps/rewards.js';
import type { StepResult } from './steps/runStep.js';
import { runWeightsStep } from './steps/weights.js';

export async function runRound(
  deps: RoundDeps,
  settings: RoundSettings,
  state: ValidatorState,
  block: number,
  signal: AbortSignal,
): Promise<{ report: RoundReport; state: ValidatorState }> {
  const started = performance.now();
  const ctx: RoundContext = { deps, settings, block, signal, log: deps.logger.child({ module: 'round', block }), budgets: stepBudgets(settings) };

  const metagraph = await runMetagraphStep(ctx);
  const mg = metagraph.value;
  if (!mg) return { report: emptyReport(block, failuresOf([metagraph]), [], started), state };
  // Outside the steps: a metagraph the round cannot use fails the round (the loop reports it as 'round').
  const resynced = resyncScores({ scores: state.scores, hotkeys: state.hotkeys }, mg.hotkeys);
  const view = viewOf(mg, settings);
  deps.metrics?.minersQueried.set(view.queried.length);

  const proofs = await runProofsStep(ctx, view);
  const claims = await runClaimsStep(ctx);
  const providers = await runProvidersStep(ctx);
  const probes = await runProbesStep(ctx, view, providers.value);
  const rewards = await runRewardsStep(ctx, view, { scores: resynced.scores, proofs: proofs.value, claims: claims.value, probes: probes.value });
  const weights = await runWeightsStep(ctx, mg, rewards.value.scores);

  const steps = [metagraph, proofs, claims, providers, probes, rewards, weights];
  const replaced = resynced.replacedUids.length ? [`replaced hotkeys reset to 0: uids ${resynced.replacedUids.join(', ')}`] : [];
  const values = { proofs: proofs.value, claims: claims.value, probes: probes.value, rewards: rewards.value, weights: weights.value };
  const report = roundReport(block, mg, settings.preset, values, failuresOf(steps), [...replaced, ...steps.flatMap((s) => s.notes)], started);
  const w = weights.value;
  const next = stateAfterRound(state, {
    block,
    hotkeys: mg.hotkeys,
    scores: rewards.value.scores,
    weights: w.weights && { uids: w.weights.uids, weights: w.weights.weights, submitted: w.submitted !== null, outcome: w.outcome },
  });
  return { report, state: next };
}

function failuresOf(steps: StepResult<unknown>[]) {
  return steps.flatMap((s) => (s.failure ? [s.failure] : []));
}
