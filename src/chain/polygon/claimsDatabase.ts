import type { DatabaseSync, SQLInputValue, StatementSync } from 'node:sqlite';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { StoreError } from '../../store/errors.js';
import { inTransaction, openDatabase } from '../../store/sqlite.js';
import {
  checkFetchedRange,
  lastCompleteFromJSON,
  lastCompleteToJSON,
  stateInvalid,
  type ClaimsSnapshot,
  type ClaimsStateJSON,
  type ClaimsStoreIdentity,
  type ClaimsWindow,
  type ProviderClaims,
} from './claimsStore.js';
import { PolygonError } from './errors.js';
import type { ChannelClaim } from './getLogs.js';
import { addRange, blockCount, clipAbove, clipBelow, gapsIn, isNormalized, type BlockRange } from './ranges.js';

/**
 * The claims window in SQLite (`drain-claims.sqlite` in the validator's state folder): the
 * claims, the covered ranges and the last complete window's totals. `addRange` is one
 * transaction (the claims of a range and its coverage together), so a crash leaves both or
 * neither; nothing is held in memory but the covered ranges (a few rows) and the last totals
 * (one per provider). Per-provider totals are one query.
 *
 * A claim's key is (block, log index, transaction hash): on one chain a transaction lies in one
 * block, so this dedupes by transaction hash and log index as the in-memory store does, and it
 * keeps the rows in block order, so the ranges fetched one after the other are appended, the
 * rolling window is a range delete and the window's totals one pass. There is no index on the
 * provider: no query needs one, and measured it made the inserts of a backfill seven times as
 * costly (150,000 claims: 0.4 → 3.1 s of CPU; a range's claims rewrite an index page per provider).
 * Amounts are uint256: an SQLite integer below 2⁶³ (summed by SUM), the decimal text above.
 */

export const CLAIMS_DATABASE_FILE = 'drain-claims.sqlite';
const SCHEMA_VERSION = 1;
const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
CREATE TABLE claims (
  block INTEGER NOT NULL,
  log_index INTEGER NOT NULL,
  tx TEXT NOT NULL,
  contract TEXT NOT NULL,
  channel_id TEXT NOT NULL,
  provider TEXT NOT NULL,
  amount INTEGER,
  amount_text TEXT,
  PRIMARY KEY (block, log_index, tx),
  CHECK ((amount IS NULL) <> (amount_text IS NULL))
) STRICT, WITHOUT ROWID;
CREATE TABLE covered (from_block INTEGER PRIMARY KEY, to_block INTEGER NOT NULL) STRICT;
`;

/** Claims are inserted a hundred to a statement (one call per row costs more than the insert itself). */
const BATCH = 100;
const insertSql = (rows: number) =>
  `INSERT OR IGNORE INTO claims (block, log_index, tx, contract, channel_id, provider, amount, amount_text) VALUES ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`;

const SMALL = 2n ** 63n;
const WINDOW_CLAUSE = 'block BETWEEN :from AND :to';
const EVERYTHING: BlockRange = { from: 0, to: Number.MAX_SAFE_INTEGER };

export interface OpenClaimsDatabaseOptions {
  /** The database file, or ':memory:'. */
  path: string;
  identity: ClaimsStoreIdentity;
  logger?: Logger | null;
}

interface ClaimRow {
  block: bigint;
  log_index: bigint;
  tx: string;
  contract: string;
  channel_id: string;
  provider: string;
  amount: bigint | null;
  amount_text: string | null;
}

interface TotalsRow {
  provider: string;
  amount: bigint | string | null;
  claims: bigint;
  channels: bigint;
  /** Claims of 2⁶³ or more, not in SQLite's SUM. */
  big: bigint;
}

export class ClaimsDatabase implements ClaimsWindow {
  readonly contracts: readonly string[];
  readonly chainId: number | null;
  private coverage: BlockRange[] = [];
  private snapshot: ClaimsSnapshot | null = null;
  private readonly insertBatch: StatementSync;
  private readonly insertOne: StatementSync;

  private constructor(
    private readonly db: DatabaseSync,
    readonly path: string,
    identity: ClaimsStoreIdentity,
  ) {
    this.contracts = [...new Set(identity.contracts.map((c) => c.toLowerCase()))].sort();
    this.chainId = identity.chainId;
    this.insertBatch = db.prepare(insertSql(BATCH));
    this.insertOne = db.prepare(insertSql(1));
    // Only for a window whose integer amounts overflow SQLite's SUM: the exact sum, in BigInt.
    db.aggregate<bigint>('hs58_sum_uint', {
      start: 0n,
      useBigIntArguments: true,
      step: (sum, amount, text) => sum + (amount === null ? BigInt(text as string) : (amount as bigint)),
      result: (sum) => sum.toString(),
    });
  }

  /**
   * Opens the database, or creates it. A state it cannot use (not a database, another schema,
   * other contracts or another chain, malformed rows) only costs a rescan: it is set aside or
   * emptied, with a warning. Throws STORE_FAILED when the file cannot be opened at all.
   */
  static open(options: OpenClaimsDatabaseOptions): ClaimsDatabase {
    const { db, setAside } = openDatabase({ path: options.path, version: SCHEMA_VERSION, schema: SCHEMA });
    if (setAside)
      options.logger?.warn({ file: options.path, movedTo: setAside.path, reason: setAside.reason }, 'scanner state not usable; starting a fresh scan');
    const store = new ClaimsDatabase(db, options.path, options.identity);
    try {
      store.adopt();
    } catch (err) {
      if (!(err instanceof PolygonError && err.code === 'POLYGON_STATE_INVALID')) throw err;
      options.logger?.warn({ file: options.path, error: errorMessage(err) }, 'scanner state not usable; starting a fresh scan');
      store.reset();
    }
    return store;
  }

  get covered(): readonly BlockRange[] {
    return this.coverage;
  }

  get claimCount(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM claims').get() as { n: number }).n;
  }

  get lastComplete(): ClaimsSnapshot | null {
    return this.snapshot;
  }

  addRange(range: BlockRange, claims: readonly ChannelClaim[]): number {
    checkFetchedRange(range, claims);
    const coverage = addRange(this.coverage, range);
    const added = this.write(() => {
      const n = this.insertClaims(claims);
      this.writeCoverage(coverage);
      return n;
    });
    this.coverage = coverage;
    return added;
  }

  dropBelow(block: number): number {
    const coverage = clipBelow(this.coverage, block);
    const dropped = this.write(() => {
      const n = Number(this.db.prepare('DELETE FROM claims WHERE block < ?').run(block).changes);
      this.writeCoverage(coverage);
      return n;
    });
    this.coverage = coverage;
    return dropped;
  }

  dropAbove(block: number): { claims: number; blocks: number; lastComplete: boolean } {
    const coverage = clipAbove(this.coverage, block);
    const blocks = blockCount(this.coverage) - blockCount(coverage);
    const lastComplete = this.snapshot !== null && this.snapshot.window.to > block;
    const claims = this.write(() => {
      const n = Number(this.db.prepare('DELETE FROM claims WHERE block > ?').run(block).changes);
      this.writeCoverage(coverage);
      if (lastComplete) this.db.prepare("DELETE FROM meta WHERE key = 'lastComplete'").run();
      return n;
    });
    this.coverage = coverage;
    if (lastComplete) this.snapshot = null;
    return { claims, blocks, lastComplete };
  }

  gaps(window: BlockRange): BlockRange[] {
    return gapsIn(this.coverage, window);
  }

  totals(window: BlockRange = EVERYTHING): Map<string, ProviderClaims> {
    try {
      return this.summedTotals(window);
    } catch (err) {
      // A window whose integer amounts add up past 2⁶³: summed exactly in BigInt instead (slower).
      if (!/integer overflow/.test(errorMessage(err))) throw err;
      return totalsOf(this.totalsRows('hs58_sum_uint(amount, amount_text)', window));
    }
  }

  /** SQLite's SUM over the integer amounts, plus the amounts of 2⁶³ and more (none in a real window). */
  private summedTotals(window: BlockRange): Map<string, ProviderClaims> {
    const rows = this.totalsRows('sum(amount)', window);
    const totals = totalsOf(rows);
    if (rows.some((r) => r.big > 0n)) {
      const big = this.db
        .prepare(`SELECT provider, amount_text FROM claims WHERE ${WINDOW_CLAUSE} AND amount_text IS NOT NULL`)
        .all({ from: window.from, to: window.to });
      for (const r of big as { provider: string; amount_text: string }[]) totals.get(r.provider)!.amount += BigInt(r.amount_text);
    }
    return totals;
  }

  private totalsRows(sum: string, window: BlockRange): TotalsRow[] {
    const query = this.db.prepare(
      `SELECT provider, ${sum} AS amount, count(*) AS claims, count(DISTINCT contract || channel_id) AS channels, count(amount_text) AS big
       FROM claims WHERE ${WINDOW_CLAUSE} GROUP BY provider`,
    );
    query.setReadBigInts(true);
    return query.all({ from: window.from, to: window.to }) as unknown as TotalsRow[];
  }

  list(window: BlockRange = EVERYTHING): ChannelClaim[] {
    const query = this.db.prepare(`SELECT * FROM claims WHERE ${WINDOW_CLAUSE} ORDER BY block, log_index`);
    query.setReadBigInts(true);
    return (query.all({ from: window.from, to: window.to }) as unknown as ClaimRow[]).map((r) => ({
      contract: r.contract,
      channelId: r.channel_id,
      provider: r.provider,
      amount: r.amount ?? BigInt(r.amount_text!),
      blockNumber: Number(r.block),
      txHash: r.tx,
      logIndex: Number(r.log_index),
    }));
  }

  setLastComplete(snapshot: ClaimsSnapshot): void {
    this.write(() => this.writeMeta('lastComplete', JSON.stringify(lastCompleteToJSON(snapshot))));
    this.snapshot = snapshot;
  }

  /** A value kept beside the claims (e.g. that a JSON state was imported), or null. */
  meta(key: string): string | null {
    return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value ?? null;
  }

  /**
   * Adds a whole state in one transaction (the one-time import of a JSON state): its claims, its
   * covered ranges, its complete window when there is none yet, and `marks` in the meta table.
   */
  merge(state: ClaimsWindow, marks: Record<string, string>): void {
    const coverage = state.covered.reduce((set, r) => addRange(set, r), this.coverage);
    const snapshot = this.snapshot ?? state.lastComplete;
    this.write(() => {
      this.insertClaims(state.list());
      this.writeCoverage(coverage);
      if (snapshot) this.writeMeta('lastComplete', JSON.stringify(lastCompleteToJSON(snapshot)));
      for (const [key, value] of Object.entries(marks)) this.writeMeta(key, value);
    });
    this.coverage = coverage;
    this.snapshot = snapshot;
  }

  close(): void {
    if (this.db.isOpen) this.db.close();
  }

  /** Takes the saved state as this scanner's: its identity must match; its ranges and totals are read and checked. */
  private adopt(): void {
    const chainId = this.meta('chainId');
    const contracts = this.meta('contracts');
    if (chainId === null && contracts === null) {
      this.reset();
      return;
    }
    if (contracts !== JSON.stringify(this.contracts)) throw stateInvalid(`was written for contracts ${contracts}`, 'mismatch');
    if (chainId !== JSON.stringify(this.chainId)) throw stateInvalid(`was written for chain ${chainId}`, 'mismatch');
    const covered = this.db.prepare('SELECT from_block AS "from", to_block AS "to" FROM covered ORDER BY from_block').all() as unknown as BlockRange[];
    if (!isNormalized(covered)) throw stateInvalid('has overlapping or unsorted covered ranges', 'corrupt');
    const count = (where: string, range?: BlockRange) =>
      (this.db.prepare(`SELECT count(*) AS n FROM claims ${where}`).get(range ? { ...range } : {}) as { n: number }).n;
    const inside = covered.reduce((n, r) => n + count(`WHERE ${WINDOW_CLAUSE}`, r), 0);
    if (inside !== count('')) throw stateInvalid('has claims outside the covered ranges', 'corrupt');
    const last = this.meta('lastComplete');
    this.snapshot = last === null ? null : lastCompleteFromJSON(parseJson(last));
    this.coverage = covered;
  }

  /** Empty, for this identity. */
  private reset(): void {
    this.write(() => {
      this.db.exec('DELETE FROM claims; DELETE FROM covered; DELETE FROM meta;');
      this.writeMeta('contracts', JSON.stringify(this.contracts));
      this.writeMeta('chainId', JSON.stringify(this.chainId));
    });
    this.coverage = [];
    this.snapshot = null;
  }

  private insertClaims(claims: readonly ChannelClaim[]): number {
    let added = 0;
    let i = 0;
    for (; i + BATCH <= claims.length; i += BATCH) added += Number(this.insertBatch.run(...claims.slice(i, i + BATCH).flatMap(claimValues)).changes);
    for (; i < claims.length; i++) added += Number(this.insertOne.run(...claimValues(claims[i]!)).changes);
    return added;
  }

  private writeCoverage(coverage: readonly BlockRange[]): void {
    this.db.exec('DELETE FROM covered');
    const insert = this.db.prepare('INSERT INTO covered (from_block, to_block) VALUES (?, ?)');
    for (const r of coverage) insert.run(r.from, r.to);
  }

  private writeMeta(key: string, value: string): void {
    this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  /** One transaction; a failure of the database (a full disk, a closed file) is STORE_FAILED and changes nothing. */
  private write<T>(fn: () => T): T {
    try {
      return inTransaction(this.db, fn);
    } catch (err) {
      if (err instanceof PolygonError) throw err;
      throw new StoreError('STORE_FAILED', `claims database ${this.path}: ${errorMessage(err)}`, { cause: err });
    }
  }
}

/** A claim's columns; the amount an integer below 2⁶³, its decimal text above. */
function claimValues(c: ChannelClaim): SQLInputValue[] {
  const small = c.amount >= 0n && c.amount < SMALL;
  return [c.blockNumber, c.logIndex, c.txHash, c.contract, c.channelId, c.provider, small ? c.amount : null, small ? null : c.amount.toString()];
}

function totalsOf(rows: readonly TotalsRow[]): Map<string, ProviderClaims> {
  return new Map(rows.map((r) => [r.provider, { amount: BigInt(r.amount ?? 0), claims: Number(r.claims), channels: Number(r.channels) }]));
}

function parseJson(text: string): ClaimsStateJSON['lastComplete'] {
  try {
    return JSON.parse(text);
  } catch {
    throw stateInvalid('has a complete window that is not JSON', 'corrupt');
  }
}
