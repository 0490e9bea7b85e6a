import { errorMessage } from '../errors.js';
import { readFileIfExists, writeFileAtomic } from './atomicFile.js';
import { StoreError } from './errors.js';

/**
 * The one store for small state kept as JSON: the validator's state, the pending weight commits,
 * the registry cache. Each owner checks what it loads; this only reads and writes whole files.
 */

/** Where a module keeps its state between runs: the port; files and memory are the adapters. */
export interface StateStore<T> {
  /** The last saved state, or null when nothing was saved yet. */
  load(): Promise<T | null>;
  save(state: T): Promise<void>;
  /**
   * Saves a state given already as its JSON text in pieces (a large state never built whole);
   * stores that keep objects leave it out, and callers then use `save`.
   */
  saveSerialized?(pieces: Iterable<string>): Promise<void>;
}

export function createMemoryStateStore<T>(initial: T | null = null): StateStore<T> & { current(): T | null } {
  let value: T | null = initial === null ? null : structuredClone(initial);
  return {
    load: async () => (value === null ? null : structuredClone(value)),
    save: async (state) => {
      value = structuredClone(state);
    },
    current: () => value,
  };
}

export interface FileStateStoreOptions {
  /** Indented, with a final newline: for files people read (commits, registry cache). */
  pretty?: boolean;
}

/**
 * A JSON file written atomically: a temporary file in the same folder, fsync, rename over the
 * old file, fsync of the folder. A crash at any moment leaves either the old or the new
 * state, never half a file. Saves are serialized; the folder is created when missing.
 * A file that is not valid JSON is a STORE_INVALID error (reason 'corrupt'), never silently
 * replaced by an empty state; a file that cannot be read or written is STORE_FAILED.
 */
export function createFileStateStore<T>(filePath: string, options: FileStateStoreOptions = {}): StateStore<T> {
  let chain: Promise<void> = Promise.resolve();
  const serialized = (write: () => Promise<void>) => {
    const next = chain.then(write).catch((err: unknown) => {
      throw new StoreError('STORE_FAILED', `cannot write ${filePath}: ${errorMessage(err)}`, { cause: err });
    });
    chain = next.catch(() => undefined);
    return next;
  };
  const stringify = (state: T) => (options.pretty ? `${JSON.stringify(state, null, 2)}\n` : JSON.stringify(state));

  return {
    async load() {
      const text = await readFileIfExists(filePath).catch((err: unknown) => {
        throw new StoreError('STORE_FAILED', `cannot read ${filePath}: ${errorMessage(err)}`, { cause: err });
      });
      if (text === null) return null;
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new StoreError('STORE_INVALID', `state file ${filePath} is not valid JSON`, { cause: err, details: { reason: 'corrupt' } });
      }
    },
    // Stringified now: the state may change once this returns.
    save: (state) => {
      const text = stringify(state);
      return serialized(() => writeFileAtomic(filePath, text));
    },
    saveSerialized: (pieces) => serialized(() => writeFileAtomic(filePath, pieces)),
  };
}
