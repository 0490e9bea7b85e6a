import { describe, expect, test } from 'vitest';
import { computeConsensus, integerMedian, majority, probeAccuracy, type ProbeConsensus, type ProbeResponse } from '../../src/scoring/consensus.js';
import { ScoringError } from '../../src/scoring/errors.js';
import { scoreProbeRound } from '../../src/scoring/rewards.js';
import { mulberry32 as rng } from '../support/rng.js';

const r = (uid: number, reachable: boolean | null, status: number | null, latencyMs: number | null): ProbeResponse => ({
  uid,
  reachable,
  status,
  latencyMs,
});
const up = (median = 110): ProbeConsensus => ({ reachable: true, status: 200, medianLatencyMs: median, voters: 3 });

describe('computeConsensus', () => {
  test('majority on reachable and status, median of latencies', () => {
    // 2 of 3 say reachable/200; latencies 100, 110, 120 → median 110.
    const cons = computeConsensus([r(0, true, 200, 100), r(1, true, 200, 110), r(2, false, 502, 120)]);
    expect(cons).toEqual({ reachable: true, status: 200, medianLatencyMs: 110, voters: 3 });
  });

  test('ties go to the value seen first in UID order, whatever order the responses come in', () => {
    // reachable: uid 0 false, uid 1 true → 1:1, uid 0 comes first → false.
    expect(computeConsensus([r(1, true, 200, 10), r(0, false, 0, 0)])?.reachable).toBe(false);
    // status: 503, 200, 200, 503 → 2:2, 503 (uid 0) first.
    const cons = computeConsensus([r(3, true, 503, 1), r(1, true, 200, 1), r(2, true, 200, 1), r(0, true, 503, 1)]);
    expect(cons?.status).toBe(503);
  });

  test('majority() is Counter.most_common(1): highest count, first inserted among equals', () => {
    expect(majority(['a', 'b', 'b', 'a', 'c'])).toBe('a');
    expect(majority(['c', 'a', 'b', 'b'])).toBe('b');
    expect(majority([null, 200, null])).toBe(null);
    expect(() => majority([])).toThrow(ScoringError);
  });

  test('only responses with reachable set vote; none → null (provider skipped)', () => {
    expect(computeConsensus([])).toBeNull();
    expect(computeConsensus([r(0, null, 200, 100), r(1, null, 500, 200)])).toBeNull();
    // The null-reachable answers' status 500 does not outvote the single voter's 200.
    const cons = computeConsensus([r(0, null, 500, 100), r(1, null, 500, 100), r(2, true, 200, 300)]);
    expect(cons).toEqual({ reachable: true, status: 200, medianLatencyMs: 300, voters: 1 });
  });

  test('a missing status is a vote for None, as in Python', () => {
    const cons = computeConsensus([r(0, true, null, 100), r(1, true, null, 100), r(2, true, 200, 100)]);
    expect(cons?.status).toBeNull();
  });

  test('even count: mean of the two middle latencies, truncated (int(statistics.median))', () => {
    // Positive latencies 100 and 201 (0 and −5 excluded): (100 + 201) / 2 = 150.5 → 150.
    const cons = computeConsensus([r(0, true, 200, 0), r(1, true, 200, -5), r(2, true, 200, 201), r(3, true, 200, 100)]);
    expect(cons?.medianLatencyMs).toBe(150);
    expect(integerMedian([100, 200])).toBe(150);
    expect(integerMedian([3, 1, 2, 4])).toBe(2); // (2 + 3) / 2 = 2.5 → 2
    expect(integerMedian([100, 200, 50_000])).toBe(200); // one outlier does not move it
    expect(integerMedian([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 2])).toBe(Number.MAX_SAFE_INTEGER - 1);
  });

  test('no positive latency → median 0; all-unreachable consensus', () => {
    const cons = computeConsensus([r(0, false, 0, 0), r(1, false, 0, 0), r(2, false, 0, null)]);
    expect(cons).toEqual({ reachable: false, status: 0, medianLatencyMs: 0, voters: 3 });
  });

  test('bad input is a typed error, not a silent value', () => {
    expect(() => computeConsensus([r(0, true, 200, 1), r(0, true, 200, 1)])).toThrow(/two probe responses/);
    expect(() => computeConsensus([r(0, true, 200, 1.5)])).toThrow(ScoringError);
    expect(() => computeConsensus([r(-1, true, 200, 1)])).toThrow(ScoringError);
    expect(() => computeConsensus([{ uid: 0, reachable: 'yes' as unknown as boolean, status: 200, latencyMs: 1 }])).toThrow(/probe_reachable/);
  });
});

describe('probeAccuracy, 2.1 latency band', () => {
  test('golden values', () => {
    // everything matches, 1999 ms < 2000 → 0.4 + 0.3 + 0.3
    expect(probeAccuracy(r(0, true, 200, 1999), up(), '2.1')).toBe(1);
    // 2000 ms is outside the band → 0.4 + 0.3 = 0.7
    expect(probeAccuracy(r(0, true, 200, 2000), up(), '2.1')).toBe(0.4 + 0.3);
    // wrong on all three → 0
    expect(probeAccuracy(r(0, false, 500, 2001), up(), '2.1')).toBe(0);
    // only the latency band: 0 + 0 + 0.3
    expect(probeAccuracy(r(0, false, 999, 10), up(), '2.1')).toBe(0.3);
    // only reachable: 0.4; only status: 0.3
    expect(probeAccuracy(r(0, true, 999, 5000), up(), '2.1')).toBe(0.4);
    expect(probeAccuracy(r(0, false, 200, 5000), up(), '2.1')).toBe(0.3);
    // no latency while the consensus says reachable → latency part 0
    expect(probeAccuracy(r(0, true, 200, 0), up(), '2.1')).toBe(0.7);
    expect(probeAccuracy(r(0, true, 200, null), up(), '2.1')).toBe(0.7);
  });

  test('no latency while the consensus says unreachable → latency part = reachable match', () => {
    const down: ProbeConsensus = { reachable: false, status: 0, medianLatencyMs: 0, voters: 4 };
    expect(probeAccuracy(r(0, false, 0, 0), down, '2.1')).toBe(1);
    // a miner claiming "up, 200, 100 ms" for a dead provider keeps only the band: 0.3
    expect(probeAccuracy(r(0, true, 200, 100), down, '2.1')).toBe(0.3);
    // "up, 200" with no latency: 0 + 0 + 0.3·0
    expect(probeAccuracy(r(0, true, 200, 0), down, '2.1')).toBe(0);
  });

  test('a missing response, or one without reachable, scores 0', () => {
    expect(probeAccuracy(null, up(), '2.1')).toBe(0);
    expect(probeAccuracy(undefined, up(), '2.1')).toBe(0);
    expect(probeAccuracy(r(0, null, 200, 100), up(), '2.1')).toBe(0);
  });
});

describe('probeAccuracy, 2.0 distance to the median', () => {
  test('golden values', () => {
    // |1500 − 1000| / 2000 = 0.25 → 0.75 → 0.4 + 0.3 + 0.3·0.75 = 0.925
    expect(probeAccuracy(r(0, true, 200, 1500), up(1000), '2.0')).toBeCloseTo(0.925, 15);
    // 3000 ms away → clipped at 0 → 0.7
    expect(probeAccuracy(r(0, true, 200, 4000), up(1000), '2.0')).toBe(0.7);
    // no latency → latency part = reachable match (1) → 1
    expect(probeAccuracy(r(0, true, 200, 0), up(1000), '2.0')).toBe(1);
    // median 0 (nobody measured) → reachable match
    expect(probeAccuracy(r(0, false, 200, 50), up(0), '2.0')).toBe(0.3);
  });
});

describe('properties', () => {
  test('accuracy and round rewards stay in [0, 1] for random answers', () => {
    const rand = rng(58);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rand() * 12);
      const probes = Array.from({ length: 1 + Math.floor(rand() * 5) }, () =>
        Array.from({ length: n }, (_, uid) =>
          r(uid, pick([true, false, null]), pick([200, 402, 500, 0, null]), pick([null, 0, -3, 50, 1999, 2000, 9000])),
        ).filter(() => rand() < 0.8),
      );
      for (const responses of probes) {
        const cons = computeConsensus(responses);
        if (cons === null) continue;
        for (const resp of responses) {
          for (const rule of ['2.0', '2.1'] as const) {
            const a = probeAccuracy(resp, cons, rule);
            expect(a).toBeGreaterThanOrEqual(0);
            expect(a).toBeLessThanOrEqual(1);
          }
        }
      }
      const result = scoreProbeRound({ n, queriedUids: [...Array(n).keys()], probes, latencyRule: '2.1' });
      for (const a of result.accuracy ?? []) {
        expect(a).not.toBeNull();
        expect(a!).toBeGreaterThanOrEqual(0);
        expect(a!).toBeLessThanOrEqual(1);
      }
    }
  });

  test('lying miner: 4 honest miners + 1 that always answers reachable/200/100 ms scores lower', () => {
    // Five providers: up 200, down, up 402 (a paid endpoint), up 200, down.
    const truth: [boolean, number, number][] = [
      [true, 200, 180],
      [false, 0, 0],
      [true, 402, 240],
      [true, 200, 90],
      [false, 0, 0],
    ];
    const liar = 4;
    const probes = truth.map(([reachable, status, latency]) =>
      [0, 1, 2, 3, 4].map((uid) => (uid === liar ? r(uid, true, 200, 100) : r(uid, reachable, status, latency === 0 ? 0 : latency + uid * 7))),
    );
    const { accuracy, countedProbes } = scoreProbeRound({ n: 5, queriedUids: [0, 1, 2, 3, 4], probes, latencyRule: '2.1' });
    expect(countedProbes).toBe(5);
    // Honest: 1 on every probe. Liar: 1 (up) + 0.3 (down) + 0.7 (402) + 1 (up) + 0.3 (down) = 3.3 / 5 = 0.66.
    for (const uid of [0, 1, 2, 3]) expect(accuracy?.[uid]).toBe(1);
    expect(accuracy?.[liar]).toBeCloseTo(0.66, 6);
    expect(accuracy![liar]!).toBeLessThan(accuracy![0]!);
  });
});
