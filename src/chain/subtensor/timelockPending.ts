/**
 * The timelocked weight commits (v3/v4) a hotkey still has waiting on chain, read from the runtime's
 * own storage, so that they are known after a restart too: the chain removes a commit when it
 * reveals or drops it, so what is stored is what waits.
 *
 * - `TimelockedWeightCommits` (v4, keyed by the mechanism storage index) and `CRV3WeightCommitsV2`:
 *   `(epoch) → [(hotkey, commit_block, commit, reveal_round)]`;
 * - `CRV3WeightCommits` (spec 300): `(epoch) → [(hotkey, commit, reveal_round)]`, no block.
 */
import type { Codec } from '@polkadot/types/types';
import { blake2AsHex } from '@polkadot/util-crypto';
import { SubtensorError } from './errors.js';
import { mechanismStorageIndex } from './mechanism.js';
import { primitive, storageItem, toBigInt, toNumber, type StorageApi } from './storage.js';

export interface PendingTimelockedCommit {
  netuid: number;
  /** The subnet epoch the runtime filed it under. */
  epoch: number;
  /** Block that included it; null on runtimes that do not store it (spec 300). */
  commitBlock: number | null;
  /** BlakeTwo256 of the ciphertext, as the commit event carries it. */
  commitHash: string;
  revealRound: bigint;
}

/** Where runtimes keep them, newest layout first. */
const TIMELOCKED_COMMIT_ITEMS = ['timelockedWeightCommits', 'crv3WeightCommitsV2', 'crv3WeightCommits'] as const;

/** The hotkey's timelocked commits on the subnet (mechanism 0 unless given), oldest epoch first; [] when the runtime has none. */
export async function readPendingTimelockedCommits(
  api: StorageApi,
  params: { netuid: number; hotkey: string; mechanism?: number },
): Promise<PendingTimelockedCommit[]> {
  const item = TIMELOCKED_COMMIT_ITEMS.find((name) => storageItem(api, name) !== null);
  if (item === undefined) return [];
  const key = item === 'timelockedWeightCommits' ? mechanismStorageIndex(params.netuid, params.mechanism ?? 0) : params.netuid;
  const entries = await storageItem(api, item)!.entries(key);
  return pendingFromEntries(
    item,
    entries.map(([storageKey, value]) => [storageKey.args, value]),
    params,
  );
}

/** The commits of `params.hotkey` in decoded entries of one of `TIMELOCKED_COMMIT_ITEMS`: `[[key, epoch], value]`. */
export function pendingFromEntries(
  item: string,
  entries: ReadonlyArray<readonly [readonly Codec[], Codec]>,
  params: { netuid: number; hotkey: string },
): PendingTimelockedCommit[] {
  const out: PendingTimelockedCommit[] = [];
  for (const [args, value] of entries) {
    const epoch = toNumber(args[1]?.toPrimitive(), `${item} epoch`);
    const rows = primitive(value);
    if (!Array.isArray(rows)) throw new SubtensorError('DECODE_FAILED', `${item}: expected a list of commits, got ${JSON.stringify(rows)}.`);
    for (const row of rows) {
      if (!Array.isArray(row) || (row.length !== 3 && row.length !== 4))
        throw new SubtensorError('DECODE_FAILED', `${item}: expected (hotkey, [block,] commit, round), got ${JSON.stringify(row)}.`);
      if (row[0] !== params.hotkey) continue;
      const commit = row[row.length - 2];
      if (typeof commit !== 'string') throw new SubtensorError('DECODE_FAILED', `${item}: expected the commit's bytes, got ${JSON.stringify(commit)}.`);
      out.push({
        netuid: params.netuid,
        epoch,
        commitBlock: row.length === 4 ? toNumber(row[1], `${item} commit block`) : null,
        commitHash: blake2AsHex(commit, 256),
        revealRound: toBigInt(row[row.length - 1], `${item} reveal round`),
      });
    }
  }
  return out.sort((a, b) => a.epoch - b.epoch || Number(a.revealRound - b.revealRound));
}
