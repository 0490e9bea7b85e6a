/**
 * What the Handshake58 HTTP API calls share: one exchange under its own deadline, a body read
 * with a cap, endpoint URLs under a base URL that may carry a path, and error text without
 * secrets (fetch hides the socket error in `cause`; that is the useful part, redacted).
 */
import { errorMessage, Hs58Error } from '../errors.js';
import { redactText } from '../observability/redact.js';
import { raceSignal, startDeadline } from '../util/deadline.js';

/** The exchange's own deadline ended it (not the caller's signal). */
export class HttpTimeoutError extends Hs58Error<'HTTP_TIMEOUT'> {
  override name = 'HttpTimeoutError';
}

export interface ExchangeParameters {
  url: string;
  init: Omit<RequestInit, 'signal'>;
  timeoutMs: number;
  /** Named in the deadline's reason. */
  label: string;
  /** The caller's signal: aborting it ends the exchange with its reason. */
  signal?: AbortSignal;
  fetch?: typeof globalThis.fetch;
}

/**
 * Sends one request and reads its answer with `read`, both within `timeoutMs` whatever the peer
 * does; rejects with an HttpTimeoutError when the deadline ended it.
 */
export async function exchange<T>(p: ExchangeParameters, read: (res: Response) => Promise<T>): Promise<T> {
  const doFetch = p.fetch ?? globalThis.fetch;
  const deadline = startDeadline(p.timeoutMs, { parent: p.signal, label: p.label });
  try {
    const res = await raceSignal(doFetch(p.url, { ...p.init, signal: deadline.signal }), deadline.signal);
    return await raceSignal(read(res), deadline.signal);
  } catch (err) {
    if (deadline.expired) throw new HttpTimeoutError('HTTP_TIMEOUT', `no answer within ${p.timeoutMs} ms`, { cause: err });
    throw err;
  } finally {
    deadline.clear();
  }
}

/** Drops an answer's body without reading it. */
export async function discardBody(res: Response): Promise<void> {
  await res.body?.cancel().catch(() => undefined);
}

/** Up to `maxBytes` of the body as text, without buffering more; `complete` is false when there was more (the rest is not read). */
export async function readCapped(res: Response, maxBytes: number): Promise<{ text: string; complete: boolean }> {
  if (!res.body) return { text: '', complete: true };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (total + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - total));
      await reader.cancel().catch(() => undefined);
      return { text: Buffer.concat(chunks).toString('utf8'), complete: false };
    }
    total += value.byteLength;
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), complete: true };
}

/** `base` + absolute `path`, keeping any path prefix of `base` (trailing slashes ignored); throws unless `base` is http(s). */
export function joinUrl(base: string, path: string): string {
  const u = new URL(base);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}${path}`;
}

/** An error of fetch for a log or a reason, redacted: its message and the socket error in its `cause`. */
export function describeFetchError(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  // The message itself may name the URL too: "Request cannot be constructed from a URL that includes credentials: …".
  const base = redactText(errorMessage(err));
  return cause !== undefined ? `${base} (${redactText(errorMessage(cause))})` : base;
}
