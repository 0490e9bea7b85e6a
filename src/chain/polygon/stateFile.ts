import { readFileIfExists, writeFileAtomic } from '../../util/atomicFile.js';
import { PolygonError } from './errors.js';

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

/**
 * A JSON file written atomically: a temporary file in the same folder, fsync, rename over the
 * old file, fsync of the folder. A crash at any moment leaves either the old or the new
 * state, never half a file. Saves are serialized; the folder is created when missing.
 * A file that is not valid JSON is a POLYGON_STATE_INVALID error (reason 'corrupt'), never
 * silently replaced by an empty state.
 */
export function createFileStateStore<T>(filePath: string): StateStore<T> {
  let chain: Promise<void> = Promise.resolve();
  const serialized = (write: () => Promise<void>) => {
    const next = chain.then(write);
    chain = next.catch(() => undefined);
    return next;
  };

  return {
    async load() {
      const text = await readFileIfExists(filePath);
      if (text === null) return null;
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new PolygonError('POLYGON_STATE_INVALID', `state file ${filePath} is not valid JSON`, { cause: err, details: { reason: 'corrupt' } });
      }
    },
    // Stringified now: the state may change once this returns. The claims, the one large state,
    // come through saveSerialized in pieces.
    save: (state) => {
      const text = JSON.stringify(state);
      return serialized(() => writeFileAtomic(filePath, text));
    },
    saveSerialized: (pieces) => serialized(() => writeFileAtomic(filePath, pieces)),
  };
}
