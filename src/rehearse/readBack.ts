/**
 * What a fork holds after a rehearsal round, read from the fork itself (not from what the
 * validator believes): every extrinsic the hotkey signed in the blocks built on the fork, with
 * its events, its outcome (the runtime's own error name when it failed) and the fee it paid.
 */
import type { ApiPromise } from '@polkadot/api';
import type { GenericExtrinsic } from '@polkadot/types';
import type { DispatchError, EventRecord } from '@polkadot/types/interfaces';
import { u8aEq } from '@polkadot/util';
import { decodeAddress } from '@polkadot/util-crypto';
import { describeDispatchError } from '../chain/subtensor/tx.js';

export interface ForkExtrinsic {
  block: number;
  blockHash: string;
  /** Position in its block. */
  index: number;
  txHash: string;
  /** Pallet and call as the runtime names them: `SubtensorModule.set_weights`. */
  call: string;
  success: boolean;
  /** This extrinsic's events, `Pallet.Event`, in order. */
  events: string[];
  /** The runtime's error when it failed: `IncorrectWeightVersionKey`, `BadOrigin`, … */
  error: { name: string; docs?: string } | null;
  /** `TransactionFeePaid` actual fee and tip in RAO; null when the runtime emitted none. */
  fee: { actualRao: bigint; tipRao: bigint } | null;
}

export interface ForkReadBack {
  /** The fork's head when read. */
  head: number;
  extrinsics: ForkExtrinsic[];
}

/** `subtensorModule` → `SubtensorModule`: the pallet name of metadata and block explorers. */
const palletName = (section: string) => section.charAt(0).toUpperCase() + section.slice(1);

/** The extrinsics `signer` made in the blocks after `afterBlock` up to the head, oldest first. */
export async function readSignedExtrinsics(api: ApiPromise, signer: string, afterBlock: number): Promise<ForkReadBack> {
  const head = (await api.rpc.chain.getHeader()).number.toNumber();
  const signerKey = decodeAddress(signer);
  const found: ForkExtrinsic[] = [];
  for (let n = afterBlock + 1; n <= head; n++) {
    const hash = await api.rpc.chain.getBlockHash(n);
    const [signed, records] = await Promise.all([api.rpc.chain.getBlock(hash), api.query.system!.events!.at(hash)]);
    const events = records as unknown as EventRecord[];
    signed.block.extrinsics.forEach((ext, index) => {
      if (!ext.isSigned || !u8aEq(decodeAddress(ext.signer.toString()), signerKey)) return;
      found.push(describeExtrinsic(api, ext as unknown as GenericExtrinsic, index, events, { number: n, hash: hash.toHex() }));
    });
  }
  return { head, extrinsics: found };
}

function describeExtrinsic(
  api: ApiPromise,
  ext: GenericExtrinsic,
  index: number,
  records: EventRecord[],
  block: { number: number; hash: string },
): ForkExtrinsic {
  const own = records.filter(({ phase }) => phase.isApplyExtrinsic && phase.asApplyExtrinsic.eqn(index)).map(({ event }) => event);
  let error: ForkExtrinsic['error'] = null;
  let fee: ForkExtrinsic['fee'] = null;
  for (const event of own) {
    if (event.section === 'system' && event.method === 'ExtrinsicFailed') {
      const info = describeDispatchError(api.registry, event.data[0] as unknown as DispatchError);
      error = { name: info.name, ...(info.docs ? { docs: info.docs } : {}) };
    }
    if (event.section === 'transactionPayment' && event.method === 'TransactionFeePaid') {
      const [, actual, tip] = event.data as unknown as [unknown, { toBigInt(): bigint }, { toBigInt(): bigint }];
      fee = { actualRao: actual.toBigInt(), tipRao: tip.toBigInt() };
    }
  }
  return {
    block: block.number,
    blockHash: block.hash,
    index,
    txHash: ext.hash.toHex(),
    call: `${palletName(ext.method.section)}.${ext.meta.name.toString()}`,
    success: own.some((e) => e.section === 'system' && e.method === 'ExtrinsicSuccess'),
    events: own.map((e) => `${palletName(e.section)}.${e.method}`),
    error,
    fee,
  };
}
