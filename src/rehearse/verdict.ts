/**
 * The rehearsal's verdict, from what happened (pure): which scoring ran with which version key,
 * the weights the round computed, the extrinsic that went into the fork and what the fork's
 * runtime made of it, and everything that would have failed on the real chain.
 */
import { errorMessage } from '../errors.js';
import type { RoundReport } from '../validator/report.js';
import type { ScoringSummary } from '../validator/scoringChoice.js';
import { versionKeyTooLow } from '../validator/versionKey.js';
import type { ForkExtrinsic } from './readBack.js';

export interface RehearsalFacts {
  /** `finney`, `test`, `local`, or `--subtensor.chain_endpoint`. */
  network: string;
  /** The forked endpoint, credentials removed. */
  upstream: string;
  forkedAt: { number: number; hash: string };
  /** The fork's loopback endpoint, the only one the validator was given. */
  forkEndpoint: string;
  netuid: number;
  hotkey: string;
  scoring: ScoringSummary;
  /** The round's report; null when no round ran. */
  report: RoundReport | null;
  /** Why the validator ended without a round (its error), or null. */
  runError: string | null;
  /** The hotkey's extrinsics in the fork's blocks, oldest first. */
  extrinsics: readonly ForkExtrinsic[];
  /** The hotkey's weight row stored on the fork after the round (uid → u16); null when it has no uid. */
  storedRow: ReadonlyMap<number, number> | null;
  /** What the rehearsal changed of the operator's settings, and why. */
  settingsNotes: readonly string[];
}

export interface VerdictWeight {
  uid: number;
  hotkey: string;
  score: number;
  u16: number;
  /** What the fork stores for this uid after the round (set_weights only); null otherwise. */
  stored: number | null;
}

export interface Verdict {
  accepted: boolean;
  network: string;
  upstream: string;
  forkedAt: { block: number; hash: string };
  forkEndpoint: string;
  netuid: number;
  hotkey: string;
  uid: number | null;
  validatorPermit: boolean | null;
  scoring: { preset: string; why: string; alpha: number; versionKey: string; versionKeySource: string; chainVersionKey: string | null };
  round: { block: number; ok: boolean; seconds: number } | null;
  /** Uids the round gave a weight above 0, by uid. */
  weights: VerdictWeight[];
  /** Uids of the metagraph left at 0. */
  zeroWeights: number;
  extrinsic: {
    call: string;
    block: number;
    txHash: string;
    outcome: 'accepted' | 'failed';
    events: string[];
    error: string | null;
    fee: { actualRao: string; tipRao: string } | null;
  } | null;
  wouldHaveFailed: string[];
  notes: string[];
}

/** The extrinsic that carries the weights: the last one of the hotkey whose call is about weights. */
export function weightsExtrinsic(extrinsics: readonly ForkExtrinsic[]): ForkExtrinsic | null {
  return [...extrinsics].reverse().find((x) => /weights/i.test(x.call)) ?? null;
}

export function buildVerdict(f: RehearsalFacts): Verdict {
  const mg = f.report?.metagraph ?? null;
  const uidIndex = mg ? mg.hotkeys.indexOf(f.hotkey) : -1;
  const uid = uidIndex >= 0 ? uidIndex : null;
  const chainKey = mg ? mg.hyperparameters.weightsVersionKey : null;
  const x = weightsExtrinsic(f.extrinsics);
  const accepted = x?.success === true;
  const directlySet = accepted && x.events.some((e) => e.endsWith('.WeightsSet'));
  const sent = new Map((f.report?.weights?.uids ?? []).map((u, i) => [u, f.report!.weights!.weights[i]!]));
  const weights: VerdictWeight[] = (f.report?.rows ?? [])
    .filter((r) => (sent.get(r.uid) ?? 0) > 0)
    .map((r) => ({
      uid: r.uid,
      hotkey: r.hotkey,
      score: r.score,
      u16: sent.get(r.uid)!,
      stored: directlySet && f.storedRow ? (f.storedRow.get(r.uid) ?? 0) : null,
    }));
  return {
    accepted,
    network: f.network,
    upstream: f.upstream,
    forkedAt: { block: f.forkedAt.number, hash: f.forkedAt.hash },
    forkEndpoint: f.forkEndpoint,
    netuid: f.netuid,
    hotkey: f.hotkey,
    uid,
    validatorPermit: mg && uid !== null ? (mg.validatorPermit[uid] ?? false) : null,
    scoring: {
      preset: f.scoring.preset,
      why: f.scoring.presetReason,
      alpha: f.scoring.alpha,
      versionKey: f.scoring.versionKey,
      versionKeySource: f.scoring.versionKeySource,
      chainVersionKey: chainKey === null ? null : chainKey.toString(),
    },
    round: f.report ? { block: f.report.block, ok: f.report.ok, seconds: Math.round(f.report.durationMs / 100) / 10 } : null,
    weights,
    zeroWeights: mg ? mg.n - weights.length : 0,
    extrinsic: x && {
      call: x.call,
      block: x.block,
      txHash: x.txHash,
      outcome: x.success ? 'accepted' : 'failed',
      events: x.events,
      error: x.error ? `${x.error.name}${x.error.docs ? ` (${x.error.docs})` : ''}` : null,
      fee: x.fee && { actualRao: x.fee.actualRao.toString(), tipRao: x.fee.tipRao.toString() },
    },
    wouldHaveFailed: failures(f, uid, chainKey, x),
    notes: notes(f, uid, x, directlySet),
  };
}

function failures(f: RehearsalFacts, uid: number | null, chainKey: bigint | null, x: ForkExtrinsic | null): string[] {
  const out: string[] = [];
  const mg = f.report?.metagraph ?? null;
  if (f.runError !== null) out.push(`the validator stopped: ${f.runError}`);
  else if (f.report === null) out.push('no round ran');
  if (mg && uid === null) out.push(`hotkey ${f.hotkey} is not registered on subnet ${f.netuid}: the chain refuses its weights (HotKeyNotRegisteredInSubNet)`);
  if (mg && uid !== null && !mg.validatorPermit[uid]) {
    out.push(
      `uid ${uid} has no validator permit: the chain refuses its weights (NeuronNoValidatorPermit) until its stake ranks it among the subnet's validators`,
    );
  }
  const failed = f.report?.failedSteps ?? [];
  const keyRefused = chainKey === null ? null : versionKeyTooLow(BigInt(f.scoring.versionKey), chainKey);
  if (keyRefused && !failed.some((s) => s.error.includes('WeightsVersionKey'))) out.push(errorMessage(keyRefused));
  for (const s of failed) out.push(`${s.step}: ${s.error}`);
  if (x && !x.success)
    out.push(`the fork's runtime refused ${x.call}: ${x.error ? `${x.error.name}${x.error.docs ? ` (${x.error.docs})` : ''}` : 'no ExtrinsicSuccess event'}`);
  if (!x && f.report && out.length === 0) out.push('no weights extrinsic went in (see the notes)');
  return out;
}

function notes(f: RehearsalFacts, uid: number | null, x: ForkExtrinsic | null, directlySet: boolean): string[] {
  const out = [...f.settingsNotes, ...(f.report?.notes ?? [])];
  const mg = f.report?.metagraph ?? null;
  const tooFast = f.report?.failedSteps.some((s) => /WeightsTooFast/.test(s.error)) || /WeightsTooFast/.test(x?.error?.name ?? '');
  if (tooFast && mg && uid !== null) {
    const last = mg.lastUpdate[uid] ?? 0;
    const limit = mg.hyperparameters.weightsRateLimit;
    out.push(
      `your hotkey last set weights at block ${last} and the subnet takes them once every ${limit} blocks: rehearse again from block ${last + limit} (your live validator's own submission is what blocks this one)`,
    );
  }
  if (x?.success && !directlySet) out.push(`${x.call} is a commit: the weights are stored when revealed, which the rehearsal does not wait for`);
  return out;
}

const group = (n: number | bigint) => n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** RAO as TAO with all 9 decimals. */
export function formatTao(rao: bigint): string {
  const whole = rao / 1_000_000_000n;
  const frac = (rao % 1_000_000_000n).toString().padStart(9, '0');
  return `${group(whole)}.${frac} τ`;
}

/** The verdict as the text block `hs58 rehearse` prints. */
export function formatVerdict(v: Verdict): string {
  const x = v.extrinsic;
  const line = (label: string, text: string) => `${label.padEnd(12)}${text}`;
  const out = [
    v.accepted
      ? `hs58 rehearse: ACCEPTED, the fork took the weights (nothing was sent to ${v.upstream})`
      : `hs58 rehearse: NOT ACCEPTED, ${v.wouldHaveFailed[0] ?? 'no weights went in'}`,
    '',
    line('network', `${v.network} (${v.upstream}), forked at block ${group(v.forkedAt.block)} ${v.forkedAt.hash}; the fork ran on ${v.forkEndpoint}`),
    line(
      'hotkey',
      `${v.hotkey}, ${v.uid === null ? 'not registered' : `uid ${v.uid}`} on subnet ${v.netuid}${v.validatorPermit === null ? '' : v.validatorPermit ? ', validator permit' : ', NO validator permit'}`,
    ),
    line('preset', `${v.scoring.preset} (${v.scoring.why}), EMA α ${v.scoring.alpha}`),
    line('version key', `${v.scoring.versionKey}, ${v.scoring.versionKeySource}; the subnet's WeightsVersionKey: ${v.scoring.chainVersionKey ?? 'not read'}`),
    line('round', v.round ? `at block ${group(v.round.block)}, ${v.round.seconds} s, ${v.round.ok ? 'every step ran' : 'some steps failed'}` : 'none ran'),
    line('extrinsic', x ? `${x.call} in fork block ${group(x.block)}, tx ${x.txHash}` : 'none went in'),
  ];
  if (x) {
    out.push(line('outcome', x.outcome === 'accepted' ? `accepted: ${x.events.join(', ')}` : `failed: ${x.error ?? 'no ExtrinsicSuccess event'}`));
    out.push(
      line('fee', x.fee ? `${formatTao(BigInt(x.fee.actualRao))} (TransactionFeePaid; tip ${formatTao(BigInt(x.fee.tipRao))})` : 'no TransactionFeePaid event'),
    );
  }
  out.push('', `weights: ${v.weights.length} uids above 0${v.zeroWeights > 0 ? `, ${v.zeroWeights} at 0 not shown` : ''}`);
  if (v.weights.length > 0) {
    const stored = v.weights.some((w) => w.stored !== null);
    out.push(`  uid   hotkey              score      u16${stored ? '  stored on fork' : ''}`);
    for (const w of v.weights) {
      out.push(
        `  ${String(w.uid).padEnd(5)} ${w.hotkey.slice(0, 18).padEnd(19)} ${w.score.toFixed(6)}  ${String(w.u16).padStart(5)}${stored ? `  ${String(w.stored ?? 0).padStart(14)}` : ''}`,
      );
    }
  }
  out.push('', 'what would have failed:', ...(v.wouldHaveFailed.length ? v.wouldHaveFailed.map((f) => `  - ${f}`) : ['  nothing']));
  if (v.notes.length) out.push('', 'notes:', ...v.notes.map((n) => `  - ${n}`));
  return `${out.join('\n')}\n`;
}

/** The verdict as JSON (`--json`). */
export function verdictJson(v: Verdict): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}
