/**
 * Marketplace auto-registration at miner start (generation A): the miner tells
 * the Handshake58 marketplace which provider it runs, proving with an sr25519
 * signature by its hotkey that the hotkey owner made the claim.
 *
 * Failure is not fatal (the Python miner logs and carries on), so this never
 * throws: it returns what happened and the caller logs it.
 */
import { errorMessage, isAbortError } from '../errors.js';
import { redactText, redactUrl } from '../observability/redact.js';
import { raceSignal, startDeadline } from '../util/deadline.js';

export interface HotkeySigner {
  /** SS58 address of the hotkey. */
  address: string;
  sign(message: Uint8Array): Uint8Array;
}

export interface RegisterOnMarketplaceParameters {
  /** Default `https://www.handshake58.com` comes from the config (`--marketplace.url`). */
  marketplaceUrl: string;
  hotkey: HotkeySigner;
  /** Public URL of the provider (`API_URL`). */
  apiUrl: string;
  /** Polygon address receiving DRAIN payments (`POLYGON_WALLET`). */
  providerAddress: string;
  uid: number;
  timeoutMs?: number;
  signal?: AbortSignal;
  fetch?: typeof globalThis.fetch;
}

export type RegisterOnMarketplaceResult = { ok: true; status: number } | { ok: false; reason: string };

/** The exact bytes the hotkey signs: `handshake58:{hotkey_ss58}:{API_URL}` in UTF-8. */
export function registrationMessage(hotkeyAddress: string, apiUrl: string): Uint8Array {
  return new TextEncoder().encode(`handshake58:${hotkeyAddress}:${apiUrl}`);
}

export function toHexNoPrefix(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** The JSON the marketplace expects at `POST /api/directory/providers`. */
export interface ProviderRegistration {
  bittensorHotkey: string;
  hotkeySignature: string;
  apiUrl: string;
  providerAddress: string;
  name: string;
}

export function buildRegistration(p: Pick<RegisterOnMarketplaceParameters, 'hotkey' | 'apiUrl' | 'providerAddress' | 'uid'>): ProviderRegistration {
  return {
    bittensorHotkey: p.hotkey.address,
    hotkeySignature: toHexNoPrefix(p.hotkey.sign(registrationMessage(p.hotkey.address, p.apiUrl))),
    apiUrl: p.apiUrl,
    providerAddress: p.providerAddress,
    name: `Miner ${p.uid}`,
  };
}

export async function registerOnMarketplace(p: RegisterOnMarketplaceParameters): Promise<RegisterOnMarketplaceResult> {
  const timeoutMs = p.timeoutMs ?? 10_000;
  const doFetch = p.fetch ?? globalThis.fetch;
  if (!p.apiUrl) return { ok: false, reason: 'no API_URL (--miner.api_url) set' };
  if (!p.providerAddress) return { ok: false, reason: 'no POLYGON_WALLET (--polygon.wallet) set' };

  let endpoint: string;
  try {
    endpoint = joinUrl(p.marketplaceUrl, '/api/directory/providers');
  } catch {
    return { ok: false, reason: `invalid marketplace URL ${redactUrl(p.marketplaceUrl)}` };
  }

  let body: string;
  try {
    body = JSON.stringify(buildRegistration(p));
  } catch (err) {
    return { ok: false, reason: `could not sign the registration: ${errorMessage(err)}` };
  }

  const deadline = startDeadline(timeoutMs, { parent: p.signal, label: 'marketplace registration' });
  const signal = deadline.signal;
  try {
    const res = await raceSignal(doFetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal }), signal);
    if (res.ok) {
      await res.body?.cancel().catch(() => undefined);
      return { ok: true, status: res.status };
    }
    const text = await raceSignal(readSnippet(res), signal);
    return { ok: false, reason: `marketplace answered HTTP ${res.status}${text ? `: ${text}` : ''}` };
  } catch (err) {
    if (deadline.expired) return { ok: false, reason: `marketplace did not answer within ${timeoutMs} ms` };
    if (p.signal?.aborted || isAbortError(err)) return { ok: false, reason: 'aborted' };
    return { ok: false, reason: `marketplace unreachable: ${describeFetchError(err)}` };
  } finally {
    deadline.clear();
  }
}

/** `base` + absolute `path`, keeping any path prefix of `base` (trailing slashes ignored). */
export function joinUrl(base: string, path: string): string {
  const u = new URL(base);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('not http(s)');
  return `${u.origin}${u.pathname.replace(/\/+$/, '')}${path}`;
}

/** undici hides the socket error in `cause`; that is the useful part. */
export function describeFetchError(err: unknown): string {
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  const base = errorMessage(err);
  return cause !== undefined ? `${base} (${redactText(errorMessage(cause))})` : base;
}

async function readSnippet(res: Response): Promise<string> {
  try {
    const text = await res.text();
    return redactText(text.replace(/\s+/g, ' ').trim().slice(0, 200));
  } catch {
    return '';
  }
}
