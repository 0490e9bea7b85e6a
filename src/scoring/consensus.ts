/**
 * Probe consensus and the accuracy of one miner's answer against it
 * (generation C, HS58-subnet 2.0.0 / 2.1.x), reproduced to the last float.
 */
import { invalidInput } from './errors.js';

/** `MAX_LATENCY_DEVIATION` of the Python validator, in ms. */
export const MAX_LATENCY_DEVIATION_MS = 2000;

/** Weights of the three parts of a probe answer's accuracy. */
export const ACCURACY_WEIGHTS = { reachable: 0.4, status: 0.3, latency: 0.3 } as const;

/**
 * One miner's answer to a `ProviderProbe`, as decoded from the wire. A field
 * the miner left out (or a miner that did not answer) is `null`; a response with
 * `reachable === null` casts no vote and scores 0.
 */
export interface ProbeResponse {
  uid: number;
  reachable: boolean | null;
  status: number | null;
  latencyMs: number | null;
}

export interface ProbeConsensus {
  reachable: boolean;
  /** The majority status; `null` when most voters sent no status (Python counts `None` as a vote). */
  status: number | null;
  /** `int(statistics.median(latencies > 0))`, or 0 when no voter sent a positive latency. */
  medianLatencyMs: number;
  /** Responses that voted (reachable set). */
  voters: number;
}

/**
 * '2.1': latency is a band, `lat > 0 ? (lat < 2000 ? 1 : 0) : (consensus reachable ? 0 : reachable match)`.
 * '2.0': distance to the median, `max(0, 1 − |lat − median| / 2000)` when both are > 0, else reachable match.
 */
export type LatencyRule = '2.1' | '2.0';

function isSafeIntOrNull(v: unknown): boolean {
  return v === null || (typeof v === 'number' && Number.isSafeInteger(v));
}

/**
 * Rejects what a decoded synapse can never hold (the Python class is pydantic
 * `Optional[int]` / `Optional[bool]`): the decoder must turn garbage into `null`.
 */
export function assertProbeResponse(r: ProbeResponse): void {
  if (typeof r !== 'object' || r === null) throw invalidInput('probe response must be an object', { value: String(r) });
  if (!Number.isSafeInteger(r.uid) || r.uid < 0) throw invalidInput('probe response uid must be a non-negative integer', { uid: r.uid });
  if (r.reachable !== null && typeof r.reachable !== 'boolean') {
    throw invalidInput('probe_reachable must be a boolean or null', { uid: r.uid, reachable: String(r.reachable) });
  }
  if (!isSafeIntOrNull(r.status)) throw invalidInput('probe_status must be an integer or null', { uid: r.uid, status: String(r.status) });
  if (!isSafeIntOrNull(r.latencyMs)) {
    throw invalidInput('probe_latency_ms must be an integer or null', { uid: r.uid, latencyMs: String(r.latencyMs) });
  }
}

/** A copy sorted by UID (the order the Python dendrite returns), refusing duplicate UIDs. */
export function inUidOrder(responses: readonly ProbeResponse[]): ProbeResponse[] {
  for (const r of responses) assertProbeResponse(r);
  const sorted = [...responses].sort((a, b) => a.uid - b.uid);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.uid === sorted[i - 1]!.uid) throw invalidInput('two probe responses for one uid', { uid: sorted[i]!.uid });
  }
  return sorted;
}

/**
 * The value with the most votes; on a tie the one seen first. This is
 * `Counter(votes).most_common(1)[0][0]`: Counter keeps insertion order and
 * `most_common(1)` is `max()`, which returns the first maximal item.
 */
export function majority<T>(votes: readonly T[]): T {
  const counts = new Map<T, number>();
  for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: T | undefined;
  let bestCount = 0;
  for (const [value, count] of counts) {
    if (count > bestCount) {
      best = value;
      bestCount = count;
    }
  }
  if (bestCount === 0) throw invalidInput('majority of no votes');
  return best as T;
}

/**
 * `int(statistics.median(xs))` for integers: the middle value, or for an even
 * count the mean of the two middle values truncated toward zero (150.5 → 150).
 * For safe integers `(a + b) / 2` in doubles equals Python's correctly rounded
 * true division, so the result is the same integer.
 */
export function integerMedian(values: readonly number[]): number {
  if (values.length === 0) throw invalidInput('median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) return sorted[mid]!;
  return Math.trunc((sorted[mid - 1]! + sorted[mid]!) / 2);
}

/**
 * Consensus of the responses to one probe: reachable and status by majority
 * (ties: first seen in UID order), median of the positive latencies. Only
 * responses with `reachable` set vote. No vote → `null` (the provider is skipped).
 */
export function computeConsensus(responses: readonly ProbeResponse[]): ProbeConsensus | null {
  const voters = inUidOrder(responses).filter((r) => r.reachable !== null);
  if (voters.length === 0) return null;
  const latencies = voters.map((r) => r.latencyMs).filter((l): l is number => l !== null && l > 0);
  return {
    reachable: majority(voters.map((r) => r.reachable as boolean)),
    status: majority(voters.map((r) => r.status)),
    medianLatencyMs: latencies.length > 0 ? integerMedian(latencies) : 0,
    voters: voters.length,
  };
}

/**
 * Accuracy in [0, 1] of one answer against the consensus:
 * `0.4·[reachable match] + 0.3·[status match] + 0.3·latency_score`, evaluated in
 * the same order as Python so the double is identical. No answer, or an answer
 * without `reachable`, scores 0.
 */
export function probeAccuracy(response: ProbeResponse | null | undefined, consensus: ProbeConsensus, rule: LatencyRule): number {
  if (response === null || response === undefined) return 0;
  assertProbeResponse(response);
  if (response.reachable === null) return 0;
  const reachableMatch = response.reachable === consensus.reachable ? 1 : 0;
  const statusMatch = response.status === consensus.status ? 1 : 0;
  const latency = response.latencyMs ?? 0;
  let latencyScore: number;
  if (rule === '2.1') {
    if (latency > 0) latencyScore = latency < MAX_LATENCY_DEVIATION_MS ? 1 : 0;
    else latencyScore = consensus.reachable ? 0 : reachableMatch;
  } else if (rule === '2.0') {
    if (consensus.medianLatencyMs > 0 && latency > 0) {
      latencyScore = Math.max(0, 1 - Math.abs(latency - consensus.medianLatencyMs) / MAX_LATENCY_DEVIATION_MS);
    } else {
      latencyScore = reachableMatch;
    }
  } else {
    throw invalidInput('unknown latency rule', { rule: String(rule) });
  }
  return ACCURACY_WEIGHTS.reachable * reachableMatch + ACCURACY_WEIGHTS.status * statusMatch + ACCURACY_WEIGHTS.latency * latencyScore;
}
