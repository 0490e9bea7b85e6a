/** What a round reports: one row per uid, the steps that failed, notes, the weights and what became of them. */
import type { MetagraphSnapshot, SetWeightsResult } from '../chain/subtensor/types.js';
import type { ScoringPreset } from '../scoring/presets.js';
import { creditClaims } from '../scoring/rewards.js';
import type { Provider } from '../marketplace/providers.js';
import type { ClaimsValue } from './steps/claims.js';
import type { ProbesValue, ProviderProbes } from './steps/probes.js';
import type { ProofsValue } from './steps/proofs.js';
import type { RewardsValue } from './steps/rewards.js';
import type { FailedStep } from './steps/runStep.js';
import type { WeightsValue } from './steps/weights.js';

export interface MinerRow {
  uid: number;
  hotkey: string;
  answered: boolean | null;
  proof: boolean | null;
  wallet: string | null;
  claims: bigint;
  probeAccuracy: number | null;
  reward: number | null;
  score: number;
  weight: number;
}

export interface RoundReport {
  block: number;
  ok: boolean;
  failedSteps: FailedStep[];
  notes: string[];
  metagraph: MetagraphSnapshot | null;
  rows: MinerRow[];
  sampledProviders: Provider[];
  /** Per provider probed: the miners' consensus and each miner's answer. */
  providerProbes: ProviderProbes[];
  claimsComplete: boolean | null;
  weights: { uids: number[]; weights: number[] } | null;
  submitted: SetWeightsResult | null;
  /** What became of the weights (`set`, `not submitted (…)`, `failed: …`, …). */
  weightsOutcome: string;
  durationMs: number;
}

/** The values of a round's steps after the metagraph. */
export interface StepValues {
  proofs: ProofsValue;
  claims: ClaimsValue;
  probes: ProbesValue;
  rewards: RewardsValue;
  weights: WeightsValue;
}

export function roundReport(
  block: number,
  mg: MetagraphSnapshot,
  preset: ScoringPreset,
  v: StepValues,
  failedSteps: FailedStep[],
  notes: string[],
  started: number,
): RoundReport {
  return {
    block,
    ok: failedSteps.length === 0,
    failedSteps,
    notes,
    metagraph: mg,
    rows: minerRows(mg, preset, v),
    sampledProviders: v.probes.sampled,
    providerProbes: v.probes.providers,
    claimsComplete: v.claims.claimsComplete,
    weights: v.weights.weights,
    submitted: v.weights.submitted,
    weightsOutcome: v.weights.outcome,
    durationMs: performance.now() - started,
  };
}

export function emptyReport(block: number, failedSteps: FailedStep[], notes: string[], started: number): RoundReport {
  return {
    block,
    ok: false,
    failedSteps,
    notes,
    metagraph: null,
    rows: [],
    sampledProviders: [],
    providerProbes: [],
    claimsComplete: null,
    weights: null,
    submitted: null,
    weightsOutcome: 'not computed',
    durationMs: performance.now() - started,
  };
}

function minerRows(mg: MetagraphSnapshot, preset: ScoringPreset, { proofs, claims, probes, rewards, weights }: StepValues): MinerRow[] {
  const weightOf = new Map<number, number>();
  const w = weights.weights;
  if (w) w.uids.forEach((uid, i) => void weightOf.set(uid, w.weights[i]!));
  // What each uid is credited with under the preset's rule (a shared wallet may count once).
  const credited = claims.claimsByAddress ? creditClaims(proofs.provenWallets, claims.claimsByAddress, preset.walletCredit).claimsByUid : null;
  return mg.hotkeys.map((hotkey, uid) => ({
    uid,
    hotkey,
    answered: proofs.answered[uid] ?? null,
    proof: preset.uses.walletProofs ? proofs.provenWallets[uid] !== null : null,
    wallet: proofs.provenWallets[uid] ?? null,
    claims: credited?.[uid] ?? 0n,
    probeAccuracy: probes.accuracy?.[uid] ?? null,
    reward: rewards.rewards ? rewards.rewards[uid]! : null,
    score: rewards.scores[uid]!,
    weight: weightOf.get(uid) ?? 0,
  }));
}
