/**
 * The parts a round's reward is made of: the probe accuracy of each UID over
 * the round, the DRAIN claims credited to each UID, and the claims share.
 */
import { computeConsensus, inUidOrder, probeAccuracy, type LatencyRule, type ProbeConsensus, type ProbeResponse } from './consensus.js';
import { invalidInput } from './errors.js';
import { bigintRatio, roundTo, type ScorePrecision } from './numeric.js';

export interface ProbeRoundInput {
  /** Size of the metagraph; the result has one entry per UID. */
  n: number;
  /** UIDs that were sent the probes (any order; each once). Others get `null`. */
  queriedUids: readonly number[];
  /**
   * One list per sampled provider, in sampling order: the responses of the
   * queried UIDs. A UID that did not answer may be left out or sent with
   * `reachable: null`; both score 0 for that probe.
   */
  probes: readonly (readonly ProbeResponse[])[];
  latencyRule: LatencyRule;
  /** float32 reproduces the Python validator's `np.float32` accuracy sums (default). */
  precision?: ScorePrecision;
}

export interface ProbeRoundResult {
  /**
   * Mean accuracy per UID over the probes that reached a consensus; `null` for a
   * UID not queried. The whole array is `null` when no probe reached a consensus
   * (the Python validator then skips the round: no EMA update).
   */
  accuracy: (number | null)[] | null;
  /** Consensus per probe, `null` where nobody voted (that provider was skipped). */
  consensus: (ProbeConsensus | null)[];
  /** Probes that reached a consensus and were counted. */
  countedProbes: number;
}

function assertUidCount(n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalidInput('n (metagraph size) must be a non-negative integer', { n });
}

function assertUid(uid: number, n: number, what: string): void {
  if (!Number.isSafeInteger(uid) || uid < 0 || uid >= n) throw invalidInput(`${what}: uid out of range`, { uid, n });
}

/**
 * A round's probe reward per UID, as HS58-subnet 2.1.x computes it: for each
 * probe with a consensus, add every queried UID's accuracy (a missing answer
 * adds 0) to a float32 sum; divide by the number of counted probes.
 */
export function scoreProbeRound(input: ProbeRoundInput): ProbeRoundResult {
  const { n, queriedUids, probes, latencyRule } = input;
  const round = roundTo(input.precision ?? 'float32');
  assertUidCount(n);
  const queried = [...queriedUids].sort((a, b) => a - b);
  for (let i = 0; i < queried.length; i++) {
    assertUid(queried[i]!, n, 'queriedUids');
    if (i > 0 && queried[i] === queried[i - 1]) throw invalidInput('queriedUids lists a uid twice', { uid: queried[i] });
  }
  const isQueried = new Set(queried);

  const sums = new Float64Array(queried.length);
  const consensus: (ProbeConsensus | null)[] = [];
  let countedProbes = 0;
  for (const [probeIndex, responses] of probes.entries()) {
    const byUid = new Map<number, ProbeResponse>();
    for (const r of inUidOrder(responses)) {
      if (!isQueried.has(r.uid)) throw invalidInput('probe response from a uid that was not queried', { uid: r.uid, probeIndex });
      byUid.set(r.uid, r);
    }
    // The Python consensus sees the answers in the queried-UID order.
    const cons = computeConsensus(queried.flatMap((uid) => byUid.get(uid) ?? []));
    consensus.push(cons);
    if (cons === null) continue;
    for (let i = 0; i < queried.length; i++) {
      sums[i] = round(sums[i]! + round(probeAccuracy(byUid.get(queried[i]!), cons, latencyRule)));
    }
    countedProbes++;
  }

  if (countedProbes === 0) return { accuracy: null, consensus, countedProbes };
  const accuracy: (number | null)[] = new Array<number | null>(n).fill(null);
  const count = round(countedProbes);
  for (let i = 0; i < queried.length; i++) accuracy[queried[i]!] = round(sums[i]! / count);
  return { accuracy, consensus, countedProbes };
}

/**
 * Who gets a wallet's claims when several hotkeys prove the same wallet.
 * 'lowest-uid': only the lowest UID that proves it (one wallet, one hotkey);
 * 'every-prover': each of them, as generation A did (the same claims counted
 * for several hotkeys).
 */
export type WalletCreditRule = 'lowest-uid' | 'every-prover';

export interface CreditedClaims {
  /** Claims (base units) credited to each UID; 0 without a credited wallet. */
  claimsByUid: bigint[];
  /** Whether the UID has a proven wallet that is credited to it. */
  credited: boolean[];
  /** Lowercase wallet → the UIDs it is credited to. */
  creditedUids: Map<string, number[]>;
  /** Largest total of any claiming address, credited or not (generation A's `max_claims`). */
  maxClaimsAnyAddress: bigint;
  /** Largest total credited to a UID (the "top provider" among the miners). */
  maxClaimsCredited: bigint;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;

/** Claims totals keyed by lowercase address, summing keys that differ only in case. */
export function normalizeClaimsByAddress(claimsByAddress: ReadonlyMap<string, bigint> | Readonly<Record<string, bigint>>): Map<string, bigint> {
  const entries = claimsByAddress instanceof Map ? [...claimsByAddress.entries()] : Object.entries(claimsByAddress);
  const out = new Map<string, bigint>();
  for (const [address, amount] of entries) {
    if (!ADDRESS.test(address)) throw invalidInput('claims key is not a 0x address', { address });
    if (typeof amount !== 'bigint' || amount < 0n) throw invalidInput('claims must be non-negative bigint base units', { address, amount: String(amount) });
    const key = address.toLowerCase();
    out.set(key, (out.get(key) ?? 0n) + amount);
  }
  return out;
}

/**
 * Credits each UID with the claims of the wallet it proved (`provenWallets[uid]`,
 * `null` without a valid proof). Addresses compare case-insensitively.
 */
export function creditClaims(
  provenWallets: readonly (string | null)[],
  claimsByAddress: ReadonlyMap<string, bigint> | Readonly<Record<string, bigint>>,
  rule: WalletCreditRule,
): CreditedClaims {
  if (rule !== 'lowest-uid' && rule !== 'every-prover') throw invalidInput('unknown wallet credit rule', { rule: String(rule) });
  const totals = normalizeClaimsByAddress(claimsByAddress);
  const n = provenWallets.length;
  const claimsByUid = new Array<bigint>(n).fill(0n);
  const credited = new Array<boolean>(n).fill(false);
  const creditedUids = new Map<string, number[]>();
  let maxClaimsCredited = 0n;
  for (let uid = 0; uid < n; uid++) {
    const wallet = provenWallets[uid];
    if (wallet === null || wallet === undefined) continue;
    if (typeof wallet !== 'string' || !ADDRESS.test(wallet)) throw invalidInput('proven wallet is not a 0x address', { uid, wallet: String(wallet) });
    const key = wallet.toLowerCase();
    const holders = creditedUids.get(key);
    if (holders !== undefined && rule === 'lowest-uid') continue;
    if (holders === undefined) creditedUids.set(key, [uid]);
    else holders.push(uid);
    credited[uid] = true;
    const amount = totals.get(key) ?? 0n;
    claimsByUid[uid] = amount;
    if (amount > maxClaimsCredited) maxClaimsCredited = amount;
  }
  let maxClaimsAnyAddress = 0n;
  for (const amount of totals.values()) if (amount > maxClaimsAnyAddress) maxClaimsAnyAddress = amount;
  return { claimsByUid, credited, creditedUids, maxClaimsAnyAddress, maxClaimsCredited };
}

/** `claims / top` as a double in [0, 1]; 0 when either is 0 (generation A: `if claims > 0 and max_claims > 0`). */
export function claimsShare(claims: bigint, top: bigint): number {
  if (claims > top) throw invalidInput('claims above the top claims', { claims: String(claims), top: String(top) });
  if (claims <= 0n || top <= 0n) return 0;
  return bigintRatio(claims, top);
}
