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
    save: (state) => serialized(() => writeFileAtomic(filePath, jsonChunks(state))),
    saveSerialized: (pieces) => serialized(() => writeFileAtomic(filePath, pieces)),
  };
}

const SLICE = 200;

/**
 * `JSON.stringify(value)` in pieces: a plain object's long arrays (the scanner's claims) go out
 * a thousand elements at a time, so that saving 10⁵ claims never holds the whole text (tens of
 * MB, twice: string and buffer) in memory. The concatenation is exactly `JSON.stringify(value)`.
 */
export function* jsonChunks(value: unknown): Generator<string> {
  const plain = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype && !('toJSON' in value);
  if (!plain) {
    yield JSON.stringify(value);
    return;
  }
  let first = true;
  yield '{';
  for (const [key, v] of Object.entries(value)) {
    const longArray = Array.isArray(v) && v.length > SLICE;
    const text = longArray ? null : JSON.stringify(v);
    if (!longArray && text === undefined) continue; // undefined, functions, symbols: left out, as JSON.stringify does
    yield `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (!longArray) {
      yield text!;
      continue;
    }
    const items = v as unknown[];
    for (let i = 0; i < items.length; i += SLICE) {
      const part = JSON.stringify(items.slice(i, i + SLICE));
      yield `${i === 0 ? '[' : ','}${part.slice(1, -1)}`;
    }
    yield ']';
  }
  yield '}';
}
