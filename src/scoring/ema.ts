/**
 * The validator's score state: the exponential moving average of rewards, its
 * repair when the metagraph changes, and the `scores / sum` weights.
 *
 * Precision: the Python validators keep `scores` as `np.float32`; with the
 * default 'float32' every value here is the float32 numpy would hold, bit for
 * bit (checked against numpy 2 in test/unit/scoring-numpy-parity.test.ts), so
 * the same inputs give the same u16 weights. The values are returned in a
 * Float64Array (each one exactly representable in float32).
 */
import { invalidInput } from './errors.js';
import { assertFiniteArray, numpySum, roundTo, type ScorePrecision } from './numeric.js';

export function assertAlpha(alpha: number): void {
  if (typeof alpha !== 'number' || !Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
    throw invalidInput('EMA alpha must be a number in [0, 1]', { alpha: String(alpha) });
  }
}

/**
 * `scores = α·rewards + (1 − α)·scores` over all UIDs (a UID that was not
 * queried must carry reward 0). In float32 this is numpy's evaluation:
 * `f32(f32(f32(α)·r) + f32(f32(1 − α)·s))`, with `1 − α` taken in doubles first
 * as Python does.
 */
export function updateEma(scores: ArrayLike<number>, rewards: ArrayLike<number>, alpha: number, precision: ScorePrecision = 'float32'): Float64Array {
  assertAlpha(alpha);
  if (scores.length !== rewards.length) {
    throw invalidInput('rewards and scores differ in length; resync the scores to the metagraph first', {
      scores: scores.length,
      rewards: rewards.length,
    });
  }
  assertFiniteArray(scores, 'scores');
  assertFiniteArray(rewards, 'rewards');
  const round = roundTo(precision);
  const a = round(alpha);
  const b = round(1 - alpha);
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) {
    out[i] = round(round(a * round(rewards[i]!)) + round(b * round(scores[i]!)));
  }
  return out;
}

/**
 * Python-style weights `w = scores / sum(scores)`; `null` when the sum is not
 * positive (the validator then skips setting weights). In float32 the sum is
 * numpy's pairwise float32 sum and each division is rounded to float32.
 */
export function normalizeScores(scores: ArrayLike<number>, precision: ScorePrecision = 'float32'): Float64Array | null {
  assertFiniteArray(scores, 'scores');
  for (let i = 0; i < scores.length; i++) {
    if (scores[i]! < 0) throw invalidInput('scores must not be negative', { index: i, value: scores[i] });
  }
  const round = roundTo(precision);
  const sum = numpySum(scores, precision);
  if (!(sum > 0)) return null;
  const out = new Float64Array(scores.length);
  for (let i = 0; i < scores.length; i++) out[i] = round(round(scores[i]!) / sum);
  return out;
}

export interface ScoreState {
  scores: ArrayLike<number>;
  /** Hotkey of each UID when the scores were last updated. */
  hotkeys: readonly string[];
}

export interface ResyncResult {
  scores: Float64Array;
  /** The metagraph's hotkeys, to store with the scores. */
  hotkeys: string[];
  /** UIDs that had a score slot and whose hotkey changed (or was unknown): their score is now 0. */
  replacedUids: number[];
}

/**
 * Brings stored scores in line with the current metagraph: a UID whose hotkey
 * changed starts again from 0, new UIDs start at 0, the array is resized to the
 * metagraph's size. Unlike the Python template, this runs on every sync (not
 * only when the axons changed), and a score whose UID has no stored hotkey
 * (a scores array longer than its hotkeys, the "length not fixed after load"
 * fault) is reset rather than trusted.
 */
export function resyncScores(state: ScoreState, metagraphHotkeys: readonly string[]): ResyncResult {
  assertFiniteArray(state.scores, 'scores');
  const n = metagraphHotkeys.length;
  const scores = new Float64Array(n);
  const replacedUids: number[] = [];
  for (let uid = 0; uid < n; uid++) {
    const hotkey = metagraphHotkeys[uid];
    if (typeof hotkey !== 'string') throw invalidInput('metagraph hotkey must be a string', { uid });
    if (uid >= state.scores.length) continue; // a new UID: starts at 0
    const previous = state.hotkeys[uid];
    if (previous === hotkey) scores[uid] = state.scores[uid]!;
    else replacedUids.push(uid);
  }
  return { scores, hotkeys: [...metagraphHotkeys], replacedUids };
}
