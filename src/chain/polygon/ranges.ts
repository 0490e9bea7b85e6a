/**
 * Inclusive block ranges and sets of them (sorted, disjoint, adjacent ranges merged).
 * The scanner's coverage is such a set: what has been fetched completely, nothing else.
 */
export interface BlockRange {
  from: number;
  to: number;
}

export function rangeSize(r: BlockRange): number {
  return r.to - r.from + 1;
}

/** Blocks in a set of disjoint ranges. */
export function blockCount(set: readonly BlockRange[]): number {
  return set.reduce((n, r) => n + rangeSize(r), 0);
}

/** Adds a range to a normalized set, returning a new normalized set. */
export function addRange(set: readonly BlockRange[], r: BlockRange): BlockRange[] {
  if (r.to < r.from) return [...set];
  const out: BlockRange[] = [];
  let from = r.from;
  let to = r.to;
  let placed = false;
  for (const s of set) {
    if (s.to + 1 < from) out.push(s);
    else if (s.from > to + 1) {
      if (!placed) {
        out.push({ from, to });
        placed = true;
      }
      out.push(s);
    } else {
      from = Math.min(from, s.from);
      to = Math.max(to, s.to);
    }
  }
  if (!placed) out.push({ from, to });
  return out;
}

/** The parts of [window.from, window.to] not in the set, in order. */
export function gapsIn(set: readonly BlockRange[], window: BlockRange): BlockRange[] {
  const gaps: BlockRange[] = [];
  let next = window.from;
  for (const s of set) {
    if (s.to < next) continue;
    if (s.from > window.to) break;
    if (s.from > next) gaps.push({ from: next, to: Math.min(s.from - 1, window.to) });
    next = Math.max(next, s.to + 1);
    if (next > window.to) break;
  }
  if (next <= window.to) gaps.push({ from: next, to: window.to });
  return gaps;
}

/** The set with everything below `from` removed. */
export function clipBelow(set: readonly BlockRange[], from: number): BlockRange[] {
  return set.filter((s) => s.to >= from).map((s) => (s.from < from ? { from, to: s.to } : s));
}

/** The set without the blocks above `to`. */
export function clipAbove(set: readonly BlockRange[], to: number): BlockRange[] {
  return set.filter((s) => s.from <= to).map((s) => (s.to > to ? { from: s.from, to } : s));
}

/** The highest block b such that [from, b] is fully in the set, or from - 1 when `from` itself is missing. */
export function coveredThrough(set: readonly BlockRange[], from: number): number {
  for (const s of set) {
    if (s.from <= from && s.to >= from) return s.to;
    if (s.from > from) break;
  }
  return from - 1;
}

/** Checks the invariant (sorted, disjoint, non-adjacent, non-negative integers). */
export function isNormalized(set: readonly BlockRange[]): boolean {
  for (let i = 0; i < set.length; i++) {
    const s = set[i]!;
    if (!Number.isSafeInteger(s.from) || !Number.isSafeInteger(s.to) || s.from < 0 || s.to < s.from) return false;
    if (i > 0 && s.from <= set[i - 1]!.to + 1) return false;
  }
  return true;
}

export function formatRanges(set: readonly BlockRange[]): string {
  return set.map((r) => (r.from === r.to ? `${r.from}` : `${r.from}-${r.to}`)).join(', ');
}
