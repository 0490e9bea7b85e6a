/**
 * Metagraph snapshot of one subnet at one block. Three ways to read it, chosen
 * from the runtime's metadata:
 * - `get_selective_mechagraph` / `get_selective_metagraph` (live runtimes): one call
 *   asking only for the fields needed, decoded with the runtime's own types;
 * - `get_neurons_lite` + `get_subnet_hyperparams(_v2)` where the selective API is missing;
 * - storage reads where the runtime APIs answer opaque bytes (spec 218).
 * The conversion from decoded values to a snapshot is pure and tested on recorded finney answers.
 */
import type { ApiPromise } from '@polkadot/api';
import type { Metadata } from '@polkadot/types';
import type { Codec, Registry } from '@polkadot/types/types';
import { decodeIp } from './ip.js';
import { SubtensorError } from './errors.js';
import { decodeRuntimeApiResult, encodeRuntimeApiArgs, findRuntimeApi, type RuntimeApiMethod } from './runtimeApi.js';
import { primitive, requireStorage, storageItem, toBigInt, toBool, toNumber, type StorageApi } from './storage.js';
import type { AxonInfo, Hyperparameters, MetagraphSnapshot, MetagraphSource } from './types.js';

/** Fields of SelectiveMetagraph this client asks for (metadata names). */
export const SELECTIVE_FIELDS = [
  'tempo',
  'weights_version',
  'weights_rate_limit',
  'min_allowed_weights',
  'max_weights_limit',
  'activity_cutoff',
  'serving_rate_limit',
  'commit_reveal_weights_enabled',
  'commit_reveal_period',
  'num_uids',
  'hotkeys',
  'coldkeys',
  'axons',
  'active',
  'validator_permit',
  'last_update',
  'total_stake',
] as const;

export interface MetagraphPlan {
  source: MetagraphSource;
  neurons?: RuntimeApiMethod;
  hyperparams?: RuntimeApiMethod | null;
  /** Field indexes for the selective call, in the runtime's numbering (field order of SelectiveMetagraph). */
  indexes?: number[];
}

/** Picks the best decodable source this runtime offers. */
export function planMetagraph(registry: Registry, metadata: Metadata): MetagraphPlan {
  for (const [method, source] of [
    ['get_selective_mechagraph', 'selective-mechagraph'],
    ['get_selective_metagraph', 'selective-metagraph'],
  ] as const) {
    const m = findRuntimeApi(registry, metadata, 'SubnetInfoRuntimeApi', method);
    if (!m || m.opaque) continue;
    const fields = optionStructFields(registry, m.outputId);
    if (!fields) continue;
    const indexes = SELECTIVE_FIELDS.map((f) => fields.indexOf(f));
    if (indexes.some((i) => i < 0)) continue;
    return { source, neurons: m, indexes };
  }
  const lite = findRuntimeApi(registry, metadata, 'NeuronInfoRuntimeApi', 'get_neurons_lite');
  if (lite && !lite.opaque) {
    const hyper = [
      findRuntimeApi(registry, metadata, 'SubnetInfoRuntimeApi', 'get_subnet_hyperparams_v2'),
      findRuntimeApi(registry, metadata, 'SubnetInfoRuntimeApi', 'get_subnet_hyperparams'),
    ].find((h) => h && !h.opaque);
    return { source: 'neurons-lite', neurons: lite, hyperparams: hyper ?? null };
  }
  return { source: 'storage' };
}

/** Field names of the struct inside `Option<Struct>` (or of a bare struct). */
function optionStructFields(registry: Registry, typeId: number): string[] | null {
  let si = registry.lookup.getSiType(typeId);
  if (si.def.isVariant && si.path.join('::') === 'Option') {
    const some = si.def.asVariant.variants.find((v) => v.name.toString() === 'Some');
    const inner = some?.fields[0]?.type.toNumber();
    if (inner === undefined) return null;
    si = registry.lookup.getSiType(inner);
  }
  if (!si.def.isComposite) return null;
  return si.def.asComposite.fields.map((f) => f.name.unwrapOr('').toString());
}

export function selectiveArgs(plan: MetagraphPlan, netuid: number): unknown[] {
  if (plan.source === 'selective-mechagraph') return [netuid, 0, plan.indexes];
  if (plan.source === 'selective-metagraph') return [netuid, plan.indexes];
  return [netuid];
}

interface At {
  block: number;
  blockHash: string;
}

// ---------- pure conversions from decoded values ----------

export function axonFromPrimitive(value: unknown, what: string): AxonInfo {
  if (value === null || value === undefined) return { ip: '0.0.0.0', port: 0, ipType: 0, version: 0, protocol: 0, block: 0 };
  const a = value as Record<string, unknown>;
  const ipType = toNumber(a.ipType, `${what}.ip_type`);
  return {
    ip: decodeIp(toBigInt(a.ip, `${what}.ip`), ipType),
    port: toNumber(a.port, `${what}.port`),
    ipType,
    version: toNumber(a.version, `${what}.version`),
    protocol: toNumber(a.protocol, `${what}.protocol`),
    block: toNumber(a.block, `${what}.block`),
  };
}

/** Hyperparameters from a struct with the runtime's field names (SubnetHyperparams, SelectiveMetagraph). */
export function hyperparametersFromPrimitive(h: Record<string, unknown>, commitRevealVersion: number | null): Hyperparameters {
  const field = (name: string) => {
    const v = h[name];
    if (v === null || v === undefined) throw new SubtensorError('DECODE_FAILED', `the runtime did not return hyperparameter ${name}.`);
    return v;
  };
  return {
    tempo: toNumber(field('tempo'), 'tempo'),
    weightsRateLimit: toNumber(field('weightsRateLimit'), 'weights_rate_limit'),
    weightsVersionKey: toBigInt(field('weightsVersion'), 'weights_version'),
    minAllowedWeights: toNumber(field('minAllowedWeights'), 'min_allowed_weights'),
    maxWeightsLimit: toNumber(field('maxWeightsLimit'), 'max_weights_limit'),
    activityCutoff: toNumber(field('activityCutoff'), 'activity_cutoff'),
    servingRateLimit: toNumber(field('servingRateLimit'), 'serving_rate_limit'),
    commitRevealEnabled: toBool(field('commitRevealWeightsEnabled'), 'commit_reveal_weights_enabled'),
    commitRevealPeriod: toNumber(field('commitRevealPeriod'), 'commit_reveal_period'),
    commitRevealVersion,
  };
}

/** A decoded `Option<SelectiveMetagraph>` (as primitives) → snapshot. */
export function metagraphFromSelective(
  netuid: number,
  value: unknown,
  at: At,
  commitRevealVersion: number | null,
  source: MetagraphSource = 'selective-mechagraph',
): MetagraphSnapshot {
  if (value === null || value === undefined) throw new SubtensorError('NOT_FOUND', `subnet ${netuid} does not exist.`);
  const m = value as Record<string, unknown>;
  const list = (name: string): unknown[] => {
    const v = m[name];
    if (!Array.isArray(v)) throw new SubtensorError('DECODE_FAILED', `the runtime did not return ${name} for subnet ${netuid}.`);
    return v;
  };
  const hotkeys = list('hotkeys').map(String);
  const n = hotkeys.length;
  const snapshot: MetagraphSnapshot = {
    netuid,
    block: at.block,
    blockHash: at.blockHash,
    n,
    uids: hotkeys.map((_, uid) => uid),
    hotkeys,
    coldkeys: list('coldkeys').map(String),
    axons: list('axons').map((a, uid) => axonFromPrimitive(a, `axons[${uid}]`)),
    stake: list('totalStake').map((s, uid) => toBigInt(s, `total_stake[${uid}]`)),
    validatorPermit: list('validatorPermit').map((b, uid) => toBool(b, `validator_permit[${uid}]`)),
    lastUpdate: list('lastUpdate').map((b, uid) => toNumber(b, `last_update[${uid}]`)),
    active: list('active').map((b, uid) => toBool(b, `active[${uid}]`)),
    hyperparameters: hyperparametersFromPrimitive(m, commitRevealVersion),
    source,
  };
  return checkLengths(snapshot);
}

/** Decoded `Vec<NeuronInfoLite>` + hyperparameters → snapshot. Stake is the sum of the neuron's stake entries. */
export function metagraphFromNeuronsLite(netuid: number, neurons: unknown, hyperparameters: Hyperparameters, at: At): MetagraphSnapshot {
  if (!Array.isArray(neurons)) throw new SubtensorError('DECODE_FAILED', `get_neurons_lite did not return a list for subnet ${netuid}.`);
  const rows = neurons.map((x) => x as Record<string, unknown>).sort((a, b) => toNumber(a.uid, 'uid') - toNumber(b.uid, 'uid'));
  rows.forEach((r, i) => {
    if (toNumber(r.uid, 'uid') !== i) throw new SubtensorError('DECODE_FAILED', `get_neurons_lite for subnet ${netuid} has a gap at uid ${i}.`);
  });
  const snapshot: MetagraphSnapshot = {
    netuid,
    block: at.block,
    blockHash: at.blockHash,
    n: rows.length,
    uids: rows.map((_, i) => i),
    hotkeys: rows.map((r) => String(r.hotkey)),
    coldkeys: rows.map((r) => String(r.coldkey)),
    axons: rows.map((r, i) => axonFromPrimitive(r.axonInfo, `neuron[${i}].axon_info`)),
    stake: rows.map((r, i) => {
      const entries = Array.isArray(r.stake) ? (r.stake as unknown[]) : [];
      return entries.reduce<bigint>((sum, e) => sum + toBigInt(Array.isArray(e) ? e[1] : 0, `neuron[${i}].stake`), 0n);
    }),
    validatorPermit: rows.map((r, i) => toBool(r.validatorPermit, `neuron[${i}].validator_permit`)),
    lastUpdate: rows.map((r, i) => toNumber(r.lastUpdate, `neuron[${i}].last_update`)),
    active: rows.map((r, i) => toBool(r.active, `neuron[${i}].active`)),
    hyperparameters,
    source: 'neurons-lite',
  };
  return checkLengths(snapshot);
}

function checkLengths(s: MetagraphSnapshot): MetagraphSnapshot {
  for (const key of ['coldkeys', 'axons', 'stake', 'validatorPermit', 'lastUpdate', 'active'] as const) {
    if (s[key].length !== s.n) {
      throw new SubtensorError('DECODE_FAILED', `metagraph of subnet ${s.netuid}: ${key} has ${s[key].length} entries for ${s.n} neurons.`);
    }
  }
  return s;
}

// ---------- reads ----------

const plans = new WeakMap<object, MetagraphPlan>();

export function metagraphPlanFor(api: ApiPromise): MetagraphPlan {
  let plan = plans.get(api.registry);
  if (!plan) {
    plan = planMetagraph(api.registry, api.runtimeMetadata as Metadata);
    plans.set(api.registry, plan);
  }
  return plan;
}

export async function runtimeCall(api: ApiPromise, method: RuntimeApiMethod, args: readonly unknown[], blockHash: string): Promise<Codec> {
  const raw = await api.rpc.state.call(method.callName, encodeRuntimeApiArgs(api.registry, method, args), blockHash);
  try {
    return decodeRuntimeApiResult(api.registry, method, raw);
  } catch (err) {
    throw new SubtensorError('DECODE_FAILED', `${method.callName}: the answer does not decode with the runtime's types.`, { cause: err });
  }
}

export async function fetchMetagraph(api: ApiPromise, netuid: number, at: At): Promise<MetagraphSnapshot> {
  const plan = metagraphPlanFor(api);
  const atApi = await api.at(at.blockHash);
  const crVersion = await readCommitRevealVersion(atApi);
  if ((plan.source === 'selective-mechagraph' || plan.source === 'selective-metagraph') && plan.neurons) {
    const value = await runtimeCall(api, plan.neurons, selectiveArgs(plan, netuid), at.blockHash);
    return metagraphFromSelective(netuid, primitive(value), at, crVersion, plan.source);
  }
  if (plan.source === 'neurons-lite' && plan.neurons) {
    const [neurons, hyper] = await Promise.all([
      runtimeCall(api, plan.neurons, [netuid], at.blockHash),
      plan.hyperparams
        ? runtimeCall(api, plan.hyperparams, [netuid], at.blockHash).then((h) => {
            const p = primitive(h);
            if (p === null) throw new SubtensorError('NOT_FOUND', `subnet ${netuid} does not exist.`);
            return hyperparametersFromPrimitive(p as Record<string, unknown>, crVersion);
          })
        : readHyperparameters(atApi, netuid),
    ]);
    return metagraphFromNeuronsLite(netuid, primitive(neurons), hyper, at);
  }
  return metagraphFromStorage(atApi, netuid, at);
}

async function readCommitRevealVersion(api: StorageApi): Promise<number | null> {
  const item = storageItem(api, 'commitRevealWeightsVersion');
  return item ? toNumber(primitive(await item()), 'CommitRevealWeightsVersion') : null;
}

export async function assertSubnetExists(api: StorageApi, netuid: number): Promise<void> {
  const added = await requireStorage(api, 'networksAdded')(netuid);
  if (!toBool(primitive(added), 'NetworksAdded')) throw new SubtensorError('NOT_FOUND', `subnet ${netuid} does not exist.`);
}

/** Hyperparameters from storage: works on every runtime version this client knows. */
export async function readHyperparameters(api: StorageApi, netuid: number): Promise<Hyperparameters> {
  await assertSubnetExists(api, netuid);
  const read = async (item: string) => primitive(await requireStorage(api, item)(netuid));
  const [tempo, rateLimit, versionKey, minAllowed, maxLimit, cutoff, serving, crEnabled, crPeriod, crVersion] = await Promise.all([
    read('tempo'),
    read('weightsSetRateLimit'),
    read('weightsVersionKey'),
    read('minAllowedWeights'),
    read('maxWeightsLimit'),
    read('activityCutoff'),
    read('servingRateLimit'),
    read('commitRevealWeightsEnabled'),
    read('revealPeriodEpochs'),
    readCommitRevealVersion(api),
  ]);
  return {
    tempo: toNumber(tempo, 'Tempo'),
    weightsRateLimit: toNumber(rateLimit, 'WeightsSetRateLimit'),
    weightsVersionKey: toBigInt(versionKey, 'WeightsVersionKey'),
    minAllowedWeights: toNumber(minAllowed, 'MinAllowedWeights'),
    maxWeightsLimit: toNumber(maxLimit, 'MaxWeightsLimit'),
    activityCutoff: toNumber(cutoff, 'ActivityCutoff'),
    servingRateLimit: toNumber(serving, 'ServingRateLimit'),
    commitRevealEnabled: toBool(crEnabled, 'CommitRevealWeightsEnabled'),
    commitRevealPeriod: toNumber(crPeriod, 'RevealPeriodEpochs'),
    commitRevealVersion: crVersion,
  };
}

/** The spec-218 path: every field from storage, pinned to one block. */
export async function metagraphFromStorage(api: StorageApi, netuid: number, at: At): Promise<MetagraphSnapshot> {
  const hyperparameters = await readHyperparameters(api, netuid);
  const n = toNumber(primitive(await requireStorage(api, 'subnetworkN')(netuid)), 'SubnetworkN');
  const keyEntries = await requireStorage(api, 'keys').entries(netuid);
  const hotkeys: string[] = new Array<string>(n).fill('');
  for (const [key, value] of keyEntries) {
    const uid = toNumber(key.args[1]?.toPrimitive(), 'Keys uid');
    if (uid < n) hotkeys[uid] = String(primitive(value));
  }
  const missing = hotkeys.indexOf('');
  if (missing >= 0) throw new SubtensorError('DECODE_FAILED', `subnet ${netuid} has ${n} neurons but no hotkey for uid ${missing}.`);

  const alpha = storageItem(api, 'totalHotkeyAlpha');
  const legacyStake = storageItem(api, 'totalHotkeyStake');
  const readVec = async (item: string) => {
    const v = primitive(await requireStorage(api, item)(netuid));
    return Array.isArray(v) ? v : [];
  };
  const [owners, axons, stakes, active, permits, lastUpdate] = await Promise.all([
    n ? requireStorage(api, 'owner').multi(hotkeys) : Promise.resolve([] as Codec[]),
    n ? requireStorage(api, 'axons').multi(hotkeys.map((h) => [netuid, h])) : Promise.resolve([] as Codec[]),
    !n
      ? Promise.resolve([] as Codec[])
      : alpha
        ? alpha.multi(hotkeys.map((h) => [h, netuid]))
        : legacyStake
          ? legacyStake.multi(hotkeys)
          : Promise.resolve(hotkeys.map(() => null)),
    readVec('active'),
    readVec('validatorPermit'),
    readVec('lastUpdate'),
  ]);
  // The runtime reads these vectors with `.get(uid).unwrap_or(default)`: a short vector means defaults.
  const uids = hotkeys.map((_, uid) => uid);
  const snapshot: MetagraphSnapshot = {
    netuid,
    block: at.block,
    blockHash: at.blockHash,
    n,
    uids,
    hotkeys,
    coldkeys: owners.map((o) => String(primitive(o))),
    axons: axons.map((a, uid) => axonFromPrimitive(primitive(a), `axons[${uid}]`)),
    stake: stakes.map((s, uid) => (s === null ? 0n : toBigInt(primitive(s), `stake[${uid}]`))),
    validatorPermit: uids.map((uid) => (permits[uid] === undefined ? false : toBool(permits[uid], `validator_permit[${uid}]`))),
    lastUpdate: uids.map((uid) => (lastUpdate[uid] === undefined ? 0 : toNumber(lastUpdate[uid], `last_update[${uid}]`))),
    active: uids.map((uid) => (active[uid] === undefined ? false : toBool(active[uid], `active[${uid}]`))),
    hyperparameters,
    source: 'storage',
  };
  return checkLengths(snapshot);
}
