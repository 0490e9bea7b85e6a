/**
 * Step 5, probes: a sample of providers drawn from the epoch's block hash, as every validator
 * draws it; each served miner asked to probe each of them; the miners' consensus per provider
 * and each miner's accuracy against it. A provider the consensus finds unreachable is reported
 * to the marketplace.
 */
import { errorMessage } from '../../errors.js';
import { computeConsensus, probeAccuracy, type LatencyRule, type ProbeConsensus, type ProbeResponse } from '../../scoring/consensus.js';
import { scoreProbeRound } from '../../scoring/rewards.js';
import { sampleProviders } from '../../scoring/sampler.js';
import { raceSignal } from '../../util/deadline.js';
import type { Provider } from '../../marketplace/providers.js';
import { queryTimeoutMs } from '../budgets.js';
import type { RoundContext } from './context.js';
import { axonOf, type RoundView } from './metagraph.js';
import { runStep, skipped, type StepResult, type StepScope } from './runStep.js';

export interface ProbesValue {
  /** The providers drawn this round (kept even when the queries did not finish). */
  sampled: Provider[];
  /** Per uid: accuracy against the consensus; null when no probe round was scored. */
  accuracy: (number | null)[] | null;
  /** Per provider probed so far: the consensus and each served miner's answer (the status page shows them). */
  providers: ProviderProbes[];
}

/** One miner's answer to one probe (null fields: not given, or no answer) and its accuracy against the consensus. */
export interface ProbeAnswer extends ProbeResponse {
  /** Null when there was no consensus to measure it against. */
  accuracy: number | null;
}

export interface ProviderProbes {
  provider: Provider;
  /** The miners' consensus; null when no miner voted (the probe is not counted). */
  consensus: ProbeConsensus | null;
  /** In uid order. */
  answers: ProbeAnswer[];
}

/** The consensus of one provider's answers and each answer's accuracy against it (as the round scores them). */
export function providerProbes(provider: Provider, answers: readonly ProbeResponse[], rule: LatencyRule): ProviderProbes {
  const consensus = computeConsensus(answers);
  return {
    provider,
    consensus,
    answers: [...answers].sort((a, b) => a.uid - b.uid).map((r) => ({ ...r, accuracy: consensus ? probeAccuracy(r, consensus, rule) : null })),
  };
}

export async function runProbesStep(ctx: RoundContext, view: RoundView, providers: Provider[] | null): Promise<StepResult<ProbesValue>> {
  const none: ProbesValue = { sampled: [], accuracy: null, providers: [] };
  if (!providers || providers.length === 0) return skipped(none);
  const { settings, deps } = ctx;
  return runStep(ctx, 'probes', none, async (scope) => {
    const epochBlock = Math.floor(ctx.block / settings.epochLength) * settings.epochLength;
    const hash = await epochBlockHash(ctx, epochBlock, scope);
    const sampled = sampleProviders(providers, hash, epochBlock, settings.probesPerRound);
    const { preset } = settings;
    const probes: ProbeResponse[][] = [];
    const results: ProviderProbes[] = [];
    scope.keep({ sampled, accuracy: null, providers: [] });
    for (const provider of sampled) {
      probes.push(await probeOne(ctx, view, provider, scope.signal));
      results.push(providerProbes(provider, probes.at(-1)!, preset.latencyRule));
      scope.keep({ sampled, accuracy: null, providers: [...results] });
    }
    const round = scoreProbeRound({ n: view.n, queriedUids: view.servedUids, probes, latencyRule: preset.latencyRule, precision: preset.precision });
    round.consensus.forEach((c, i) => {
      if (c && !c.reachable) deps.alertUnreachable?.(sampled[i]!);
    });
    return { sampled, accuracy: round.accuracy, providers: results };
  });
}

/** The sampler's seed block hash; without it the Python validator seeds with the block number, and so does this. */
async function epochBlockHash(ctx: RoundContext, epochBlock: number, scope: StepScope<ProbesValue>): Promise<string | null> {
  try {
    return await raceSignal(ctx.deps.chain.blockHash(epochBlock), scope.signal);
  } catch (err) {
    scope.note(`block hash of ${epochBlock} unavailable (${errorMessage(err)}): seeding with the block number as Python does`);
    return null;
  }
}

/** Every served miner asked to probe one provider, in uid order. */
async function probeOne(ctx: RoundContext, view: RoundView, provider: Provider, signal: AbortSignal): Promise<ProbeResponse[]> {
  const { settings } = ctx;
  const results = await ctx.deps.queue.runAll(
    'probe',
    view.servedUids.map((uid) => ({ axon: axonOf(view, uid), targetUrl: provider.probeUrl, timeoutSec: settings.timeoutSec })),
    { signal, timeoutMs: queryTimeoutMs(settings) },
  );
  return results.map((r, i) => {
    const v = r.ok && r.value.ok ? r.value : null;
    return { uid: view.servedUids[i]!, reachable: v?.reachable ?? null, status: v?.status ?? null, latencyMs: v?.latencyMs ?? null };
  });
}
