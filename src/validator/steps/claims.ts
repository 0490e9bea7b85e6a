/**
 * Step 3, claims: scan the new Polygon blocks, then score with the last complete window. A scan
 * still running at the step's budget goes on in the background (a first backfill takes a while)
 * and the next round joins it; the report then says how far the backfill is and when it should end.
 */
import { backfillPhrase } from '../backfill.js';
import type { RoundContext } from './context.js';
import { runStep, skipped, type StepResult } from './runStep.js';

export interface ClaimsValue {
  /** USDC claimed per provider address (lowercase) in the last complete window; null when the preset scores no claims. */
  claimsByAddress: Map<string, bigint> | null;
  /** Whether the last scan covered its whole window; null when there was no scan. */
  claimsComplete: boolean | null;
}

const IN_BACKGROUND = 'the scan goes on in the background; scoring with the last complete window';

export async function runClaimsStep(ctx: RoundContext): Promise<StepResult<ClaimsValue>> {
  const { deps, settings } = ctx;
  const claims = deps.claims;
  if (!settings.preset.uses.claims || !claims) return skipped({ claimsByAddress: null, claimsComplete: null });
  const backfill = () => backfillPhrase(claims.scanStatus?.(), claims.completeness());
  const scan = await runStep(
    ctx,
    'claims',
    undefined,
    async () => {
      // The scan runs on the validator's own signal, not the step's: past the budget it goes on.
      const result = await claims.runRound({ signal: ctx.signal });
      deps.metrics?.claimsScanned.inc(result.newClaims);
      if (!result.complete) {
        throw new Error(`scan incomplete, missing ${result.missingRanges.map((r) => `${r.from}-${r.to}`).join(', ')}; scoring with the last complete window`);
      }
    },
    () => {
      const phrase = backfill();
      return phrase ? `${phrase}; ${IN_BACKGROUND}` : IN_BACKGROUND;
    },
  );
  const completeness = claims.completeness();
  const notes = [...scan.notes];
  const running = scan.failure ? backfill() : null;
  if (completeness.lastCompleteWindow === null) {
    notes.push(running ? `claims: ${running}; no complete window yet: claims count 0 this round` : 'no complete claims window yet: claims count 0 this round');
  } else if (running) {
    notes.push(`claims: ${running}; scoring with the last complete window`);
  }
  const byProvider = claims.claimsByProvider();
  deps.metrics?.claimsWindow.set([...byProvider.values()].reduce((s, c) => s + c.claims, 0));
  return {
    value: { claimsByAddress: new Map([...byProvider].map(([addr, c]) => [addr, c.amount])), claimsComplete: completeness.lastRound?.complete ?? false },
    failure: scan.failure,
    notes,
  };
}
