import { errorMessage } from '../../errors.js';
import { redactText, redactUrl } from '../../observability/redact.js';
import { raceSignal, startDeadline } from '../../util/deadline.js';
import { PolygonError } from './errors.js';

/**
 * One JSON-RPC request over HTTP, and what its answer means: a result, a range to split, or a
 * failure of a given kind. It never throws for an answer (only when the caller's signal aborts),
 * so the pool decides what to do from a value. URLs lose their credentials here: `fetch` refuses
 * userinfo, so it goes in an `authorization` header, and labels are `redactUrl` (no API keys).
 */

export type RpcFailureKind = 'timeout' | 'rate_limited' | 'server_error' | 'http_error' | 'network' | 'rpc_error' | 'bad_response';

/** What one answer means for the pool: a usable result, a range to split, or an endpoint failure. */
export type RpcAnswerClass = 'range_too_large' | RpcFailureKind;

export type RpcOutcome = { ok: true; result: unknown } | { ok: false; kind: RpcAnswerClass; message: string; retryAfterMs?: number };

/** Where a request goes: the URL without userinfo, and the credentials it carried. */
export interface RpcTarget {
  url: string;
  authorization: string | null;
}

const RATE_LIMIT_TEXT =
  /rate.?limit|too many requests|request limit|requests? (per|\/) ?(second|sec|minute|min)|quota|throttl|capacity|compute units|credits|daily limit/i;
const RANGE_TEXT =
  /block range|range (is )?too (large|wide|big)|too many (results|logs|blocks)|(more|greater) than \d+ (results|logs|blocks)|response (size|is too (big|large))|log response size|limited to (a )?\d+|exceeds? (the )?(max|maximum|limit)|max(imum)? (block )?range|range limit|results? limit|too large|query timeout|query returned more/i;

/**
 * Classifies a failed answer. Pure, so the many phrasings of public RPCs can be unit-tested.
 * Rate limits are checked first: "limit exceeded" texts of throttling services also match
 * the looser range patterns.
 */
export function classifyRpcError(answer: { status?: number; code?: number; message?: string }): RpcAnswerClass {
  const text = answer.message ?? '';
  if (answer.status === 429 || RATE_LIMIT_TEXT.test(text)) return 'rate_limited';
  if (RANGE_TEXT.test(text)) return 'range_too_large';
  // -32005 "limit exceeded" without a range hint is a throttle (Infura's range answer says "more than … results").
  if (answer.code === -32005) return 'rate_limited';
  if (answer.status !== undefined && answer.status >= 500) return 'server_error';
  if (answer.status !== undefined && answer.status >= 400) return 'http_error';
  if (answer.code !== undefined) return 'rpc_error';
  return 'bad_response';
}

/** 0x-prefixed hex quantity → safe integer; throws POLYGON_BAD_RESPONSE otherwise. */
export function parseQuantity(value: unknown, what = 'quantity'): number {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,15}$/.test(value)) {
    throw new PolygonError('POLYGON_BAD_RESPONSE', `expected a hex ${what}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  const n = Number.parseInt(value, 16);
  if (!Number.isSafeInteger(n)) throw new PolygonError('POLYGON_BAD_RESPONSE', `${what} ${value} is too large`);
  return n;
}

/** `https://user:pass@host/…` → the URL without userinfo and a Basic authorization header. */
export function splitCredentials(raw: string): RpcTarget {
  const u = new URL(raw);
  if (u.username === '' && u.password === '') return { url: raw, authorization: null };
  const token = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: `Basic ${token}` };
}

/** Distinct, secret-free labels: `redactUrl`, numbered when two endpoints share a host. */
export function endpointLabels(urls: readonly string[]): string[] {
  const base = urls.map((u) => redactUrl(u));
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${b}#${i}` : b));
}

/** An http(s) URL, or POLYGON_NO_ENDPOINTS naming it redacted. */
export function checkEndpointUrl(url: string): void {
  let ok = false;
  try {
    const u = new URL(url);
    ok = u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    ok = false;
  }
  if (!ok) throw new PolygonError('POLYGON_NO_ENDPOINTS', `Polygon RPC endpoint ${redactUrl(url)} is not an http(s) URL`);
}

/** What an HTTP answer says, as an outcome. Pure; messages are redacted. */
export function readRpcAnswer(answer: { status: number; ok: boolean; retryAfter: string | null; text: string }): RpcOutcome {
  const { text } = answer;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const rpcError = typeof body === 'object' && body !== null && 'error' in body ? (body as { error: unknown }).error : undefined;
  const errFields = typeof rpcError === 'object' && rpcError !== null ? (rpcError as { code?: unknown; message?: unknown }) : undefined;
  const code = typeof errFields?.code === 'number' ? errFields.code : undefined;
  const message = redactText(typeof errFields?.message === 'string' ? errFields.message : text.slice(0, 200));
  if (!answer.ok) {
    const retryAfter = Number(answer.retryAfter);
    return {
      ok: false,
      kind: classifyRpcError({ status: answer.status, code, message }),
      message: `HTTP ${answer.status}${message ? `: ${message}` : ''}`,
      retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
    };
  }
  if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { ok: false, kind: 'bad_response', message: `not a JSON-RPC answer: ${redactText(text.slice(0, 80))}` };
  }
  if (rpcError !== undefined) return { ok: false, kind: classifyRpcError({ code: code ?? 0, message }), message: `JSON-RPC error ${code ?? '?'}: ${message}` };
  if (!('result' in body)) return { ok: false, kind: 'bad_response', message: 'JSON-RPC answer without result' };
  return { ok: true, result: (body as { result: unknown }).result };
}

export interface SendRpcParameters {
  method: string;
  params: unknown[];
  id: number;
  timeoutMs: number;
  signal?: AbortSignal;
  fetch: typeof globalThis.fetch;
}

/** One HTTP round trip, classified. Throws only when the caller's signal aborts. */
export async function sendRpc(target: RpcTarget, p: SendRpcParameters): Promise<RpcOutcome> {
  const deadline = startDeadline(p.timeoutMs, { parent: p.signal, label: p.method });
  const signal = deadline.signal;
  try {
    const res = await raceSignal(
      p.fetch(target.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(target.authorization ? { authorization: target.authorization } : {}) },
        body: JSON.stringify({ jsonrpc: '2.0', id: p.id, method: p.method, params: p.params }),
        signal,
      }),
      signal,
    );
    const text = await raceSignal(res.text(), signal);
    return readRpcAnswer({ status: res.status, ok: res.ok, retryAfter: res.headers.get('retry-after'), text });
  } catch (err) {
    if (p.signal?.aborted) throw p.signal.reason;
    if (deadline.expired) return { ok: false, kind: 'timeout', message: `no answer within ${p.timeoutMs} ms` };
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { ok: false, kind: 'network', message: redactText(cause?.code ?? cause?.message ?? errorMessage(err)) };
  } finally {
    deadline.clear();
  }
}
