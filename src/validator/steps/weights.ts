/**
 * Step 7, weights: the EMA scores normalised and turned into the u16 weights the chain takes,
 * checked against the subnet's version key, and sent (unless the run submits nothing).
 */
import type { MetagraphSnapshot, SetWeightsResult } from '../../chain/subtensor/types.js';
import { errorMessage } from '../../errors.js';
import { normalizeScores } from '../../scoring/ema.js';
import type { ScoringPreset } from '../../scoring/presets.js';
import { convertAndNormalizeWeightsAndUids, toU16Weights, type UidWeights } from '../../scoring/weights.js';
import { asVersionKeyError, versionKeyTooLow } from '../versionKey.js';
import type { RoundContext } from './context.js';
import { runStep, type StepResult, type StepScope } from './runStep.js';

export interface WeightsValue {
  /** The weights computed this round (also when they were not sent); null when none were. */
  weights: UidWeights | null;
  submitted: SetWeightsResult | null;
  /** What became of them, for the saved state and the status page. */
  outcome: string;
}

const NOT_COMPUTED: WeightsValue = { weights: null, submitted: null, outcome: 'not computed' };

export function runWeightsStep(ctx: RoundContext, mg: MetagraphSnapshot, scores: Float64Array): Promise<StepResult<WeightsValue>> {
  const { settings } = ctx;
  return runStep(ctx, 'weights', NOT_COMPUTED, async (scope) => {
    const normalized = normalizeScores(scores, settings.preset.precision);
    if (normalized === null) {
      const outcome = 'all scores are 0: weights not set';
      scope.note(outcome);
      return { ...NOT_COMPUTED, outcome };
    }
    const weights = chainWeights(normalized, mg, settings.preset);
    scope.keep({ ...NOT_COMPUTED, weights });
    // The chain refuses a version key below the subnet's: say so, and which flag to set, before sending.
    const keyRefused = versionKeyTooLow(settings.versionKey, mg.hyperparameters.weightsVersionKey);
    if (keyRefused) {
      scope.keep({ weights, submitted: null, outcome: `not sent: ${errorMessage(keyRefused)}` });
      throw keyRefused;
    }
    if (!settings.submit) return { weights, submitted: null, outcome: 'not submitted (dry run or set weights disabled)' };
    return submitWeights(ctx, weights, scope);
  });
}

/** Presets that reproduce a Python generation also reproduce its weight submission path. */
export function pythonParityPreset(preset: ScoringPreset): boolean {
  return preset.name === 'drain-v1' || preset.name === 'oracle-v2.1';
}

function chainWeights(normalized: Float64Array, mg: MetagraphSnapshot, preset: ScoringPreset): UidWeights {
  const n = mg.n;
  const hp = mg.hyperparameters;
  return pythonParityPreset(preset)
    ? // The Python daemons send `scores / sum` for every uid to `subtensor.set_weights`,
      // which only casts to float32 and max-upscales to u16: do exactly that.
      convertAndNormalizeWeightsAndUids(
        Array.from({ length: n }, (_, uid) => uid),
        Array.from(normalized),
      )
    : toU16Weights(Array.from(normalized), { minAllowedWeights: hp.minAllowedWeights, maxWeightLimit: hp.maxWeightsLimit / 65535, n });
}

async function submitWeights(ctx: RoundContext, weights: UidWeights, scope: StepScope<WeightsValue>): Promise<WeightsValue> {
  const { deps, settings } = ctx;
  try {
    const submitted = await deps.chain.setWeights({
      netuid: settings.netuid,
      uids: weights.uids,
      weights: weights.weights,
      versionKey: settings.versionKey,
      signal: scope.signal,
    });
    deps.metrics?.weightsSet.inc({ outcome: submitted.kind });
    return { weights, submitted, outcome: submitted.kind };
  } catch (caught) {
    const err = asVersionKeyError(caught, settings.versionKey);
    scope.keep({ weights, submitted: null, outcome: `failed: ${errorMessage(err)}` });
    deps.metrics?.weightsSet.inc({ outcome: 'failed' });
    throw err;
  }
}
