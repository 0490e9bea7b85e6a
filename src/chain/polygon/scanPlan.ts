import { PolygonError } from './errors.js';
import type { MissingRange } from './fetchRanges.js';
import type { BlockRange } from './ranges.js';

/**
 * What a scan round covers, from the chain head: pure arithmetic, tested with plain numbers.
 * The rolling window ends `confirmations` blocks below the head; a fixed window (`hs58 scan
 * --from --to`) may reach past that, and its unconfirmed part is reported missing, never read.
 */

export interface ScanPlan {
  confirmedHead: number;
  window: BlockRange;
  /** The part of the window deep enough to fetch. */
  fetchable: BlockRange;
  /** The part of a fixed window not final yet (empty for the rolling window). */
  unconfirmed: MissingRange[];
}

export function planScan(p: { head: number; confirmations: number; windowBlocks: number; fixed?: { from: number; to?: number } }): ScanPlan {
  const confirmedHead = p.head - p.confirmations;
  if (!p.fixed) {
    const window = { from: Math.max(0, confirmedHead - p.windowBlocks + 1), to: confirmedHead };
    return { confirmedHead, window, fetchable: window, unconfirmed: [] };
  }
  const { from } = p.fixed;
  const to = p.fixed.to ?? Math.max(from, confirmedHead);
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from) {
    throw new PolygonError('POLYGON_INVALID_INPUT', `bad block window ${from}-${to}: need 0 <= from <= to`);
  }
  const unconfirmed =
    to > confirmedHead ? [{ from: Math.max(from, confirmedHead + 1), to, reason: `not final yet: head ${p.head}, ${p.confirmations} confirmations` }] : [];
  return { confirmedHead, window: { from, to }, fetchable: { from, to: Math.min(to, confirmedHead) }, unconfirmed };
}

/** Exactly the parts of the window not covered: the gaps left, each with the last failure that touched it, then the unconfirmed part. */
export function missingRanges(gapsLeft: readonly BlockRange[], failures: readonly MissingRange[], unconfirmed: readonly MissingRange[]): MissingRange[] {
  return [...gapsLeft.map((g) => ({ ...g, reason: failures.filter((f) => f.from <= g.to && f.to >= g.from).at(-1)?.reason ?? 'not fetched' })), ...unconfirmed];
}

/** An empty range (to < from) has no gaps: a window entirely above the confirmed head. */
export function isEmptyRange(r: BlockRange): boolean {
  return r.to < r.from;
}
