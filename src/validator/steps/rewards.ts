/** Step 6, rewards: the preset's reward per uid from what the steps before found, then the EMA of the scores. */
import { updateEma } from '../../scoring/ema.js';
import type { RoundContext } from './context.js';
import type { ClaimsValue } from './claims.js';
import type { RoundView } from './metagraph.js';
import type { ProbesValue } from './probes.js';
import type { ProofsValue } from './proofs.js';
import { runStep, type StepResult } from './runStep.js';

export interface RewardsInput {
  /** The scores before this round, resynced to the metagraph. */
  scores: Float64Array;
  proofs: ProofsValue;
  claims: ClaimsValue;
  probes: ProbesValue;
}

export interface RewardsValue {
  /** Per uid; null when the preset gives no reward this round (or the step failed). */
  rewards: Float64Array | null;
  /** The EMA after this round: the scores before it when there was no reward. */
  scores: Float64Array;
}

export function runRewardsStep(ctx: RoundContext, view: RoundView, input: RewardsInput): Promise<StepResult<RewardsValue>> {
  const { preset } = ctx.settings;
  return runStep<RewardsValue>(ctx, 'rewards', { rewards: null, scores: input.scores }, async (scope) => {
    const rewards = preset.computeRewards({
      n: view.n,
      provenWallets: input.proofs.provenWallets,
      claimsByAddress: input.claims.claimsByAddress ?? new Map(),
      probeAccuracy: input.probes.accuracy,
    });
    if (!rewards) {
      scope.note('no reward this round (no probe reached a consensus): scores unchanged');
      return { rewards: null, scores: input.scores };
    }
    return { rewards, scores: updateEma(input.scores, rewards, preset.alpha, preset.precision) };
  });
}
