/**
 * Float scores → the u16 uids/weights a validator submits, exactly as the Python
 * bittensor SDK (10.5, `bittensor/utils/weight_utils.py`) computes them:
 * `process_weights_for_netuid` then `convert_weights_and_uids_for_emit`.
 *
 * The SDK does this in numpy float32 (and float64 on two paths), with numpy's
 * pairwise summation, sequential cumsum and NEP 50 promotion (a Python float next
 * to a float32 is first rounded to float32). Every step below names the precision
 * it runs in so that the results are bit-identical; test/e2e/weights-parity.test.ts
 * checks that against the SDK itself.
 */
import { Hs58Error } from '../errors.js';

export type WeightsErrorCode =
  | 'WEIGHTS_NEGATIVE'
  | 'WEIGHTS_NOT_FINITE'
  | 'WEIGHTS_LENGTH_MISMATCH'
  | 'WEIGHTS_EMPTY'
  | 'WEIGHTS_BAD_UID'
  | 'WEIGHTS_BAD_PARAMETER';

export class WeightsError extends Hs58Error<WeightsErrorCode> {
  override name = 'WeightsError';
}

export const U16_MAX = 65535;

/** Where the subnet's values enter: `subtensor.min_allowed_weights(netuid)`, `subtensor.max_weight_limit(netuid)` (u16 / 65535), `metagraph.n`. */
export interface ProcessWeightsParameters {
  /** Hyperparameter MinAllowedWeights (an integer). */
  minAllowedWeights: number;
  /** Hyperparameter MaxWeightsLimit as the SDK returns it: `u16 / 65535`, in [0, 1] (see `u16NormalizedFloat`). */
  maxWeightLimit: number;
  /** The SDK's `exclude_quantile` in u16 units (quantile = value / 65535); default 0. */
  excludeQuantile?: number;
  /** `metagraph.n`, the number of neurons; default the number of scores. */
  n?: number;
}

export interface UidWeights {
  uids: number[];
  weights: number[];
}

/**
 * Defaults for tools and tests when no chain is at hand: what finney answered in the
 * SDK's recorded fixtures (Nov 2025) — MinAllowedWeights 1, MaxWeightsLimit 65535
 * (now a runtime constant, so 1.0) — and the SDK's default exclude_quantile 0.
 * The validator reads the live values every round.
 */
export const DEFAULT_WEIGHT_PARAMETERS = { minAllowedWeights: 1, maxWeightLimit: 1, excludeQuantile: 0 } as const satisfies ProcessWeightsParameters;

/** `bittensor.utils.u16_normalized_float`: how the SDK turns MaxWeightsLimit into `max_weight_limit`. */
export function u16NormalizedFloat(x: number): number {
  return x / U16_MAX;
}

type Round = (x: number) => number;
const f32: Round = Math.fround;
const f64: Round = (x) => x;

/**
 * numpy's `add.reduce` for float arrays: pairwise summation (8 accumulators up to
 * 128 elements, halves above), accumulating in the array's own precision.
 */
function pairwiseSum(a: readonly number[], round: Round, start = 0, n = a.length): number {
  if (n < 8) {
    let res = -0;
    for (let i = 0; i < n; i++) res = round(res + a[start + i]!);
    return res;
  }
  if (n <= 128) {
    const r = [0, 1, 2, 3, 4, 5, 6, 7].map((j) => a[start + j]!);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = round(r[j]! + a[start + i + j]!);
    }
    let res = round(round(round(r[0]! + r[1]!) + round(r[2]! + r[3]!)) + round(round(r[4]! + r[5]!) + round(r[6]! + r[7]!)));
    for (; i < n; i++) res = round(res + a[start + i]!);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return round(pairwiseSum(a, round, start, n2) + pairwiseSum(a, round, start + n2, n - n2));
}

/** Python's `round()` on a float: half to even. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * `normalize_max_weight(x, limit)`: sum to 1 with no weight above `limit`. `round`
 * is the dtype of x (float32 on the usual path, float64 on the "too few weights" one);
 * the cutoff itself is float64 in the SDK whatever x is (a float32 divided by a numpy float64).
 */
function normalizeMaxWeight(x: readonly number[], limit: number, round: Round): number[] {
  const epsilon = 1e-7;
  const n = x.length;
  const weights = x.slice();
  const values = x.slice().sort((a, b) => a - b);
  if (pairwiseSum(x, round) === 0 || n * limit <= 1) return new Array<number>(n).fill(round(1 / n));

  const valuesSum = pairwiseSum(values, round);
  const estimation = values.map((v) => round(v / valuesSum));
  const limitInDtype = round(limit);
  const epsilonInDtype = round(epsilon);
  if (estimation.reduce((m, e) => (e > m ? e : m), -Infinity) <= limitInDtype) {
    const sum = pairwiseSum(weights, round);
    return weights.map((w) => round(w / sum));
  }
  const cumsum: number[] = [];
  let running = 0;
  estimation.forEach((e, i) => {
    running = i === 0 ? e : round(running + e);
    cumsum.push(running);
  });
  let nValues = 0;
  estimation.forEach((e, i) => {
    const estimationSum = round(round(n - i - 1) * e);
    if (round(e / round(round(estimationSum + cumsum[i]!) + epsilonInDtype)) < limitInDtype) nValues++;
  });
  const cumsumAtCut = cumsum[nValues === 0 ? n - 1 : nValues - 1]!; // numpy index -1 is the last
  const numerator = round(round(limitInDtype * cumsumAtCut) - epsilonInDtype);
  const denominator = 1 - limit * (n - nValues); // numpy int64 × Python float: float64
  const cutoff = (numerator / denominator) * valuesSum; // float64
  const cutoffInDtype = round(cutoff);
  for (let i = 0; i < n; i++) if (weights[i]! > cutoff) weights[i] = cutoffInDtype;
  const sum = pairwiseSum(weights, round);
  return weights.map((w) => round(w / sum));
}

/** numpy `quantile(a, q)` (method "linear", q a Python float) over float32 values, in float32. */
function quantileFloat32(values: readonly number[], q: number): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const n = sorted.length;
  const virtualIndex = (n - 1) * q;
  let previous = Math.floor(virtualIndex);
  let next = previous + 1;
  if (virtualIndex >= n - 1) previous = next = -1; // numpy takes the last element
  const gamma = virtualIndex - previous;
  const a = sorted[previous < 0 ? n - 1 : previous]!;
  const b = sorted[next < 0 ? n - 1 : next]!;
  const diff = f32(b - a);
  // numpy's _lerp: a + d·t, or b − d·(1 − t) where t >= 0.5; t enters as float32.
  return gamma >= 0.5 ? f32(b - f32(diff * f32(1 - gamma))) : f32(a + f32(diff * f32(gamma)));
}

function checkInteger(name: string, value: number, min: number, max = Number.MAX_SAFE_INTEGER): void {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new WeightsError('WEIGHTS_BAD_PARAMETER', `${name} must be an integer from ${min} to ${max}, got ${value}.`);
  }
}

function checkUids(uids: readonly number[], length: number): void {
  if (uids.length !== length) {
    throw new WeightsError('WEIGHTS_LENGTH_MISMATCH', `uids and weights must have the same length, got ${uids.length} and ${length}.`);
  }
  uids.forEach((uid, i) => {
    if (!Number.isSafeInteger(uid) || uid < 0 || uid > U16_MAX) {
      throw new WeightsError('WEIGHTS_BAD_UID', `uid at index ${i} must be an integer from 0 to ${U16_MAX}, got ${uid}.`, { details: { index: i } });
    }
  });
}

/** Negative, NaN and infinite weights have no meaning on chain: refuse them by name instead of letting them through. */
function checkWeights(weights: readonly number[], float32: boolean): void {
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || Number.isNaN(w))
      throw new WeightsError('WEIGHTS_NOT_FINITE', `weight at index ${i} is not a number: ${String(w)}.`, { details: { index: i } });
    if (w < 0)
      throw new WeightsError('WEIGHTS_NEGATIVE', `weight at index ${i} is negative (${w}); weights cannot be negative on chain.`, { details: { index: i } });
    if (!Number.isFinite(float32 ? f32(w) : w)) {
      throw new WeightsError('WEIGHTS_NOT_FINITE', `weight at index ${i} (${w}) is infinite${float32 ? ' as a float32' : ''}.`, { details: { index: i } });
    }
  });
}

const arange = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/**
 * The SDK's `process_weights_for_netuid` / `process_weights`: keep weights > 0; all zero,
 * or fewer neurons than MinAllowedWeights → uniform over all n uids; fewer non-zero
 * weights than MinAllowedWeights → 1e-5 for every uid plus its weight; otherwise drop
 * the lowest `excludeQuantile` and cap at `maxWeightLimit`.
 *
 * Unlike the SDK, negative, NaN or (as float32) infinite weights throw a WeightsError
 * instead of being dropped or turning into NaN further on.
 */
export function processWeightsForNetuid(uids: readonly number[], weights: readonly number[], params: ProcessWeightsParameters): UidWeights {
  const { minAllowedWeights, maxWeightLimit, excludeQuantile = 0, n = weights.length } = params;
  checkUids(uids, weights.length);
  checkWeights(weights, true);
  checkInteger('minAllowedWeights', minAllowedWeights, 0);
  checkInteger('n', n, 0);
  if (!(maxWeightLimit >= 0 && maxWeightLimit <= 1)) {
    throw new WeightsError('WEIGHTS_BAD_PARAMETER', `maxWeightLimit must be a fraction from 0 to 1 (MaxWeightsLimit / 65535), got ${maxWeightLimit}.`);
  }
  if (!(excludeQuantile >= 0 && excludeQuantile <= U16_MAX)) {
    throw new WeightsError('WEIGHTS_BAD_PARAMETER', `excludeQuantile is in u16 units and must be from 0 to ${U16_MAX}, got ${excludeQuantile}.`);
  }

  const weights32 = weights.map(f32);
  const quantile = excludeQuantile / U16_MAX;
  const nonZeroIndex = arange(weights32.length).filter((i) => weights32[i]! > 0);
  let nonZeroUids = nonZeroIndex.map((i) => uids[i]!);
  let nonZeroWeights = nonZeroIndex.map((i) => weights32[i]!);

  if (nonZeroWeights.length === 0 || n < minAllowedWeights) {
    return { uids: arange(n), weights: new Array<number>(n).fill(1 / n) }; // float64
  }
  if (nonZeroWeights.length < minAllowedWeights) {
    const padded = new Array<number>(n).fill(1e-5); // float64
    for (const i of nonZeroIndex) {
      if (i >= n) throw new WeightsError('WEIGHTS_BAD_PARAMETER', `weight index ${i} is outside the ${n} neurons of the metagraph.`);
      padded[i] = padded[i]! + weights32[i]!;
    }
    return { uids: arange(n), weights: normalizeMaxWeight(padded, maxWeightLimit, f64) };
  }

  const maxExclude = Math.max(0, nonZeroWeights.length - minAllowedWeights) / nonZeroWeights.length;
  const lowest = quantileFloat32(nonZeroWeights, Math.min(quantile, maxExclude));
  const keep = nonZeroWeights.map((w) => lowest <= w);
  nonZeroUids = nonZeroUids.filter((_, i) => keep[i]);
  nonZeroWeights = nonZeroWeights.filter((_, i) => keep[i]);
  return { uids: nonZeroUids, weights: normalizeMaxWeight(nonZeroWeights, maxWeightLimit, f32) };
}

/**
 * The SDK's `convert_weights_and_uids_for_emit`: max-upscale (w / max w), then
 * `round(w · 65535)` half to even, dropping zeros. All zero → nothing to set.
 * Weights are used as given (doubles); pass float32 values where the SDK has them.
 */
export function convertWeightsAndUidsForEmit(uids: readonly number[], weights: readonly number[]): UidWeights {
  if (weights.length === 0 || uids.length === 0) {
    throw new WeightsError('WEIGHTS_EMPTY', 'no weights to convert (the SDK raises on an empty list).');
  }
  checkWeights(weights, false);
  checkUids(uids, weights.length);
  if (weights.every((w) => w === 0)) return { uids: [], weights: [] };
  const maxWeight = weights.reduce((m, w) => (w > m ? w : m), 0);
  const out: UidWeights = { uids: [], weights: [] };
  weights.forEach((w, i) => {
    const u16 = roundHalfEven((w / maxWeight) * U16_MAX);
    if (u16 !== 0) {
      out.uids.push(uids[i]!);
      out.weights.push(u16);
    }
  });
  return out;
}

/**
 * What `subtensor.set_weights(uids, weights)` does to float weights before sending:
 * `convert_and_normalize_weights_and_uids` (a float32 array, then the emit conversion).
 */
export function convertAndNormalizeWeightsAndUids(uids: readonly number[], weights: readonly number[]): UidWeights {
  checkWeights(weights, true);
  return convertWeightsAndUidsForEmit(uids, weights.map(f32));
}

/**
 * Scores indexed by uid → the u16 uids/weights to submit: `processWeightsForNetuid`
 * then `convertWeightsAndUidsForEmit`, as the SDK's subnet template does.
 */
export function toU16Weights(scores: readonly number[], params: ProcessWeightsParameters & { uids?: readonly number[] }): UidWeights {
  const processed = processWeightsForNetuid(params.uids ?? arange(scores.length), scores, params);
  return convertWeightsAndUidsForEmit(processed.uids, processed.weights);
}
