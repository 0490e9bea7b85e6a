/**
 * Turns a fresh Chopsticks chain (spec 218 genesis: subnets 0 and 1, a sudo key
 * nobody holds, no balances) into a subnet a miner and a validator can use:
 * balances and the sudo key through `dev_setStorage`, a new subnet, small tempo
 * and rate limits through sudo, hotkeys through burned_register, and optionally
 * one epoch mined so the new neurons get validator permits.
 * Works against any Chopsticks endpoint (it only needs the dev_* RPC methods).
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { blocksUntilNextEpoch } from '../src/chain/subtensor/clock.js';
import { SubtensorError } from '../src/chain/subtensor/errors.js';
import { getUid } from '../src/chain/subtensor/uid.js';
import { burnedRegister } from './register.js';
import { primitive, requireStorage, toBool, toNumber } from '../src/chain/subtensor/storage.js';
import { adminCalls, sudo } from './sudo.js';
import { signAndWatch } from '../src/chain/subtensor/tx.js';

/** 1,000,000 TAO in RAO. */
export const LOCAL_FUNDING_RAO = 1_000_000_000_000_000n;

export interface PrepareLocalSubnetOptions {
  /** Becomes the chain's sudo key (e.g. //Alice) and pays for a new subnet. */
  sudoKey: KeyringPair;
  /** Addresses given LOCAL_FUNDING_RAO (the sudo key always is). */
  fund?: readonly string[];
  /** Use this existing subnet; absent: register a new one. */
  netuid?: number;
  /** Owner hotkey of a new subnet (default: the sudo key's address); it takes uid 0. */
  ownerHotkey?: string;
  /** Blocks per epoch (default 10: an epoch every 11 blocks, about 5 s on Chopsticks). */
  tempo?: number;
  /** Blocks between weight submissions of one neuron (default 0). */
  weightsRateLimit?: number;
  /** Blocks between serve_axon calls of one hotkey (default: leave the chain's). */
  servingRateLimit?: number;
  /** Commit-reveal on or off (default off). */
  commitReveal?: boolean;
  revealPeriodEpochs?: number;
  weightsVersionKey?: bigint | number;
  minAllowedWeights?: number;
  /** Hotkeys to register, each paid by its coldkey. */
  register?: ReadonlyArray<{ hotkey: string; coldkey: KeyringPair }>;
  /** Mine past the next epoch so that registered neurons hold validator permits (default true). */
  waitForPermits?: boolean;
}

export interface PreparedSubnet {
  netuid: number;
  /** True when this call registered the subnet. */
  created: boolean;
  /** uid of every registered hotkey (and the owner's). */
  uids: Record<string, number>;
}

export async function prepareLocalSubnet(api: ApiPromise, options: PrepareLocalSubnetOptions): Promise<PreparedSubnet> {
  const sudoKey = options.sudoKey;
  const funded = [...new Set([sudoKey.address, ...(options.fund ?? []), ...(options.register ?? []).map((r) => r.coldkey.address)])];
  await api.rpc('dev_setStorage', {
    System: { Account: funded.map((address) => [[address], { providers: 1, data: { free: LOCAL_FUNDING_RAO.toString() } }]) },
    Sudo: { Key: sudoKey.address },
  });

  let netuid = options.netuid;
  let created = false;
  if (netuid === undefined) {
    netuid = await registerSubnet(api, sudoKey, options.ownerHotkey ?? sudoKey.address);
    created = true;
  } else {
    const added = toBool(primitive(await requireStorage(api, 'networksAdded')(netuid)), 'NetworksAdded');
    if (!added) throw new SubtensorError('NOT_FOUND', `subnet ${netuid} does not exist on this chain.`);
  }

  const calls = [
    adminCalls.tempo(api, netuid, options.tempo ?? 10),
    adminCalls.weightsSetRateLimit(api, netuid, options.weightsRateLimit ?? 0),
    adminCalls.commitRevealEnabled(api, netuid, options.commitReveal ?? false),
    // burned_register is refused in the pool past 3 × target per interval and per block past the max.
    adminCalls.targetRegistrationsPerInterval(api, netuid, 256),
    adminCalls.maxRegistrationsPerBlock(api, netuid, 256),
  ];
  if (options.servingRateLimit !== undefined) calls.push(adminCalls.servingRateLimit(api, netuid, options.servingRateLimit));
  if (options.revealPeriodEpochs !== undefined) calls.push(adminCalls.commitRevealPeriod(api, netuid, options.revealPeriodEpochs));
  if (options.weightsVersionKey !== undefined) calls.push(adminCalls.weightsVersionKey(api, netuid, options.weightsVersionKey));
  if (options.minAllowedWeights !== undefined) calls.push(adminCalls.minAllowedWeights(api, netuid, options.minAllowedWeights));
  await sudo(api, sudoKey, calls);

  const uids: Record<string, number> = {};
  const owner = primitive(await requireStorage(api, 'subnetOwnerHotkey')(netuid));
  if (typeof owner === 'string') {
    const ownerUid = await getUid(api, netuid, owner);
    if (ownerUid !== null) uids[owner] = ownerUid;
  }
  for (const { hotkey, coldkey } of options.register ?? []) {
    const result = await burnedRegister(api, { netuid, hotkey, coldkey });
    uids[hotkey] = result.uid;
  }

  if ((options.waitForPermits ?? true) && (options.register?.length ?? 0) > 0) {
    const tempo = toNumber(primitive(await requireStorage(api, 'tempo')(netuid)), 'Tempo');
    const head = (await api.rpc.chain.getHeader()).number.toNumber();
    const until = blocksUntilNextEpoch(netuid, tempo, head + 1);
    if (until !== null) await api.rpc('dev_newBlock', { count: until + 1 });
  }
  return { netuid, created, uids };
}

/** register_network by the sudo key (network rate limit lifted first); returns the new netuid. */
async function registerSubnet(api: ApiPromise, payer: KeyringPair, ownerHotkey: string): Promise<number> {
  await sudo(api, payer, adminCalls.networkRateLimit(api, 0));
  const addedNetuids = async () =>
    (await requireStorage(api, 'networksAdded').entries()).filter(([, v]) => primitive(v) === true).map(([k]) => toNumber(k.args[0]?.toPrimitive(), 'netuid'));
  const before = new Set(await addedNetuids());
  const fn = api.tx.subtensorModule?.registerNetwork;
  if (!fn) throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no SubtensorModule.register_network call.');
  // spec 218 takes (hotkey, mechid); later runtimes take (hotkey).
  const call = fn.meta.args.length >= 2 ? fn(ownerHotkey, 1) : fn(ownerHotkey);
  await signAndWatch(api, call, payer, { label: 'registerNetwork' });
  const netuid = (await addedNetuids()).find((n) => !before.has(n));
  if (netuid === undefined) throw new SubtensorError('TX_DISPATCH_FAILED', 'registerNetwork was included but no new subnet appeared.');
  return netuid;
}
