/**
 * `registry_cache.json`: the last provider list a registry answered, so a validator keeps probing
 * when every registry is down. Kept in the atomic JSON store (temp file, fsync, rename), so a crash
 * mid-write leaves the previous list. Also reads the Python validator's cache (a bare list).
 */
import { redactUrl } from '../observability/redact.js';
import { StoreError } from '../store/errors.js';
import { createFileStateStore } from '../store/jsonFile.js';
import { fromCacheItem, isObject, RegistryError, type Provider, type ProviderCache } from './providers.js';

interface CacheFile {
  version: 1;
  savedAt: string;
  source: string;
  providers: Provider[];
}

export function createJsonFileCache(filePath: string, now: () => number = Date.now): ProviderCache {
  const file = createFileStateStore<unknown>(filePath, { pretty: true });
  return {
    async load() {
      const data = await file.load().catch((err: unknown) => {
        const notJson = err instanceof StoreError && err.code === 'STORE_INVALID';
        throw new RegistryError('REGISTRY_CACHE_CORRUPT', notJson ? `registry cache ${filePath} is not JSON` : `cannot read the registry cache ${filePath}`, {
          cause: err,
        });
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
