/**
 * Arithmetic that reproduces what the Python validators compute with numpy.
 *
 * The Python base validator keeps `scores` (and the probe accuracy sums) in
 * `np.float32` arrays; numpy 2 (NEP 50) turns the Python floats it mixes with
 * them into float32 first and rounds after every operation. A double-precision
 * `+ - * /` of two float32 values rounded once with `Math.fround` is the
 * correctly rounded float32 result (53 ≥ 2·24 + 2), so `Math.fround` after each
 * step gives numpy's float32 values bit for bit.
 */
import { invalidInput } from './errors.js';

/** float32: bit-exact numpy float32 (the Python validators); float64: plain doubles. */
export type ScorePrecision = 'float32' | 'float64';

/** Rounds a double to the given precision (identity for float64). */
export function roundTo(precision: ScorePrecision): (x: number) => number {
  return precision === 'float32' ? Math.fround : identity;
}

function identity(x: number): number {
  return x;
}

/** numpy's pairwise summation block (PW_BLOCKSIZE in numpy's loops_utils). */
const PAIRWISE_BLOCK = 128;

/**
 * `np.sum(values)` for a contiguous float32/float64 array: numpy starts from the
 * identity 0 and adds its pairwise sum (8 accumulators, blocks of 128, halves
 * split on a multiple of 8), rounding every addition to the array's precision.
 */
export function numpySum(values: ArrayLike<number>, precision: ScorePrecision): number {
  const round = roundTo(precision);
  return round(0 + pairwise(values, 0, values.length, round));
}

function pairwise(a: ArrayLike<number>, start: number, n: number, round: (x: number) => number): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res = round(res + round(a[start + i]!));
    return res;
  }
  if (n <= PAIRWISE_BLOCK) {
    const r: number[] = [];
    for (let j = 0; j < 8; j++) r.push(round(a[start + j]!));
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] = round(r[j]! + round(a[start + i + j]!));
    }
    let res = round(round(round(r[0]! + r[1]!) + round(r[2]! + r[3]!)) + round(round(r[4]! + r[5]!) + round(r[6]! + r[7]!)));
    for (; i < n; i++) res = round(res + round(a[start + i]!));
    return res;
  }
  let half = Math.floor(n / 2);
  half -= half % 8;
  return round(pairwise(a, start, half, round) + pairwise(a, start + half, n - half, round));
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : x.toString(2).length;
}

/**
 * `numerator / denominator` of two non-negative bigints as the nearest double
 * (round half to even), without going through two lossy `Number()` casts: the
 * quotient is taken with 64 significant bits plus a sticky bit, then rounded
 * once. Exact for any amounts a Polygon log can carry (uint256). 0 / 0 is 0.
 */
export function bigintRatio(numerator: bigint, denominator: bigint): number {
  if (numerator < 0n || denominator < 0n) {
    throw invalidInput('claims must not be negative', { numerator: String(numerator), denominator: String(denominator) });
  }
  if (numerator === 0n) return 0;
  if (denominator === 0n) throw invalidInput('claims ratio with a zero denominator', { numerator: String(numerator) });
  const shift = 64 + bitLength(denominator) - bitLength(numerator);
  let quotient: bigint;
  let remainder: bigint;
  if (shift >= 0) {
    const scaled = numerator << BigInt(shift);
    quotient = scaled / denominator;
    remainder = scaled % denominator;
  } else {
    const scaledDen = denominator << BigInt(-shift);
    quotient = numerator / scaledDen;
    remainder = numerator % scaledDen;
  }
  // quotient has 64 or 65 bits; bit 0 is far below double's rounding position, so
  // marking an inexact quotient there decides halfway cases the way the exact ratio would.
  if (remainder !== 0n) quotient |= 1n;
  return Number(quotient) * 2 ** -shift;
}

/** Throws unless every value is a finite number. */
export function assertFiniteArray(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw invalidInput(`${what} must be finite numbers`, { index: i, value: String(v) });
  }
}
