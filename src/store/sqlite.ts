import { closeSync, existsSync, mkdirSync, openSync, renameSync } from 'node:fs';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { errorMessage } from '../errors.js';
import { StoreError } from './errors.js';

/**
 * An embedded SQLite database (node:sqlite, part of Node 24: no dependency), for state too large
 * to rewrite as one file (the claims window). Opened in WAL mode: a transaction is one append
 * to the log, readers (another process inspecting the file) never block the writer, and a crash
 * at any moment leaves every committed transaction and none of the others. `synchronous=NORMAL`:
 * a power loss may forget the last transactions, never half of one.
 *
 * The schema carries its version (`PRAGMA user_version`). A file that is not an SQLite database,
 * is damaged, or holds another schema is not used: it is moved aside (`<file>.unusable`) and an
 * empty database takes its place; the caller is told, to log it.
 */

export interface OpenDatabaseOptions {
  /** A file (its folder is created, mode 0700; the file is 0600) or ':memory:'. */
  path: string;
  /** The schema version this code writes; a database of another version is not used. */
  version: number;
  /** SQL creating the tables of an empty database (run once, in a transaction). */
  schema: string;
}

export interface OpenedDatabase {
  db: DatabaseSync;
  /** Set when the file could not be used: where it went and why. */
  setAside: { path: string; reason: string } | null;
}

const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;

/** Opens (or creates) the database; throws STORE_FAILED when the file cannot be opened at all (permissions, disk). */
export function openDatabase(options: OpenDatabaseOptions): OpenedDatabase {
  const file = options.path;
  const inMemory = file === ':memory:';
  try {
    if (!inMemory) prepareFile(file);
    return { db: connect(options), setAside: null };
  } catch (err) {
    if (inMemory || !isUnusable(err)) throw failed(file, err);
    const aside = `${file}.unusable`;
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
    prepareFile(file);
    try {
      return { db: connect(options), setAside: { path: aside, reason: errorMessage(err) } };
    } catch (again) {
      throw failed(file, again);
    }
  }
}

/** Runs `fn` in one transaction: all of its writes or none. */
export function inTransaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE');
  try {
    const value = fn();
    db.exec('COMMIT');
    return value;
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}

function prepareFile(file: string): void {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  // SQLite would create it with the umask's mode; state files are 0600 (the WAL files follow the database's mode).
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
}

function connect(options: OpenDatabaseOptions): DatabaseSync {
  const db = new DatabaseSync(options.path, { timeout: 5_000 });
  try {
    db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
    if (version === 0) {
      const tables = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n;
      if (tables > 0) throw new StoreError('STORE_INVALID', `${options.path} is an SQLite database of something else (no schema version, ${tables} tables)`);
      inTransaction(db, () => db.exec(`${options.schema}\nPRAGMA user_version = ${options.version};`));
    } else if (version !== options.version) {
      throw new StoreError('STORE_INVALID', `${options.path} has schema version ${version}, this version of hs58 reads ${options.version}`);
    }
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Not a database, damaged, or another schema: worth a fresh start. Anything else (permissions, a full disk) is not. */
function isUnusable(err: unknown): boolean {
  if (err instanceof StoreError) return err.code === 'STORE_INVALID';
  const code = (err as { errcode?: unknown }).errcode;
  return typeof code === 'number' && ((code & 0xff) === SQLITE_NOTADB || (code & 0xff) === SQLITE_CORRUPT);
}

function failed(file: string, err: unknown): StoreError {
  return err instanceof StoreError && err.code === 'STORE_FAILED'
    ? err
    : new StoreError('STORE_FAILED', `cannot open the database ${file}: ${errorMessage(err)}`, { cause: err });
}
