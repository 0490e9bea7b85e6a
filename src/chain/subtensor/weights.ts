/**
 * set_weights: validate, check against chain state the way the runtime will
 * (pallet_subtensor `do_set_weights`, in its order), then submit signed by the
 * hotkey. On subnets with commit-reveal on, `mode: 'auto'` commits instead (commitReveal.ts).
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { REASON_HINTS, SubtensorError } from './errors.js';
import { readMechanismCount, requireWeightsRoute, weightsCall, type CallSection, type WeightsRoute } from './mechanism.js';
import { readHyperparameters } from './metagraph.js';
import { primitive, requireStorage, toBool, toNumber, type StorageApi } from './storage.js';
import type { Hyperparameters } from './types.js';

const U16_MAX = 65535;
const U64_MAX = (1n << 64n) - 1n;

export interface ValidWeights {
  uids: number[];
  weights: number[];
  versionKey: bigint;
}

/** Shape checks that need no chain state; throws INVALID_INPUT with the runtime's error name where it has one. */
export function validateWeightsInput(uids: readonly number[], weights: readonly number[], versionKey: bigint | number): ValidWeights {
  if (uids.length !== weights.length) {
    throw new SubtensorError('INVALID_INPUT', `uids (${uids.length}) and weights (${weights.length}) differ in length.`, { reason: 'WeightVecNotEqualSize' });
  }
  uids.forEach((u, i) => {
    if (!Number.isInteger(u) || u < 0 || u > U16_MAX) throw new SubtensorError('INVALID_INPUT', `uids[${i}] = ${u} is not a u16.`);
  });
  weights.forEach((w, i) => {
    if (!Number.isInteger(w) || w < 0 || w > U16_MAX)
      throw new SubtensorError('INVALID_INPUT', `weights[${i}] = ${w} is not a u16 (convert scores with the u16 weight conversion first).`);
  });
  if (new Set(uids).size !== uids.length) throw new SubtensorError('INVALID_INPUT', 'uids contain duplicates.', { reason: 'DuplicateUids' });
  let key: bigint;
  try {
    key = BigInt(versionKey);
  } catch {
    throw new SubtensorError('INVALID_INPUT', `version key ${String(versionKey)} is not an integer.`);
  }
  if (key < 0n || key > U64_MAX) throw new SubtensorError('INVALID_INPUT', `version key ${key} is not a u64.`);
  return { uids: [...uids], weights: [...weights], versionKey: key };
}

/**
 * The runtime's `vec_u16_max_upscale_to_u16`, bit-exact (I32F32 fixed point, truncating
 * division, round half away from zero): what the chain stores for the weights sent.
 */
export function maxUpscaleU16(values: readonly number[]): number[] {
  const max = values.reduce((m, v) => Math.max(m, v), 0);
  if (max === 0) return values.map(() => 0);
  const ONE = 1n << 32n;
  const HALF = 1n << 31n;
  const round = (bits: bigint) => Number((bits + HALF) / ONE);
  const m = BigInt(max);
  if (max > 32768) {
    const q = (BigInt(U16_MAX) * ONE) / m; // u16::MAX / max, truncated to 32 fractional bits
    return values.map((v) => round(BigInt(v) * q));
  }
  return values.map((v) => round((BigInt(v) * BigInt(U16_MAX) * ONE) / m));
}

/** What the runtime checks for one hotkey, read at the current head. */
export interface WeightState {
  netuid: number;
  /** Head block; a transaction sent now lands in block + 1. */
  block: number;
  hyperparameters: Hyperparameters;
  /** Neurons on the subnet. */
  n: number;
  uid: number | null;
  lastUpdate: number;
  validatorPermit: boolean;
  /** `MechanismCountCurrent` of the subnet; null on runtimes without mechanisms. */
  mechanismCount: number | null;
}

export async function readWeightState(api: ApiPromise, netuid: number, hotkey: string): Promise<WeightState> {
  const header = await api.rpc.chain.getHeader();
  const at: StorageApi = await api.at(header.hash);
  const hyperparameters = await readHyperparameters(at, netuid);
  // Weights go to mechanism 0, whose `LastUpdate` row is the netuid's own.
  const [uidCodec, nCodec, lastUpdateCodec, permitCodec, mechanismCount] = await Promise.all([
    requireStorage(at, 'uids')(netuid, hotkey),
    requireStorage(at, 'subnetworkN')(netuid),
    requireStorage(at, 'lastUpdate')(netuid),
    requireStorage(at, 'validatorPermit')(netuid),
    readMechanismCount(at, netuid),
  ]);
  const uidValue = primitive(uidCodec);
  const uid = uidValue === null ? null : toNumber(uidValue, 'Uids');
  const lastUpdates = primitive(lastUpdateCodec) as unknown[];
  const permits = primitive(permitCodec) as unknown[];
  return {
    netuid,
    block: header.number.toNumber(),
    hyperparameters,
    n: toNumber(primitive(nCodec), 'SubnetworkN'),
    uid,
    lastUpdate: uid === null || lastUpdates[uid] === undefined ? 0 : toNumber(lastUpdates[uid], 'LastUpdate'),
    validatorPermit: uid === null || permits[uid] === undefined ? false : toBool(permits[uid], 'ValidatorPermit'),
    mechanismCount,
  };
}

/** `check_rate_limit`: never set (0) passes; otherwise block − last_update ≥ limit. */
export function rateLimitPasses(lastUpdate: number, limit: number, inclusionBlock: number): boolean {
  return lastUpdate === 0 || inclusionBlock - lastUpdate >= limit;
}

export type WeightsAction = 'set' | 'commit' | 'reveal';

/**
 * The runtime error the chain would return, in the order the runtime checks
 * (dispatch, then `do_commit_weights` or `do_set_weights`), or null when it should pass.
 * Stake (`NotEnoughStakeToSetWeights`) is left to the chain.
 */
export function predictWeightsFailure(state: WeightState, input: ValidWeights, action: WeightsAction): string | null {
  const h = state.hyperparameters;
  const inclusion = state.block + 1;
  if (action === 'set' && h.commitRevealEnabled) return 'CommitRevealEnabled';
  if (action !== 'set' && !h.commitRevealEnabled) return 'CommitRevealDisabled';
  if (action === 'commit') {
    if (state.uid === null) return 'HotKeyNotRegisteredInSubNet';
    if (!rateLimitPasses(state.lastUpdate, h.weightsRateLimit, inclusion)) return 'CommittingWeightsTooFast';
  }
  // do_set_weights (directly, or at reveal: checked now so a commit is never made that cannot be revealed)
  if (input.uids.length > state.n) return 'UidsLengthExceedUidsInSubNet';
  if (state.uid === null) return 'HotKeyNotRegisteredInSubNet';
  if (h.weightsVersionKey !== 0n && input.versionKey < h.weightsVersionKey) return 'IncorrectWeightVersionKey';
  if (action === 'set' && !rateLimitPasses(state.lastUpdate, h.weightsRateLimit, inclusion)) return 'SettingWeightsTooFast';
  const selfWeight = input.weights.length === 1 && input.uids[0] === state.uid;
  if (!selfWeight && !state.validatorPermit) return 'NeuronNoValidatorPermit';
  if (new Set(input.uids).size !== input.uids.length) return 'DuplicateUids';
  if (input.uids.some((u) => u >= state.n)) return 'UidVecContainInvalidOne';
  if (!selfWeight && input.weights.length < Math.min(h.minAllowedWeights, state.n)) return 'WeightVecLengthIsLow';
  if (!selfWeight && h.maxWeightsLimit < U16_MAX) {
    const upscaled = maxUpscaleU16(input.weights);
    const sum = upscaled.reduce((a, b) => a + b, 0);
    const max = upscaled.reduce((a, b) => Math.max(a, b), 0);
    if (sum > 0 && max * U16_MAX > h.maxWeightsLimit * sum) return 'MaxWeightExceeded';
  }
  return null;
}

export function precheckError(reason: string, label: string, state: WeightState): SubtensorError {
  const h = state.hyperparameters;
  const details: Record<string, unknown> = { netuid: state.netuid, block: state.block, uid: state.uid };
  if (reason === 'SettingWeightsTooFast' || reason === 'CommittingWeightsTooFast') {
    details.retryAtBlock = state.lastUpdate + h.weightsRateLimit;
  }
  if (reason === 'IncorrectWeightVersionKey') details.chainVersionKey = h.weightsVersionKey.toString();
  return new SubtensorError('PRECHECK_FAILED', `${label} not sent: the chain would answer ${reason} (${REASON_HINTS[reason] ?? 'see the runtime docs'}).`, {
    reason,
    details,
  });
}

/** `set_weights`, or `set_mechanism_weights` for mechanism 0 (mechanism.ts says when). */
export function setWeightsCall<R>(tx: CallSection<R>, netuid: number, input: ValidWeights, mechanismCount: number | null): { call: R; route: WeightsRoute } {
  const route = requireWeightsRoute(tx, 'set', mechanismCount);
  return { call: weightsCall(tx, route, netuid, [input.uids, input.weights, input.versionKey]), route };
}

export function signerOf(hotkey: KeyringPair | undefined, fallback: KeyringPair | undefined, what: string): KeyringPair {
  const pair = hotkey ?? fallback;
  if (!pair) throw new SubtensorError('NO_SIGNER', `${what} needs a hotkey: pass one to createSubtensor({hotkey}) or to the call.`);
  return pair;
}
