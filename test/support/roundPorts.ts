/**
 * In-memory ports for the pure round and loop tests: a 5-uid metagraph (uid 0 the validator),
 * ProviderCheck answers with a valid proof, a shared wallet, a lie and garbage, probes that all
 * answer reachable/200/50 ms, and a claims source. The same rounds against real chains, miners
 * and Redis are in test/e2e/validator-*.test.ts.
 */
import { privateKeyToAccount } from 'viem/accounts';
import type { MetagraphSnapshot } from '../../src/chain/subtensor/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import { getPreset } from '../../src/scoring/presets.js';
import type { ProbeJob, ProviderCheckJob } from '../../src/validator/jobs.js';
import type { RoundDeps, RoundSettings } from '../../src/validator/steps/context.js';
import { signWalletProof } from '../../src/wallet/polygon.js';

export const HOTKEYS = ['5Validator', '5MinerA', '5MinerB', '5MinerC', '5MinerD'];
export const keys = [1, 2, 3, 4].map((i) => privateKeyToAccount(`0x${String(i).padStart(64, '0')}` as `0x${string}`));

export function metagraph(weightsVersionKey = 0n): MetagraphSnapshot {
  return {
    netuid: 7,
    block: 100,
    blockHash: `0x${'ab'.repeat(32)}`,
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
      tempo: 10,
      weightsRateLimit: 0,
      weightsVersionKey,
      minAllowedWeights: 1,
      maxWeightsLimit: 65535,
      activityCutoff: 5000,
      servingRateLimit: 0,
      commitRevealEnabled: false,
      commitRevealPeriod: 1,
      commitRevealVersion: null,
    },
    source: 'storage',
  };
}

export async function deps(overrides: Partial<RoundDeps> = {}, claims = new Map<string, bigint>(), chainVersionKey = 0n) {
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
      blockHash: async () => `0x${'11'.repeat(32)}`,
      setWeights: async (p) => {
        setWeightsCalls.push(p);
        return { kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: 101, events: [] };
      },
    },
    claims: {
      runRound: async () => ({ complete: true, missingRanges: [], newClaims: 1 }) as never,
      claimsByProvider: () => new Map([...claims].map(([a, amount]) => [a, { amount, claims: 1, channels: 1 }])),
      completeness: () => ({
        lastCompleteWindow: { from: 0, to: 10 },
        lastCompleteAt: 1,
        lastRound: { window: { from: 0, to: 10 }, complete: true, missingRanges: [], finishedAt: 1 },
      }),
    },
    registry: {
      fetchProviders: async () => ({ providers: [{ id: 'p', probeUrl: 'https://p.example/health', name: 'p', protocol: 'drain' }], source: 'x', failures: [] }),
    },
    queue: createInProcessQueue(handlers as never, { concurrency: 4 }),
    logger: createLogger({ level: 'silent' }),
    ...overrides,
  };
  return { d, setWeightsCalls, calls };
}

export const settings = (preset = 'hs58', extra: Partial<RoundSettings> = {}): RoundSettings => ({
  netuid: 7,
  hotkey: HOTKEYS[0]!,
  preset: getPreset(preset),
  probesPerRound: 5,
  timeoutSec: 1,
  epochLength: 10,
  versionKey: 2010n,
  submit: true,
  ...extra,
});
