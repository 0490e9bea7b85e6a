import { primitive, requireStorage, toNumber, type StorageApi } from './storage.js';

/** The uid of `hotkey` on subnet `netuid`, or null when it is not registered there. */
export async function getUid(api: StorageApi, netuid: number, hotkey: string): Promise<number | null> {
  const value = primitive(await requireStorage(api, 'uids')(netuid, hotkey));
  return value === null ? null : toNumber(value, 'Uids');
}
