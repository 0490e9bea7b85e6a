/**
 * Where the validator learns which providers to probe (forward step 1).
 *
 * Registries are tried in order (`--registry.urls`); the first that answers
 * with a non-empty list wins and is cached, so a validator keeps probing when
 * every registry is down. Unlike the Python validator, an empty or unrecognised
 * answer counts as a failure (it never replaces a good cache), and mpp.dev's
 * `{version, services}` catalog is read instead of yielding nothing.
 *
 * Order and duplicates of the winning list are kept as the registry sent them
 * (only invalid items are dropped): the sampler sorts by `probeUrl`, and every
 * validator must pick the same providers.
 */
import { Hs58Error, errorMessage, isAbortError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactUrl } from '../observability/redact.js';
import { StoreError } from '../store/errors.js';
import { createFileStateStore } from '../store/jsonFile.js';
import { raceSignal, startDeadline } from '../util/deadline.js';

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

// ---------------------------------------------------------------------------------------------
// Parsing answers (pure)

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
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

function idOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

/** A handshake58 registry item: `probeUrl || apiUrl`, dropped unless that is an http(s) URL. */
function fromRegistryItem(item: unknown): Provider | null {
  if (!isObject(item)) return null;
  const url = nonEmptyString(item.probeUrl) ? item.probeUrl : item.apiUrl;
  if (!isHttpUrl(url)) return null;
  return {
    id: idOf(item.id),
    probeUrl: url,
    name: nonEmptyString(item.name) ? item.name : 'unknown',
    protocol: nonEmptyString(item.protocol) ? item.protocol : 'drain',
  };
}

/** URL fields read from an mpp.dev service, in this order; the first valid http(s) URL is probed. */
export const MPP_URL_FIELDS = ['probeUrl', 'serviceUrl', 'url', 'apiUrl', 'baseUrl'] as const;

/** An mpp.dev catalog service: `{id, name, serviceUrl, endpoints, ...}`. */
function fromMppService(item: unknown): Provider | null {
  if (!isObject(item)) return null;
  const url = MPP_URL_FIELDS.map((f) => item[f]).find(isHttpUrl);
  if (url === undefined) return null;
  return {
    id: idOf(item.id),
    probeUrl: url,
    name: nonEmptyString(item.name) ? item.name : 'unknown',
    protocol: nonEmptyString(item.protocol) ? item.protocol : 'mpp',
  };
}

/**
 * Providers in a registry answer: `data.providers`, else `data.miners`
 * (handshake58), else `data.services` (mpp.dev). Junk items are dropped;
 * null when the answer has none of these shapes.
 */
export function parseRegistryAnswer(data: unknown): Provider[] | null {
  if (!isObject(data)) return null;
  const pick = (items: unknown[], map: (i: unknown) => Provider | null) => items.map(map).filter((p): p is Provider => p !== null);
  if (Array.isArray(data.providers)) return pick(data.providers, fromRegistryItem);
  if (Array.isArray(data.miners)) return pick(data.miners, fromRegistryItem);
  if (Array.isArray(data.services)) return pick(data.services, fromMppService);
  return null;
}

/** A provider as stored in the cache (our own format or the Python validator's list). */
function fromCacheItem(item: unknown): Provider | null {
  if (!isObject(item) || !isHttpUrl(item.probeUrl)) return null;
  return {
    id: idOf(item.id),
    probeUrl: item.probeUrl,
    name: nonEmptyString(item.name) ? item.name : 'unknown',
    protocol: nonEmptyString(item.protocol) ? item.protocol : 'drain',
  };
}

// ---------------------------------------------------------------------------------------------
// The cache file

interface CacheFile {
  version: 1;
  savedAt: string;
  source: string;
  providers: Provider[];
}

/**
 * `registry_cache.json` in the atomic JSON store (temp file, fsync, rename), so a crash
 * mid-write leaves the previous list. Also reads the Python validator's cache (a bare list).
 */
export function createJsonFileCache(filePath: string, now: () => number = Date.now): ProviderCache {
  const file = createFileStateStore<unknown>(filePath, { pretty: true });
  return {
    async load() {
      const data = await file.load().catch((err: unknown) => {
        const notJson = err instanceof StoreError && err.code === 'STORE_INVALID';
        throw new RegistryError('REGISTRY_CACHE_CORRUPT', notJson ? `registry cache ${filePath} is not JSON` : `cannot read the registry cache ${filePath}`, { cause: err });
      });
      if (data === null) return null;
      const items = Array.isArray(data) ? data : isObject(data) && Array.isArray(data.providers) ? data.providers : null;
      if (items === null) throw new RegistryError('REGISTRY_CACHE_CORRUPT', `registry cache ${filePath} holds no provider list`);
      return items.map(fromCacheItem).filter((p): p is Provider => p !== null);
    },
    async save(providers, source) {
      const body: CacheFile = { version: 1, savedAt: new Date(now()).toISOString(), source: redactUrl(source), providers: [...providers] };
      await file.save(body);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The HTTP registry

export interface HttpRegistryOptions {
  /** `--registry.urls`, tried in order. */
  urls: readonly string[];
  /** Per registry. Default 15000 (the Python validator's 15 s). */
  timeoutMs?: number;
  cache: ProviderCache;
  logger?: Logger;
  fetch?: typeof globalThis.fetch;
  /** Answers larger than this are refused. Default 10 MiB. */
  maxAnswerBytes?: number;
}

export function createHttpRegistry(options: HttpRegistryOptions): ProviderRegistry {
  for (const url of options.urls) {
    if (!isHttpUrl(url)) {
      throw new RegistryError('REGISTRY_BAD_URL', `--registry.urls: ${redactUrl(url)} is not an http(s) URL`, { details: { url: redactUrl(url) } });
    }
  }
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxAnswerBytes ?? 10 * 1024 * 1024;
  const doFetch = options.fetch ?? globalThis.fetch;
  const log = options.logger;

  async function fetchOne(url: string, signal: AbortSignal | undefined): Promise<Provider[]> {
    const deadline = startDeadline(timeoutMs, { parent: signal, label: 'registry' });
    let res: Response;
    try {
      res = await raceSignal(doFetch(url, { headers: { accept: 'application/json' }, signal: deadline.signal }), deadline.signal);
      if (!res.ok) {
        await res.body?.cancel().catch(() => undefined);
        throw new RegistryError('REGISTRY_HTTP', `HTTP ${res.status}`);
      }
      const text = await raceSignal(readCapped(res, maxBytes), deadline.signal);
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch {
        throw new RegistryError('REGISTRY_BAD_ANSWER', 'answer is not JSON');
      }
      const providers = parseRegistryAnswer(data);
      if (providers === null) throw new RegistryError('REGISTRY_BAD_ANSWER', 'answer has no providers, miners or services list');
      if (providers.length === 0) throw new RegistryError('REGISTRY_EMPTY', 'answer lists no provider with an http(s) URL');
      return providers;
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.expired) throw new RegistryError('REGISTRY_HTTP', `no answer within ${timeoutMs} ms`);
      throw err;
    } finally {
      deadline.clear();
    }
  }

  return {
    async fetchProviders(signal) {
      const failures: RegistryFetchResult['failures'] = [];
      for (const url of options.urls) {
        if (signal?.aborted) throw signal.reason;
        let providers: Provider[];
        try {
          providers = await fetchOne(url, signal);
        } catch (err) {
          if (signal?.aborted) throw err;
          const reason = err instanceof RegistryError ? err.shortMessage : describe(err);
          failures.push({ registry: redactUrl(url), reason });
          log?.warn({ registry: redactUrl(url), reason }, 'provider registry failed');
          continue;
        }
        try {
          await options.cache.save(providers, url);
        } catch (err) {
          log?.warn({ err: errorMessage(err) }, 'could not write the registry cache');
        }
        log?.info({ registry: redactUrl(url), providers: providers.length }, 'providers from registry');
        return { providers, source: url, failures };
      }

      let cached: Provider[] | null = null;
      try {
        cached = await options.cache.load();
      } catch (err) {
        log?.warn({ err: errorMessage(err) }, 'registry cache unusable');
      }
      if (cached !== null && cached.length > 0) {
        log?.info({ providers: cached.length }, 'all registries failed; using the cached provider list');
        return { providers: cached, source: 'cache', failures };
      }
      log?.error('no providers: all registries failed and there is no cache');
      return { providers: [], source: null, failures };
    },
  };
}

function describe(err: unknown): string {
  if (isAbortError(err)) return 'aborted';
  const cause = err instanceof Error ? (err as Error & { cause?: unknown }).cause : undefined;
  return cause !== undefined ? `${errorMessage(err)} (${errorMessage(cause)})` : errorMessage(err);
}

/** The body as text, refusing more than `maxBytes` without buffering it all. */
async function readCapped(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new RegistryError('REGISTRY_TOO_LARGE', `answer larger than ${maxBytes} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new RegistryError('REGISTRY_TOO_LARGE', `answer larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
