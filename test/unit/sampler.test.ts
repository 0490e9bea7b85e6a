import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { compareCodePoints, PythonRandom, sampleProviders, sampleSetSize, SamplerError, seedFromBlockHash, seedKey } from '../../src/scoring/sampler.js';
import { REPO_ROOT, requirePython3 } from '../support/programs.js';
import { runPythonOracle, testRng, testSeed } from '../support/python-oracle.js';

type Op = ['sample', number, number] | ['getrandbits', number] | ['randbelow', number];
type OpsCase = { kind: 'ops'; ops: Op[] } & ({ seed: string } | { blockHash: string });
type SeedCase = { kind: 'seed'; blockHash: string };
interface Provider {
  id: number;
  probeUrl: string;
}
interface ProvidersCase {
  kind: 'providers';
  providers: Provider[];
  blockHash: string | null;
  epochBlock: number;
  count: number;
}
type Case = OpsCase | SeedCase | ProvidersCase;
type OpResult = number[] | string | number | { error: string; message: string };

const SEED = testSeed(58_2101);
const rng = testRng(SEED);
const blockHash = () => `0x${rng.hex(32)}`;

// --- the cases, generated once and sent to python3 in one process -----------------------------

const everyNK: OpsCase[] = [];
for (let n = 0; n <= 60; n++) {
  for (let k = 0; k <= n; k++) {
    // The trailing getrandbits checks that the generator state after sample() matches too.
    everyNK.push({
      kind: 'ops',
      blockHash: blockHash(),
      ops: [
        ['sample', n, k],
        ['getrandbits', 32],
      ],
    });
  }
}

// The pool/set threshold: populations just below, at and above setsize for k = 0..40.
const setBoundary: OpsCase[] = [];
for (let k = 0; k <= 40; k++) {
  const s = sampleSetSize(k);
  for (const n of [s - 1, s, s + 1])
    if (n >= k)
      setBoundary.push({
        kind: 'ops',
        blockHash: blockHash(),
        ops: [
          ['sample', n, k],
          ['getrandbits', 32],
        ],
      });
}

const big: OpsCase[] = [1, 5, 6, 21, 100, 1000, 5000].map((k) => ({
  kind: 'ops',
  blockHash: blockHash(),
  ops: [
    ['sample', 10_000, k],
    ['getrandbits', 32],
  ],
}));

const INTEGER_SEEDS = [
  0n,
  1n,
  2n,
  42n,
  360n,
  2n ** 31n - 1n,
  2n ** 32n - 1n,
  2n ** 32n,
  2n ** 32n + 1n,
  2n ** 53n + 1n,
  2n ** 64n - 1n,
  2n ** 64n,
  2n ** 200n + 7n,
  2n ** 256n - 1n,
  2n ** 1000n - 1n,
  3n ** 700n,
  19937n * 10n ** 300n,
  -1n,
  -12345n,
  -(2n ** 100n),
];
const BIT_COUNTS = [0, 1, 2, 7, 31, 32, 33, 63, 64, 65, 95, 96, 97, 100, 128, 255, 256, 1000, 19937, 20000];
const BELOW = [1, 2, 3, 5, 2 ** 31 - 1, 2 ** 31, 2 ** 31 + 1, 2 ** 32 - 1, 2 ** 32, 2 ** 40 + 3, Number.MAX_SAFE_INTEGER];
const integerSeeds: OpsCase[] = INTEGER_SEEDS.map((seed) => ({
  kind: 'ops',
  seed: seed.toString(),
  ops: [['sample', 60, 5], ['sample', 1000, 50], ['sample', 7, 7], ...BIT_COUNTS.map((k): Op => ['getrandbits', k]), ...BELOW.map((n): Op => ['randbelow', n])],
}));

// Long runs: thousands of outputs cross several MT state regenerations (624 words each).
const longRuns: OpsCase[] = Array.from({ length: 5 }, () => ({
  kind: 'ops',
  blockHash: blockHash(),
  ops: Array.from({ length: 300 }, (): Op => (rng.next() < 0.5 ? ['getrandbits', rng.int(0, 200)] : ['sample', rng.int(0, 300), 0])).map(
    (op): Op => (op[0] === 'sample' ? ['sample', op[1], rng.int(0, op[1])] : op),
  ),
}));

const errors: OpsCase[] = [
  {
    kind: 'ops',
    seed: '7',
    ops: [
      ['sample', 5, 6],
      ['sample', 5, -1],
      ['sample', 0, 1],
      ['getrandbits', 32],
    ],
  },
];

const seedStrings = [`0x${'00'.repeat(32)}`, `0x${'ff'.repeat(32)}`, '0xABCDEF', '', 'ü', '😀 block', blockHash(), blockHash()];
const seedCases: SeedCase[] = seedStrings.map((h) => ({ kind: 'seed', blockHash: h }));

// Providers: URLs from an alphabet where UTF-16 order and code point order disagree
// (astral vs U+E000–U+FFFF), plus prefixes, duplicates (stability) and a lone surrogate.
const URL_PARTS = ['a', 'b', 'Z', '/', '.', '-', 'é', 'ß', '\uE000', '\uFF21', '\uFFFD', '😀', '𝔘', '\u{10FFFF}', 'https://x.io', 'http://', '\uD800'];
function randomUrl(): string {
  let url = 'https://';
  for (let i = rng.int(0, 6); i > 0; i--) url += rng.pick(URL_PARTS);
  return url;
}
const providerCases: ProvidersCase[] = Array.from({ length: 250 }, (_, i) => {
  const n = rng.int(0, 30);
  const pool = Array.from({ length: rng.int(1, 40) }, randomUrl);
  return {
    kind: 'providers',
    providers: Array.from({ length: n }, (_, id) => ({ id, probeUrl: rng.pick(pool) })),
    blockHash: i % 5 === 0 ? null : blockHash(),
    epochBlock: rng.int(0, 8_000_000) * 360,
    count: i % 7 === 0 ? rng.int(0, 40) : 5,
  };
});

const ALL: Case[] = [...everyNK, ...setBoundary, ...big, ...integerSeeds, ...longRuns, ...errors, ...seedCases, ...providerCases];

let oracle: { python: string; results: unknown[] } | undefined;
function pythonResults(): unknown[] {
  oracle ??= runPythonOracle<{ python: string; results: unknown[] }>('python3', path.join(REPO_ROOT, 'test/interop/sample_oracle.py'), { cases: ALL });
  return oracle.results;
}
const resultOf = (c: Case): unknown => pythonResults()[ALL.indexOf(c)];

// --- the port, run on the same cases --------------------------------------------------------------

function runOps(c: OpsCase): OpResult[] {
  const random = new PythonRandom('seed' in c ? BigInt(c.seed) : seedFromBlockHash(c.blockHash));
  return c.ops.map((op): OpResult => {
    try {
      if (op[0] === 'sample')
        return random.sample(
          Array.from({ length: op[1] }, (_, i) => i),
          op[2],
        );
      if (op[0] === 'getrandbits') return random.getrandbits(op[1]).toString();
      return random.randbelow(op[1]);
    } catch (err) {
      if (err instanceof SamplerError && err.code === 'SAMPLE_SIZE_INVALID')
        return { error: 'ValueError', message: 'Sample larger than population or is negative' };
      throw err;
    }
  });
}

const where = (c: Case) => `(HS58_TEST_SEED=${SEED}, python ${oracle?.python}) case ${JSON.stringify(c).slice(0, 300)}`;

function expectOps(cases: OpsCase[]): void {
  for (const c of cases) expect(runOps(c), where(c)).toEqual(resultOf(c));
}

describe('PythonRandom / sample against CPython (python3 standard library)', () => {
  test(`sample(range(n), k) for every 0 <= k <= n <= 60 (${everyNK.length} cases, seeds from sha256 of random block hashes)`, (ctx) => {
    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    expect(everyNK.length).toBeGreaterThanOrEqual(1000);
    expectOps(everyNK);
  });

  test('the pool/set branch threshold (n = setsize-1, setsize, setsize+1) and large populations', (ctx) => {
    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    // Both branches must be exercised for this test to mean anything.
    expect(setBoundary.some((c) => c.ops[0]![0] === 'sample' && c.ops[0]![1] > sampleSetSize(c.ops[0]![2] as number))).toBe(true);
    expect(setBoundary.some((c) => c.ops[0]![0] === 'sample' && c.ops[0]![1] <= sampleSetSize(c.ops[0]![2] as number))).toBe(true);
    expectOps(setBoundary);
    expectOps(big);
  });

  test('small, huge and negative integer seeds; getrandbits up to 20000 bits; _randbelow up to 2^53', (ctx) => {
    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    expectOps(integerSeeds);
  });

  test('long mixed sequences keep the generator state in step', (ctx) => {
    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    expectOps(longRuns);
  });

  test('k > n and k < 0 raise, and a failed call leaves the state as CPython leaves it', (ctx) => {
    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    const python = resultOf(errors[0]!) as OpResult[];
    expect(python.slice(0, 3).every((r) => typeof r === 'object' && r !== null && 'error' in r && r.error === 'ValueError')).toBe(true);
    expectOps(errors);
  });

  test('seedFromBlockHash = int(sha256(s.encode()).hexdigest(), 16)', (ctx) => {
    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    for (const c of seedCases) expect(seedFromBlockHash(c.blockHash).toString(), where(c)).toBe(resultOf(c));
  });

  test(`sampleProviders = the Python validator's sorted + Random(seed).sample (${providerCases.length} cases, unicode URLs)`, (ctx) => {
    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    for (const c of providerCases) {
      const chosen = sampleProviders(c.providers, c.blockHash, c.epochBlock, c.count).map((p) => p.id);
      expect(chosen, where(c)).toEqual(resultOf(c));
    }
  });
});

describe('sampler without python', () => {
  test('code point order differs from UTF-16 order where it must', () => {
    // U+FF21 < U+1F600 by code point; as UTF-16 units 0xFF21 > 0xD83D.
    expect('\uFF21' < '😀').toBe(false);
    expect(compareCodePoints('\uFF21', '😀')).toBe(-1);
    expect(compareCodePoints('😀', '\uFF21')).toBe(1);
    expect(compareCodePoints('ab', 'abc')).toBe(-1);
    expect(compareCodePoints('abc', 'abc')).toBe(0);
    expect(compareCodePoints('\uD800', '\uE000')).toBe(-1); // a lone surrogate is its own code point
  });

  test('sort is stable for equal probeUrls', () => {
    const providers = Array.from({ length: 8 }, (_, id) => ({ id, probeUrl: 'https://same' }));
    const chosen = sampleProviders(providers, null, 0, 8);
    expect(new Set(chosen.map((p) => p.id)).size).toBe(8);
  });

  test('seed words are 32-bit little-endian and |seed| like CPython', () => {
    expect(seedKey(0n)).toEqual([0]);
    expect(seedKey(2n ** 32n + 5n)).toEqual([5, 1]);
    expect(seedKey(-(2n ** 32n + 5n))).toEqual([5, 1]);
  });

  test('bad input gets a typed error', () => {
    const r = new PythonRandom(1n);
    expect(() => r.sample([1, 2, 3], 4)).toThrow(SamplerError);
    expect(() => r.sample([1, 2, 3], 1.5)).toThrow(/integer/);
    expect(() => r.getrandbits(-1)).toThrow(/non-negative/);
    expect(() => r.randbelow(0)).toThrow(SamplerError);
    expect(() => new PythonRandom(1.5)).toThrow(SamplerError);
    expect(() => seedFromBlockHash('0x\uD800')).toThrow(/surrogate/);
    expect(() => sampleProviders([{ probeUrl: 5 } as unknown as { probeUrl: string }], null, 0)).toThrow(/probeUrl/);
    expect(() => sampleProviders([], null, 0, -1)).toThrow(/count/);
  });

  test('fewer providers than the count: all of them, in sampled order', () => {
    const providers = [{ probeUrl: 'b' }, { probeUrl: 'a' }, { probeUrl: 'c' }];
    const chosen = sampleProviders(providers, '0x01', 0);
    expect(chosen.map((p) => p.probeUrl).sort()).toEqual(['a', 'b', 'c']);
  });
});
