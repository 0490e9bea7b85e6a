import { describe, expect, test } from 'vitest';
import { convertWeightsAndUidsForEmit, processWeightsForNetuid, toU16Weights, u16NormalizedFloat, WeightsError } from '../../src/scoring/weights.js';

// Golden values printed by the real SDK (bittensor 10.5.0, numpy 2.4.6) through
// test/interop/weights_oracle.py; test/e2e/weights-parity.test.ts checks thousands more live.
describe('toU16Weights: golden values from the bittensor SDK', () => {
  test('plain scores: zeros dropped, max-upscaled, float32 on the way', () => {
    const params = { minAllowedWeights: 1, maxWeightLimit: 1 };
    expect(processWeightsForNetuid([0, 1, 2, 3], [0, 0.5, 0.2, 0.3], params)).toEqual({
      uids: [1, 2, 3],
      weights: [0.5, 0.20000000298023224, 0.30000001192092896],
    });
    expect(toU16Weights([0, 0.5, 0.2, 0.3], params)).toEqual({ uids: [1, 2, 3], weights: [65535, 26214, 39321] });
  });

  test('max_weight_limit clipping (MaxWeightsLimit 6553)', () => {
    const scores = [10, ...new Array<number>(19).fill(1)];
    const processed = processWeightsForNetuid(
      scores.map((_, i) => i),
      scores,
      { minAllowedWeights: 1, maxWeightLimit: u16NormalizedFloat(6553) },
    );
    expect(processed.weights[0]).toBe(0.09999223798513412);
    expect(processed.weights[1]).toBe(0.04736882820725441);
    expect(toU16Weights(scores, { minAllowedWeights: 1, maxWeightLimit: u16NormalizedFloat(6553) }).weights.slice(0, 2)).toEqual([65535, 31046]);
  });

  test('fewer non-zero weights than MinAllowedWeights: 1e-5 for everyone, float64', () => {
    const scores = [0, 0.5, 0, 0.25, 0, 0, 0, 0.125];
    const processed = processWeightsForNetuid(
      scores.map((_, i) => i),
      scores,
      { minAllowedWeights: 4, maxWeightLimit: 1 },
    );
    expect(processed.weights).toEqual([
      1.142752662613704e-5, 0.571387758833478, 1.142752662613704e-5, 0.2856995931800521, 1.142752662613704e-5, 1.142752662613704e-5, 1.142752662613704e-5,
      0.14285551035333913,
    ]);
    expect(toU16Weights(scores, { minAllowedWeights: 4, maxWeightLimit: 1 })).toEqual({
      uids: [0, 1, 2, 3, 4, 5, 6, 7],
      weights: [1, 65535, 1, 32768, 1, 1, 1, 16385],
    });
  });

  test('exclude_quantile 13107 (20%) drops the lowest', () => {
    const scores = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    expect(toU16Weights(scores, { minAllowedWeights: 2, maxWeightLimit: 1, excludeQuantile: 13107 })).toEqual({
      uids: [2, 3, 4, 5, 6, 7, 8, 9],
      weights: [19661, 26214, 32768, 39321, 45874, 52428, 58982, 65535],
    });
  });

  test('all zero → uniform over n; fewer neurons than MinAllowedWeights → uniform', () => {
    expect(toU16Weights([0, 0, 0], { minAllowedWeights: 1, maxWeightLimit: 1 })).toEqual({ uids: [0, 1, 2], weights: [65535, 65535, 65535] });
    expect(toU16Weights([0.9, 0.1], { minAllowedWeights: 8, maxWeightLimit: 1 })).toEqual({ uids: [0, 1], weights: [65535, 65535] });
  });

  test('round half to even: 0.5 → 0 (dropped), 1.5 → 2, 32767.5 → 32768', () => {
    expect(convertWeightsAndUidsForEmit([0, 1, 2], [131070, 1, 3])).toEqual({ uids: [0, 2], weights: [65535, 2] });
    expect(convertWeightsAndUidsForEmit([0, 1], [2, 1])).toEqual({ uids: [0, 1], weights: [65535, 32768] });
  });
});

describe('bad input gets a typed error', () => {
  const params = { minAllowedWeights: 1, maxWeightLimit: 1 };
  const code = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(WeightsError);
      return (err as WeightsError).code;
    }
    return undefined;
  };
  test.each([
    ['negative score', () => toU16Weights([0.5, -1], params), 'WEIGHTS_NEGATIVE'],
    ['NaN score', () => toU16Weights([0.5, NaN], params), 'WEIGHTS_NOT_FINITE'],
    ['beyond float32', () => toU16Weights([3.5e38, 1], params), 'WEIGHTS_NOT_FINITE'],
    ['uids of another length', () => toU16Weights([0.5, 1], { ...params, uids: [0] }), 'WEIGHTS_LENGTH_MISMATCH'],
    ['uid above u16', () => toU16Weights([0.5], { ...params, uids: [70000] }), 'WEIGHTS_BAD_UID'],
    ['limit given as u16', () => toU16Weights([0.5], { ...params, maxWeightLimit: 65535 }), 'WEIGHTS_BAD_PARAMETER'],
    ['negative quantile', () => toU16Weights([0.5], { ...params, excludeQuantile: -1 }), 'WEIGHTS_BAD_PARAMETER'],
    ['fractional min_allowed', () => toU16Weights([0.5], { ...params, minAllowedWeights: 1.5 }), 'WEIGHTS_BAD_PARAMETER'],
    ['no scores at all', () => toU16Weights([], params), 'WEIGHTS_EMPTY'],
    ['emit of a negative', () => convertWeightsAndUidsForEmit([0, 1], [1, -1]), 'WEIGHTS_NEGATIVE'],
  ])('%s', (_name, fn, expected) => {
    expect(code(fn)).toBe(expected);
  });
});
