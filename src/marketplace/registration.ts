/**
 * Marketplace auto-registration at miner start (generation A): the miner tells the Handshake58
 * marketplace which provider it runs, proving with an sr25519 signature by its hotkey that the
 * hotkey owner made the claim.
 *
 * Failure is not fatal (the Python miner logs and carries on), so this never throws: it returns
 * what happened and the caller logs it.
 */
import { errorMessage } from '../errors.js';
import { postToMarketplace, type MarketplaceOutcome } from './post.js';

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

export type RegisterOnMarketplaceResult = MarketplaceOutcome;

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
  if (!p.apiUrl) return { ok: false, reason: 'no API_URL (--miner.api_url) set' };
  if (!p.providerAddress) return { ok: false, reason: 'no POLYGON_WALLET (--polygon.wallet) set' };
  let body: string;
  try {
    body = JSON.stringify(buildRegistration(p));
  } catch (err) {
    return { ok: false, reason: `could not sign the registration: ${errorMessage(err)}` };
  }
  return postToMarketplace({
    marketplaceUrl: p.marketplaceUrl,
    path: '/api/directory/providers',
    body,
    timeoutMs: p.timeoutMs ?? 10_000,
    label: 'marketplace registration',
    signal: p.signal,
    fetch: p.fetch,
    quoteRefusal: true,
  });
}
