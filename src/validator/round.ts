import type { MetagraphSnapshot, SetWeightsResult, Subtensor } from '../chain/subtensor/types.js';
import type { ClaimsSource, ScanRoundResult, RunRoundOptions } from '../chain/polygon/scanner.js';
import type { AxonEndpoint } from '../dendrite/dendrite.js';
import { errorMessage } from '../errors.js';
import { raceSignal, startDeadline } from '../util/deadline.js';
import type { Logger } from '../observability/logger.js';
import type { ValidatorMetrics } from '../observability/metrics.js';
import type { JobQueue } from '../queue/types.js';
import type { ProbeResponse } from '../scoring/consensus.js';
import { normalizeScores, resyncScores, updateEma } from '../scoring/ema.js';
import { selectQueriedUids, type ScoringPreset } from '../scoring/presets.js';
import { creditClaims, scoreProbeRound } from '../scoring/rewards.js';
import { sampleProviders } from '../scoring/sampler.js';
import { convertAndNormalizeWeightsAndUids, toU16Weights } from '../scoring/weights.js';
import { verifyWalletProof } from '../wallet/polygon.js';
import type { ValidatorJobHandlers } from './jobs.js';
import type { Provider, ProviderRegistry } from './registry.js';
import { withHistory, type ValidatorState } from './state.js';
import { asVersionKeyError, versionKeyTooLow } from './versionKey.js';

/**
 * One validator round as a sequence of steps over ports:
 * sync metagraph → ProviderCheck proofs → claims → providers → sample → probes →
 * consensus → rewards → EMA → u16 weights → set weights → (the caller saves state).
 * Every step's failure is caught, logged and recorded in the report; the steps after it
 * run with what is known (e.g. the last complete claims), and one bad step never ends the loop.
 */
export interface ClaimsScanPort extends ClaimsSource {
  runRound(options?: RunRoundOptions): Promise<ScanRoundResult>;
}

export interface RoundDeps {
  chain: Pick<Subtensor, 'getMetagraph' | 'blockHash' | 'setWeights'>;
  /** Told when each step starts (the validator's /health shows a step running past its budget). */
  onStep?: (step: StepName, budgetMs: number) => void;
  claims: ClaimsScanPort | null;
  registry: ProviderRegistry;
  queue: JobQueue<ValidatorJobHandlers>;
  logger: Logger;
  metrics?: ValidatorMetrics | null;
  /** Fire-and-forget alert for a provider the consensus found unreachable. */
  alertUnreachable?: (provider: Provider) => void;
}

export interface RoundSettings {
  netuid: number;
  /** The validator's own hotkey (never queried, never credited). */
  hotkey: string;
  preset: ScoringPreset;
  probesPerRound: number;
  timeoutSec: number;
  /** Block-number bucket of the sampler's seed (`(block // 360) * 360`). */
  epochLength: number;
  versionKey: bigint;
  /** Compute everything, submit nothing. */
  submit: boolean;
  /** Per-step budgets in ms; defaults from `stepBudgets`. */
  budgets?: Partial<StepBudgets>;
}

export type StepName = 'metagraph' | 'proofs' | 'claims' | 'providers' | 'probes' | 'rewards' | 'weights';
export const STEP_NAMES: readonly StepName[] = ['metagraph', 'proofs', 'claims', 'providers', 'probes', 'rewards', 'weights'];

/**
 * How long each step may take. A step still running at its budget is abandoned and reported
 * (the round goes on with what it has), so a round ends within `roundBudgetMs` whatever miners,
 * RPCs, Redis or the chain do. The figures follow the waits inside each step: the subtensor
 * adapter waits up to 30 s for a dropped link and 60 s for an answer; a transaction up to 120 s;
 * each query the synapse timeout plus 5 s of queue slack; registries 15 s each.
 */
export type StepBudgets = Record<StepName, number>;

/** Added to the sum of the step budgets: the bookkeeping between steps. */
export const ROUND_MARGIN_MS = 5_000;

export function stepBudgets(s: Pick<RoundSettings, 'timeoutSec' | 'probesPerRound' | 'budgets'>): StepBudgets {
  const query = s.timeoutSec * 1000 + 5_000;
  return {
    metagraph: 90_000,
    proofs: query + 5_000,
    claims: 120_000,
    providers: 60_000,
    probes: Math.max(1, s.probesPerRound) * query + 30_000,
    rewards: 10_000,
    weights: 150_000,
    ...s.budgets,
  };
}

export function roundBudgetMs(b: StepBudgets): number {
  return STEP_NAMES.reduce((sum, name) => sum + b[name], ROUND_MARGIN_MS);
}

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

/** A failure outside the steps is 'round'; the state file not written is 'save'. */
export type ReportedStep = StepName | 'round' | 'save';

export interface RoundReport {
  block: number;
  ok: boolean;
  failedSteps: { step: ReportedStep; error: string }[];
  notes: string[];
  metagraph: MetagraphSnapshot | null;
  rows: MinerRow[];
  sampledProviders: Provider[];
  claimsComplete: boolean | null;
  weights: { uids: number[]; weights: number[] } | null;
  submitted: SetWeightsResult | null;
  durationMs: number;
}

export async function runRound(
  deps: RoundDeps,
  settings: RoundSettings,
  state: ValidatorState,
  block: number,
  signal: AbortSignal,
): Promise<{ report: RoundReport; state: ValidatorState }> {
  const started = performance.now();
  const log = deps.logger.child({ module: 'round', block });
  const failedSteps: RoundReport['failedSteps'] = [];
  const notes: string[] = [];
  const { preset } = settings;
  const budgets = stepBudgets(settings);
  /** Runs one step within its budget (its signal aborts at the budget, and the step is left behind then). */
  const step = async <T>(name: StepName, fn: (stepSignal: AbortSignal) => Promise<T>, overrun = 'the round goes on without it'): Promise<T | undefined> => {
    const budgetMs = budgets[name];
    const deadline = startDeadline(budgetMs, { parent: signal, label: `the ${name} step` });
    const began = performance.now();
    deps.onStep?.(name, budgetMs);
    try {
      log.debug({ step: name, budgetMs }, 'round step');
      const value = await raceSignal(fn(deadline.signal), deadline.signal);
      signal.throwIfAborted();
      return value;
    } catch (err) {
      // Stopped mid-round (whatever the abort reason): abandon the round. Finishing it would score
      // the queries the abort cut short as failures and decay every miner's EMA in the saved state.
      if (signal.aborted) throw err;
      const error = deadline.expired ? `abandoned at its budget of ${Math.round(budgetMs / 1000)} s; ${overrun}` : errorMessage(err);
      failedSteps.push({ step: name, error });
      deps.metrics?.stepFailures.inc({ step: name });
      if (deadline.expired) {
        deps.metrics?.stepOverruns.inc({ step: name });
        log.warn({ step: name, budgetMs }, 'round step past its budget: abandoned; continuing with what is known');
      } else {
        log.warn({ step: name, err: error }, 'round step failed; continuing with what is known');
      }
      return undefined;
    } finally {
      deadline.clear();
      deps.metrics?.stepSeconds.observe({ step: name }, (performance.now() - began) / 1000);
    }
  };

  // 1. metagraph: without it there is nothing to score.
  const mg = await step('metagraph', () => deps.chain.getMetagraph(settings.netuid));
  if (!mg) {
    return { report: emptyReport(block, failedSteps, notes, started), state };
  }
  const n = mg.n;
  const resynced = resyncScores({ scores: state.scores, hotkeys: state.hotkeys }, mg.hotkeys);
  if (resynced.replacedUids.length) notes.push(`replaced hotkeys reset to 0: uids ${resynced.replacedUids.join(', ')}`);
  let scores = resynced.scores;
  const selfUid = mg.hotkeys.indexOf(settings.hotkey);
  const axonOf = (uid: number): AxonEndpoint => ({ uid, hotkey: mg.hotkeys[uid]!, ip: mg.axons[uid]!.ip, port: mg.axons[uid]!.port });
  const servedUids = selectQueriedUids(mg.axons.map((a) => a.ip), selfUid >= 0 ? selfUid : null, 'active-miners');
  const queried = preset.querySelection === 'all-uids' ? selectQueriedUids(mg.axons.map((a) => a.ip), null, 'all-uids') : servedUids;
  deps.metrics?.minersQueried.set(queried.length);

  // 2. ProviderCheck: wallet proofs.
  const provenWallets: (string | null)[] = new Array(n).fill(null);
  const answered: (boolean | null)[] = new Array(n).fill(null);
  if (preset.uses.walletProofs) {
    await step('proofs', async (stepSignal) => {
      // Unserved axons (0.0.0.0) cannot answer: do not spend a timeout on them.
      const targets = queried.filter((uid) => mg.axons[uid]!.ip !== '0.0.0.0' && uid !== selfUid);
      for (const uid of queried) answered[uid] = false;
      const results = await deps.queue.runAll('providerCheck', targets.map((uid) => ({ axon: axonOf(uid), timeoutSec: settings.timeoutSec })), {
        signal: stepSignal,
        timeoutMs: settings.timeoutSec * 1000 + 5_000,
      });
      let answering = 0;
      await Promise.all(
        results.map(async (r, i) => {
          const uid = targets[i]!;
          if (!r.ok || !r.value.ok) return;
          answered[uid] = true;
          answering += 1;
          const { polygonWallet, walletProof } = r.value;
          if (polygonWallet && walletProof && (await verifyWalletProof({ hotkey: mg.hotkeys[uid]!, polygonWallet, proof: walletProof }))) {
            provenWallets[uid] = polygonWallet.toLowerCase();
          }
        }),
      );
      deps.metrics?.minersAnswering.set(answering);
    });
  }

  // 3. Claims: scan new blocks, score with the last complete window.
  let claimsByAddress: Map<string, bigint> | undefined;
  let claimsComplete: boolean | null = null;
  if (preset.uses.claims && deps.claims) {
    const claims = deps.claims;
    await step(
      'claims',
      async () => {
        // The scan runs on the validator's own signal: past the step's budget it goes on in the
        // background (a first backfill takes a while) and the next round joins it.
        const scan = await claims.runRound({ signal });
        deps.metrics?.claimsScanned.inc(scan.newClaims);
        if (!scan.complete) {
          throw new Error(`scan incomplete, missing ${scan.missingRanges.map((r) => `${r.from}-${r.to}`).join(', ')}; scoring with the last complete window`);
        }
      },
      'the scan goes on in the background; scoring with the last complete window',
    );
    const completeness = claims.completeness();
    claimsComplete = completeness.lastRound?.complete ?? false;
    if (completeness.lastCompleteWindow === null) notes.push('no complete claims window yet: claims count 0 this round');
    claimsByAddress = new Map([...claims.claimsByProvider()].map(([addr, c]) => [addr, c.amount]));
    deps.metrics?.claimsWindow.set([...claims.claimsByProvider().values()].reduce((s, c) => s + c.claims, 0));
  }

  // 4–6. Providers → deterministic sample → probes → consensus.
  let probeAccuracy: (number | null)[] | null = null;
  let sampled: Provider[] = [];
  if (preset.uses.probes && settings.probesPerRound > 0) {
    const providers = await step('providers', async (stepSignal) => {
      const r = await deps.registry.fetchProviders(stepSignal);
      if (r.source === null) throw new Error('no registry answered and there is no cache');
      return r.providers;
    });
    if (providers && providers.length > 0) {
      await step('probes', async (stepSignal) => {
        const epochBlock = Math.floor(block / settings.epochLength) * settings.epochLength;
        let hash: string | null = null;
        try {
          hash = await raceSignal(deps.chain.blockHash(epochBlock), stepSignal);
        } catch (err) {
          notes.push(`block hash of ${epochBlock} unavailable (${errorMessage(err)}): seeding with the block number as Python does`);
        }
        sampled = sampleProviders(providers, hash, epochBlock, settings.probesPerRound);
        const probes: ProbeResponse[][] = [];
        for (const provider of sampled) {
          const results = await deps.queue.runAll(
            'probe',
            servedUids.map((uid) => ({ axon: axonOf(uid), targetUrl: provider.probeUrl, timeoutSec: settings.timeoutSec })),
            { signal: stepSignal, timeoutMs: settings.timeoutSec * 1000 + 5_000 },
          );
          probes.push(
            results.map((r, i) => {
              const uid = servedUids[i]!;
              const v = r.ok && r.value.ok ? r.value : null;
              return { uid, reachable: v?.reachable ?? null, status: v?.status ?? null, latencyMs: v?.latencyMs ?? null };
            }),
          );
        }
        const round = scoreProbeRound({ n, queriedUids: servedUids, probes, latencyRule: preset.latencyRule, precision: preset.precision });
        round.consensus.forEach((c, i) => {
          if (c && !c.reachable) deps.alertUnreachable?.(sampled[i]!);
        });
        probeAccuracy = round.accuracy;
      });
    } else if (providers) {
      notes.push('the registries list no provider: nothing to probe');
    }
  }

  // 7. Rewards and EMA.
  let rewards: Float64Array | null = null;
  await step('rewards', async () => {
    rewards = preset.computeRewards({ n, provenWallets, claimsByAddress: claimsByAddress ?? new Map(), probeAccuracy });
    if (rewards) scores = updateEma(scores, rewards, preset.alpha, preset.precision);
    else notes.push('no reward this round (no probe reached a consensus): scores unchanged');
  });

  // 8. Weights.
  let weights: RoundReport['weights'] = null;
  let submitted: SetWeightsResult | null = null;
  let weightOutcome = 'not computed';
  await step('weights', async (stepSignal) => {
    const normalized = normalizeScores(scores, preset.precision);
    if (normalized === null) {
      weightOutcome = 'all scores are 0: weights not set';
      notes.push(weightOutcome);
      return;
    }
    const hp = mg.hyperparameters;
    weights = pythonParityPreset(preset)
      ? // The Python daemons send `scores / sum` for every uid to `subtensor.set_weights`,
        // which only casts to float32 and max-upscales to u16: do exactly that.
        convertAndNormalizeWeightsAndUids(Array.from({ length: n }, (_, uid) => uid), Array.from(normalized))
      : toU16Weights(Array.from(normalized), { minAllowedWeights: hp.minAllowedWeights, maxWeightLimit: hp.maxWeightsLimit / 65535, n });
    // The chain refuses a version key below the subnet's: say so, and which flag to set, before sending.
    const keyRefused = versionKeyTooLow(settings.versionKey, hp.weightsVersionKey);
    if (keyRefused) {
      weightOutcome = `not sent: ${errorMessage(keyRefused)}`;
      throw keyRefused;
    }
    if (!settings.submit) {
      weightOutcome = 'not submitted (dry run or set weights disabled)';
      return;
    }
    try {
      submitted = await deps.chain.setWeights({ netuid: settings.netuid, uids: weights.uids, weights: weights.weights, versionKey: settings.versionKey, signal: stepSignal });
      weightOutcome = submitted.kind;
      deps.metrics?.weightsSet.inc({ outcome: submitted.kind });
    } catch (caught) {
      const err = asVersionKeyError(caught, settings.versionKey);
      weightOutcome = `failed: ${errorMessage(err)}`;
      deps.metrics?.weightsSet.inc({ outcome: 'failed' });
      throw err;
    }
  });

  const w = weights as RoundReport['weights'];
  const weightOf = new Map<number, number>();
  if (w) w.uids.forEach((uid, i) => weightOf.set(uid, w.weights[i]!));
  const finalRewards = rewards as Float64Array | null;
  const finalAccuracy = probeAccuracy as (number | null)[] | null;
  // What each uid is credited with under the preset's rule (a shared wallet may count once).
  const credited = claimsByAddress ? creditClaims(provenWallets, claimsByAddress, preset.walletCredit).claimsByUid : null;
  const rows: MinerRow[] = mg.hotkeys.map((hotkey, uid) => ({
    uid,
    hotkey,
    answered: answered[uid] ?? null,
    proof: preset.uses.walletProofs ? provenWallets[uid] !== null : null,
    wallet: provenWallets[uid] ?? null,
    claims: credited?.[uid] ?? 0n,
    probeAccuracy: finalAccuracy?.[uid] ?? null,
    reward: finalRewards ? finalRewards[uid]! : null,
    score: scores[uid]!,
    weight: weightOf.get(uid) ?? 0,
  }));

  const next: ValidatorState = {
    ...state,
    step: state.step + 1,
    lastRoundBlock: block,
    hotkeys: [...mg.hotkeys],
    scores: Array.from(scores),
  };
  next.history = withHistory(next, block);
  next.lastWeights = w ? { block, uids: w.uids, weights: w.weights, submitted: submitted !== null, outcome: weightOutcome } : state.lastWeights;

  const report: RoundReport = {
    block,
    ok: failedSteps.length === 0,
    failedSteps,
    notes,
    metagraph: mg,
    rows,
    sampledProviders: sampled,
    claimsComplete,
    weights: w,
    submitted,
    durationMs: performance.now() - started,
  };
  return { report, state: next };
}

/** Presets that reproduce a Python generation also reproduce its weight submission path. */
export function pythonParityPreset(preset: ScoringPreset): boolean {
  return preset.name === 'drain-v1' || preset.name === 'oracle-v2.1';
}

export function emptyReport(block: number, failedSteps: RoundReport['failedSteps'], notes: string[], started: number): RoundReport {
  return { block, ok: false, failedSteps, notes, metagraph: null, rows: [], sampledProviders: [], claimsComplete: null, weights: null, submitted: null, durationMs: performance.now() - started };
}
