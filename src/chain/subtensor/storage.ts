/**
 * Storage reads of pallet SubtensorModule by item name, decoded with the
 * runtime's own metadata. Names have been stable from spec 218 to 425.
 */
import type { ApiPromise } from '@polkadot/api';
import type { ApiDecoration, QueryableStorageEntry } from '@polkadot/api/types';
import type { Codec } from '@polkadot/types/types';
import { SubtensorError } from './errors.js';

export type StorageApi = ApiPromise | ApiDecoration<'promise'>;

/** `subtensorModule.tempo`, or null when this runtime has no such item. */
export function storageItem(api: StorageApi, item: string, pallet = 'subtensorModule'): QueryableStorageEntry<'promise'> | null {
  const section = (api.query as Record<string, Record<string, QueryableStorageEntry<'promise'>> | undefined>)[pallet];
  return section?.[item] ?? null;
}

export function requireStorage(api: StorageApi, item: string, pallet = 'subtensorModule'): QueryableStorageEntry<'promise'> {
  const entry = storageItem(api, item, pallet);
  if (!entry) throw new SubtensorError('UNSUPPORTED_RUNTIME', `this runtime has no storage ${pallet}.${item}.`);
  return entry;
}

/** A primitive (number, decimal string, bool, SS58 string, array, object) from a codec; unwraps Option. */
export function primitive(codec: Codec): unknown {
  const maybeOption = codec as Codec & { isSome?: boolean; isNone?: boolean; unwrap?: () => Codec };
  if (typeof maybeOption.isNone === 'boolean' && typeof maybeOption.unwrap === 'function') {
    return maybeOption.isNone ? null : maybeOption.unwrap().toPrimitive();
  }
  return codec.toPrimitive();
}

export function toBigInt(value: unknown, what: string): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  if (typeof value === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(value)) return BigInt(value);
  throw new SubtensorError('DECODE_FAILED', `${what}: expected an integer, got ${JSON.stringify(value)}.`);
}

export function toNumber(value: unknown, what: string): number {
  const big = toBigInt(value, what);
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new SubtensorError('DECODE_FAILED', `${what}: ${big} does not fit a JS number.`);
  return Number(big);
}

export function toBool(value: unknown, what: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new SubtensorError('DECODE_FAILED', `${what}: expected a boolean, got ${JSON.stringify(value)}.`);
}
