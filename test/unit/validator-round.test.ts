import { describe, expect, test } from 'vitest';
import { SubtensorError } from '../../src/chain/subtensor/errors.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import type { ProviderCheckJob } from '../../src/validator/jobs.js';
import { runRound } from '../../src/validator/round.js';
import type { RoundDeps } from '../../src/validator/steps/context.js';
import { emptyState } from '../../src/validator/state.js';
import { deps, HOTKEYS, keys, settings } from '../support/roundPorts.js';

// Pure round logic over in-memory ports (test/support/roundPorts.ts): step containment,
// crediting and the weight path. The same round against real chains, miners and Redis is in
// test/e2e/validator-*.test.ts.

describe('validator round over ports', () => {
  test('hs58: proofs verified, a shared wallet credited once (lowest uid), liars and garbage get 0', async () => {
    const { d, setWeightsCalls } = await deps({}, new Map([[keys[0]!.address.toLowerCase(), 5_000_000n]]));
    const { report, state } = await runRound(d, settings(), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(report.failedSteps).toEqual([]);
    const byUid = Object.fromEntries(report.rows.map((r) => [r.uid, r]));
    expect(byUid[1]!.proof).toBe(true);
    expect(byUid[1]!.claims).toBe(5_000_000n);
    expect(byUid[2]!.claims).toBe(0n); // same wallet, higher uid
    expect(byUid[3]!.proof).toBe(false); // signature by another key
    expect(byUid[4]!.answered).toBe(false);
    expect(byUid[1]!.reward).toBeCloseTo(1, 6); // 0.6·1 + 0.4·1·1
    expect(byUid[3]!.reward).toBe(0);
    expect(byUid[4]!.reward).toBe(0);
    expect(state.scores[1]).toBeGreaterThan(state.scores[2]!);
    expect(setWeightsCalls).toHaveLength(1);
    expect(report.weights!.uids).toContain(1);
    expect(state.step).toBe(1);
  });

  test('a failing step is contained: registry and claims down still set weights from proofs', async () => {
    const { d, setWeightsCalls } = await deps({
      registry: {
        fetchProviders: async () => {
          throw new Error('registry exploded');
        },
      },
      claims: {
        runRound: async () => {
          throw new Error('all RPCs down');
        },
        claimsByProvider: () => new Map(),
        completeness: () => ({ lastCompleteWindow: null, lastCompleteAt: null, lastRound: null }),
      },
    });
    const { report } = await runRound(d, settings(), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(report.failedSteps.map((f) => f.step).sort()).toEqual(['claims', 'providers']);
    expect(report.failedSteps.find((f) => f.step === 'claims')!.error).toMatch(/all RPCs down/);
    expect(setWeightsCalls).toHaveLength(1);
  });

  test('no metagraph: the round reports it and keeps the state', async () => {
    const { d } = await deps({
      chain: {
        getMetagraph: async () => {
          throw new Error('chain down');
        },
        blockHash: async () => '0x',
        setWeights: async () => {
          throw new Error('x');
        },
      },
    });
    const before = emptyState(7, HOTKEYS[0]!);
    const { report, state } = await runRound(d, settings(), before, 100, new AbortController().signal);
    expect(report.ok).toBe(false);
    expect(report.failedSteps[0]!.step).toBe('metagraph');
    expect(state).toBe(before);
  });

  test('dry run computes weights but submits nothing; drain-v1 sends scores/sum for every uid', async () => {
    const { d, setWeightsCalls } = await deps({}, new Map([[keys[0]!.address.toLowerCase(), 1n]]));
    const { report } = await runRound(d, { ...settings('drain-v1'), submit: false }, emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(setWeightsCalls).toHaveLength(0);
    // drain-v1 credits the shared wallet to both provers, as the Python validator did
    const w = Object.fromEntries(report.weights!.uids.map((u, i) => [u, report.weights!.weights[i]]));
    expect(w[1]).toBe(65535);
    expect(w[2]).toBe(65535);
    expect(w[3]).toBeUndefined();
  });

  test('stopped mid-round (any abort reason): the round is abandoned, not scored with the queries the abort cut short', async () => {
    const stop = new AbortController();
    const { d, setWeightsCalls } = await deps({}, new Map([[keys[0]!.address.toLowerCase(), 5_000_000n]]));
    const hanging = createInProcessQueue(
      {
        providerCheck: (_job: ProviderCheckJob, signal: AbortSignal) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
        probe: async () => ({}),
      } as never,
      { concurrency: 4 },
    );
    const round = runRound({ ...d, queue: hanging }, settings(), emptyState(7, HOTKEYS[0]!), 100, stop.signal);
    setTimeout(() => stop.abort(new Error('received SIGTERM')), 20);
    await expect(round).rejects.toThrow('received SIGTERM');
    expect(setWeightsCalls).toHaveLength(0);
  });

  test('oracle-v2.1 sends ProviderProbe only: no ProviderCheck goes out, every served miner is probed', async () => {
    const { d, calls, setWeightsCalls } = await deps();
    const { report } = await runRound(d, settings('oracle-v2.1'), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(report.failedSteps).toEqual([]);
    expect(calls).toEqual({ providerCheck: 0, probe: 4 });
    expect(report.rows.every((r) => r.proof === null && r.answered === null)).toBe(true);
    expect(setWeightsCalls).toHaveLength(1);
  });

  test("a version key below the subnet's WeightsVersionKey: refused before sending, with the flag to set; at or above it: sent", async () => {
    const low = await deps({}, new Map(), 2012n);
    const { report, state } = await runRound(low.d, settings('oracle-v2.1'), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(low.setWeightsCalls).toHaveLength(0);
    expect(report.failedSteps).toHaveLength(1);
    expect(report.failedSteps[0]!.step).toBe('weights');
    expect(report.failedSteps[0]!.error).toBe(
      "VERSION_KEY_TOO_LOW: weights not sent: version key 2010 is below the subnet's WeightsVersionKey 2012; set --neuron.weights_version (env WEIGHTS_VERSION_KEY) to 2012 or run the preset of the Python release the subnet expects",
    );
    // The weights were computed (the report shows them) and the EMA moved; nothing was sent.
    expect(report.weights!.uids.length).toBeGreaterThan(0);
    expect(state.lastWeights).toMatchObject({ submitted: false, outcome: expect.stringContaining('VERSION_KEY_TOO_LOW') });

    const equal = await deps({}, new Map(), 2012n);
    const ok = await runRound(equal.d, { ...settings('oracle-v2.1'), versionKey: 2012n }, emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(ok.report.failedSteps).toEqual([]);
    expect(equal.setWeightsCalls).toEqual([expect.objectContaining({ versionKey: 2012n })]);
  });

  test("the chain adapter's own IncorrectWeightVersionKey refusal (fresher state) comes back as VERSION_KEY_TOO_LOW naming the flag", async () => {
    const { d } = await deps();
    const refusing: RoundDeps = {
      ...d,
      chain: {
        ...d.chain,
        setWeights: async () => {
          throw new SubtensorError('PRECHECK_FAILED', 'set_weights not sent: the chain would answer IncorrectWeightVersionKey', {
            reason: 'IncorrectWeightVersionKey',
            details: { chainVersionKey: '3000' },
          });
        },
      },
    };
    const { report } = await runRound(refusing, settings('oracle-v2.1'), emptyState(7, HOTKEYS[0]!), 100, new AbortController().signal);
    expect(report.failedSteps.map((f) => f.error)).toEqual([
      expect.stringMatching(/^VERSION_KEY_TOO_LOW: .*version key 2010 is below the subnet's WeightsVersionKey 3000; set --neuron.weights_version/),
    ]);
  });
});
