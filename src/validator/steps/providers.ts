/** Step 4, providers: the list the probes sample from, from the first registry that answers (or the cache). */
import type { Provider } from '../../marketplace/providers.js';
import type { RoundContext } from './context.js';
import { runStep, skipped, type StepResult } from './runStep.js';

/** The providers, or null when the preset sends no probes or no list could be had. */
export async function runProvidersStep(ctx: RoundContext): Promise<StepResult<Provider[] | null>> {
  const { deps, settings } = ctx;
  if (!settings.preset.uses.probes || settings.probesPerRound <= 0) return skipped(null);
  const result = await runStep<Provider[] | null>(ctx, 'providers', null, async ({ signal }) => {
    const r = await deps.registry.fetchProviders(signal);
    if (r.source === null) throw new Error('no registry answered and there is no cache');
    return r.providers;
  });
  if (result.value?.length === 0) result.notes.push('the registries list no provider: nothing to probe');
  return result;
}
