import { describe, expect, test } from 'vitest';
import { ScoringError } from '../../src/scoring/errors.js';
import { bigintRatio } from '../../src/scoring/numeric.js';
import { describePreset, getPreset, PRESET_NAMES, selectQueriedUids } from '../../src/scoring/presets.js';
import { claimsShare, creditClaims, scoreProbeRound } from '../../src/scoring/rewards.js';
import type { ProbeResponse } from '../../src/scoring/consensus.js';

const r = (uid: number, reachable: boolean | null, status: number | null, latencyMs: number | null): ProbeResponse => ({
  uid,
  reachable,
  status,
  latencyMs,
});

// Four wallets; W1 appears in two spellings in the claims and is proven by UIDs 0 and 2.
const W1 = '0xAbCdEf0123456789abcdef0123456789ABCDEF01';
const W2 = '0x2222222222222222222222222222222222222222';
const W3 = '0x3333333333333333333333333333333333333333'; // claims but no miner proves it
const claims = new Map<string, bigint>([
  [W1, 1_000_000n],
  [W1.toLowerCase(), 2_000_000n], // same wallet, other case: totals merge to 3 USDC
  [W2, 1_500_000n],
  [W3, 6_000_000n],
]);
const provenWallets = [W1, null, W1.toLowerCase(), W2];

describe('scoreProbeRound', () => {
  test('golden: skipped probe, missing answer, not-queried UID, float32 mean', () => {
    const probes = [
      // consensus up/200/100; uid 2 did not answer → 0
      [r(0, true, 200, 100), r(1, true, 200, 100)],
      // nobody voted → this provider is skipped and not counted
      [r(0, null, null, null), r(1, null, null, null), r(2, null, null, null)],
      // consensus down/0 (2 of 3); uid 0, 1: 1.0; uid 2 (up/200/50 ms): band only → 0.3
      [r(0, false, 0, 0), r(1, false, 0, 0), r(2, true, 200, 50)],
    ];
    const result = scoreProbeRound({ n: 4, queriedUids: [2, 0, 1], probes, latencyRule: '2.1' });
    expect(result.countedProbes).toBe(2);
    expect(result.consensus[1]).toBeNull();
    expect(result.consensus[2]).toEqual({ reachable: false, status: 0, medianLatencyMs: 50, voters: 3 });
    // uid 2: float32 sum 0 + f32(0.3), divided by 2 in float32; uid 3 was not queried.
    expect(result.accuracy).toEqual([1, 1, Math.fround(Math.fround(0.3) / 2), null]);
    expect(result.accuracy![2]).not.toBe(0.15); // float32, like numpy, not the double 0.15
  });

  test('float64 precision gives plain doubles', () => {
    const probes = [[r(0, true, 200, 100), r(1, false, 0, 0), r(2, true, 200, 120)]];
    const { accuracy } = scoreProbeRound({ n: 3, queriedUids: [0, 1, 2], probes, latencyRule: '2.1', precision: 'float64' });
    expect(accuracy).toEqual([1, 0 + 0 + 0, 1]); // uid 1: wrong reachable, wrong status, no latency while consensus up
  });

  test('no probe reaches a consensus → accuracy null (the round is skipped)', () => {
    const none = scoreProbeRound({ n: 2, queriedUids: [0, 1], probes: [[r(0, null, 200, 5)], []], latencyRule: '2.1' });
    expect(none.accuracy).toBeNull();
    expect(scoreProbeRound({ n: 2, queriedUids: [0, 1], probes: [], latencyRule: '2.1' }).accuracy).toBeNull();
  });

  test('typed errors for responses that cannot belong to the round', () => {
    expect(() => scoreProbeRound({ n: 2, queriedUids: [0], probes: [[r(1, true, 200, 5)]], latencyRule: '2.1' })).toThrow(/not queried/);
    expect(() => scoreProbeRound({ n: 2, queriedUids: [0, 0], probes: [], latencyRule: '2.1' })).toThrow(ScoringError);
    expect(() => scoreProbeRound({ n: 2, queriedUids: [5], probes: [], latencyRule: '2.1' })).toThrow(/out of range/);
  });
});

describe('creditClaims', () => {
  test('lowest-uid: a wallet counts once, for the lowest UID proving it (any case)', () => {
    const c = creditClaims(provenWallets, claims, 'lowest-uid');
    expect(c.claimsByUid).toEqual([3_000_000n, 0n, 0n, 1_500_000n]);
    expect(c.credited).toEqual([true, false, false, true]);
    expect(c.creditedUids.get(W1.toLowerCase())).toEqual([0]);
    expect(c.maxClaimsAnyAddress).toBe(6_000_000n); // W3, proven by nobody
    expect(c.maxClaimsCredited).toBe(3_000_000n);
  });

  test('every-prover: generation A credits the same wallet to each hotkey proving it', () => {
    const c = creditClaims(provenWallets, claims, 'every-prover');
    expect(c.claimsByUid).toEqual([3_000_000n, 0n, 3_000_000n, 1_500_000n]);
    expect(c.creditedUids.get(W1.toLowerCase())).toEqual([0, 2]);
  });

  test('bad addresses and amounts are refused', () => {
    expect(() => creditClaims(['0x12'], claims, 'lowest-uid')).toThrow(/not a 0x address/);
    expect(() => creditClaims([null], new Map([[W2, -1n]]), 'lowest-uid')).toThrow(/non-negative/);
    expect(() => creditClaims([null], new Map([['nope', 1n]]), 'lowest-uid')).toThrow(ScoringError);
  });
});

describe('claims share: bigint → double', () => {
  test('correctly rounded ratio, also for amounts far beyond 2^53', () => {
    expect(bigintRatio(1n, 3n)).toBe(1 / 3);
    expect(bigintRatio(2n, 4n)).toBe(0.5);
    const big = 2n ** 96n;
    expect(bigintRatio(big, big * 3n)).toBe(1 / 3);
    expect(bigintRatio(big - 1n, big)).toBe(1); // 1 − 2^-96 rounds to 1
    expect(bigintRatio((big * 2n) / 3n, big)).toBe(2 / 3);
    // (2^53 + 1) / 2^53 is exactly halfway between 1 and 1 + 2^-52 → ties to even (1);
    // (2^54 + 3) / 2^54 is 1 + 3·2^-54, just above halfway → 1 + 2^-52.
    expect(bigintRatio(2n ** 53n + 1n, 2n ** 53n)).toBe(1);
    expect(bigintRatio(2n ** 54n + 3n, 2n ** 54n)).toBe(1 + 2 ** -52);
    expect(bigintRatio(10n ** 30n, 7n)).toBe(1e30 / 7);
    // Two ~2^89 totals where Number(a) / Number(b) is one ulp off; the exact ratio (Python Fraction) is 0.9999999999999994.
    const a = 673723158272480047880945661n;
    const b = 673723158272480452168033126n;
    expect(Number(a) / Number(b)).toBe(0.9999999999999993);
    expect(bigintRatio(a, b)).toBe(0.9999999999999994);
  });

  test('claimsShare is 0 without claims or without a top, and refuses claims above the top', () => {
    expect(claimsShare(0n, 5n)).toBe(0);
    expect(claimsShare(0n, 0n)).toBe(0);
    expect(claimsShare(5n, 5n)).toBe(1);
    expect(() => claimsShare(6n, 5n)).toThrow(ScoringError);
  });
});

describe('presets', () => {
  test('drain-v1 (generation A): proof·(0.4 + 0.6·claims/max over every claiming address)', () => {
    const rewards = getPreset('drain-v1').computeRewards({ n: 4, provenWallets, claimsByAddress: claims });
    // uid 0: 0.4 + 0.6·3/6 = 0.7; uid 1: no proof; uid 2: same wallet, credited again: 0.7;
    // uid 3: 0.4 + 0.6·1.5/6 = 0.55. The top is W3 (6 USDC) although no miner proves it.
    expect(Array.from(rewards!)).toEqual([0.7, 0, 0.7, 0.4 + 0.6 * 0.25]);
  });

  test('hs58 with probing off: 0.6·claims/top credited + 0.4·proof', () => {
    const rewards = getPreset('hs58').computeRewards({ n: 4, provenWallets, claimsByAddress: claims, probeAccuracy: null });
    // uid 0: top credited (3 USDC) → 0.6 + 0.4 = 1; uid 2: W1 already credited to uid 0 → 0;
    // uid 3: 0.6·1.5/3 + 0.4 = 0.7.
    expect(Array.from(rewards!)).toEqual([1, 0, 0, 0.6 * 0.5 + 0.4]);
  });

  test('hs58 with probing on: availability = proof × probe accuracy', () => {
    const rewards = getPreset('hs58').computeRewards({
      n: 4,
      provenWallets,
      claimsByAddress: claims,
      probeAccuracy: [0.5, 1, 1, null],
    });
    // uid 0: 0.6 + 0.4·0.5 = 0.8; uid 1: accurate but no proof → 0; uid 3: not probed → 0.3 + 0.
    expect(Array.from(rewards!)).toEqual([0.6 + 0.4 * 0.5, 0, 0, 0.6 * 0.5]);
  });

  test('hs58 with no claims at all: availability alone', () => {
    const rewards = getPreset('hs58').computeRewards({ n: 2, provenWallets: [W2, null], claimsByAddress: new Map(), probeAccuracy: [1, 1] });
    expect(Array.from(rewards!)).toEqual([0.4, 0]);
  });

  test('oracle-v2.1: reward = probe accuracy, not-queried UIDs 0, no probe result → skip', () => {
    const preset = getPreset('oracle-v2.1');
    expect(Array.from(preset.computeRewards({ n: 4, probeAccuracy: [0.5, null, 1, 0.25] })!)).toEqual([0.5, 0, 1, 0.25]);
    expect(preset.computeRewards({ n: 4, probeAccuracy: null })).toBeNull();
    expect(preset.computeRewards({ n: 4 })).toBeNull();
  });

  test('rewards are in [0, 1] for every preset on random rounds', () => {
    let seed = 7;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const pool = [W1, W2, W3, '0x4444444444444444444444444444444444444444'];
    for (let round = 0; round < 200; round++) {
      const n = 1 + Math.floor(rand() * 10);
      const wallets = Array.from({ length: n }, () => (rand() < 0.3 ? null : pool[Math.floor(rand() * pool.length)]!));
      const totals = new Map(pool.filter(() => rand() < 0.7).map((w) => [w, BigInt(Math.floor(rand() * 1e12))] as const));
      const acc = rand() < 0.2 ? null : Array.from({ length: n }, () => (rand() < 0.2 ? null : rand()));
      for (const name of PRESET_NAMES) {
        const rewards = getPreset(name).computeRewards({ n, provenWallets: wallets, claimsByAddress: totals, probeAccuracy: acc });
        for (const x of rewards ?? []) {
          expect(x).toBeGreaterThanOrEqual(0);
          expect(x).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  test('α defaults, override and what each preset needs', () => {
    expect(getPreset('hs58').alpha).toBe(0.1);
    expect(getPreset('drain-v1').alpha).toBe(0.1);
    expect(getPreset('oracle-v2.1').alpha).toBe(0.3);
    expect(getPreset('hs58', { alpha: 0.25 }).alpha).toBe(0.25);
    expect(getPreset('hs58', { alpha: null }).alpha).toBe(0.1);
    expect(() => getPreset('hs58', { alpha: 1.5 })).toThrow(ScoringError);
    expect(() => getPreset('winner-takes-all')).toThrow(/unknown scoring preset/);
    expect(getPreset('oracle-v2.1').uses).toEqual({ walletProofs: false, claims: false, probes: true });
    expect(getPreset('drain-v1').uses).toEqual({ walletProofs: true, claims: true, probes: false });
    expect(getPreset('drain-v1', { walletCredit: 'lowest-uid' }).walletCredit).toBe('lowest-uid');
  });

  test('inputs of the wrong shape are typed errors', () => {
    expect(() => getPreset('hs58').computeRewards({ n: 2, provenWallets: [null], claimsByAddress: claims })).toThrow(/one entry per UID/);
    expect(() => getPreset('hs58').computeRewards({ n: 1, claimsByAddress: claims })).toThrow(/needs provenWallets/);
    expect(() => getPreset('oracle-v2.1').computeRewards({ n: 1, probeAccuracy: [1.2] })).toThrow(/\[0, 1\]/);
    expect(() => getPreset('oracle-v2.1').computeRewards({ n: 1, probeAccuracy: [Number.NaN] })).toThrow(ScoringError);
  });

  test('describePreset gives each preset a one-line formula', () => {
    for (const name of PRESET_NAMES) {
      const line = describePreset(name);
      expect(line).not.toContain('\n');
      expect(line).toMatch(/EMA α 0\.\d/);
    }
    expect(describePreset('drain-v1')).toContain('0.6·claims/max_claims');
    expect(describePreset('oracle-v2.1')).toContain('0.4·[reachable = consensus]');
    expect(() => describePreset('x')).toThrow(ScoringError);
  });

  test('selectQueriedUids: all UIDs, or active miners without the validator itself', () => {
    const ips = ['1.1.1.1', '0.0.0.0', '2.2.2.2', '3.3.3.3'];
    expect(selectQueriedUids(ips, 2, 'all-uids')).toEqual([0, 1, 2, 3]);
    expect(selectQueriedUids(ips, 2, 'active-miners')).toEqual([0, 3]);
    expect(selectQueriedUids(ips, null, 'active-miners')).toEqual([0, 2, 3]);
  });
});
