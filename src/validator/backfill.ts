/**
 * The claims backfill as the operator sees it. The first scan of a 7-day window fetches about
 * 300,000 Polygon blocks and runs past the claims step's budget: the validator logs its progress
 * every few seconds (percent, blocks/s, time left), `/status` shows it, and a round that scores
 * meanwhile says so in its report. The small scans of the rounds after it are not logged.
 */
import type { ClaimsCompleteness, ClaimsScanStatus, ScanProgress } from '../chain/polygon/scanner.js';
import type { Logger } from '../observability/logger.js';

export interface BackfillLogOptions {
  /** Time between two progress lines (default 5 s). */
  intervalMs?: number;
  /** A scan with at least this many blocks to fetch is logged from its start (default 5,000: about 3 h of Polygon). */
  minBlocks?: number;
  /** A smaller scan is logged once it has run this long (default 5 s). */
  minElapsedMs?: number;
  now?: () => number;
}

const BACKFILL_LOG_DEFAULTS = { intervalMs: 5_000, minBlocks: 5_000, minElapsedMs: 5_000 } as const;

/** Whole percent done, never 100 before the last block. */
export function percentDone(p: Pick<ScanProgress, 'doneBlocks' | 'totalBlocks'>): number {
  if (p.totalBlocks <= 0 || p.doneBlocks >= p.totalBlocks) return 100;
  return Math.min(99, Math.floor((100 * p.doneBlocks) / p.totalBlocks));
}

/** A duration for people: `45 s`, `4 min`, `2 h 05 min`. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

/** A whole count for people: `302,400`. */
export const count = (n: number) => Math.round(n).toLocaleString('en-US');

/** `about 4 min left`, or that it is not known yet. */
export const timeLeft = (etaMs: number | null) => (etaMs === null ? 'time left unknown yet' : `about ${formatDuration(etaMs)} left`);

/**
 * The scanner's `onProgress` for the validator: a line at most every `intervalMs` while a scan
 * that is large (or slow) runs, and one when it is done. Progress reports come as ranges are stored.
 */
export function backfillProgressLog(logger: Logger, options: BackfillLogOptions = {}): (p: ScanProgress) => void {
  const { intervalMs, minBlocks, minElapsedMs } = { ...BACKFILL_LOG_DEFAULTS, ...options };
  const now = options.now ?? Date.now;
  const log = logger.child({ module: 'claims-backfill' });
  let scan = '';
  let lastElapsed = 0;
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let ended = false;
  return (p) => {
    // A new round: another window or block count, or its clock started again.
    const key = `${p.window.from}-${p.window.to}-${p.totalBlocks}`;
    if (key !== scan || p.elapsedMs < lastElapsed) {
      scan = key;
      lastLineAt = Number.NEGATIVE_INFINITY;
      ended = false;
    }
    lastElapsed = p.elapsedMs;
    if (ended || (p.totalBlocks < minBlocks && p.elapsedMs < minElapsedMs)) return;
    const fields = {
      percent: percentDone(p),
      doneBlocks: p.doneBlocks,
      totalBlocks: p.totalBlocks,
      blocksPerSecond: Math.round(p.blocksPerSecond),
      etaSec: p.etaMs === null ? null : Math.round(p.etaMs / 1000),
      window: p.window,
      requests: p.requests,
      claimsFound: p.claimsFound,
    };
    if (p.doneBlocks >= p.totalBlocks) {
      ended = true;
      log.info(
        { ...fields, seconds: Math.round(p.elapsedMs / 1000) },
        `claims backfill: ${count(p.totalBlocks)} blocks fetched in ${formatDuration(p.elapsedMs)}`,
      );
      return;
    }
    if (now() - lastLineAt < intervalMs) return;
    lastLineAt = now();
    log.info(fields, `claims backfill: ${fields.percent} % of ${count(p.totalBlocks)} blocks, ${count(p.blocksPerSecond)} blocks/s, ${timeLeft(p.etaMs)}`);
  };
}

/**
 * What a round says while a scan runs past the claims step: `first backfill 37 % of 302,400 blocks
 * (ETA 4 min)` (`backfill …` when a complete window exists: catching up after a stop); null when no scan runs.
 */
export function backfillPhrase(scan: ClaimsScanStatus | undefined, completeness: Pick<ClaimsCompleteness, 'lastCompleteWindow'>): string | null {
  const p = scan?.running;
  if (!p) return null;
  const first = completeness.lastCompleteWindow === null ? 'first backfill' : 'backfill';
  const eta = p.etaMs === null ? 'ETA unknown yet' : `ETA ${formatDuration(p.etaMs)}`;
  return `${first} ${percentDone(p)} % of ${count(p.totalBlocks)} blocks (${eta})`;
}
