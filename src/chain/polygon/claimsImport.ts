import { closeSync, existsSync, openSync, readFileSync, readSync, renameSync, statSync } from 'node:fs';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ClaimsDatabase } from './claimsDatabase.js';
import { ClaimsStore } from './claimsStore.js';

/**
 * The one-time import of a JSON claims state written by an earlier version (`drain-claims.json`,
 * `ClaimsStore.toJSON`): read, checked as the scanner checked it (`ClaimsStore.fromJSON`), added
 * to the database in one transaction together with a mark naming the file, then renamed to
 * `movedTo`. A crash between the transaction and the rename is finished at the next start (the
 * mark says the file is in). A state that is not usable (corrupt, other contracts or chain) is
 * renamed to `<file>.unusable` and not imported: as before, that only costs a rescan.
 */

export interface LegacyClaimsFile {
  /** The JSON state, e.g. `<state folder>/drain-claims.json`. */
  path: string;
  /** Where it goes once imported, e.g. `drain-claims.json.imported`. */
  movedTo: string;
}

export type LegacyImport =
  | { kind: 'none' }
  | { kind: 'imported'; claims: number; ranges: number; movedTo: string }
  | { kind: 'finished'; movedTo: string }
  | { kind: 'unusable'; reason: string; movedTo: string };

const MARK = 'jsonImport';

/** Imports `legacy.path` when it is there; logs what it did. */
export function importLegacyClaims(db: ClaimsDatabase, legacy: LegacyClaimsFile, logger?: Logger | null): LegacyImport {
  if (!existsSync(legacy.path)) return { kind: 'none' };
  const { size, mtimeMs } = statSync(legacy.path);
  const fingerprint = JSON.stringify({ size, mtimeMs });
  const mark = db.meta(MARK);
  if (mark !== null && (JSON.parse(mark) as { file?: string }).file === fingerprint) {
    renameSync(legacy.path, legacy.movedTo);
    logger?.info({ file: legacy.path, movedTo: legacy.movedTo }, 'JSON claims state already imported into the claims database; moved away');
    return { kind: 'finished', movedTo: legacy.movedTo };
  }
  let store: ClaimsStore;
  try {
    store = ClaimsStore.fromJSON(JSON.parse(readFileSync(legacy.path, 'utf8')), { contracts: db.contracts, chainId: db.chainId });
  } catch (err) {
    const movedTo = `${legacy.path}.unusable`;
    renameSync(legacy.path, movedTo);
    const reason = errorMessage(err);
    logger?.warn(
      { file: legacy.path, movedTo, reason },
      'JSON claims state of an earlier version not usable; not imported, starting from what the database holds',
    );
    return { kind: 'unusable', reason, movedTo };
  }
  db.merge(store, { [MARK]: JSON.stringify({ file: fingerprint, at: new Date().toISOString(), claims: store.claimCount }) });
  renameSync(legacy.path, legacy.movedTo);
  const done = { kind: 'imported', claims: store.claimCount, ranges: store.covered.length, movedTo: legacy.movedTo } as const;
  logger?.info(
    { file: legacy.path, claims: done.claims, coveredRanges: done.ranges, movedTo: legacy.movedTo, database: db.path },
    'imported the JSON claims state of an earlier version into the claims database (once)',
  );
  return done;
}

/**
 * For `hs58 scan --state FILE`, where FILE itself may be a JSON state of an earlier version:
 * it is renamed to `FILE.importing` (the database takes its name) and imported from there;
 * once in, it is `FILE.imported`.
 */
export function legacyClaimsFileInPlace(file: string): LegacyClaimsFile {
  const pending = { path: `${file}.importing`, movedTo: `${file}.imported` };
  if (existsSync(file) && startsWithBrace(file)) renameSync(file, pending.path);
  return pending;
}

function startsWithBrace(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(64);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n).toString('utf8').trimStart().startsWith('{');
  } finally {
    closeSync(fd);
  }
}
