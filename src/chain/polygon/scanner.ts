import type { Logger } from '../../observability/logger.js';
import { claimsIdentity, ClaimsStore, type ClaimsWindow, type ProviderClaims } from './claimsStore.js';
import type { EndpointPool } from './endpointPool.js';
import { PolygonError } from './errors.js';
import { fetchRanges, type MissingRange } from './fetchRanges.js';
import { ChunkSizer, type ChannelClaim } from './getLogs.js';
import { blockCount, clipAbove, clipBelow, coveredThrough, formatRanges, type BlockRange } from './ranges.js';
import { isEmptyRange, missingRanges, planScan, type ScanPlan } from './scanPlan.js';

/**
 * The DRAIN claims scanner. A round fetches ChannelClaimed logs of the configured contracts over
 * the rolling window that ends `confirmations` blocks below the head, but only the blocks not
 * fetched before: the store remembers which ranges were covered completely. Chunks run in
 * parallel over the endpoint pool; a refused range is split; a range that still fails after
 * every retry is reported in `missingRanges`, never skipped. The validator scores with
 * `claimsByProvider()`, the totals of the last round that covered its whole window.
 *
 * Work is stored as it completes (each range's claims and coverage in one transaction of the
 * claims database), so a crash or kill in the middle of a long backfill loses at most the
 * chunks in flight and counts nothing twice.
 */

export type { MissingRange } from './fetchRanges.js';

export interface ClaimsCompleteness {
  /** Window of the totals `claimsByProvider()` returns; null before the first complete round. */
  lastCompleteWindow: BlockRange | null;
  lastCompleteAt: number | null;
  /** The latest round: whether it covered its whole window, and what it could not fetch. */
  lastRound: { window: BlockRange; complete: boolean; missingRanges: MissingRange[]; finishedAt: number } | null;
}

/** What the validator depends on: claims per provider plus how complete they are. */
export interface ClaimsSource {
  /** Per lowercase provider address, from the last round that covered its whole window (empty before one). */
  claimsByProvider(): Map<string, ProviderClaims>;
  completeness(): ClaimsCompleteness;
}

export interface ScanProgress {
  window: BlockRange;
  /** Blocks this round had to fetch (the gaps at its start). */
  totalBlocks: number;
  doneBlocks: number;
  requests: number;
  claimsFound: number;
  elapsedMs: number;
  blocksPerSecond: number;
  /** Estimated time left; null until a rate is known. */
  etaMs: number | null;
}

/** The scan as the status page shows it: the window, how much of it is covered, the round running now. */
export interface ClaimsScanStatus {
  /** Window of the round running now, else of the last round; null before any round. */
  window: BlockRange | null;
  /** Blocks of that window fetched completely so far. */
  coveredBlocks: number;
  /** Progress of the round running now (as last reported); null when none runs. */
  running: ScanProgress | null;
}

export interface ClaimsScannerOptions {
  pool: EndpointPool;
  /** DrainChannel contract addresses (checked and lowercased). */
  contracts: readonly string[];
  /** Kept with the state so a state of another chain is never reused. */
  chainId?: number | null;
  /** Starting eth_getLogs span (LOG_CHUNK_SIZE). */
  chunkSize?: number;
  /** Largest span after growing back from a split; defaults to chunkSize. */
  maxChunkSize?: number;
  /** Blocks a claim must be deep to count (the newer ones are fetched once deep enough). */
  confirmations?: number;
  /** Rolling window length in blocks (days × blocks per day). */
  windowBlocks?: number;
  /**
   * Where claims and covered ranges are kept: a `ClaimsDatabase` (SQLite, survives restarts) or,
   * by default, a `ClaimsStore` in memory. It must be for the same contracts and chain.
   */
  store?: ClaimsWindow | null;
  /** Extra passes over failed ranges at the end of a round. */
  retryPasses?: number;
  logger?: Logger | null;
  onProgress?: (progress: ScanProgress) => void;
  now?: () => number;
}

export interface RunRoundOptions {
  signal?: AbortSignal;
  /** A fixed window (e.g. `hs58 scan --from --to`) instead of the rolling one; `to` defaults to the confirmed head. */
  window?: { from: number; to?: number };
}

export interface ScanRoundResult {
  head: number;
  confirmedHead: number;
  window: BlockRange;
  /** True when every block of the window is covered. */
  complete: boolean;
  /** Exactly the parts of the window not covered, with why. */
  missingRanges: MissingRange[];
  /** Highest block b with [window.from, b] fully covered (window.from - 1 when none). */
  coveredThrough: number;
  /** Totals over the window from what is covered (partial when !complete). */
  totals: Map<string, ProviderClaims>;
  newClaims: number;
  droppedClaims: number;
  blocksFetched: number;
  requests: number;
  rangeSplits: number;
  durationMs: number;
  /** False when the store refused a fetched range (that range is then missing). */
  stateSaved: boolean;
}

const copyTotals = (totals: ReadonlyMap<string, ProviderClaims>) => new Map([...totals].map(([p, t]) => [p, { ...t }]));

export class ClaimsScanner implements ClaimsSource {
  private readonly pool: EndpointPool;
  private readonly contracts: readonly string[];
  private readonly confirmations: number;
  private readonly windowBlocks: number;
  private readonly sizer: ChunkSizer;
  private readonly store: ClaimsWindow;
  private readonly retryPasses: number;
  private readonly logger: Logger | null;
  private readonly onProgress: ((p: ScanProgress) => void) | undefined;
  private readonly now: () => number;
  private running = false;
  private progressNow: ScanProgress | null = null;
  private lastRound: ClaimsCompleteness['lastRound'] = null;

  constructor(options: ClaimsScannerOptions) {
    const identity = claimsIdentity(options.contracts, options.chainId ?? null);
    const nonNegative = (v: number, what: string) => {
      if (!Number.isSafeInteger(v) || v < 0) throw new PolygonError('POLYGON_INVALID_INPUT', `${what} ${v} must be a non-negative integer`);
      return v;
    };
    this.pool = options.pool;
    this.contracts = identity.contracts;
    this.confirmations = nonNegative(options.confirmations ?? 32, 'confirmations');
    this.windowBlocks = nonNegative(options.windowBlocks ?? 7 * 43_200, 'window length in blocks');
    if (this.windowBlocks < 1) throw new PolygonError('POLYGON_INVALID_INPUT', 'the claims window must be at least one block');
    const chunk = options.chunkSize ?? 2_000;
    this.sizer = new ChunkSizer(chunk, Math.max(chunk, options.maxChunkSize ?? chunk));
    this.store = options.store ?? new ClaimsStore(identity);
    if (this.store.contracts.join() !== identity.contracts.join() || this.store.chainId !== identity.chainId) {
      throw new PolygonError(
        'POLYGON_INVALID_INPUT',
        `the claims store is kept for contracts ${this.store.contracts.join(', ')} on chain ${this.store.chainId}, not this scanner's`,
      );
    }
    this.retryPasses = options.retryPasses ?? 1;
    this.logger = options.logger ?? null;
    this.onProgress = options.onProgress;
    this.now = options.now ?? Date.now;
  }

  claimsByProvider(): Map<string, ProviderClaims> {
    return copyTotals(this.store.lastComplete?.providers ?? new Map());
  }

  completeness(): ClaimsCompleteness {
    const snap = this.store.lastComplete;
    return {
      lastCompleteWindow: snap ? { ...snap.window } : null,
      lastCompleteAt: snap?.completedAt ?? null,
      lastRound: this.lastRound,
    };
  }

  /** The window, its covered blocks and the progress of the round running now (cheap: no I/O). */
  scanStatus(): ClaimsScanStatus {
    const running = this.progressNow ? { ...this.progressNow, window: { ...this.progressNow.window } } : null;
    const window = running?.window ?? (this.lastRound ? { ...this.lastRound.window } : null);
    return { window, coveredBlocks: window ? blockCount(clipAbove(clipBelow(this.store.covered, window.from), window.to)) : 0, running };
  }

  /** The claims currently held (inside `window` when given), for inspection and tests. */
  async claims(window?: BlockRange): Promise<ChannelClaim[]> {
    return this.store.list(window);
  }

  /** Ranges fetched completely so far. */
  async covered(): Promise<readonly BlockRange[]> {
    return this.store.covered;
  }

  /**
   * One round. Throws (PolygonError, or the abort reason; what was fetched stays stored) when no
   * chain head can be had or the signal aborts; `claimsByProvider()` then keeps its last complete data.
   */
  async runRound(options: RunRoundOptions = {}): Promise<ScanRoundResult> {
    if (this.running) throw new PolygonError('POLYGON_INVALID_INPUT', 'a scan round is already running');
    this.running = true;
    try {
      return await this.round(options);
    } finally {
      this.running = false;
      this.progressNow = null;
    }
  }

  /** head → forget past it → plan → drop below the window → fetch the gaps → what is missing → totals. */
  private async round({ signal, window: fixed }: RunRoundOptions): Promise<ScanRoundResult> {
    const started = this.now();
    const requestsBefore = this.pool.requestCount;
    const head = await this.pool.blockNumber({ signal });
    this.forgetPastHead(head);
    const plan = planScan({ head, confirmations: this.confirmations, windowBlocks: this.windowBlocks, fixed });
    const droppedClaims = this.store.dropBelow(plan.window.from);
    const gaps = this.gapsIn(plan.fetchable);
    this.logger?.info({ head, window: plan.window, toFetch: blockCount(gaps), gaps: gaps.length }, 'scan round started');
    const progress = this.progressMeter(plan.window, blockCount(gaps), started, requestsBefore);
    const fetched = await fetchRanges({
      pool: this.pool,
      contracts: this.contracts,
      store: this.store,
      sizer: this.sizer,
      ranges: gaps,
      retryPasses: this.retryPasses,
      signal,
      logger: this.logger,
      onStored: progress.add,
    });
    signal?.throwIfAborted();
    const missing = missingRanges(this.gapsIn(plan.fetchable), fetched.failures, plan.unconfirmed);
    const { totals, finishedAt } = this.finishRound(plan, missing);
    const result: ScanRoundResult = {
      head,
      confirmedHead: plan.confirmedHead,
      window: plan.window,
      complete: missing.length === 0,
      missingRanges: missing,
      coveredThrough: coveredThrough(this.store.covered, plan.window.from),
      totals,
      newClaims: fetched.newClaims,
      droppedClaims,
      blocksFetched: fetched.blocksFetched,
      requests: this.pool.requestCount - requestsBefore,
      rangeSplits: fetched.rangeSplits,
      durationMs: finishedAt - started,
      stateSaved: !fetched.storeFailed,
    };
    this.logger?.info(
      {
        window: plan.window,
        complete: result.complete,
        newClaims: result.newClaims,
        blocksFetched: result.blocksFetched,
        requests: result.requests,
        ms: result.durationMs,
      },
      'scan round finished',
    );
    return result;
  }

  /** A saved state cannot know blocks the chain has not produced (another chain's state, an edited one): those are forgotten. */
  private forgetPastHead(head: number): void {
    const beyond = this.store.dropAbove(head);
    if (beyond.blocks > 0 || beyond.claims > 0 || beyond.lastComplete) {
      this.logger?.warn(
        { head, forgottenBlocks: beyond.blocks, forgottenClaims: beyond.claims, completeWindowDropped: beyond.lastComplete },
        'scanner state reaches past the chain head: that part is forgotten and fetched again once the blocks exist',
      );
    }
  }

  private gapsIn(range: BlockRange): BlockRange[] {
    return isEmptyRange(range) ? [] : this.store.gaps(range);
  }

  /** The window's totals; kept as the last complete ones when nothing is missing. */
  private finishRound(plan: ScanPlan, missing: MissingRange[]): { totals: Map<string, ProviderClaims>; finishedAt: number } {
    const finishedAt = this.now();
    const complete = missing.length === 0;
    const totals = this.store.totals(plan.window);
    if (complete) this.store.setLastComplete({ window: { ...plan.window }, providers: copyTotals(totals), completedAt: finishedAt });
    this.lastRound = { window: { ...plan.window }, complete, missingRanges: missing, finishedAt };
    if (!complete) {
      this.logger?.warn({ window: plan.window, missing: formatRanges(missing) }, 'scan round incomplete; scoring keeps the last complete totals');
    }
    return { totals, finishedAt };
  }

  /** Counts stored blocks and claims, keeps the progress for `scanStatus()` and reports it to `onProgress`. */
  private progressMeter(window: BlockRange, totalBlocks: number, started: number, requestsBefore: number): { add: (blocks: number, claims: number) => void } {
    const done = { blocks: 0, claims: 0 };
    const report = () => {
      const elapsedMs = this.now() - started;
      const rate = elapsedMs > 0 ? (done.blocks * 1000) / elapsedMs : 0;
      this.progressNow = {
        window,
        totalBlocks,
        doneBlocks: done.blocks,
        requests: this.pool.requestCount - requestsBefore,
        claimsFound: done.claims,
        elapsedMs,
        blocksPerSecond: rate,
        etaMs: rate > 0 ? ((totalBlocks - done.blocks) * 1000) / rate : null,
      };
      this.onProgress?.(this.progressNow);
    };
    report();
    return {
      add: (blocks, claims) => {
        done.blocks += blocks;
        done.claims += claims;
        report();
      },
    };
  }
}

/** Days × blocks per day, rounded; the rolling window's length. */
export function windowBlocksFor(days: number, blocksPerDay: number): number {
  if (!(days > 0) || !Number.isFinite(days) || !Number.isSafeInteger(blocksPerDay) || blocksPerDay < 1) {
    throw new PolygonError('POLYGON_INVALID_INPUT', `window of ${days} days at ${blocksPerDay} blocks a day is not usable`);
  }
  return Math.max(1, Math.round(days * blocksPerDay));
}
