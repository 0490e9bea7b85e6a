/**
 * Forward step 6: when the miners' consensus says a provider is unreachable,
 * tell the marketplace. Fire-and-forget (the round does not wait on it and a
 * failure changes nothing), so this never rejects; the promise of the outcome
 * is there for tests and the status page.
 *
 * `VALIDATOR_SECRET` goes in the `x-validator-secret` header only: it is kept
 * out of the outcome, the log lines and any error text.
 */
import type { Logger } from '../observability/logger.js';
import { errorMessage } from '../errors.js';
import { redactText, redactUrl } from '../observability/redact.js';
import { raceSignal, startDeadline } from '../util/deadline.js';

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

export type ProbeAlertOutcome = { ok: true; status: number } | { ok: false; reason: string };

export async function sendProbeAlert(p: SendProbeAlertParameters): Promise<ProbeAlertOutcome> {
  const outcome = await post(p);
  if (!outcome.ok) p.logger?.debug({ providerId: p.providerId, reason: outcome.reason }, 'probe alert not delivered');
  return outcome;
}

async function post(p: SendProbeAlertParameters): Promise<ProbeAlertOutcome> {
  const timeoutMs = p.timeoutMs ?? 5000;
  const doFetch = p.fetch ?? globalThis.fetch;
  let endpoint: string;
  try {
    endpoint = alertEndpoint(p.marketplaceUrl);
  } catch {
    return { ok: false, reason: `invalid marketplace URL ${redactUrl(p.marketplaceUrl)}` };
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (p.secret) headers['x-validator-secret'] = p.secret;
  const body = JSON.stringify({ providerId: p.providerId, probeUrl: p.probeUrl, reachable: false });
  const deadline = startDeadline(timeoutMs, { label: 'probe alert' });
  try {
    const res = await raceSignal(doFetch(endpoint, { method: 'POST', headers, body, signal: deadline.signal }), deadline.signal);
    await res.body?.cancel().catch(() => undefined);
    return res.ok ? { ok: true, status: res.status } : { ok: false, reason: `marketplace answered HTTP ${res.status}` };
  } catch (err) {
    if (deadline.expired) return { ok: false, reason: `marketplace did not answer within ${timeoutMs} ms` };
    return { ok: false, reason: scrub(`marketplace unreachable: ${describeFetchError(err)}`, p.secret) };
  } finally {
    deadline.clear();
  }
}

function alertEndpoint(marketplaceUrl: string): string {
  const u = new URL(marketplaceUrl);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}/api/validator/probe-alert`;
}

/** fetch puts the socket error in `cause`; that is the useful part. */
function describeFetchError(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  return cause !== undefined ? `${errorMessage(err)} (${redactText(errorMessage(cause))})` : errorMessage(err);
}

/** Belt and braces: whatever an error says, the secret is not repeated. */
function scrub(text: string, secret: string | null | undefined): string {
  return secret ? text.split(secret).join('<redacted>') : text;
}
