import { describe, expect, test } from 'vitest';
import type { Hyperparameters } from '../../src/chain/subtensor/types.js';
import { planTimelockedCommit } from '../../src/chain/subtensor/timelockCommit.js';
import { maxUpscaleU16, predictWeightsFailure, rateLimitPasses, validateWeightsInput, type WeightState } from '../../src/chain/subtensor/weights.js';
import { servingRateLimitPasses } from '../../src/chain/subtensor/serve.js';
import { hyperparameters } from '../support/hyperparameters.js';

const hyper = hyperparameters;

const state = (over: Partial<WeightState> = {}, h: Partial<Hyperparameters> = {}): WeightState => ({
  netuid: 2,
  block: 1000,
  hyperparameters: hyper(h),
  n: 8,
  uid: 3,
  lastUpdate: 0,
  validatorPermit: true,
  mechanismCount: null,
  ...over,
});

const input = (uids: number[], weights: number[], versionKey = 0n) => validateWeightsInput(uids, weights, versionKey);

describe('max-upscale as the runtime stores weights', () => {
  test('matches rows stored by the spec-218 runtime', () => {
    // Seen on chain: set_weights [1, 2, 3, 4] is stored as [16384, 32768, 49151, 65535].
    expect(maxUpscaleU16([1, 2, 3, 4])).toEqual([16384, 32768, 49151, 65535]);
    expect(maxUpscaleU16([0, 0])).toEqual([0, 0]);
    expect(maxUpscaleU16([65535, 1])).toEqual([65535, 1]);
    expect(maxUpscaleU16([7])).toEqual([65535]);
  });

  test('the largest becomes 65535 and order is kept', () => {
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      const v = Array.from({ length: 1 + (i % 9) }, () => (seed = (seed * 1103515245 + 12345) % 65536));
      const up = maxUpscaleU16(v);
      if (Math.max(...v) === 0) continue;
      expect(Math.max(...up)).toBe(65535);
      for (let a = 0; a < v.length; a++) for (let b = 0; b < v.length; b++) if (v[a]! < v[b]!) expect(up[a]!).toBeLessThanOrEqual(up[b]!);
    }
  });
});

describe('local checks predict the runtime error, in the runtime order', () => {
  test('a valid submission passes', () => {
    expect(predictWeightsFailure(state(), input([0, 1, 2], [1, 2, 3]), 'set')).toBeNull();
  });

  test.each([
    ['not registered', state({ uid: null }), input([0], [1]), 'set', 'HotKeyNotRegisteredInSubNet'],
    ['version key below the chain', state({}, { weightsVersionKey: 100n }), input([0, 1], [1, 1], 99n), 'set', 'IncorrectWeightVersionKey'],
    ['rate limit', state({ lastUpdate: 950 }), input([0, 1], [1, 1]), 'set', 'SettingWeightsTooFast'],
    ['no permit', state({ validatorPermit: false }), input([0, 1], [1, 1]), 'set', 'NeuronNoValidatorPermit'],
    ['uid beyond n', state(), input([0, 9], [1, 1]), 'set', 'UidVecContainInvalidOne'],
    ['more uids than neurons', state({ n: 2 }), input([0, 1, 2], [1, 1, 1]), 'set', 'UidsLengthExceedUidsInSubNet'],
    ['too few weights', state({}, { minAllowedWeights: 4 }), input([0, 1], [1, 1]), 'set', 'WeightVecLengthIsLow'],
    ['a weight above the max limit', state({}, { maxWeightsLimit: 30000 }), input([0, 1], [65535, 1]), 'set', 'MaxWeightExceeded'],
    ['commit-reveal on', state({}, { commitRevealEnabled: true }), input([0, 1], [1, 1]), 'set', 'CommitRevealEnabled'],
    ['commit with commit-reveal off', state(), input([0, 1], [1, 1]), 'commit', 'CommitRevealDisabled'],
    ['commit too fast', state({ lastUpdate: 950 }, { commitRevealEnabled: true }), input([0, 1], [1, 1]), 'commit', 'CommittingWeightsTooFast'],
    [
      'commit whose reveal would fail on the version key',
      state({}, { commitRevealEnabled: true, weightsVersionKey: 5n }),
      input([0, 1], [1, 1], 4n),
      'commit',
      'IncorrectWeightVersionKey',
    ],
  ] as const)('%s → %s', (_name, s, i, action, expected) => {
    expect(predictWeightsFailure(s, i, action)).toBe(expected);
  });

  test('earlier checks win: not registered comes before the version key, the version key before the rate limit', () => {
    expect(predictWeightsFailure(state({ uid: null, lastUpdate: 999 }, { weightsVersionKey: 9n }), input([0], [1], 1n), 'set')).toBe(
      'HotKeyNotRegisteredInSubNet',
    );
    expect(predictWeightsFailure(state({ lastUpdate: 999 }, { weightsVersionKey: 9n }), input([0], [1], 1n), 'set')).toBe('IncorrectWeightVersionKey');
  });

  test('a self-weight needs no permit and escapes min_allowed_weights', () => {
    expect(predictWeightsFailure(state({ validatorPermit: false }, { minAllowedWeights: 5 }), input([3], [65535]), 'set')).toBeNull();
  });

  test('rate limits count from the block the transaction lands in', () => {
    expect(rateLimitPasses(0, 100, 5)).toBe(true); // never set
    expect(rateLimitPasses(900, 100, 999)).toBe(false);
    expect(rateLimitPasses(900, 100, 1000)).toBe(true);
    expect(predictWeightsFailure(state({ block: 999, lastUpdate: 900 }), input([0, 1], [1, 1]), 'set')).toBeNull();
    expect(predictWeightsFailure(state({ block: 998, lastUpdate: 900 }), input([0, 1], [1, 1]), 'set')).toBe('SettingWeightsTooFast');
    expect(servingRateLimitPasses(0, 50, 10)).toBe(true);
    expect(servingRateLimitPasses(100, 0, 101)).toBe(true);
    expect(servingRateLimitPasses(100, 50, 149)).toBe(false);
    expect(servingRateLimitPasses(100, 50, 150)).toBe(true);
  });
});

describe('input validation', () => {
  test('shape errors are typed and name the runtime error where there is one', () => {
    expect(() => validateWeightsInput([0, 1], [1], 0)).toThrow(/differ in length/);
    expect(() => validateWeightsInput([0, 0], [1, 1], 0)).toThrow(/duplicates/);
    expect(() => validateWeightsInput([70000], [1], 0)).toThrow(/uids\[0\] = 70000 is not a u16/);
    expect(() => validateWeightsInput([0], [1.5], 0)).toThrow(/weights\[0\] = 1.5 is not a u16/);
    expect(() => validateWeightsInput([0], [-1], 0)).toThrow(/not a u16/);
    expect(() => validateWeightsInput([0], [1], -1)).toThrow(/not a u64/);
    expect(() => validateWeightsInput([0], [1], 2n ** 64n)).toThrow(/not a u64/);
    expect(validateWeightsInput([0], [1], 2n ** 64n - 1n).versionKey).toBe(2n ** 64n - 1n);
  });
});

describe('pool refusals', () => {
  test('a substrate node and Chopsticks phrase them differently; the reason is the same', async () => {
    const { poolRejectionReason } = await import('../../src/chain/subtensor/tx.js');
    expect(poolRejectionReason('1010: Invalid Transaction: Custom error: 3')).toBe('Custom error: 3');
    expect(poolRejectionReason('1010: {"invalid":{"custom":3}}')).toBe('Custom error: 3');
    expect(poolRejectionReason('1010: Invalid Transaction: Transaction is outdated')).toBe('Transaction is outdated');
    expect(poolRejectionReason('1010: {"invalid":{"stale":null}}')).toBe('Stale');
    expect(poolRejectionReason('1010: {"invalid":"payment"}')).toBe('Payment');
    expect(poolRejectionReason('1012: Transaction is temporarily banned')).toBe('Transaction is temporarily banned');
  });
});

describe('timelocked commit-reveal runtimes', () => {
  const call = () => ({});
  /** The weight calls of three runtime generations (only their presence matters here). */
  const spec424 = {
    setWeights: call,
    setMechanismWeights: call,
    commitWeights: call,
    commitTimelockedWeights: call,
    commitTimelockedMechanismWeights: call,
    commitCrv3MechanismWeights: call,
  };
  const spec300 = { setWeights: call, commitWeights: call, commitCrv3Weights: call };
  const spec218 = { setWeights: call, commitWeights: call };
  const on = (commitRevealVersion: number | null, commitRevealEnabled = true) => ({ commitRevealEnabled, commitRevealVersion });

  test('commit_timelocked_weights where the runtime counts version 3 or more; the mechanism variant for multi-mechanism subnets', () => {
    expect(planTimelockedCommit(spec424, on(4), 1)).toEqual({ route: { call: 'commitTimelockedWeights', mechanism: null }, version: 4, payload: 'hotkey' });
    expect(planTimelockedCommit(spec424, on(3), 1)).toMatchObject({ version: 3, payload: 'hotkey' });
    expect(planTimelockedCommit(spec424, on(4), 2)).toEqual({
      route: { call: 'commitTimelockedMechanismWeights', mechanism: 0 },
      version: 4,
      payload: 'hotkey',
    });
    const { commitTimelockedWeights: _plain, ...onlyMechanism } = spec424;
    expect(planTimelockedCommit(onlyMechanism, on(4), 1)?.route).toEqual({ call: 'commitTimelockedMechanismWeights', mechanism: 0 });
  });

  test('commit_crv3_weights with the legacy payload where the runtime has no version storage (spec 300); hash commits otherwise', () => {
    expect(planTimelockedCommit(spec300, on(null), null)).toEqual({ route: { call: 'commitCrv3Weights', mechanism: null }, version: null, payload: 'legacy' });
    expect(planTimelockedCommit(spec218, on(null), null)).toBeNull(); // spec 218: no crv3 call, no version storage
    expect(planTimelockedCommit(spec424, on(2), 1)).toBeNull(); // the runtime asks for hash commits
    expect(planTimelockedCommit(spec424, on(4, false), 1)).toBeNull();
    expect(planTimelockedCommit(spec300, on(null, false), null)).toBeNull();
    expect(planTimelockedCommit({ setWeights: call }, on(4), 1)).toBeNull(); // version storage but no call: hash commits, which the chain will judge
  });
});
