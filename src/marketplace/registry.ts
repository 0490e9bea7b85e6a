/**
 * Where the validator learns which providers to probe (forward step 1).
 *
 * Registries are tried in order (`--registry.urls`); the first that answers with a non-empty
 * list wins and is cached, so a validator keeps probing when every registry is down. Unlike the
 * Python validator, an empty or unrecognised answer counts as a failure (it never replaces a good
 * cache), and mpp.dev's `{version, services}` catalog is read instead of yielding nothing.
 */
import { errorMessage, isAbortError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactUrl } from '../observability/redact.js';
import { describeFetchError, discardBody, exchange, HttpTimeoutError, readCapped } from './http.js';
import {
  isHttpUrl,
  parseRegistryAnswer,
  RegistryError,
  type Provider,
  type ProviderCache,
  type ProviderRegistry,
  type RegistryFetchResult,
} from './providers.js';

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
  const log = options.logger;
  const ask = (url: string, signal: AbortSignal | undefined) => fetchRegistry(url, options, signal);
  return {
    async fetchProviders(signal) {
      const failures: RegistryFetchResult['failures'] = [];
      for (const url of options.urls) {
        if (signal?.aborted) throw signal.reason;
        let providers: Provider[];
        try {
          providers = await ask(url, signal);
        } catch (err) {
          if (signal?.aborted) throw err;
          const reason = err instanceof RegistryError ? err.shortMessage : isAbortError(err) ? 'aborted' : describeFetchError(err);
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
      const cached = await loadCache(options.cache, log);
      if (cached !== null && cached.length > 0) {
        log?.info({ providers: cached.length }, 'all registries failed; using the cached provider list');
        return { providers: cached, source: 'cache', failures };
      }
      log?.error('no providers: all registries failed and there is no cache');
      return { providers: [], source: null, failures };
    },
  };
}

/** One registry's providers; a RegistryError saying why not, or the caller's abort. */
async function fetchRegistry(url: string, options: HttpRegistryOptions, signal: AbortSignal | undefined): Promise<Provider[]> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const maxBytes = options.maxAnswerBytes ?? 10 * 1024 * 1024;
  try {
    return await exchange({ url, init: { headers: { accept: 'application/json' } }, timeoutMs, label: 'registry', signal, fetch: options.fetch }, (res) =>
      readAnswer(res, maxBytes),
    );
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    if (err instanceof HttpTimeoutError) throw new RegistryError('REGISTRY_HTTP', `no answer within ${timeoutMs} ms`);
    throw err;
  }
}

async function readAnswer(res: Response, maxBytes: number): Promise<Provider[]> {
  if (!res.ok) {
    await discardBody(res);
    throw new RegistryError('REGISTRY_HTTP', `HTTP ${res.status}`);
  }
  const tooLarge = () => new RegistryError('REGISTRY_TOO_LARGE', `answer larger than ${maxBytes} bytes`);
  if (Number(res.headers.get('content-length') ?? NaN) > maxBytes) {
    await discardBody(res);
    throw tooLarge();
  }
  const { text, complete } = await readCapped(res, maxBytes);
  if (!complete) throw tooLarge();
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
}

async function loadCache(cache: ProviderCache, log: Logger | undefined): Promise<Provider[] | null> {
  try {
    return await cache.load();
  } catch (err) {
    log?.warn({ err: errorMessage(err) }, 'registry cache unusable');
    return null;
  }
}
