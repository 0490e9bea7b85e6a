/**
 * The scoring port against a Python reference (test/interop/scoring_oracle.py)
 * run by the interop venv's real CPython + numpy: Counter / statistics.median
 * semantics, numpy float32 accumulation, EMA and np.sum, Fraction division,
 * and generation A's float USDC sums. Every comparison is exact (bit for bit).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { computeConsensus, probeAccuracy, type LatencyRule, type ProbeResponse } from '../../src/scoring/consensus.js';
import { normalizeScores, updateEma } from '../../src/scoring/ema.js';
import { bigintRatio } from '../../src/scoring/numeric.js';
import { getPreset } from '../../src/scoring/presets.js';
import { scoreProbeRound } from '../../src/scoring/rewards.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { mulberry32 as rng } from '../support/rng.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function runOracle(python: string, cases: Json[]): Json[] {
  const out = execFileSync(python, [path.join(REPO_ROOT, 'test/interop/scoring_oracle.py')], {
    input: JSON.stringify({ cases }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return (JSON.parse(out) as { results: Json[] }).results;
}

const rand = rng(20260509);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const int = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));
const randomF32 = (): number => Math.fround(rand() ** 3);

function randomResponse(uid: number): ProbeResponse {
  return {
    uid,
    // few distinct values so ties are frequent
    reachable: pick([true, true, false, null]),
    status: pick([200, 200, 402, 500, 0, null]),
    latencyMs: pick([null, 0, -5, int(1, 5000), int(1, 5000), 1999, 2000]),
  };
}

const toPy = (r: ProbeResponse): Json => ({ uid: r.uid, reachable: r.reachable, status: r.status, latency: r.latencyMs });

describe('scoring == the Python validator (CPython + numpy in the interop venv)', () => {
  test('consensus, accuracy, probe rounds, EMA, weights, ratios, generation A rewards', (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason !== null || python === null) return ctx.skip(reason ?? 'no python');

    const cases: Json[] = [];
    const checks: ((result: Json) => void)[] = [];
    const add = (c: Json, check: (result: Json) => void): void => {
      cases.push(c);
      checks.push(check);
    };

    // Consensus (Counter.most_common ties, int(statistics.median)) and accuracy under both rules.
    for (let i = 0; i < 400; i++) {
      const uids = [...Array(int(0, 9)).keys()].filter(() => rand() < 0.9);
      const responses = uids.map(randomResponse);
      const shuffled = [...responses].sort(() => rand() - 0.5); // our function must restore UID order
      const cons = computeConsensus(shuffled);
      add({ kind: 'consensus', responses: responses.map(toPy) }, (res) => {
        expect(res).toEqual(cons === null ? null : { reachable: cons.reachable, status: cons.status, median: cons.medianLatencyMs });
      });
      if (cons === null) continue;
      const pyCons: Json = { reachable: cons.reachable, status: cons.status, median: cons.medianLatencyMs };
      for (const resp of [...responses, randomResponse(99)]) {
        for (const rule of ['2.0', '2.1'] as LatencyRule[]) {
          const mine = probeAccuracy(resp, cons, rule);
          add({ kind: 'accuracy', response: toPy(resp), consensus: pyCons, rule }, (res) => expect(res).toBe(mine));
        }
      }
    }

    // Whole probe rounds: float32 sums over counted probes, / count.
    for (let i = 0; i < 150; i++) {
      const n = int(1, 24);
      const queried = [...Array(n).keys()].filter(() => rand() < 0.8);
      const probes = Array.from({ length: int(0, 6) }, () => queried.filter(() => rand() < 0.85).map(randomResponse));
      const rule = pick(['2.0', '2.1'] as const);
      const mine = scoreProbeRound({ n, queriedUids: queried, probes, latencyRule: rule });
      add({ kind: 'probe_round', n, queried, probes: probes.map((p) => p.map(toPy)), rule }, (res) => expect(res).toEqual(mine.accuracy));
    }

    // EMA over several rounds (float32 state, rewards rounded into float32 on scatter).
    for (let i = 0; i < 60; i++) {
      const n = int(1, 300);
      const alpha = pick([0.1, 0.3, rand()]);
      const scores = Array.from({ length: n }, randomF32);
      const rounds = Array.from({ length: int(1, 6) }, () => Array.from({ length: n }, () => (rand() < 0.3 ? 0 : rand())));
      let mine: ArrayLike<number> = scores;
      for (const rewards of rounds) mine = updateEma(mine, rewards, alpha);
      const expected = Array.from(mine);
      add({ kind: 'ema', scores, alpha, rounds }, (res) => expect(res).toEqual(expected));
    }

    // Weights: scores / np.sum(scores) in float32, across the pairwise-sum block sizes.
    for (const n of [0, 1, 7, 8, 9, 15, 16, 17, 127, 128, 129, 200, 255, 256, 257, 1000, 4096]) {
      for (const zeros of [false, true]) {
        const scores = Array.from({ length: n }, () => (zeros ? 0 : rand() < 0.2 ? 0 : randomF32()));
        const mine = normalizeScores(scores);
        add({ kind: 'normalize', scores }, (res) => expect(res).toEqual(mine === null ? null : Array.from(mine)));
      }
    }

    // bigint ratio vs float(Fraction(a, b)).
    for (let i = 0; i < 300; i++) {
      const bits = pick([8, 40, 53, 54, 64, 96, 160, 256]);
      const big = (): bigint => {
        let x = 0n;
        for (let b = 0; b < bits; b += 16) x = (x << 16n) | BigInt(int(0, 0xffff));
        return x;
      };
      const den = big() + 1n;
      const num = rand() < 0.5 ? big() % (den + 1n) : den - BigInt(int(0, 1000)) > 0n ? den - BigInt(int(0, 1000)) : 1n;
      const mine = bigintRatio(num, den);
      add({ kind: 'ratio', num: num.toString(), den: den.toString() }, (res) => expect(res).toBe(mine));
    }

    // Generation A: the Python validator sums amount / 1e6 event by event in floats;
    // drain-v1 sums exact base units. After the float32 reward array they agree.
    const pool = Array.from({ length: 6 }, (_, k) => `0x${String(k + 1).repeat(40)}`);
    for (let i = 0; i < 80; i++) {
      const n = int(1, 12);
      const events = Array.from({ length: int(0, 40) }, () => [pick(pool), String(int(1, 5_000_000_000))] as [string, string]);
      const wallets = Array.from({ length: n }, () => (rand() < 0.25 ? null : pick(pool)));
      const totals = new Map<string, bigint>();
      for (const [address, amount] of events) totals.set(address, (totals.get(address) ?? 0n) + BigInt(amount));
      const rewards = getPreset('drain-v1').computeRewards({ n, provenWallets: wallets, claimsByAddress: totals })!;
      const asFloat32 = Array.from(rewards, Math.fround);
      add({ kind: 'drain_v1', events, wallets }, (res) => expect(res).toEqual(asFloat32));
    }

    const results = runOracle(python, cases);
    expect(results).toHaveLength(cases.length);
    for (let i = 0; i < cases.length; i++) {
      try {
        checks[i]!(results[i]!);
      } catch (err) {
        throw new Error(`case ${i} ${JSON.stringify(cases[i]).slice(0, 400)}: ${(err as Error).message}`);
      }
    }
  });
});
