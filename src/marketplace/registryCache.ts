/**
 * `registry_cache.json`: the last provider list a registry answered, so a validator keeps probing
 * when every registry is down. Replaced atomically (temp file, fsync, rename) so a crash mid-write
 * leaves the previous list. Also reads the Python validator's cache (a bare list).
 */
import { redactUrl } from '../observability/redact.js';
import { readFileIfExists, writeFileAtomic } from '../util/atomicFile.js';
import { fromCacheItem, isObject, RegistryError, type Provider, type ProviderCache } from './providers.js';

interface CacheFile {
  version: 1;
  savedAt: string;
  source: string;
  providers: Provider[];
}

export function createJsonFileCache(filePath: string, now: () => number = Date.now): ProviderCache {
  return {
    async load() {
      const text = await readFileIfExists(filePath).catch((err: unknown) => {
        throw new RegistryError('REGISTRY_CACHE_CORRUPT', `cannot read the registry cache ${filePath}`, { cause: err });
      });
      if (text === null) return null;
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (err) {
        throw new RegistryError('REGISTRY_CACHE_CORRUPT', `registry cache ${filePath} is not JSON`, { cause: err });
      }
      const items = Array.isArray(data) ? data : isObject(data) && Array.isArray(data.providers) ? data.providers : null;
      if (items === null) throw new RegistryError('REGISTRY_CACHE_CORRUPT', `registry cache ${filePath} holds no provider list`);
      return items.map(fromCacheItem).filter((p): p is Provider => p !== null);
    },
    async save(providers, source) {
      const body: CacheFile = { version: 1, savedAt: new Date(now()).toISOString(), source: redactUrl(source), providers: [...providers] };
      await writeFileAtomic(filePath, `${JSON.stringify(body, null, 2)}\n`);
    },
  };
}
