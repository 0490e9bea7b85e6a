/**
 * The block clock: current block, new heads, and the subnet epoch arithmetic of
 * the runtime (pallet_subtensor `blocks_until_next_epoch` / `get_epoch_index`).
 */
import type { Header } from '@polkadot/types/interfaces';
import type { Logger } from '../../observability/logger.js';
import { errorMessage } from '../../errors.js';
import { redactText } from '../../observability/redact.js';
import type { ChainConnection } from './connect.js';
import { SubtensorError } from './errors.js';
import type { BlockHead, EpochInfo } from './types.js';

/** Epoch index as the runtime counts it for commit-reveal: (block + netuid + 1) / (tempo + 1). */
export function epochIndex(netuid: number, tempo: number, block: number): number {
  return Math.floor((block + netuid + 1) / (tempo + 1));
}

/** Blocks until the subnet's epoch runs; 0 means it runs in `block`; null when tempo is 0 (never). */
export function blocksUntilNextEpoch(netuid: number, tempo: number, block: number): number | null {
  if (tempo === 0) return null;
  return tempo - ((block + netuid + 1) % (tempo + 1));
}

export function epochInfoAt(netuid: number, tempo: number, block: number): EpochInfo {
  const until = blocksUntilNextEpoch(netuid, tempo, block);
  return {
    netuid,
    tempo,
    block,
    index: epochIndex(netuid, tempo, block),
    nextEpochBlock: until === null ? null : block + until,
    blocksUntilNextEpoch: until,
  };
}

/** First and last block of the epoch `index` (the window a v2 reveal must land in). */
export function epochBlockRange(netuid: number, tempo: number, index: number): { first: number; last: number } {
  const first = Math.max(0, index * (tempo + 1) - (netuid + 1));
  return { first, last: first + tempo };
}

export async function currentBlock(conn: ChainConnection, signal?: AbortSignal): Promise<number> {
  const api = await conn.ready(signal);
  const header = await api.rpc.chain.getHeader();
  return header.number.toNumber();
}

export async function blockHashOf(conn: ChainConnection, blockNumber: number, signal?: AbortSignal): Promise<string> {
  if (!Number.isSafeInteger(blockNumber) || blockNumber < 0)
    throw new SubtensorError('INVALID_INPUT', `block number ${blockNumber} is not a non-negative integer.`);
  const api = await conn.ready(signal);
  const hash = await api.rpc.chain.getBlockHash(blockNumber);
  if (hash.isEmpty) throw new SubtensorError('NOT_FOUND', `block ${blockNumber} is not known to the node (not produced yet, or pruned).`);
  return hash.toHex();
}

/**
 * One chain head subscription shared by all listeners. After a reconnect the
 * provider sends the subscription again to the (possibly restarted) node; heads
 * are deduplicated by hash so a listener never sees one twice.
 */
export class HeadWatcher {
  readonly #conn: ChainConnection;
  readonly #logger: Logger;
  readonly #listeners = new Set<(head: BlockHead) => void>();
  #unsubscribe: (() => void) | null = null;
  #starting: Promise<void> | null = null;
  #lastHash = '';
  latest: BlockHead | null = null;

  constructor(conn: ChainConnection, logger: Logger) {
    this.#conn = conn;
    this.#logger = logger;
  }

  subscribe(cb: (head: BlockHead) => void): () => void {
    this.#listeners.add(cb);
    this.#ensureSubscribed();
    return () => {
      this.#listeners.delete(cb);
      if (this.#listeners.size === 0) this.#stop();
    };
  }

  /** Heads as an async iterator; keeps only the newest unread head. */
  iterate(signal?: AbortSignal): AsyncIterableIterator<BlockHead> {
    let pending: BlockHead | null = null;
    let wake: (() => void) | null = null;
    let done = false;
    const unsubscribe = this.subscribe((head) => {
      pending = head;
      wake?.();
    });
    const stop = () => {
      done = true;
      unsubscribe();
      wake?.();
    };
    signal?.addEventListener('abort', stop, { once: true });
    if (signal?.aborted) stop();
    const iterator: AsyncIterableIterator<BlockHead> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (!done && pending === null) await new Promise<void>((r) => (wake = r));
        wake = null;
        if (done) return { done: true, value: undefined };
        const head = pending!;
        pending = null;
        return { done: false, value: head };
      },
      return: async () => {
        signal?.removeEventListener('abort', stop);
        stop();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  close(): void {
    this.#listeners.clear();
    this.#stop();
  }

  #ensureSubscribed(): void {
    if (this.#unsubscribe || this.#starting || this.#conn.state === 'closed') return;
    this.#starting = (async () => {
      try {
        const api = await this.#conn.ready();
        const unsub = await api.rpc.chain.subscribeNewHeads((header: Header) => this.#emit(header));
        if (this.#listeners.size === 0) unsub();
        else this.#unsubscribe = unsub;
      } catch (err) {
        if (this.#conn.state === 'closed') return;
        this.#logger.warn({ err: redactText(errorMessage(err)) }, 'could not subscribe to new heads; retrying after the next reconnect');
        const off = this.#conn.onReconnect(() => {
          off();
          if (this.#listeners.size > 0) this.#ensureSubscribed();
        });
      } finally {
        this.#starting = null;
      }
    })();
  }

  #stop(): void {
    try {
      this.#unsubscribe?.();
    } catch {
      // the old subscription died with its socket
    }
    this.#unsubscribe = null;
  }

  #emit(header: Header): void {
    const head = { number: header.number.toNumber(), hash: header.hash.toHex() };
    if (head.hash === this.#lastHash) return;
    this.#lastHash = head.hash;
    this.latest = head;
    this.#conn.noticeRuntime();
    for (const cb of this.#listeners) {
      try {
        cb(head);
      } catch (err) {
        this.#logger.error({ err: errorMessage(err) }, 'a new-head listener threw');
      }
    }
  }
}
