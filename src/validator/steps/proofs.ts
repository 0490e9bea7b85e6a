/** Step 2, ProviderCheck: each queried miner's Polygon wallet and the proof that its hotkey owns it. */
import type { Settled } from '../../queue/types.js';
import { verifyWalletProof } from '../../wallet/polygon.js';
import type { ProviderCheckOutcome } from '../jobs.js';
import { queryTimeoutMs } from '../budgets.js';
import type { RoundContext } from './context.js';
import { axonOf, type RoundView } from './metagraph.js';
import { runStep, skipped, type StepResult } from './runStep.js';

export interface ProofsValue {
  /** Per uid: the proven wallet (lowercase), or null. */
  provenWallets: (string | null)[];
  /** Per uid: whether it answered; null when it was not asked. */
  answered: (boolean | null)[];
}

export async function runProofsStep(ctx: RoundContext, view: RoundView): Promise<StepResult<ProofsValue>> {
  const provenWallets: (string | null)[] = new Array(view.n).fill(null);
  const asked: (boolean | null)[] = new Array(view.n).fill(null);
  if (!ctx.settings.preset.uses.walletProofs) return skipped({ provenWallets, answered: asked });
  for (const uid of view.queried) asked[uid] = false;
  return runStep(ctx, 'proofs', { provenWallets, answered: asked }, async ({ signal }) => {
    const { settings, deps } = ctx;
    // Unserved axons (0.0.0.0) cannot answer: do not spend a timeout on them.
    const targets = view.queried.filter((uid) => view.mg.axons[uid]!.ip !== '0.0.0.0' && uid !== view.selfUid);
    const results = await deps.queue.runAll(
      'providerCheck',
      targets.map((uid) => ({ axon: axonOf(view, uid), timeoutSec: settings.timeoutSec })),
      {
        signal,
        timeoutMs: queryTimeoutMs(settings),
      },
    );
    const verdicts = await Promise.all(results.map((r, i) => readProof(r, view.mg.hotkeys[targets[i]!]!)));
    const value: ProofsValue = { provenWallets: [...provenWallets], answered: [...asked] };
    verdicts.forEach((v, i) => {
      value.answered[targets[i]!] = v.answered;
      value.provenWallets[targets[i]!] = v.wallet;
    });
    deps.metrics?.minersAnswering.set(verdicts.filter((v) => v.answered).length);
    return value;
  });
}

/** Whether the miner answered, and its wallet when the proof is signed by that wallet for this hotkey. */
async function readProof(r: Settled<ProviderCheckOutcome>, hotkey: string): Promise<{ answered: boolean; wallet: string | null }> {
  if (!r.ok || !r.value.ok) return { answered: false, wallet: null };
  const { polygonWallet, walletProof } = r.value;
  const proven = polygonWallet && walletProof && (await verifyWalletProof({ hotkey, polygonWallet, proof: walletProof }));
  return { answered: true, wallet: proven ? polygonWallet.toLowerCase() : null };
}
