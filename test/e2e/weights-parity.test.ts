import path from 'node:path';
import { describe, expect, test } from 'vitest';
import {
  convertAndNormalizeWeightsAndUids,
  convertWeightsAndUidsForEmit,
  processWeightsForNetuid,
  toU16Weights,
  u16NormalizedFloat,
  WeightsError,
  type UidWeights,
} from '../../src/scoring/weights.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { runPythonOracle, testRng, testSeed } from '../support/python-oracle.js';

interface PipelineCase {
  kind: 'pipeline';
  label: string;
  scores: number[];
  uids: number[] | null;
  n: number;
  minAllowedWeights: number;
  maxWeightsLimitU16: number;
  excludeQuantile: number;
  /** Inputs the port refuses on purpose although the SDK's process_weights lets them through. */
  refused?: 'negative' | 'float32-overflow';
}
interface EmitCase {
  kind: 'emit' | 'set_weights';
  label: string;
  uids: number[];
  weights: number[];
}
interface Sum32Case {
  kind: 'sum32';
  values: number[];
}
type Case = PipelineCase | EmitCase | Sum32Case;

interface PyError {
  error: string;
  message: string;
}
type PyOut = UidWeights | PyError;
interface PyPipeline {
  processed: (UidWeights & { dtype: string }) | PyError;
  emitted?: PyOut;
}

const SEED = testSeed(65_535);
const rng = testRng(SEED);

// --- golden edge cases -------------------------------------------------------------------------------

const base = { kind: 'pipeline', uids: null, minAllowedWeights: 1, maxWeightsLimitU16: 65535, excludeQuantile: 0 } as const;
const golden: PipelineCase[] = [
  { ...base, label: 'all zero', scores: [0, 0, 0, 0, 0], n: 5 },
  { ...base, label: 'all zero, one neuron', scores: [0], n: 1 },
  { ...base, label: 'one neuron', scores: [0.7], n: 1 },
  { ...base, label: 'fewer non-zero than min_allowed', scores: [0, 0.5, 0, 0.25, 0, 0, 0, 0.125, 0, 0, 0, 0, 0, 0, 0, 0], n: 16, minAllowedWeights: 8 },
  {
    ...base,
    label: 'fewer non-zero than min_allowed, with a cap',
    scores: [0, 0.9, 0, 0.05, 0, 0, 0, 0.05, 0, 0],
    n: 10,
    minAllowedWeights: 4,
    maxWeightsLimitU16: 16384,
  },
  { ...base, label: 'fewer neurons than min_allowed', scores: [0.1, 0.2, 0.7], n: 3, minAllowedWeights: 8 },
  { ...base, label: 'n above the number of scores (uniform path)', scores: [0, 0, 0], n: 7 },
  { ...base, label: 'n above the number of scores (1e-5 path)', scores: [0.3, 0, 0.6], n: 9, minAllowedWeights: 4 },
  { ...base, label: 'ties', scores: [0.25, 0.25, 0.25, 0.25], n: 4 },
  { ...base, label: 'ties at the max with a cap', scores: [1, 1, 1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1], n: 10, maxWeightsLimitU16: 13107 },
  { ...base, label: 'tiny values', scores: [1e-9, 2e-9, 3e-9, 0, 1e-9], n: 5 },
  { ...base, label: 'float32 denormals and underflow to zero', scores: [1e-40, 1e-45, 1e-50, 3e-38, 0.5], n: 5 },
  { ...base, label: 'huge range', scores: [1e30, 1e-30, 1, 1e20, 1e-20], n: 5 },
  { ...base, label: 'max_weight_limit clipping', scores: [10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], n: 20, maxWeightsLimitU16: 6553 },
  { ...base, label: 'limit so low every weight is uniform (n·limit <= 1)', scores: [5, 1, 1, 1], n: 4, maxWeightsLimitU16: 16383 },
  { ...base, label: 'limit 0', scores: [5, 1, 1, 1], n: 4, maxWeightsLimitU16: 0 },
  { ...base, label: 'exclude_quantile 10%', scores: Array.from({ length: 30 }, (_, i) => (i + 1) / 30), n: 30, excludeQuantile: 6553 },
  {
    ...base,
    label: 'exclude_quantile 50% bounded by min_allowed',
    scores: Array.from({ length: 30 }, (_, i) => (i % 7) / 7),
    n: 30,
    excludeQuantile: 32767,
    minAllowedWeights: 20,
  },
  { ...base, label: 'exclude_quantile 100%', scores: [0.1, 0.2, 0.3, 0.4], n: 4, excludeQuantile: 65535 },
  { ...base, label: 'round half to even in the conversion', scores: [2, 1], n: 2 },
  { ...base, label: 'a weight that rounds to 0 is dropped', scores: [131070, 1, 3], n: 3 },
  { ...base, label: 'uids that are not 0..n-1', scores: [0.5, 0.2, 0.3], uids: [7, 3, 200], n: 256 },
  { ...base, label: 'non-zero index outside n on the 1e-5 path (SDK IndexError)', scores: [0, 0, 0, 0, 0.5], n: 3, minAllowedWeights: 2 },
  { ...base, label: 'no neurons', scores: [], n: 0 },
  { ...base, label: 'negative score', scores: [0.5, -0.1, 0.6], n: 3, refused: 'negative' },
  { ...base, label: 'beyond float32', scores: [1e39, 0.5, 0.5], n: 3, refused: 'float32-overflow' },
];

// --- random vectors -----------------------------------------------------------------------------------

const MIN_ALLOWED = [0, 1, 1, 1, 2, 3, 5, 8, 16, 64, 128, 256, 1024];
const LIMITS = [65535, 65535, 65535, 32767, 16384, 13107, 6553, 3276, 1000, 655, 1, 0];
const EXCLUDE = [0, 0, 0, 0, 655, 6553, 13107, 32767, 50000, 65535];

function randomScore(shape: number): number {
  const u = rng.next();
  switch (shape) {
    case 0:
      return u; // uniform
    case 1:
      return u < 0.5 ? 0 : u; // sparse
    case 2:
      return Math.round(u * 4) / 4; // many ties
    case 3:
      return 10 ** (rng.int(-12, 12) + u); // wide range
    case 4:
      return u < 0.9 ? 0 : u * 1e-6; // mostly zero, tiny
    default:
      return u ** 8; // skewed: a few dominate
  }
}

const random: PipelineCase[] = Array.from({ length: 1500 }, (_, i) => {
  const len = i < 256 ? i + 1 : rng.int(1, 256); // every n from 1 to 256, then random
  const shape = rng.int(0, 5);
  const scores = Array.from({ length: len }, () => randomScore(shape));
  const roll = rng.next();
  const n = roll < 0.9 ? len : roll < 0.95 ? len + rng.int(1, 20) : Math.max(0, len - rng.int(1, 5));
  return {
    kind: 'pipeline',
    label: `random #${i} shape ${shape}`,
    scores,
    uids: rng.next() < 0.1 ? Array.from({ length: len }, () => rng.int(0, 4095)) : null,
    n,
    minAllowedWeights: rng.pick(MIN_ALLOWED),
    maxWeightsLimitU16: rng.next() < 0.1 ? rng.int(0, 65535) : rng.pick(LIMITS),
    excludeQuantile: rng.next() < 0.1 ? rng.int(0, 65535) : rng.pick(EXCLUDE),
  };
});

const emitCases: EmitCase[] = [
  { kind: 'emit', label: 'half to even', uids: [0, 1, 2], weights: [2, 1, 0] },
  { kind: 'emit', label: '0.5 → 0 dropped, 1.5 → 2', uids: [0, 1, 2], weights: [131070, 1, 3] },
  { kind: 'emit', label: 'all zero → nothing', uids: [0, 1], weights: [0, 0] },
  { kind: 'emit', label: 'negative raises', uids: [0, 1], weights: [0.5, -0.5] },
  { kind: 'emit', label: 'empty raises', uids: [], weights: [] },
  { kind: 'emit', label: 'length mismatch raises', uids: [0, 1, 2], weights: [0.5, 0.5] },
  { kind: 'set_weights', label: 'set_weights casts to float32 first', uids: [0, 1, 2], weights: [0.1, 0.2, 0.30000001] },
  ...Array.from({ length: 300 }, (_, i): EmitCase => {
    const len = rng.int(1, 256);
    return {
      kind: i % 2 === 0 ? 'emit' : 'set_weights',
      label: `random emit #${i}`,
      uids: Array.from({ length: len }, (_, j) => j),
      weights: Array.from({ length: len }, () => randomScore(rng.int(0, 5))),
    };
  }),
];

// Positive as float32, so that the port sums exactly these values (zeros are dropped before normalizing).
const sums: Sum32Case[] = Array.from({ length: 300 }, (_, i) => ({
  kind: 'sum32',
  values: Array.from({ length: i + 1 }, () => (Math.fround(randomScore(rng.int(0, 5))) > 0 ? randomScore(0) + 1e-6 : 0.5) * 10 ** rng.int(-3, 3)),
}));

const ALL: Case[] = [...golden, ...random, ...emitCases, ...sums];

interface OracleAnswer {
  bittensor: string;
  numpy: string;
  results: unknown[];
}
let oracle: OracleAnswer | undefined;
function sdk(python: string, c: Case): unknown {
  oracle ??= runPythonOracle<OracleAnswer>(python, path.join(REPO_ROOT, 'test/interop/weights_oracle.py'), { cases: ALL });
  return oracle.results[ALL.indexOf(c)];
}

const where = (c: Case) =>
  `(HS58_TEST_SEED=${SEED}, bittensor ${oracle?.bittensor}, numpy ${oracle?.numpy}) ${'label' in c ? c.label : 'sum32'}: ${JSON.stringify(c).slice(0, 400)}`;

function attempt<T>(fn: () => T): T | { thrown: unknown } {
  try {
    return fn();
  } catch (err) {
    return { thrown: err };
  }
}
const isPyError = (x: unknown): x is PyError => typeof x === 'object' && x !== null && 'error' in x;

/** Exact equality of uids and weights, or both sides raising (the port with a WeightsError). */
function expectSame(ours: UidWeights | { thrown: unknown }, theirs: PyOut, message: string): void {
  if (isPyError(theirs)) {
    expect('thrown' in ours ? ours.thrown : ours, message).toBeInstanceOf(WeightsError);
    return;
  }
  if ('thrown' in ours) throw new Error(`${message}\nthe port threw ${String(ours.thrown)} but the SDK answered ${JSON.stringify(theirs).slice(0, 300)}`);
  expect(ours, message).toEqual({ uids: theirs.uids, weights: theirs.weights });
}

function paramsOf(c: PipelineCase) {
  return { minAllowedWeights: c.minAllowedWeights, maxWeightLimit: u16NormalizedFloat(c.maxWeightsLimitU16), excludeQuantile: c.excludeQuantile, n: c.n };
}

function checkPipeline(python: string, c: PipelineCase): void {
  const theirs = sdk(python, c) as PyPipeline;
  const uids = c.uids ?? c.scores.map((_, i) => i);
  const processed = attempt(() => processWeightsForNetuid(uids, c.scores, paramsOf(c)));
  if (c.refused) {
    // The port refuses by name what the SDK lets through (negative: dropped by `weights > 0`;
    // beyond float32: inf → NaN quantile → nothing kept → the emit step raises).
    expect('thrown' in processed && (processed.thrown as WeightsError).code, where(c)).toBe(
      c.refused === 'negative' ? 'WEIGHTS_NEGATIVE' : 'WEIGHTS_NOT_FINITE',
    );
    expect(() => toU16Weights(c.scores, { ...paramsOf(c), uids })).toThrow(WeightsError);
    return;
  }
  const { dtype: _dtype, ...processedTheirs } = isPyError(theirs.processed) ? { dtype: '' } : theirs.processed;
  expectSame(processed, isPyError(theirs.processed) ? theirs.processed : (processedTheirs as UidWeights), `processed ${where(c)}`);
  if ('thrown' in processed || theirs.emitted === undefined) return;
  expectSame(
    attempt(() => convertWeightsAndUidsForEmit(processed.uids, processed.weights)),
    theirs.emitted,
    `emitted ${where(c)}`,
  );
  expectSame(
    attempt(() => toU16Weights(c.scores, { ...paramsOf(c), uids })),
    theirs.emitted,
    `toU16Weights ${where(c)}`,
  );
}

describe('u16 weights: bit-identical to the bittensor SDK (process_weights_for_netuid + convert_weights_and_uids_for_emit)', () => {
  test(`golden edge cases (${golden.length})`, (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason || python === null) return ctx.skip(reason ?? 'no interop python');
    for (const c of golden) checkPipeline(python, c);
    // Negative scores: the SDK's emit step raises too (the Python validator's own set_weights path).
    const negative = golden.find((c) => c.refused === 'negative')!;
    expect(sdk(python, emitCases.find((c) => c.label === 'negative raises')!)).toMatchObject({ error: 'ValueError' });
    expect((sdk(python, negative) as PyPipeline).processed, 'the SDK process step drops negatives; recorded so a change in the SDK shows').not.toHaveProperty(
      'error',
    );
  });

  test(`random vectors (${random.length}, n from 1 to 256, with caps, quantiles, min_allowed)`, (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason || python === null) return ctx.skip(reason ?? 'no interop python');
    for (const c of random) checkPipeline(python, c);
    // The interesting paths must have been taken, else this test proves little.
    const results = random.map((c) => sdk(python, c) as PyPipeline);
    const ok = results.filter((r) => !isPyError(r.processed)) as { processed: UidWeights & { dtype: string } }[];
    const capped = random.filter((c, i) => {
      const p = results[i]!.processed;
      if (isPyError(p) || p.dtype !== 'float32') return false;
      const nz = c.scores.map(Math.fround).filter((w) => w > 0);
      const limit = u16NormalizedFloat(c.maxWeightsLimitU16);
      return nz.length * limit > 1 && Math.max(...nz) / nz.reduce((a, b) => a + b, 0) > limit;
    });
    const excluded = random.filter((c, i) => {
      const p = results[i]!.processed;
      return !isPyError(p) && p.dtype === 'float32' && p.uids.length < c.scores.filter((w) => Math.fround(w) > 0).length;
    });
    const float64 = ok.filter((r) => r.processed.dtype === 'float64'); // the uniform and the 1e-5 paths
    expect(float64.length).toBeGreaterThan(100);
    expect(float64.filter((r) => new Set(r.processed.weights).size > 1).length).toBeGreaterThan(20); // 1e-5 path, not uniform
    expect(capped.length).toBeGreaterThan(50);
    expect(excluded.length).toBeGreaterThan(50);
  });

  test(`convert_weights_and_uids_for_emit and set_weights' float32 conversion (${emitCases.length})`, (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason || python === null) return ctx.skip(reason ?? 'no interop python');
    for (const c of emitCases) {
      const convert = c.kind === 'emit' ? convertWeightsAndUidsForEmit : convertAndNormalizeWeightsAndUids;
      expectSame(
        attempt(() => convert(c.uids, c.weights)),
        sdk(python, c) as PyOut,
        where(c),
      );
    }
  });

  test('numpy float32 pairwise sums match the summation the port uses (via the all-above-limit path)', (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason || python === null) return ctx.skip(reason ?? 'no interop python');
    // With limit 1 and no cap, normalize_max_weight returns w / sum(w) in float32: the sum is the only unknown.
    for (const c of sums) {
      const sum32 = sdk(python, c) as number;
      const processed = processWeightsForNetuid(
        c.values.map((_, i) => i),
        c.values,
        { minAllowedWeights: 0, maxWeightLimit: 1 },
      );
      expect(processed.weights, where(c)).toEqual(c.values.map((v) => Math.fround(Math.fround(v) / sum32)));
    }
  });
});
