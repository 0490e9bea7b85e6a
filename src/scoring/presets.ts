/**
 * Scoring presets: how a round's facts (wallet proofs, DRAIN claims, probe
 * accuracy) become one reward per UID, and the EMA α that smooths them.
 *
 * 'drain-v1' and 'oracle-v2.1' reproduce the Python validators of generation A
 * (HS58-subnet 1.0.0) and C (2.1.x) exactly, so a validator running them agrees
 * with Python validators of that generation; 'hs58' combines both. The default is
 * 'oracle-v2.1': the live Subnet 58 validators run HS58-subnet 2.1.1, and Yuma pays a
 * validator by how well its weights agree with theirs.
 */
import type { LatencyRule } from './consensus.js';
import { assertAlpha } from './ema.js';
import { invalidInput, ScoringError } from './errors.js';
import type { ScorePrecision } from './numeric.js';
import { claimsShare, creditClaims, type WalletCreditRule } from './rewards.js';

export const PRESET_NAMES = ['hs58', 'drain-v1', 'oracle-v2.1'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
/** What `hs58 validator` runs without `--scoring.preset`: what the live Subnet 58 validators compute. */
export const DEFAULT_PRESET: PresetName = 'oracle-v2.1';
/** Why DEFAULT_PRESET is the default, for the start-up log and /status. */
export const DEFAULT_PRESET_REASON = 'default: the live Subnet 58 validators run HS58-subnet 2.1.1, which computes oracle-v2.1';

/** The synapses a validator sends to miners. */
export type SynapseName = 'ProviderCheck' | 'ProviderProbe';

/** Weights of generation A and of the hs58 preset. */
export const CLAIMS_WEIGHT = 0.6;
export const AVAILABILITY_WEIGHT = 0.4;

/** What the validator learnt this round, per UID (arrays of length `n`). */
export interface RewardInput {
  /** Size of the metagraph. */
  n: number;
  /**
   * The Polygon wallet each UID proved with a valid `ProviderCheck` signature,
   * `null` for no answer or a bad proof. Needed when `uses.walletProofs`.
   */
  provenWallets?: readonly (string | null)[];
  /** DRAIN claims in the window, base units per address (any case). Needed when `uses.claims`. */
  claimsByAddress?: ReadonlyMap<string, bigint>;
  /**
   * Mean probe accuracy per UID this round (`scoreProbeRound`), `null` for a UID
   * not probed. The array itself is `null` when the round has no probe result
   * (probing off, no provider, or no consensus).
   */
  probeAccuracy?: readonly (number | null)[] | null;
}

/** Which UIDs the validator sends its synapses to. */
export type QuerySelection =
  /** every UID, as generation A did */
  | 'all-uids'
  /** every UID but the validator's own whose axon IP is not 0.0.0.0, as 2.1.x does */
  | 'active-miners';

export interface ScoringPreset {
  readonly name: PresetName;
  /** The Python Subnet 58 release whose validators compute this (or, for hs58, which it builds on). */
  readonly pythonGeneration: string;
  /** The `spec_version` (1000·major + 10·minor + patch) of `versionKeyRelease`: the default `version_key` sent with weights. */
  readonly versionKey: number;
  readonly versionKeyRelease: string;
  /** The synapses a round sends, from `uses`. */
  readonly synapses: readonly SynapseName[];
  /** EMA α (the preset's, or the `neuron.moving_average_alpha` override). */
  readonly alpha: number;
  readonly precision: ScorePrecision;
  readonly walletCredit: WalletCreditRule;
  readonly latencyRule: LatencyRule;
  readonly querySelection: QuerySelection;
  /** The round's work this preset needs: ProviderCheck proofs, a claims scan, provider probes. */
  readonly uses: { readonly walletProofs: boolean; readonly claims: boolean; readonly probes: boolean };
  /** One-line formula for logs and the README. */
  readonly formula: string;
  /**
   * Reward in [0, 1] per UID, or `null` when the round must not move the EMA
   * (oracle-v2.1 with no probe result, as the Python validator returns early).
   */
  computeRewards(input: RewardInput): Float64Array | null;
}

export interface PresetOptions {
  /** Overrides the preset's EMA α; `null`/`undefined` keeps it. */
  alpha?: number | null;
  /** Overrides who is credited with a wallet shared by several hotkeys. */
  walletCredit?: WalletCreditRule;
}

interface PresetDefinition {
  pythonGeneration: string;
  versionKey: number;
  versionKeyRelease: string;
  alpha: number;
  walletCredit: WalletCreditRule;
  latencyRule: LatencyRule;
  querySelection: QuerySelection;
  uses: ScoringPreset['uses'];
  formula: string;
  rewards(input: CheckedInput, preset: ScoringPreset): Float64Array | null;
}

interface CheckedInput {
  n: number;
  provenWallets: readonly (string | null)[] | null;
  claimsByAddress: ReadonlyMap<string, bigint> | null;
  probeAccuracy: readonly (number | null)[] | null;
}

const DEFINITIONS: Record<PresetName, PresetDefinition> = {
  hs58: {
    // This project's hybrid; no Python validator computes it. It runs on the same subnet as the live
    // 2.1.1 validators, so it sends their key: the highest one in use there, hence at or above the
    // subnet's WeightsVersionKey whenever theirs are accepted.
    pythonGeneration: 'none: this project’s blend of generation A claims and generation C probes',
    versionKey: 2011,
    versionKeyRelease: 'HS58-subnet 2.1.1',
    alpha: 0.1,
    walletCredit: 'lowest-uid',
    latencyRule: '2.1',
    querySelection: 'active-miners',
    uses: { walletProofs: true, claims: true, probes: true },
    formula:
      'reward = 0.6·claims/top + 0.4·proof·probe_accuracy, where claims are those of the wallet the UID proved (a wallet counts for the lowest UID proving it), top is the largest credited total, probe_accuracy is the 2.1 mean accuracy (1 when probing is off); EMA α 0.1',
    rewards(input, preset) {
      const credit = creditClaims(required(input.provenWallets, 'provenWallets'), required(input.claimsByAddress, 'claimsByAddress'), preset.walletCredit);
      const out = new Float64Array(input.n);
      for (let uid = 0; uid < input.n; uid++) {
        if (!credit.credited[uid]) continue;
        const accuracy = input.probeAccuracy === null ? 1 : (input.probeAccuracy[uid] ?? 0);
        out[uid] = CLAIMS_WEIGHT * claimsShare(credit.claimsByUid[uid]!, credit.maxClaimsCredited) + AVAILABILITY_WEIGHT * accuracy;
      }
      return out;
    },
  },
  'drain-v1': {
    pythonGeneration: 'HS58-subnet 1.0.0 (generation A, DRAIN scoring)',
    versionKey: 1000,
    versionKeyRelease: 'HS58-subnet 1.0.0',
    alpha: 0.1,
    walletCredit: 'every-prover',
    latencyRule: '2.1',
    querySelection: 'all-uids',
    uses: { walletProofs: true, claims: true, probes: false },
    formula: 'reward = proof·(0.4 + 0.6·claims/max_claims), max_claims over every claiming address (generation A, HS58-subnet 1.0.0); EMA α 0.1',
    rewards(input, preset) {
      const credit = creditClaims(required(input.provenWallets, 'provenWallets'), required(input.claimsByAddress, 'claimsByAddress'), preset.walletCredit);
      const out = new Float64Array(input.n);
      for (let uid = 0; uid < input.n; uid++) {
        if (!credit.credited[uid]) continue;
        // Python: score = 0.4; score += 0.6 * (claims / max_claims) when both are > 0.
        out[uid] = AVAILABILITY_WEIGHT + CLAIMS_WEIGHT * claimsShare(credit.claimsByUid[uid]!, credit.maxClaimsAnyAddress);
      }
      return out;
    },
  },
  'oracle-v2.1': {
    // 2.1.0 and 2.1.1 compute the same; 2.1.1 is the live release.
    pythonGeneration: 'HS58-subnet 2.1.1 (generation C, network oracle)',
    versionKey: 2011,
    versionKeyRelease: 'HS58-subnet 2.1.1',
    alpha: 0.3,
    walletCredit: 'lowest-uid',
    latencyRule: '2.1',
    querySelection: 'active-miners',
    uses: { walletProofs: false, claims: false, probes: true },
    formula:
      'reward = mean over the round’s probes of 0.4·[reachable = consensus] + 0.3·[status = consensus] + 0.3·latency_band (1 if 0 < latency < 2000 ms; no latency: 0 if the consensus is reachable, else the reachable match), a missed probe 0, UIDs not queried 0 (HS58-subnet 2.1.x); EMA α 0.3',
    rewards(input) {
      if (input.probeAccuracy === null) return null;
      const out = new Float64Array(input.n);
      for (let uid = 0; uid < input.n; uid++) out[uid] = input.probeAccuracy[uid] ?? 0;
      return out;
    },
  },
};

function required<T>(value: T | null, name: string): T {
  if (value === null) throw invalidInput(`this preset needs ${name}`, { field: name });
  return value;
}

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

function definition(name: string): PresetDefinition {
  if (!isPresetName(name)) {
    throw new ScoringError('SCORING_UNKNOWN_PRESET', `unknown scoring preset "${name}" (choose one of ${PRESET_NAMES.join(', ')})`, {
      details: { name },
    });
  }
  return DEFINITIONS[name];
}

function checkInput(input: RewardInput): CheckedInput {
  const { n } = input;
  if (!Number.isSafeInteger(n) || n < 0) throw invalidInput('n (metagraph size) must be a non-negative integer', { n });
  const provenWallets = input.provenWallets ?? null;
  if (provenWallets !== null && provenWallets.length !== n) {
    throw invalidInput('provenWallets must have one entry per UID', { n, length: provenWallets.length });
  }
  const probeAccuracy = input.probeAccuracy ?? null;
  if (probeAccuracy !== null) {
    if (probeAccuracy.length !== n) throw invalidInput('probeAccuracy must have one entry per UID', { n, length: probeAccuracy.length });
    for (let uid = 0; uid < n; uid++) {
      const a = probeAccuracy[uid];
      if (a === null || a === undefined) continue;
      if (typeof a !== 'number' || !(a >= 0 && a <= 1)) throw invalidInput('probe accuracy must be in [0, 1] or null', { uid, value: String(a) });
    }
  }
  return { n, provenWallets, claimsByAddress: input.claimsByAddress ?? null, probeAccuracy };
}

/** The preset called `name`, with α (and the wallet credit rule) optionally overridden. */
export function getPreset(name: string, options: PresetOptions = {}): ScoringPreset {
  const def = definition(name);
  const alpha = options.alpha ?? def.alpha;
  assertAlpha(alpha);
  const preset: ScoringPreset = {
    name: name as PresetName,
    pythonGeneration: def.pythonGeneration,
    versionKey: def.versionKey,
    versionKeyRelease: def.versionKeyRelease,
    synapses: synapsesOf(def.uses),
    alpha,
    precision: 'float32',
    walletCredit: options.walletCredit ?? def.walletCredit,
    latencyRule: def.latencyRule,
    querySelection: def.querySelection,
    uses: def.uses,
    formula: def.formula,
    computeRewards: (input) => def.rewards(checkInput(input), preset),
  };
  return preset;
}

function synapsesOf(uses: ScoringPreset['uses']): SynapseName[] {
  return [...(uses.walletProofs ? (['ProviderCheck'] as const) : []), ...(uses.probes ? (['ProviderProbe'] as const) : [])];
}

/** One-line formula of a preset, for the README and `--help`. */
export function describePreset(name: string): string {
  return definition(name).formula;
}

/**
 * The UIDs a round queries. 'active-miners' is 2.1.x's filter: every UID but
 * `selfUid` whose axon IP is not `0.0.0.0`.
 */
export function selectQueriedUids(axonIps: readonly string[], selfUid: number | null, selection: QuerySelection): number[] {
  const uids: number[] = [];
  for (let uid = 0; uid < axonIps.length; uid++) {
    if (selection === 'active-miners' && (axonIps[uid] === '0.0.0.0' || uid === selfUid)) continue;
    uids.push(uid);
  }
  return uids;
}
