import { existsSync } from 'node:fs';
import { DatabaseSync } from 'node:sqlite';
import type { ClaimsStateJSON } from '../../src/chain/polygon/claimsStore.js';

/**
 * What a claims database (src/chain/polygon/claimsDatabase.ts) holds, read with plain SQL in one
 * read-only transaction (another process may be writing it: the snapshot is consistent), in the
 * shape of the JSON state file of earlier versions so that tests check the same fields. Null
 * while the file or its tables do not exist yet.
 */
export function readClaimsDatabase(file: string): ClaimsStateJSON | null {
  if (!existsSync(file)) return null;
  const db = new DatabaseSync(file, { readOnly: true, timeout: 5_000 });
  try {
    db.exec('BEGIN');
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
      .all()
      .map((r) => r.name);
    if (!tables.includes('claims')) return null;
    const meta = new Map(
      db
        .prepare('SELECT key, value FROM meta')
        .all()
        .map((r) => [r.key as string, r.value as string]),
    );
    const covered = db
      .prepare('SELECT from_block, to_block FROM covered ORDER BY from_block')
      .all()
      .map((r) => [r.from_block, r.to_block] as [number, number]);
    const claims = db
      .prepare('SELECT * FROM claims ORDER BY block, log_index')
      .all()
      .map((r) => ({
        contract: r.contract as string,
        channelId: r.channel_id as string,
        provider: r.provider as string,
        amount: r.amount as string,
        block: r.block as number,
        tx: r.tx as string,
        logIndex: r.log_index as number,
      }));
    const lastComplete = meta.get('lastComplete');
    return {
      version: 1,
      chainId: JSON.parse(meta.get('chainId') ?? 'null') as number | null,
      contracts: JSON.parse(meta.get('contracts') ?? '[]') as string[],
      covered,
      claims,
      lastComplete: lastComplete === undefined ? null : (JSON.parse(lastComplete) as ClaimsStateJSON['lastComplete']),
    };
  } finally {
    db.close();
  }
}
