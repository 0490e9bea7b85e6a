import { describe, expect, test } from 'vitest';
import {
  afterFailure,
  afterSuccess,
  backoffMs,
  FRESH_HEALTH,
  isResting,
  preparation,
  usability,
  withHead,
  type HealthPolicy,
} from '../../src/chain/polygon/endpointHealth.js';

// The endpoint health rules alone: time and randomness are arguments, so every case is exact.

const policy: HealthPolicy = {
  failuresBeforeCooldown: 3,
  cooldownMs: 30_000,
  cooldownMaxMs: 300_000,
  backoffBaseMs: 200,
  backoffMaxMs: 5_000,
  headRefreshMs: 2_000,
  expectedChainId: 137,
};

describe('cool-downs', () => {
  test('rested after three failures in a row, doubling on each further rest up to the cap; a success resets the doubling', () => {
    let h = FRESH_HEALTH;
    const fail = (now: number, kind: 'server_error' | 'rate_limited' = 'server_error', retryAfterMs?: number) => {
      const r = afterFailure(h, { kind, now, retryAfterMs }, policy);
      h = r.health;
      return r.restMs;
    };
    expect([fail(0), fail(0)]).toEqual([null, null]);
    expect(isResting(h, 0)).toBe(false);
    expect(fail(1_000)).toBe(30_000);
    expect(h.coolingUntil).toBe(31_000);
    expect(isResting(h, 30_999)).toBe(true);
    expect(isResting(h, 31_000)).toBe(false);
    expect(h.consecutiveFailures).toBe(0);
    // Each further rest doubles: 60 s, 120 s, 240 s, then the 300 s cap.
    const rests = [];
    for (let i = 0; i < 4; i++) {
      fail(100_000 * (i + 1));
      fail(100_000 * (i + 1));
      rests.push(fail(100_000 * (i + 1)));
    }
    expect(rests).toEqual([60_000, 120_000, 240_000, 300_000]);
    h = afterSuccess(h);
    expect(h).toMatchObject({ consecutiveFailures: 0, cooldownLevel: 0 });
    fail(1e6);
    fail(1e6);
    expect(fail(1e6)).toBe(30_000);
  });

  test('a rate limit with Retry-After rests at once, for at least that long; a rest never shortens an earlier one', () => {
    const { health, restMs } = afterFailure(FRESH_HEALTH, { kind: 'rate_limited', retryAfterMs: 90_000, now: 5 }, policy);
    expect(restMs).toBe(90_000);
    expect(health.coolingUntil).toBe(90_005);
    const short = afterFailure(health, { kind: 'rate_limited', retryAfterMs: 1_000, now: 10 }, policy);
    expect(short.restMs).toBe(60_000); // the doubled cool-down is longer than the hint
    const long = afterFailure({ ...health, coolingUntil: 500_000 }, { kind: 'rate_limited', retryAfterMs: 1_000, now: 10 }, policy);
    expect(long.health.coolingUntil).toBe(500_000);
    // Without the hint a rate limit counts like any failure.
    expect(afterFailure(FRESH_HEALTH, { kind: 'rate_limited', now: 0 }, policy).restMs).toBeNull();
  });
});

describe('who may serve a request', () => {
  test('the chain id is checked first; a head behind the needed block is asked again only after headRefreshMs', () => {
    expect(usability(FRESH_HEALTH, undefined, 0, policy)).toBe('prepare');
    expect(preparation(FRESH_HEALTH, undefined, 0, policy)).toBe('check');
    const checked = withHead({ ...FRESH_HEALTH, chainChecked: true }, 100, 1_000);
    expect(usability(checked, 100, 1_000, policy)).toBe('ready');
    expect(preparation(checked, 100, 1_000, policy)).toBe('ok');
    expect(usability(checked, 101, 2_999, policy)).toBe('no');
    expect(preparation(checked, 101, 2_999, policy)).toBe('behind');
    expect(usability(checked, 101, 3_000, policy)).toBe('prepare');
    expect(preparation(checked, 101, 3_000, policy)).toBe('check');
    expect(usability({ ...checked, disabled: 'chain id 80002, expected 137' }, 1, 0, policy)).toBe('no');
    expect(preparation({ ...checked, disabled: 'x' }, 1, 0, policy)).toBe('disabled');
    // Without an expected chain id nothing waits for a chain check.
    expect(usability(FRESH_HEALTH, undefined, 0, { ...policy, expectedChainId: null })).toBe('ready');
  });

  test('a lower head from a lagging answer never replaces a higher one when asked to keep it', () => {
    const h = withHead(FRESH_HEALTH, 500, 1);
    expect(withHead(h, 400, 2, { keepHigher: true })).toMatchObject({ head: 500, headCheckedAt: 2 });
    expect(withHead(h, 400, 2)).toMatchObject({ head: 400, headCheckedAt: 2 });
  });
});

test('backoff: exponential from the base, capped, jittered between half and all of it', () => {
  const low = () => 0;
  const high = () => 0.999999;
  expect([1, 2, 3, 4].map((a) => backoffMs(a, policy, high))).toEqual([200, 400, 800, 1_600]);
  expect([1, 2, 3].map((a) => backoffMs(a, policy, low))).toEqual([100, 200, 400]);
  expect(backoffMs(20, policy, high)).toBe(5_000);
  expect(backoffMs(20, policy, low)).toBe(2_500);
});
