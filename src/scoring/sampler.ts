/**
 * CPython 3.11's `random.Random(seed).sample(population, k)`, bit for bit.
 *
 * Every validator of the subnet must probe the same providers in a round, and the
 * Python validators pick them with `random.Random(seed).sample(...)`. So this is a
 * port of CPython's own code, not "a" random sampler: MT19937 seeded by
 * `init_by_array` (Modules/_randommodule.c), `getrandbits`, and `_randbelow` /
 * `sample` from Lib/random.py. test/unit/sampler.test.ts checks it against python3.
 */
import { createHash } from 'node:crypto';
import { Hs58Error } from '../errors.js';

export type SamplerErrorCode = 'SAMPLE_SIZE_INVALID' | 'SAMPLE_BAD_ARGUMENT';

export class SamplerError extends Hs58Error<SamplerErrorCode> {
  override name = 'SamplerError';
}

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** The 32-bit little-endian words of |seed| (CPython takes the absolute value; 0 → [0]). */
export function seedKey(seed: bigint): number[] {
  let rest = seed < 0n ? -seed : seed;
  if (rest === 0n) return [0];
  const key: number[] = [];
  while (rest > 0n) {
    key.push(Number(rest & 0xffffffffn));
    rest >>= 32n;
  }
  return key;
}

/**
 * CPython's `random.Random` core (MT19937) with the pieces `sample` uses.
 * Seed with an integer exactly as `random.Random(int)` does.
 */
export class PythonRandom {
  private readonly mt = new Uint32Array(N);
  private index = N;

  constructor(seed: bigint | number) {
    if (typeof seed === 'number' && !Number.isSafeInteger(seed)) {
      throw new SamplerError('SAMPLE_BAD_ARGUMENT', `seed must be an integer, got ${seed}; pass a bigint for large seeds.`);
    }
    this.initByArray(seedKey(BigInt(seed)));
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]!;
      mt[i] = (Math.imul(1812433253, prev ^ (prev >>> 30)) + i) >>> 0;
    }
    this.index = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    for (let k = Math.max(N, key.length); k > 0; k--) {
      const prev = mt[i - 1]!;
      // Sums stay below 2^53, so `>>> 0` is the C code's wrap modulo 2^32.
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= key.length) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]!;
      mt[i] = ((mt[i]! ^ Math.imul(prev ^ (prev >>> 30), 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = UPPER_MASK; // MSB 1: the state is never all zero
    this.index = N;
  }

  /** `genrand_uint32`: the next 32-bit output. */
  nextUint32(): number {
    const mt = this.mt;
    if (this.index >= N) {
      let kk = 0;
      let y: number;
      for (; kk < N - M; kk++) {
        y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
        mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      for (; kk < N - 1; kk++) {
        y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
        mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      }
      y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
      mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
      this.index = 0;
    }
    let y = mt[this.index++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `getrandbits(k)` for k <= 32, as a number (the hot path of `_randbelow`). */
  private bits32(k: number): number {
    return k === 0 ? 0 : this.nextUint32() >>> (32 - k);
  }

  /**
   * `getrandbits(k)`: above 32 bits CPython fills 32-bit words from the least
   * significant up and drops the low bits of the last (most significant) word.
   */
  getrandbits(k: number): bigint {
    if (!Number.isSafeInteger(k) || k < 0) {
      throw new SamplerError('SAMPLE_BAD_ARGUMENT', `number of bits must be a non-negative integer, got ${k}.`);
    }
    if (k <= 32) return BigInt(this.bits32(k));
    let result = 0n;
    let remaining = k;
    for (let word = 0n; remaining > 0; word += 32n, remaining -= 32) {
      let r = this.nextUint32();
      if (remaining < 32) r >>>= 32 - remaining;
      result |= BigInt(r) << word;
    }
    return result;
  }

  /** `_randbelow_with_getrandbits(n)`: uniform in [0, n), n >= 1, by rejection on `n.bit_length()` bits. */
  randbelow(n: number): number {
    if (!Number.isSafeInteger(n) || n < 1) {
      throw new SamplerError('SAMPLE_BAD_ARGUMENT', `randbelow needs a positive integer, got ${n}.`);
    }
    if (n <= 0xffffffff) {
      const k = 32 - Math.clz32(n);
      let r = this.bits32(k);
      while (r >= n) r = this.bits32(k);
      return r;
    }
    const big = BigInt(n);
    const k = n.toString(2).length;
    let r = this.getrandbits(k);
    while (r >= big) r = this.getrandbits(k);
    return Number(r);
  }

  /**
   * `sample(population, k)` of Python 3.11: a partial shuffle of a copy when the
   * population is small (`n <= setsize`), else rejection against a set of chosen
   * indices. Which branch runs changes the result, so the threshold is CPython's.
   */
  sample<T>(population: readonly T[], k: number): T[] {
    const n = population.length;
    if (!Number.isSafeInteger(k)) {
      throw new SamplerError('SAMPLE_BAD_ARGUMENT', `sample size must be an integer, got ${k}.`);
    }
    if (k < 0 || k > n) {
      throw new SamplerError('SAMPLE_SIZE_INVALID', `Sample larger than population or is negative (k=${k}, population ${n}).`, {
        details: { k, n },
      });
    }
    const result: T[] = new Array<T>(k);
    if (n <= sampleSetSize(k)) {
      const pool = population.slice();
      for (let i = 0; i < k; i++) {
        const j = this.randbelow(n - i);
        result[i] = pool[j]!;
        pool[j] = pool[n - i - 1]!; // move the last unchosen item into the vacancy
      }
    } else {
      const selected = new Set<number>();
      for (let i = 0; i < k; i++) {
        let j = this.randbelow(n);
        while (selected.has(j)) j = this.randbelow(n);
        selected.add(j);
        result[i] = population[j]!;
      }
    }
    return result;
  }
}

/**
 * CPython's `setsize = 21 (+ 4 ** ceil(log(3k, 4)) when k > 5)`. Computed with
 * integers: 3k is never a power of 4, so this equals CPython's float
 * `ceil(log(3k, 4))` for every k an array can hold.
 */
export function sampleSetSize(k: number): number {
  let setsize = 21;
  if (k > 5) {
    let power = 1;
    while (power < 3 * k) power *= 4;
    setsize += power;
  }
  return setsize;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** `int(hashlib.sha256(block_hash.encode()).hexdigest(), 16)`: hashes the string exactly as given (pass the chain's `0x` + lowercase form). */
export function seedFromBlockHash(blockHashHex: string): bigint {
  if (typeof blockHashHex !== 'string') {
    throw new SamplerError('SAMPLE_BAD_ARGUMENT', 'block hash must be a string.');
  }
  if (LONE_SURROGATE.test(blockHashHex)) {
    // Python's str.encode() raises here; Node would silently hash U+FFFD instead.
    throw new SamplerError('SAMPLE_BAD_ARGUMENT', 'block hash contains a lone UTF-16 surrogate and cannot be UTF-8 encoded.');
  }
  return BigInt(`0x${createHash('sha256').update(blockHashHex, 'utf8').digest('hex')}`);
}

/** Python's `str` order: by code point (JS `<` compares UTF-16 units, which misorders astral vs U+E000–U+FFFF). */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  const restA = a.length - i;
  const restB = b.length - j;
  return restA === restB ? 0 : restA < restB ? -1 : 1;
}

export const PROBES_PER_ROUND = 5;

/** The seed of a round: from the epoch block's hash, or the epoch block number when the hash could not be read. */
export function providerSampleSeed(blockHash: string | null, epochBlock: number | bigint): bigint {
  if (blockHash !== null) return seedFromBlockHash(blockHash);
  if (typeof epochBlock === 'number' && !Number.isSafeInteger(epochBlock)) {
    throw new SamplerError('SAMPLE_BAD_ARGUMENT', `epoch block must be an integer, got ${epochBlock}.`);
  }
  return BigInt(epochBlock);
}

/**
 * The providers a round probes, as the Python validator (2.1.0+) picks them:
 * `random.Random(seed).sample(sorted(providers, key=probeUrl), min(count, n))`.
 */
export function sampleProviders<T extends { probeUrl: string }>(
  providers: readonly T[],
  blockHash: string | null,
  epochBlock: number | bigint,
  count: number = PROBES_PER_ROUND,
): T[] {
  if (!Number.isSafeInteger(count) || count < 0) {
    throw new SamplerError('SAMPLE_BAD_ARGUMENT', `count must be a non-negative integer, got ${count}.`);
  }
  providers.forEach((p, index) => {
    if (typeof p?.probeUrl !== 'string') {
      throw new SamplerError('SAMPLE_BAD_ARGUMENT', `provider ${index} has no string probeUrl.`, { details: { index } });
    }
  });
  // Array.prototype.sort is stable, like Python's sorted().
  const sorted = [...providers].sort((a, b) => compareCodePoints(a.probeUrl, b.probeUrl));
  const seed = providerSampleSeed(blockHash, epochBlock);
  return new PythonRandom(seed).sample(sorted, Math.min(count, sorted.length));
}
