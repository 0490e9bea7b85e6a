/**
 * Commit-reveal v3/v4 on chain: the weights go out once, encrypted to a drand round, and the
 * runtime reveals them itself in the reveal epoch (no salt to keep, no reveal to send).
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import { u8aToHex } from '@polkadot/util';
import type { KeyringPair } from '@polkadot/keyring/types';
import { SubtensorError } from './errors.js';
import { primitive, storageItem, toBigInt, toNumber, type StorageApi } from './storage.js';
import type { EpochSchedule } from './timelock.js';
import { signAndWatch } from './tx.js';
import type { TxOptions, TxReceipt } from './types.js';
import type { ValidWeights, WeightState } from './weights.js';

/** The seconds per block the Python SDK assumes when it picks the reveal round. */
export const DEFAULT_BLOCK_TIME_SEC = 12;

type CallFactory<R> = (...args: unknown[]) => R;
interface TimelockedCalls<R> {
  commitTimelockedWeights?: CallFactory<R>;
  commitTimelockedMechanismWeights?: CallFactory<R>;
}

/** Whether this runtime takes timelocked commits (`api.tx.subtensorModule`), and through which call. */
export function timelockedCommitCall(tx: TimelockedCalls<unknown> | undefined): keyof TimelockedCalls<unknown> | null {
  if (tx?.commitTimelockedWeights) return 'commitTimelockedWeights';
  if (tx?.commitTimelockedMechanismWeights) return 'commitTimelockedMechanismWeights';
  return null;
}

/** The subnet's epoch schedule, from `LastEpochBlock`/`PendingEpochAt` where the runtime has them. */
export async function readEpochSchedule(api: StorageApi, netuid: number, tempo: number): Promise<EpochSchedule> {
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
 * The commit call (mechanism 0 where the runtime only has the mechanism variant). The commit goes
 * in as hex: @polkadot/types reads a Uint8Array given for `Bytes` as already length-prefixed.
 */
export function timelockedCommitExtrinsic<R>(tx: TimelockedCalls<R>, netuid: number, commit: Uint8Array, round: bigint, version: number): R {
  const hex = u8aToHex(commit);
  switch (timelockedCommitCall(tx)) {
    case 'commitTimelockedWeights':
      return tx.commitTimelockedWeights!(netuid, hex, round, version);
    case 'commitTimelockedMechanismWeights':
      return tx.commitTimelockedMechanismWeights!(netuid, 0, hex, round, version);
    default:
      throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no timelocked weight commit call (commit_timelocked_weights).');
  }
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
  options: TxOptions & { blockTimeSec?: number; nowSec?: () => number; skipPrechecks?: boolean },
): Promise<TimelockedCommitResult> {
  const calls = api.tx.subtensorModule as unknown as TimelockedCalls<SubmittableExtrinsic<'promise'>>;
  const callName = timelockedCommitCall(calls);
  const version = state.hyperparameters.commitRevealVersion;
  if (!callName) throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no timelocked weight commit call (commit_timelocked_weights).');
  if (version === null) throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no CommitRevealWeightsVersion storage to send with a timelocked commit.');
  // Loaded on first use: the BLS12-381 code costs ~14 MB that a miner or a v2 subnet never needs.
  const { encodeWeightsPayload, revealRound, timelockEncrypt } = await import('./timelock.js');
  const schedule = await readEpochSchedule(api, state.netuid, state.hyperparameters.tempo);
  const nowSec = options.nowSec?.() ?? Date.now() / 1000;
  const { round, targetBlock } = revealRound(schedule, state.block, state.hyperparameters.commitRevealPeriod, options.blockTimeSec ?? DEFAULT_BLOCK_TIME_SEC, nowSec);
  const lastStored = storageItem(api, 'lastStoredRound', 'drand');
  if (lastStored && !options.skipPrechecks) {
    const stored = toBigInt(primitive(await lastStored()), 'Drand.LastStoredRound');
    if (round < stored) {
      throw new SubtensorError(
        'PRECHECK_FAILED',
        `commitTimelockedWeights not sent: reveal round ${round} is before the chain's latest drand round ${stored}, so the chain would answer InvalidRevealRound; is this machine's clock behind?`,
        { reason: 'InvalidRevealRound', details: { revealRound: round.toString(), lastStoredRound: stored.toString() } },
      );
    }
  }
  const payload = encodeWeightsPayload({ hotkey: signer.publicKey, uids: input.uids, values: input.weights, versionKey: input.versionKey });
  const commit = timelockEncrypt(payload, round);
  const call = timelockedCommitExtrinsic(calls, state.netuid, commit, round, version);
  const receipt = await signAndWatch(api, call, signer, { ...options, label: callName });
  return { ...receipt, revealRound: round, revealTargetBlock: targetBlock };
}
