/**
 * One JSON POST to the marketplace, as the miner's registration and the validator's probe alerts
 * send it: never rejects, returns what happened for the caller to log.
 */
import { isAbortError } from '../errors.js';
import { redactText, redactUrl } from '../observability/redact.js';
import { describeFetchError, discardBody, exchange, HttpTimeoutError, joinUrl, readCapped } from './http.js';

export type MarketplaceOutcome = { ok: true; status: number } | { ok: false; reason: string };

export interface PostToMarketplaceParameters {
  /** `--marketplace.url`; may carry a path prefix. */
  marketplaceUrl: string;
  /** The API path, e.g. `/api/directory/providers`. */
  path: string;
  body: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  /** Named in the deadline's reason. */
  label: string;
  signal?: AbortSignal;
  fetch?: typeof globalThis.fetch;
  /** Quote the start of a refusal's body (redacted) in the reason; off where the server might echo a secret. */
  quoteRefusal: boolean;
}

export async function postToMarketplace(p: PostToMarketplaceParameters): Promise<MarketplaceOutcome> {
  let url: string;
  try {
    url = joinUrl(p.marketplaceUrl, p.path);
  } catch {
    return { ok: false, reason: `invalid marketplace URL ${redactUrl(p.marketplaceUrl)}` };
  }
  const init = { method: 'POST', headers: { 'content-type': 'application/json', ...p.headers }, body: p.body };
  try {
    return await exchange({ url, init, timeoutMs: p.timeoutMs, label: p.label, signal: p.signal, fetch: p.fetch }, async (res): Promise<MarketplaceOutcome> => {
      if (res.ok || !p.quoteRefusal) {
        await discardBody(res);
        return res.ok ? { ok: true, status: res.status } : { ok: false, reason: `marketplace answered HTTP ${res.status}` };
      }
      const text = await snippet(res);
      return { ok: false, reason: `marketplace answered HTTP ${res.status}${text ? `: ${text}` : ''}` };
    });
  } catch (err) {
    if (err instanceof HttpTimeoutError) return { ok: false, reason: `marketplace did not answer within ${p.timeoutMs} ms` };
    if (p.signal?.aborted || isAbortError(err)) return { ok: false, reason: 'aborted' };
    return { ok: false, reason: `marketplace unreachable: ${describeFetchError(err)}` };
  }
}

/** The start of a body, whitespace collapsed, redacted; '' when it cannot be read. */
async function snippet(res: Response): Promise<string> {
  try {
    const { text } = await readCapped(res, 4096);
    return redactText(text.replace(/\s+/g, ' ').trim().slice(0, 200));
  } catch {
    return '';
  }
}
