import { errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { StoreError } from '../../store/errors.js';
import type { ClaimsWindow } from './claimsStore.js';
import type { EndpointPool } from './endpointPool.js';
import { PolygonError } from './errors.js';
import { getChannelClaims, splitRange, type ChunkSizer } from './getLogs.js';
import { rangeSize, type BlockRange } from './ranges.js';

/**
 * Fetches block ranges into the claims window: chunks in parallel over the endpoint pool, each
 * stored as it completes (its claims and its coverage together), a refused range split in two,
 * a range that fails after every retry of the pool reported with why, and tried again in the
 * next pass. Nothing is skipped: a range is either stored or in `failures`.
 */

export interface MissingRange extends BlockRange {
  reason: string;
}

export interface FetchRangesParameters {
  pool: EndpointPool;
  /** Lowercase contract addresses. */
  contracts: readonly string[];
  store: ClaimsWindow;
  sizer: ChunkSizer;
  ranges: readonly BlockRange[];
  /** Extra passes over the ranges that failed. */
  retryPasses: number;
  signal?: AbortSignal;
  logger: Logger | null;
  /** After each range is stored: its size in blocks and the claims it added. */
  onStored?: (blocks: number, newClaims: number) => void;
}

export interface FetchRangesResult {
  newClaims: number;
  blocksFetched: number;
  rangeSplits: number;
  /** Every failure of every pass, in order (a range that failed and then succeeded is here too). */
  failures: MissingRange[];
  /** True when the store refused a fetched range (e.g. a full disk): the range is then in `failures`. */
  storeFailed: boolean;
}

/** Ranges to fetch: split halves first, then the gaps cut into chunks of the current size. */
class RangeQueue {
  private readonly urgent: BlockRange[] = [];
  private readonly gaps: BlockRange[];
  private wake: (() => void) | null = null;
  /** Ranges handed out and not finished. */
  inFlight = 0;

  constructor(
    gaps: readonly BlockRange[],
    private readonly sizer: ChunkSizer,
  ) {
    this.gaps = gaps.map((g) => ({ ...g }));
  }

  /** The next range to fetch (counted in flight until `finished`), or undefined when none is waiting. */
  next(): BlockRange | undefined {
    const range = this.take();
    if (range) this.inFlight += 1;
    return range;
  }

  finished(): void {
    this.inFlight -= 1;
    this.notify();
  }

  pushFront(...ranges: BlockRange[]): void {
    this.urgent.unshift(...ranges);
    this.notify();
  }

  /** Resolves on the next push or finished range. */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => {
        prev?.();
        resolve();
      };
    });
  }

  private take(): BlockRange | undefined {
    const split = this.urgent.shift();
    if (split) return split;
    const gap = this.gaps[0];
    if (!gap) return undefined;
    const to = Math.min(gap.to, gap.from + this.sizer.size - 1);
    const chunk = { from: gap.from, to };
    if (to >= gap.to) this.gaps.shift();
    else gap.from = to + 1;
    return chunk;
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

const emptyResult = (): FetchRangesResult => ({ newClaims: 0, blocksFetched: 0, rangeSplits: 0, failures: [], storeFailed: false });

function sum(results: readonly FetchRangesResult[]): FetchRangesResult {
  return results.reduce(
    (t, r) => ({
      newClaims: t.newClaims + r.newClaims,
      blocksFetched: t.blocksFetched + r.blocksFetched,
      rangeSplits: t.rangeSplits + r.rangeSplits,
      failures: [...t.failures, ...r.failures],
      storeFailed: t.storeFailed || r.storeFailed,
    }),
    emptyResult(),
  );
}

/** All passes: the first over `ranges`, each further one over what the previous could not fetch. */
export async function fetchRanges(p: FetchRangesParameters): Promise<FetchRangesResult> {
  const passes: FetchRangesResult[] = [];
  for (let pending = p.ranges; passes.length <= p.retryPasses && pending.length > 0 && !p.signal?.aborted; ) {
    const pass = await fetchPass(p, pending);
    passes.push(pass);
    pending = pass.failures.map(({ from, to }) => ({ from, to }));
  }
  return sum(passes);
}

/** One pass: as many workers as the pool has slots (at most 64), taking ranges from one queue. */
async function fetchPass(p: FetchRangesParameters, ranges: readonly BlockRange[]): Promise<FetchRangesResult> {
  const queue = new RangeQueue(ranges, p.sizer);
  const workers = Math.max(1, Math.min(64, p.pool.capacity));
  return sum(await Promise.all(Array.from({ length: workers }, () => worker(p, queue))));
}

/** Takes ranges until the queue is empty and nothing is in flight (a range in flight may come back split). */
async function worker(p: FetchRangesParameters, queue: RangeQueue): Promise<FetchRangesResult> {
  const done = emptyResult();
  for (;;) {
    if (p.signal?.aborted) return done;
    const range = queue.next();
    if (!range) {
      if (queue.inFlight === 0) return done;
      await queue.changed();
      continue;
    }
    try {
      await fetchOne(p, range, queue, done);
    } finally {
      queue.finished();
    }
  }
}

async function fetchOne(p: FetchRangesParameters, range: BlockRange, queue: RangeQueue, done: FetchRangesResult): Promise<void> {
  try {
    const claims = await getChannelClaims(p.pool, { contracts: p.contracts, range, signal: p.signal });
    const added = p.store.addRange(range, claims);
    p.sizer.onSuccess();
    done.newClaims += added;
    done.blocksFetched += rangeSize(range);
    p.onStored?.(rangeSize(range), added);
  } catch (err) {
    if (p.signal?.aborted) return; // the range stays uncovered; the caller reports the abort
    if (err instanceof PolygonError && err.code === 'POLYGON_RANGE_TOO_LARGE' && rangeSize(range) > 1) {
      done.rangeSplits += 1;
      p.sizer.onRangeTooLarge(rangeSize(range));
      queue.pushFront(...splitRange(range));
      return;
    }
    done.failures.push({ ...range, reason: errorMessage(err) });
    if (err instanceof StoreError) done.storeFailed = true;
    p.logger?.warn({ from: range.from, to: range.to, error: errorMessage(err) }, 'block range could not be fetched');
  }
}
