/**
 * Providers as the registries list them (pure): the type, the registry's errors and ports, and
 * the parsing of a registry answer. handshake58 answers `{providers}` (or `{miners}`), mpp.dev
 * its `{version, services}` catalog. Order and duplicates are kept as the registry sent them
 * (only invalid items are dropped): the sampler sorts by `probeUrl`, and every validator must
 * pick the same providers.
 */
import { Hs58Error } from '../errors.js';

export type RegistryErrorCode =
  | 'REGISTRY_BAD_URL'
  | 'REGISTRY_HTTP'
  | 'REGISTRY_TOO_LARGE'
  | 'REGISTRY_BAD_ANSWER'
  | 'REGISTRY_EMPTY'
  | 'REGISTRY_CACHE_CORRUPT';

export class RegistryError extends Hs58Error<RegistryErrorCode> {
  override name = 'RegistryError';
}

export interface Provider {
  /** The registry's id ('' when it gave none, as the Python validator does). */
  id: string;
  /** What miners are asked to probe: `probeUrl`, else `apiUrl` (raw string, not normalised). */
  probeUrl: string;
  name: string;
  /** `drain` unless the registry says otherwise; `mpp` for mpp.dev services. */
  protocol: string;
}

export interface RegistryFetchResult {
  providers: Provider[];
  /** The registry URL that answered, `'cache'`, or null when nothing is known. */
  source: string | null;
  /** Why each registry tried before the answer failed (URLs redacted). */
  failures: { registry: string; reason: string }[];
}

/** The validator's port: the real one is HTTP; tests of the round may use an in-memory one. */
export interface ProviderRegistry {
  /** Never rejects because of a registry or the cache; rejects only when `signal` aborts. */
  fetchProviders(signal?: AbortSignal): Promise<RegistryFetchResult>;
}

export interface ProviderCache {
  /** The cached list, or null when there is none; throws RegistryError on a corrupt file. */
  load(): Promise<Provider[] | null>;
  save(providers: readonly Provider[], source: string): Promise<void>;
}

type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmptyString = (v: unknown): v is string => typeof v === 'string' && v !== '';

/** An absolute http(s) URL with a host. */
export function isHttpUrl(text: unknown): text is string {
  if (!nonEmptyString(text)) return false;
  try {
    const u = new URL(text);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** A provider from an item whose URL was found: id, name and protocol with their defaults. */
function provider(item: Json, probeUrl: string, defaultProtocol: string): Provider {
  const id = typeof item.id === 'string' ? item.id : typeof item.id === 'number' && Number.isFinite(item.id) ? String(item.id) : '';
  return {
    id,
    probeUrl,
    name: nonEmptyString(item.name) ? item.name : 'unknown',
    protocol: nonEmptyString(item.protocol) ? item.protocol : defaultProtocol,
  };
}

/** A handshake58 registry item: `probeUrl || apiUrl`, dropped unless that is an http(s) URL. */
function fromRegistryItem(item: unknown): Provider | null {
  if (!isObject(item)) return null;
  const url = nonEmptyString(item.probeUrl) ? item.probeUrl : item.apiUrl;
  return isHttpUrl(url) ? provider(item, url, 'drain') : null;
}

/** URL fields read from an mpp.dev service, in this order; the first valid http(s) URL is probed. */
export const MPP_URL_FIELDS = ['probeUrl', 'serviceUrl', 'url', 'apiUrl', 'baseUrl'] as const;

/** An mpp.dev catalog service: `{id, name, serviceUrl, endpoints, ...}`. */
function fromMppService(item: unknown): Provider | null {
  if (!isObject(item)) return null;
  const url = MPP_URL_FIELDS.map((f) => item[f]).find(isHttpUrl);
  return url === undefined ? null : provider(item, url, 'mpp');
}

/** A provider as stored in the cache (our own format or the Python validator's list). */
export function fromCacheItem(item: unknown): Provider | null {
  return isObject(item) && isHttpUrl(item.probeUrl) ? provider(item, item.probeUrl, 'drain') : null;
}

/**
 * Providers in a registry answer: `data.providers`, else `data.miners` (handshake58), else
 * `data.services` (mpp.dev). Junk items are dropped; null when the answer has none of these shapes.
 */
export function parseRegistryAnswer(data: unknown): Provider[] | null {
  if (!isObject(data)) return null;
  const pick = (items: unknown[], map: (i: unknown) => Provider | null) => items.map(map).filter((p): p is Provider => p !== null);
  if (Array.isArray(data.providers)) return pick(data.providers, fromRegistryItem);
  if (Array.isArray(data.miners)) return pick(data.miners, fromRegistryItem);
  if (Array.isArray(data.services)) return pick(data.services, fromMppService);
  return null;
}
