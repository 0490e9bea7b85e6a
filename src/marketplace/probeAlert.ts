/**
 * Forward step 6: when the miners' consensus says a provider is unreachable, tell the
 * marketplace. Fire-and-forget (the round does not wait on it and a failure changes nothing), so
 * this never rejects; the promise of the outcome is there for tests and the status page.
 *
 * `VALIDATOR_SECRET` goes in the `x-validator-secret` header only: it is kept out of the outcome,
 * the log lines and any error text (a refusal's body, which could echo it, is not read).
 */
import type { Logger } from '../observability/logger.js';
import { postToMarketplace, type MarketplaceOutcome } from './post.js';

export interface SendProbeAlertParameters {
  marketplaceUrl: string;
  providerId: string;
  probeUrl: string;
  /** `--validator.secret` / `VALIDATOR_SECRET`; the header is omitted when unset or empty. */
  secret?: string | null;
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  logger?: Logger;
}

export type ProbeAlertOutcome = MarketplaceOutcome;

export async function sendProbeAlert(p: SendProbeAlertParameters): Promise<ProbeAlertOutcome> {
  const outcome = await postToMarketplace({
    marketplaceUrl: p.marketplaceUrl,
    path: '/api/validator/probe-alert',
    body: JSON.stringify({ providerId: p.providerId, probeUrl: p.probeUrl, reachable: false }),
    headers: p.secret ? { 'x-validator-secret': p.secret } : {},
    timeoutMs: p.timeoutMs ?? 5000,
    label: 'probe alert',
    fetch: p.fetch,
    quoteRefusal: false,
  });
  if (outcome.ok) return outcome;
  // Belt and braces: whatever an error says, the secret is not repeated.
  const reason = p.secret ? outcome.reason.split(p.secret).join('<redacted>') : outcome.reason;
  p.logger?.debug({ providerId: p.providerId, reason }, 'probe alert not delivered');
  return { ok: false, reason };
}
