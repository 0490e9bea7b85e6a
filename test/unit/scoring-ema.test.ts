import { describe, expect, test } from 'vitest';
import { normalizeScores, resyncScores, updateEma } from '../../src/scoring/ema.js';
import { ScoringError } from '../../src/scoring/errors.js';
import { numpySum } from '../../src/scoring/numeric.js';
import { getPreset } from '../../src/scoring/presets.js';

const f = Math.fround;

describe('updateEma', () => {
  test('float64: α·r + (1 − α)·s', () => {
    // [0.1·1 + 0.9·0, 0.1·0 + 0.9·1]
    expect(Array.from(updateEma([0, 1], [1, 0], 0.1, 'float64'))).toEqual([0.1, 0.9]);
    // 0.3·0.5 + 0.7·0.2 = 0.15 + 0.14 = 0.29 (in doubles: 0.3·0.5 = 0.15, 0.7·0.2 = 0.13999999999999999)
    expect(updateEma([0.2], [0.5], 0.3, 'float64')[0]).toBe(0.3 * 0.5 + (1 - 0.3) * 0.2);
  });

  test('float32 (default): each step rounded like numpy float32', () => {
    // f32(0.1) = 0.10000000149011612, f32(0.9) = 0.8999999761581421
    const out = updateEma([0, 1], [1, 0], 0.1);
    expect(Array.from(out)).toEqual([f(0.1), f(0.9)]);
    expect(out[0]).toBe(0.10000000149011612);
    // the reward is itself stored as float32 before the update: f32(0.7) ≠ 0.7
    expect(updateEma([0], [0.7], 1)[0]).toBe(f(0.7));
  });

  test('α = 0 keeps the scores, α = 1 takes the rewards', () => {
    expect(Array.from(updateEma([0.5, 0.25], [1, 1], 0))).toEqual([0.5, 0.25]);
    expect(Array.from(updateEma([0.5, 0.25], [0, 1], 1))).toEqual([0, 1]);
  });

  test('an honest miner converges to its reward, a not-queried UID decays', () => {
    let scores: Float64Array = new Float64Array([0, 0.8]);
    for (let i = 0; i < 60; i++) scores = updateEma(scores, [1, 0], getPreset('oracle-v2.1').alpha);
    expect(scores[0]).toBeGreaterThan(0.9999);
    expect(scores[1]).toBeLessThan(1e-8);
  });

  test('refuses mismatched lengths, NaN and α outside [0, 1]', () => {
    expect(() => updateEma([0, 0], [1], 0.1)).toThrow(/resync/);
    expect(() => updateEma([0], [Number.NaN], 0.1)).toThrow(ScoringError);
    expect(() => updateEma([0], [1], -0.1)).toThrow(/alpha/);
    expect(() => updateEma([0], [1], Number.NaN)).toThrow(/alpha/);
  });
});

describe('normalizeScores', () => {
  test('w = s / sum(s); null when the sum is 0', () => {
    expect(Array.from(normalizeScores([1, 3], 'float64')!)).toEqual([0.25, 0.75]);
    expect(Array.from(normalizeScores([1, 3])!)).toEqual([0.25, 0.75]); // exact in float32 too
    expect(normalizeScores([0, 0, 0])).toBeNull();
    expect(normalizeScores([])).toBeNull();
  });

  test('float32: division by numpy’s float32 sum, each weight rounded to float32', () => {
    // sum = f32(f32(0.1) + f32(0.2)); weights = f32(f32(x) / sum)
    const sum = f(f(0.1) + f(0.2));
    expect(Array.from(normalizeScores([0.1, 0.2])!)).toEqual([f(f(0.1) / sum), f(f(0.2) / sum)]);
  });

  test('numpySum is pairwise: 8 accumulators above 8 elements', () => {
    // Nine values, float32 ulp at 2^24 is 2. Accumulators r0..r7 = x0..x7, x8 added after the tree:
    // (2^24 + 1) → 2^24 (tie to even), (1 + 1) = 2 three times, 2^24 + 2, 2 + 2 = 4, 2^24 + 6, + 1 → 2^24 + 8 (tie to even).
    const xs = [2 ** 24, 1, 1, 1, 1, 1, 1, 1, 1];
    expect(numpySum(xs, 'float32')).toBe(2 ** 24 + 8);
    // a left-to-right float32 sum loses every +1 (each is a tie rounded back to 2^24):
    expect(xs.reduce((a, b) => f(a + b), 0)).toBe(2 ** 24);
    expect(numpySum(xs, 'float64')).toBe(2 ** 24 + 8);
  });

  test('refuses negative or NaN scores', () => {
    expect(() => normalizeScores([1, -1])).toThrow(ScoringError);
    expect(() => normalizeScores([1, Number.NaN])).toThrow(ScoringError);
  });
});

describe('resyncScores', () => {
  const state = { scores: [0.5, 0.25, 0.125], hotkeys: ['a', 'b', 'c'] };

  test('same metagraph → unchanged', () => {
    const r = resyncScores(state, ['a', 'b', 'c']);
    expect(Array.from(r.scores)).toEqual([0.5, 0.25, 0.125]);
    expect(r.replacedUids).toEqual([]);
  });

  test('a UID whose hotkey changed starts again from 0', () => {
    const r = resyncScores(state, ['a', 'B', 'c']);
    expect(Array.from(r.scores)).toEqual([0.5, 0, 0.125]);
    expect(r.replacedUids).toEqual([1]);
    expect(r.hotkeys).toEqual(['a', 'B', 'c']);
  });

  test('grow: new UIDs at 0; shrink: truncated', () => {
    expect(Array.from(resyncScores(state, ['a', 'b', 'c', 'd', 'e']).scores)).toEqual([0.5, 0.25, 0.125, 0, 0]);
    const shrunk = resyncScores(state, ['a', 'x']);
    expect(Array.from(shrunk.scores)).toEqual([0.5, 0]);
    expect(shrunk.replacedUids).toEqual([1]);
  });

  test('scores longer than their stored hotkeys (the Python load_state fault): unknown UIDs reset', () => {
    const r = resyncScores({ scores: [0.5, 0.7], hotkeys: ['a'] }, ['a', 'b']);
    expect(Array.from(r.scores)).toEqual([0.5, 0]);
    expect(r.replacedUids).toEqual([1]);
  });

  test('empty state (first start) gives zeros of the metagraph size', () => {
    expect(Array.from(resyncScores({ scores: [], hotkeys: [] }, ['a', 'b']).scores)).toEqual([0, 0]);
  });
});
