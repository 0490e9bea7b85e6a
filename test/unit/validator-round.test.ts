import { privateKeyToAccount } from 'viem/accounts';
import { describe, expect, test } from 'vitest';
import { SubtensorError } from '../../src/chain/subtensor/errors.js';
import type { MetagraphSnapshot } from '../../src/chain/subtensor/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import { getPreset } from '../../src/scoring/presets.js';
import type { ProbeJob, ProviderCheckJob } from '../../src/validator/jobs.js';
import { runRound, type RoundDeps } from '../../src/validator/round.js';
import { emptyState } from '../../src/validator/state.js';
import { signWalletProof } from '../../src/wallet/polygon.js';

// Pure round logic over in-memory ports: step containment, crediting and the weight path.
// The same round against real chains, miners and Redis is in test/e2e/validator-*.test.ts.

const HOTKEYS = ['5Validator', '5MinerA', '5MinerB', '5MinerC', '5MinerD'];
const keys = [1, 2, 3, 4].map((i) => privateKeyToAccount(`0x${String(i).padStart(64, '0')}` as `0x${string}`));

function metagraph(weightsVersionKey = 0n): MetagraphSnapshot {
  return {
    netuid: 7,
    block: 100,
    blockHash: '0x' + 'ab'.repeat(32),
    n: 5,
    uids: [0, 1, 2, 3, 4],
    hotkeys: HOTKEYS,
    coldkeys: HOTKEYS,
    axons: HOTKEYS.map((_, i) => ({ ip: i === 0 ? '0.0.0.0' : `10.0.0.${i}`, port: 8000 + i, ipType: 4, version: 1, protocol: 4, block: 1 })),
    stake: HOTKEYS.map(() => 0n),
    validatorPermit: [true, false, false, false, false],
    lastUpdate: [0, 0, 0, 0, 0],
    active: [true, true, true, true, true],
    hyperparameters: {
      tempo: 10, weightsRateLimit: 0, weightsVersionKey, minAllowedWeights: 1, maxWeightsLimit: 65535, activityCutoff: 5000,
      servingRateLimit: 0, commitRevealEnabled: false, commitRevealPeriod: 1, commitRevealVersion: null,
    },
    source: 'storage',
  };
}

async function deps(overrides: Partial<RoundDeps> = {}, claims = new Map<string, bigint>(), chainVersionKey = 0n) {
  // uid1: valid proof; uid2: valid proof of the SAME wallet as uid1 (credited once, to uid1);
  // uid3: proof by another key (a lie); uid4: garbage (no answer).
  const proofs = new Map<number, { wallet: string; proof: string }>([
    [1, { wallet: keys[0]!.address, proof: await signWalletProof(keys[0]!, HOTKEYS[1]!) }],
    [2, { wallet: keys[0]!.address, proof: await signWalletProof(keys[0]!, HOTKEYS[2]!) }],
    [3, { wallet: keys[2]!.address, proof: await signWalletProof(keys[1]!, HOTKEYS[3]!) }],
  ]);
  const calls = { providerCheck: 0, probe: 0 };
  const handlers = {
    providerCheck: async (job: ProviderCheckJob) => {
      calls.providerCheck += 1;
      const p = proofs.get(job.axon.uid);
      if (!p) throw new Error('garbage answer');
      return { uid: job.axon.uid, ok: true, statusCode: 200, polygonWallet: p.wallet, walletProof: p.proof, apiUrl: null };
    },
    probe: async (job: ProbeJob) => {
      calls.probe += 1;
      return { uid: job.axon.uid, ok: true, statusCode: 200, reachable: true, status: 200, latencyMs: 50 };
    },
  };
  const setWeightsCalls: unknown[] = [];
  const d: RoundDeps = {
    chain: {
      getMetagraph: async () => metagraph(chainVersionKey),
      blockHash: async () => '0x' + '11'.repeat(32),
      setWeights: async (p) => {
        setWeightsCalls.push(p);
        return { kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: 101, events: [] };
      },
    },
    claims: {
      runRound: async () => ({ complete: true, missingRanges: [], newClaims: 1 }) as never,
      claimsByProvider: () => new Map([...claims].map(([a, amount]) => [a, { amount, claims: 1, channels: 1 }])),
      completeness: () => ({ lastCompleteWindow: { from: 0, to: 10 }, lastCompleteAt: 1, lastRound: { window: { from: 0, to: 10 }, complete: true, missingRanges: [], finishedAt: 1 } }),
    },
    registry: { fetchProviders: async () => ({ providers: [{ id: 'p', probeUrl: 'https://p.example/health', name: 'p', protocol: 'drain' }], source: 'x', failures: [] }) },
    queue: createInProcessQueue(handlers as never, { concurrency: 4 }),
    logger: createLogger({ level: 'silent' }),
    ...overrides,
  };
  return { d, setWeightsCalls, calls };
}

const settings = (preset = 'hs58') => ({
  netuid: 7, hotkey: HOTKEYS[0]!, preset: getPreset(preset), probesPerRound: 5, timeoutSec: 1, epochLength: 10, versionKey: 2010n, submit: true,
});

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
      registry: { fetchProviders: async () => { throw new Error('registry exploded'); } },
      claims: {
        runRound: async () => { throw new Error('all RPCs down'); },
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
    const { d } = await deps({ chain: { getMetagraph: async () => { throw new Error('chain down'); }, blockHash: async () => '0x', setWeights: async () => { throw new Error('x'); } } });
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
        providerCheck: (_job: ProviderCheckJob, signal: AbortSignal) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
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

  test('a version key below the subnet\'s WeightsVersionKey: refused before sending, with the flag to set; at or above it: sent', async () => {
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
    expect(report.failedSteps.map((f) => f.error)).toEqual([expect.stringMatching(/^VERSION_KEY_TOO_LOW: .*version key 2010 is below the subnet's WeightsVersionKey 3000; set --neuron.weights_version/)]);
  });
});
