import { Hs58Error } from '../errors.js';

export type StoreErrorCode =
  /** A stored file or database that cannot be read back: not JSON, not an SQLite database, a schema of a newer version. */
  | 'STORE_INVALID'
  /** A file or database that could not be opened, read or written (permissions, a full disk, …). */
  | 'STORE_FAILED';

export class StoreError extends Hs58Error<StoreErrorCode> {
  override name = 'StoreError';
}
