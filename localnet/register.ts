/**
 * burned_register: the coldkey pays the burn and registers a hotkey on a subnet.
 * Used by tests and the local network; a miner on a live network registers with btcli.
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { SubtensorError } from '../src/chain/subtensor/errors.js';
import { subtensorCalls, type CallSection } from '../src/chain/subtensor/mechanism.js';
import { assertSubnetExists } from '../src/chain/subtensor/metagraph.js';
import { signAndWatch } from '../src/chain/subtensor/tx.js';
import type { TxOptions, TxReceipt } from '../src/chain/subtensor/types.js';
import { getUid } from '../src/chain/subtensor/uid.js';

export interface BurnedRegisterParameters extends TxOptions {
  netuid: number;
  /** SS58 address of the hotkey to register. */
  hotkey: string;
  /** Pays the burn and signs. */
  coldkey: KeyringPair;
}

export type BurnedRegisterResult = { kind: 'already-registered'; uid: number } | ({ kind: 'registered'; uid: number } & TxReceipt);

/** `burned_register(netuid, hotkey)`, signed by the coldkey that pays. */
export function burnedRegisterCall<R>(tx: CallSection<R>, netuid: number, hotkey: string): R {
  const fn = tx?.burnedRegister;
  if (!fn) throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no SubtensorModule.burned_register call.');
  return fn(netuid, hotkey);
}

export async function burnedRegister(api: ApiPromise, params: BurnedRegisterParameters): Promise<BurnedRegisterResult> {
  const { netuid, hotkey, coldkey } = params;
  await assertSubnetExists(api, netuid);
  const existing = await getUid(api, netuid, hotkey);
  if (existing !== null) return { kind: 'already-registered', uid: existing };
  const call = burnedRegisterCall(subtensorCalls(api), netuid, hotkey);
  const receipt = await signAndWatch(api, call, coldkey, {
    waitFor: params.waitFor,
    timeoutMs: params.timeoutMs,
    signal: params.signal,
    label: 'burnedRegister',
  });
  const uid = await getUid(await api.at(receipt.blockHash), netuid, hotkey);
  if (uid === null)
    throw new SubtensorError('TX_DISPATCH_FAILED', `burnedRegister was included in block ${receipt.blockNumber} but ${hotkey} has no uid on subnet ${netuid}.`);
  return { kind: 'registered', uid, ...receipt };
}
