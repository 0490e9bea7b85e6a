import { errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import { ClaimsStore, type ClaimsSnapshot, type ClaimsStateJSON, type ProviderClaims } from './claimsStore.js';
import type { EndpointPool } from './endpointPool.js';
import { PolygonError } from './errors.js';
import { ChunkSizer, getChannelClaims, normalizeAddress, splitRange, type ChannelClaim } from './getLogs.js';
import { coveredThrough, formatRanges, rangeSize, type BlockRange } from './ranges.js';
import type { StateStore } from '../../store/jsonFile.js';

/**
 * The DRAIN claims scanner. A round fetches ChannelClaimed logs of the configured contracts over
 * the rolling window that ends `confirmations` blocks below the head, but only the blocks not
 * fetched before: the store remembers which ranges were covered completely. Chunks run in
 * parallel over the endpoint pool; a refused range is split; a range that still fails after
 * every retry is reported in `missingRanges`, never skipped. The validator scores with
 * `claimsByProvider()`, the totals of the last round that covered its whole window.
 *
 * Work is saved as it completes (claims and coverage together, atomically), so a crash or kill
 * in the middle of a long backfill loses at most the chunks in flight and counts nothing twice.
 */

export interface MissingRange extends BlockRange {
  reason: string;
}

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

export interface ClaimsScannerOptions {
  pool: EndpointPool;
  /** DrainChannel contract addresses (checked and lowercased). */
  contracts: readonly string[];
  /** Recorded with the state so a state file of another chain is never reused. */
  chainId?: number | null;
  /** Starting eth_getLogs span (LOG_CHUNK_SIZE). */
  chunkSize?: number;
  /** Largest span after growing back from a split; defaults to chunkSize. */
  maxChunkSize?: number;
  /** Blocks a claim must be deep to count (the newer ones are fetched once deep enough). */
  confirmations?: number;
  /** Rolling window length in blocks (days × blocks per day). */
  windowBlocks?: number;
  store?: StateStore<ClaimsStateJSON> | null;
  /** Saves during a round at most this often (and always at its end). */
  saveIntervalMs?: number;
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
  stateSaved: boolean;
}

/** Ranges to fetch: split halves first, then the gaps cut into chunks of the current size. */
class RangeQueue {
  private readonly urgent: BlockRange[] = [];
  private readonly gaps: BlockRange[];
  private wake: (() => void) | null = null;

  constructor(
    gaps: readonly BlockRange[],
    private readonly sizer: ChunkSizer,
  ) {
    this.gaps = gaps.map((g) => ({ ...g }));
  }

  next(): BlockRange | undefined {
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

  pushFront(...ranges: BlockRange[]): void {
    this.urgent.unshift(...ranges);
    this.notify();
  }

  /** Resolves on the next push or notify (a worker finished). */
  changed(): Promise<void> {
    return new Promise((resolve) => {
      const prev = this.wake;
      this.wake = () => {
        prev?.();
        resolve();
      };
    });
  }

  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}

export class ClaimsScanner implements ClaimsSource {
  private readonly pool: EndpointPool;
  private readonly contracts: string[];
  private readonly chainId: number | null;
  private readonly confirmations: number;
  private readonly windowBlocks: number;
  private readonly sizer: ChunkSizer;
  private readonly stateStore: StateStore<ClaimsStateJSON> | null;
  private readonly saveIntervalMs: number;
  private readonly retryPasses: number;
  private readonly logger: Logger | null;
  private readonly onProgress: ((p: ScanProgress) => void) | undefined;
  private readonly now: () => number;
  private store: ClaimsStore | null = null;
  private running = false;
  private lastRound: ClaimsCompleteness['lastRound'] = null;
  /** How long the last state save took (toJSON and the file). */
  private lastSaveMs = 0;

  constructor(options: ClaimsScannerOptions) {
    const contracts = [...new Set(options.contracts.map((c) => normalizeAddress(c, 'DRAIN contract')))].sort();
    if (contracts.length === 0) throw new PolygonError('POLYGON_INVALID_INPUT', 'no DRAIN contract to scan: set DRAIN_CONTRACTS or --polygon.contracts');
    const nonNegative = (v: number, what: string) => {
      if (!Number.isSafeInteger(v) || v < 0) throw new PolygonError('POLYGON_INVALID_INPUT', `${what} ${v} must be a non-negative integer`);
      return v;
    };
    this.pool = options.pool;
    this.contracts = contracts;
    this.chainId = options.chainId ?? null;
    this.confirmations = nonNegative(options.confirmations ?? 32, 'confirmations');
    this.windowBlocks = nonNegative(options.windowBlocks ?? 7 * 43_200, 'window length in blocks');
    if (this.windowBlocks < 1) throw new PolygonError('POLYGON_INVALID_INPUT', 'the claims window must be at least one block');
    const chunk = options.chunkSize ?? 2_000;
    this.sizer = new ChunkSizer(chunk, Math.max(chunk, options.maxChunkSize ?? chunk));
    this.stateStore = options.store ?? null;
    this.saveIntervalMs = options.saveIntervalMs ?? 1_000;
    this.retryPasses = options.retryPasses ?? 1;
    this.logger = options.logger ?? null;
    this.onProgress = options.onProgress;
    this.now = options.now ?? Date.now;
  }

  claimsByProvider(): Map<string, ProviderClaims> {
    const snap = this.store?.lastComplete;
    return new Map([...(snap?.providers ?? [])].map(([p, t]) => [p, { ...t }]));
  }

  completeness(): ClaimsCompleteness {
    const snap: ClaimsSnapshot | null | undefined = this.store?.lastComplete;
    return {
      lastCompleteWindow: snap ? { ...snap.window } : null,
      lastCompleteAt: snap?.completedAt ?? null,
      lastRound: this.lastRound,
    };
  }

  /** The claims currently held (inside `window` when given), for inspection and tests. */
  async claims(window?: BlockRange): Promise<ChannelClaim[]> {
    return (await this.load()).list(window);
  }

  /** Ranges fetched completely so far. */
  async covered(): Promise<readonly BlockRange[]> {
    return (await this.load()).covered;
  }

  /**
   * One round. Throws (PolygonError, or the abort reason after saving progress) when no chain
   * head can be had or the signal aborts; `claimsByProvider()` then keeps its last complete data.
   */
  async runRound(options: RunRoundOptions = {}): Promise<ScanRoundResult> {
    if (this.running) throw new PolygonError('POLYGON_INVALID_INPUT', 'a scan round is already running');
    this.running = true;
    try {
      return await this.round(options);
    } finally {
      this.running = false;
    }
  }

  private async load(): Promise<ClaimsStore> {
    if (this.store) return this.store;
    const identity = { contracts: this.contracts, chainId: this.chainId };
    let store = new ClaimsStore(identity);
    if (this.stateStore) {
      try {
        const saved = await this.stateStore.load();
        if (saved !== null) store = ClaimsStore.fromJSON(saved, identity);
      } catch (err) {
        // A state we cannot use only costs a rescan; scanning with it could cost correctness.
        this.logger?.warn({ error: errorMessage(err) }, 'scanner state not usable; starting a fresh scan');
      }
    }
    this.store = store;
    return store;
  }

  private async round(options: RunRoundOptions): Promise<ScanRoundResult> {
    const { signal } = options;
    const started = this.now();
    const requestsBefore = this.pool.requestCount;
    const store = await this.load();
    const head = await this.pool.blockNumber({ signal });
    const confirmedHead = head - this.confirmations;
    const beyond = store.dropAbove(head);
    if (beyond.blocks > 0 || beyond.claims > 0 || beyond.lastComplete) {
      this.logger?.warn(
        { head, forgottenBlocks: beyond.blocks, forgottenClaims: beyond.claims, completeWindowDropped: beyond.lastComplete },
        'scanner state reaches past the chain head: that part is forgotten and fetched again once the blocks exist',
      );
    }

    let window: BlockRange;
    const unconfirmed: MissingRange[] = [];
    if (options.window) {
      const { from } = options.window;
      const to = options.window.to ?? Math.max(from, confirmedHead);
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
        throw new PolygonError('POLYGON_INVALID_INPUT', `bad block window ${from}-${to}: need 0 <= from <= to`);
      }
      window = { from, to };
      if (to > confirmedHead) {
        unconfirmed.push({ from: Math.max(from, confirmedHead + 1), to, reason: `not final yet: head ${head}, ${this.confirmations} confirmations` });
      }
    } else {
      window = { from: Math.max(0, confirmedHead - this.windowBlocks + 1), to: confirmedHead };
    }
    const fetchable: BlockRange = { from: window.from, to: Math.min(window.to, confirmedHead) };

    const droppedClaims = store.dropBelow(window.from);
    const gaps = fetchable.to >= fetchable.from ? store.gaps(fetchable) : [];
    const totalBlocks = gaps.reduce((n, g) => n + rangeSize(g), 0);
    this.logger?.info({ head, window, toFetch: totalBlocks, gaps: gaps.length }, 'scan round started');

    let doneBlocks = 0;
    let newClaims = 0;
    let rangeSplits = 0;
    let lastSave = this.now();
    let saving: Promise<void> | null = null;
    let stateSaved = true;
    const save = (): Promise<void> => {
      if (!this.stateStore) return Promise.resolve();
      const began = this.now();
      const saved = this.stateStore.saveSerialized ? this.stateStore.saveSerialized(store.jsonPieces()) : this.stateStore.save(store.toJSON());
      return saved.then(
        () => {
          stateSaved = true;
          this.lastSaveMs = this.now() - began;
        },
        (err) => {
          stateSaved = false;
          this.logger?.error({ error: errorMessage(err) }, 'could not save scanner state');
        },
      );
    };
    const report = () => {
      if (!this.onProgress) return;
      const elapsedMs = this.now() - started;
      const rate = elapsedMs > 0 ? (doneBlocks * 1000) / elapsedMs : 0;
      this.onProgress({
        window,
        totalBlocks,
        doneBlocks,
        requests: this.pool.requestCount - requestsBefore,
        claimsFound: newClaims,
        elapsedMs,
        blocksPerSecond: rate,
        etaMs: rate > 0 ? ((totalBlocks - doneBlocks) * 1000) / rate : null,
      });
    };
    report();

    const failures: MissingRange[] = [];
    let pending: BlockRange[] = gaps;
    for (let pass = 0; pass <= this.retryPasses && pending.length > 0 && !signal?.aborted; pass++) {
      const queue = new RangeQueue(pending, this.sizer);
      const passFailures: MissingRange[] = [];
      let inFlight = 0;
      const worker = async () => {
        for (;;) {
          if (signal?.aborted) return;
          const range = queue.next();
          if (!range) {
            if (inFlight === 0) return;
            await queue.changed();
            continue;
          }
          inFlight += 1;
          try {
            const claims = await getChannelClaims(this.pool, { contracts: this.contracts, range, signal });
            newClaims += store.addRange(range, claims);
            this.sizer.onSuccess();
            doneBlocks += rangeSize(range);
            report();
            // A save costs time in proportion to the claims held (0.4 s for 10⁵): never more than a tenth of the backfill.
            if (this.stateStore && !saving && this.now() - lastSave >= Math.max(this.saveIntervalMs, 10 * this.lastSaveMs)) {
              lastSave = this.now();
              saving = save().finally(() => {
                saving = null;
              });
            }
          } catch (err) {
            if (signal?.aborted) return; // the range stays uncovered; the abort is reported below
            if (err instanceof PolygonError && err.code === 'POLYGON_RANGE_TOO_LARGE' && rangeSize(range) > 1) {
              rangeSplits += 1;
              this.sizer.onRangeTooLarge(rangeSize(range));
              queue.pushFront(...splitRange(range));
            } else {
              passFailures.push({ ...range, reason: errorMessage(err) });
              this.logger?.warn({ from: range.from, to: range.to, error: errorMessage(err) }, 'block range could not be fetched');
            }
          } finally {
            inFlight -= 1;
            queue.notify();
          }
        }
      };
      const workers = Math.max(1, Math.min(64, this.pool.capacity));
      await Promise.all(Array.from({ length: workers }, worker));
      failures.push(...passFailures);
      pending = passFailures.map(({ from, to }) => ({ from, to }));
    }

    if (saving) await saving;
    if (signal?.aborted) {
      await save();
      throw signal.reason;
    }

    const missingRanges: MissingRange[] = [
      ...(fetchable.to >= fetchable.from ? store.gaps(fetchable) : []).map((g) => ({
        ...g,
        reason: failures.filter((f) => f.from <= g.to && f.to >= g.from).at(-1)?.reason ?? 'not fetched',
      })),
      ...unconfirmed,
    ];
    const complete = missingRanges.length === 0;
    const finishedAt = this.now();
    if (complete) store.lastComplete = { window: { ...window }, providers: store.totals(window), completedAt: finishedAt };
    await save();
    this.lastRound = { window: { ...window }, complete, missingRanges, finishedAt };
    if (!complete) {
      this.logger?.warn({ window, missing: formatRanges(missingRanges) }, 'scan round incomplete; scoring keeps the last complete totals');
    }
    const result: ScanRoundResult = {
      head,
      confirmedHead,
      window,
      complete,
      missingRanges,
      coveredThrough: coveredThrough(store.covered, window.from),
      totals: store.totals(window),
      newClaims,
      droppedClaims,
      blocksFetched: doneBlocks,
      requests: this.pool.requestCount - requestsBefore,
      rangeSplits,
      durationMs: finishedAt - started,
      stateSaved,
    };
    this.logger?.info(
      { window, complete, newClaims, blocksFetched: doneBlocks, requests: result.requests, ms: result.durationMs },
      'scan round finished',
    );
    return result;
  }
}

/** Days × blocks per day, rounded; the rolling window's length. */
export function windowBlocksFor(days: number, blocksPerDay: number): number {
  if (!(days > 0) || !Number.isFinite(days) || !Number.isSafeInteger(blocksPerDay) || blocksPerDay < 1) {
    throw new PolygonError('POLYGON_INVALID_INPUT', `window of ${days} days at ${blocksPerDay} blocks a day is not usable`);
  }
  return Math.max(1, Math.round(days * blocksPerDay));
}
