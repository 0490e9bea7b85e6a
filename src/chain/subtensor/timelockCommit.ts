/**
 * Commit-reveal v3/v4 on chain: the weights go out once, encrypted to a drand round, and the
 * runtime reveals them itself in the reveal epoch (no salt to keep, no reveal to send).
 *
 * Three generations of runtime, told apart by their metadata:
 * - `CommitRevealWeightsVersion` ≥ 3 and `commit_timelocked_weights` (finney 343, 424): payload with
 *   the hotkey, the version as the last argument, `TimelockedWeightCommits`;
 * - no `CommitRevealWeightsVersion` but `commit_crv3_weights` (spec 300): the legacy payload without
 *   the hotkey, no version argument, `CRV3WeightCommits`, revealed in one block (timelock.ts, `crv3`);
 * - neither (spec 218): hash commits (commitReveal.ts).
 */
import type { ApiPromise } from '@polkadot/api';
import { u8aToHex } from '@polkadot/util';
import type { KeyringPair } from '@polkadot/keyring/types';
import { SubtensorError } from './errors.js';
import { chooseWeightsRoute, subtensorCalls, weightsCall, type CallSection, type WeightsRoute } from './mechanism.js';
import { primitive, storageItem, toBigInt, toNumber, type StorageApi } from './storage.js';
import type { EpochSchedule } from './timelock.js';
import { signAndWatch } from './tx.js';
import type { Hyperparameters, TxOptions, TxReceipt } from './types.js';
import type { ValidWeights, WeightState } from './weights.js';

/** The seconds per block the Python SDK assumes when it picks the reveal round. */
export const DEFAULT_BLOCK_TIME_SEC = 12;

/** How a timelocked commit goes out on this runtime. */
export interface TimelockedCommitPlan {
  route: WeightsRoute;
  /** The `commit_reveal_version` argument; null for `commit_crv3_weights`, which takes none. */
  version: number | null;
  /** `hotkey`: `WeightsTlockPayload` with the committer's key; `legacy`: without it (crv3 runtimes). */
  payload: 'hotkey' | 'legacy';
}

/**
 * Null when commits are hash commits (or commit-reveal is off): commit-reveal on, and either
 * `CommitRevealWeightsVersion` ≥ 3 with a `commit_timelocked_*` call, or no such storage and a
 * `commit_crv3_*` call. The mechanism variant is chosen as for every weight call (mechanism.ts).
 */
export function planTimelockedCommit(
  tx: CallSection,
  h: Pick<Hyperparameters, 'commitRevealEnabled' | 'commitRevealVersion'>,
  mechanismCount: number | null,
): TimelockedCommitPlan | null {
  if (!h.commitRevealEnabled) return null;
  if (h.commitRevealVersion !== null) {
    if (h.commitRevealVersion < 3) return null;
    const route = chooseWeightsRoute(tx, 'timelocked', mechanismCount);
    return route && { route, version: h.commitRevealVersion, payload: 'hotkey' };
  }
  const route = chooseWeightsRoute(tx, 'crv3', mechanismCount);
  return route && { route, version: null, payload: 'legacy' };
}

/** The subnet's epoch schedule, from `LastEpochBlock`/`PendingEpochAt` where the runtime has them. */
export async function readEpochSchedule(api: StorageApi, netuid: number, tempo: number, plan?: Pick<TimelockedCommitPlan, 'payload'>): Promise<EpochSchedule> {
  if (plan?.payload === 'legacy') return { kind: 'crv3', tempo, netuid };
  const last = storageItem(api, 'lastEpochBlock');
  if (!last) return { kind: 'legacy', tempo, netuid };
  const pending = storageItem(api, 'pendingEpochAt');
  const [lastEpochBlock, pendingEpochAt] = await Promise.all([last(netuid), pending ? pending(netuid) : null]);
  return {
    kind: 'stateful',
    tempo,
    lastEpochBlock: toNumber(primitive(lastEpochBlock), 'LastEpochBlock'),
    pendingEpochAt: pendingEpochAt === null ? 0 : toNumber(primitive(pendingEpochAt), 'PendingEpochAt'),
  };
}

/**
 * The commit call of the plan. The commit goes in as hex: @polkadot/types reads a Uint8Array given
 * for `Bytes` as already length-prefixed.
 */
export function timelockedCommitExtrinsic<R>(tx: CallSection<R>, plan: TimelockedCommitPlan, netuid: number, commit: Uint8Array, round: bigint): R {
  const rest: unknown[] = [u8aToHex(commit), round];
  if (plan.version !== null) rest.push(plan.version);
  return weightsCall(tx, plan.route, netuid, rest);
}

export interface TimelockedCommitResult extends TxReceipt {
  revealRound: bigint;
  /** The block by which the round's pulse is expected on chain. */
  revealTargetBlock: number;
}

export async function commitTimelocked(
  api: ApiPromise,
  signer: KeyringPair,
  state: WeightState,
  input: ValidWeights,
  plan: TimelockedCommitPlan,
  options: TxOptions & { blockTimeSec?: number; nowSec?: () => number; skipPrechecks?: boolean },
): Promise<TimelockedCommitResult> {
  const calls = subtensorCalls(api);
  // Loaded on first use: the BLS12-381 code costs ~14 MB that a miner or a v2 subnet never needs.
  const { encodeLegacyWeightsPayload, encodeWeightsPayload, revealRound, timelockEncrypt } = await import('./timelock.js');
  const schedule = await readEpochSchedule(api, state.netuid, state.hyperparameters.tempo, plan);
  const nowSec = options.nowSec?.() ?? Date.now() / 1000;
  const { round, targetBlock } = revealRound(
    schedule,
    state.block,
    state.hyperparameters.commitRevealPeriod,
    options.blockTimeSec ?? DEFAULT_BLOCK_TIME_SEC,
    nowSec,
  );
  const lastStored = storageItem(api, 'lastStoredRound', 'drand');
  if (lastStored && !options.skipPrechecks) {
    const stored = toBigInt(primitive(await lastStored()), 'Drand.LastStoredRound');
    if (round < stored) {
      throw new SubtensorError(
        'PRECHECK_FAILED',
        `${plan.route.call} not sent: reveal round ${round} is before the chain's latest drand round ${stored}, so the chain would answer InvalidRevealRound (or store weights anyone can read at once); the reveal is due in ${targetBlock - state.block} blocks: if that is not soon, is this machine's clock behind?`,
        {
          reason: 'InvalidRevealRound',
          details: { revealRound: round.toString(), lastStoredRound: stored.toString(), block: state.block, revealTargetBlock: targetBlock },
        },
      );
    }
  }
  const weights = { uids: input.uids, values: input.weights, versionKey: input.versionKey };
  const payload = plan.payload === 'hotkey' ? encodeWeightsPayload({ hotkey: signer.publicKey, ...weights }) : encodeLegacyWeightsPayload(weights);
  const commit = timelockEncrypt(payload, round);
  const call = timelockedCommitExtrinsic(calls, plan, state.netuid, commit, round);
  const receipt = await signAndWatch(api, call, signer, { ...options, label: plan.route.call });
  return { ...receipt, revealRound: round, revealTargetBlock: targetBlock };
}
