/**
 * Mechanisms (sub-subnets): newer runtimes (finney 343 and 424 among them) split a subnet into
 * up to 16 mechanisms, each with its own weights. Their per-mechanism storage (`Weights`, `LastUpdate`, `Bonds`,
 * `Incentive`, `WeightCommits`, `TimelockedWeightCommits`) is keyed by
 * `NetUidStorageIndex = mechanism · 4096 + netuid`, so mechanism 0 keeps the netuid's own keys.
 *
 * The plain calls (`set_weights`, `commit_weights`, …) act on mechanism 0. This client sends
 * the `*_mechanism_*` variant for mechanism 0 where the subnet has more than one mechanism
 * (as the Python SDK 10 always does) or where the runtime has no plain call; runtimes without
 * mechanisms (spec 218, 300) keep the plain calls.
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import { SubtensorError } from './errors.js';
import { primitive, storageItem, toNumber, type StorageApi } from './storage.js';

/** subtensor's `GLOBAL_MAX_SUBNET_COUNT`: the stride of mechanism-keyed storage. */
export const GLOBAL_MAX_SUBNET_COUNT = 4096;
/** subtensor's `MAX_MECHANISM_COUNT_PER_SUBNET`. */
const MAX_MECHANISMS_PER_SUBNET = 16;

/** `get_mechanism_storage_index`: the key of a mechanism's rows in `Weights`, `LastUpdate`, … */
export function mechanismStorageIndex(netuid: number, mechanism: number): number {
  if (!Number.isInteger(netuid) || netuid < 0 || netuid >= GLOBAL_MAX_SUBNET_COUNT) {
    throw new SubtensorError('INVALID_INPUT', `netuid ${netuid} is outside 0…${GLOBAL_MAX_SUBNET_COUNT - 1}.`);
  }
  if (!Number.isInteger(mechanism) || mechanism < 0 || mechanism >= MAX_MECHANISMS_PER_SUBNET) {
    throw new SubtensorError('INVALID_INPUT', `mechanism ${mechanism} is outside 0…${MAX_MECHANISMS_PER_SUBNET - 1}.`);
  }
  return mechanism * GLOBAL_MAX_SUBNET_COUNT + netuid;
}

/** `MechanismCountCurrent` of the subnet, or null on runtimes without mechanisms. */
export async function readMechanismCount(api: StorageApi, netuid: number): Promise<number | null> {
  const item = storageItem(api, 'mechanismCountCurrent');
  return item ? toNumber(primitive(await item(netuid)), 'MechanismCountCurrent') : null;
}

/** The call pairs (plain, per mechanism) by what they do, as @polkadot/api names them. */
const WEIGHT_CALLS = {
  set: ['setWeights', 'setMechanismWeights'],
  commit: ['commitWeights', 'commitMechanismWeights'],
  reveal: ['revealWeights', 'revealMechanismWeights'],
  timelocked: ['commitTimelockedWeights', 'commitTimelockedMechanismWeights'],
  crv3: ['commitCrv3Weights', 'commitCrv3MechanismWeights'],
} as const;

export type WeightCallKind = keyof typeof WEIGHT_CALLS;

/** Which call carries weights: `mechanism` is null for a plain call, else the mechanism id it is sent for. */
export interface WeightsRoute {
  call: string;
  mechanism: number | null;
}

type CallFactory<R> = (...args: unknown[]) => R;
/** `api.tx.subtensorModule`, or the calls decorated from a metadata (tests). */
export type CallSection<R = unknown> = Partial<Record<string, CallFactory<R>>> | undefined;

/** The connected runtime's SubtensorModule calls, as the call builders here take them. */
export function subtensorCalls(api: ApiPromise): CallSection<SubmittableExtrinsic<'promise'>> {
  return api.tx.subtensorModule as unknown as CallSection<SubmittableExtrinsic<'promise'>>;
}

const hasCall = (tx: CallSection, name: string) => typeof tx?.[name] === 'function';

/**
 * The route for `kind` on this runtime and subnet: the mechanism variant for mechanism 0 when the
 * subnet has several mechanisms or no plain call exists, the plain call otherwise; null when the
 * runtime has neither.
 */
export function chooseWeightsRoute(tx: CallSection, kind: WeightCallKind, mechanismCount: number | null): WeightsRoute | null {
  const [plain, perMechanism] = WEIGHT_CALLS[kind];
  const wantMechanism = mechanismCount !== null && mechanismCount > 1;
  if (hasCall(tx, perMechanism) && (wantMechanism || !hasCall(tx, plain))) return { call: perMechanism, mechanism: 0 };
  if (hasCall(tx, plain)) return { call: plain, mechanism: null };
  return null;
}

/** Builds the routed call: `(netuid, …rest)`, or `(netuid, mechanism, …rest)` for a mechanism call. */
export function weightsCall<R>(tx: CallSection<R>, route: WeightsRoute, netuid: number, rest: readonly unknown[]): R {
  const fn = tx?.[route.call];
  if (!fn) throw new SubtensorError('UNSUPPORTED_RUNTIME', `this runtime has no SubtensorModule.${route.call} call.`);
  return route.mechanism === null ? fn(netuid, ...rest) : fn(netuid, route.mechanism, ...rest);
}

/** Like chooseWeightsRoute, but throws UNSUPPORTED_RUNTIME naming the missing calls. */
export function requireWeightsRoute(tx: CallSection, kind: WeightCallKind, mechanismCount: number | null): WeightsRoute {
  const route = chooseWeightsRoute(tx, kind, mechanismCount);
  if (!route)
    throw new SubtensorError('UNSUPPORTED_RUNTIME', `this runtime has neither SubtensorModule.${WEIGHT_CALLS[kind][0]} nor ${WEIGHT_CALLS[kind][1]}.`);
  return route;
}
