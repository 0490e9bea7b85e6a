import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { parseRegistryAnswer, RegistryError, type ProviderCache } from '../../src/marketplace/providers.js';
import { createHttpRegistry } from '../../src/marketplace/registry.js';
import { createJsonFileCache } from '../../src/marketplace/registryCache.js';
import { createLogger } from '../../src/observability/logger.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';
import { freePort } from '../support/net.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Answers served by the local registry, by path. */
const answers = new Map<string, { status: number; body: string; delayMs?: number }>();
const json = (v: unknown, status = 200) => ({ status, body: JSON.stringify(v) });

let registry: LocalServer;
let dir: string;
let cachePath: string;

beforeAll(async () => {
  registry = await startLocalServer(async (req, res) => {
    const a = answers.get(new URL(req.url ?? '/', 'http://x').pathname);
    if (!a) {
      res.statusCode = 404;
      res.end('not found');
      return;
    }
    if (a.delayMs) await sleep(a.delayMs);
    res.writeHead(a.status, { 'content-type': 'application/json' });
    res.end(a.body);
  });
  dir = mkdtempSync(path.join(tmpdir(), 'hs58-registry-'));
});

afterAll(async () => {
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  answers.clear();
  cachePath = path.join(dir, `${Math.random().toString(36).slice(2)}`, 'registry_cache.json');
});

const u = (p: string) => `${registry.origin}${p}`;

const HS58_ANSWER = {
  providers: [
    { id: 'a', probeUrl: 'https://a.example/health', name: 'A', protocol: 'drain', extra: 1 },
    { id: 'legacy', apiUrl: 'https://legacy.example', name: 'Legacy' },
    { id: 42, probeUrl: 'http://num.example' },
    { id: 'dup', probeUrl: 'https://a.example/health', name: 'A again' },
    { id: 'no-url', name: 'skipped' },
    { id: 'bad-scheme', probeUrl: 'ftp://x.example/' },
    { id: 'not-url', probeUrl: 'not a url' },
    { id: 'wrong-type', probeUrl: 12345 },
    { id: 'probe-wins', probeUrl: 'javascript:alert(1)', apiUrl: 'https://fallback.example' },
    null,
    'junk',
    ['array'],
    { id: { nested: true }, probeUrl: 'https://weird-id.example', name: 7, protocol: '' },
  ],
};

describe('parseRegistryAnswer (shapes)', () => {
  test('handshake58 providers: mapping, defaults, junk dropped, order and duplicates kept', () => {
    expect(parseRegistryAnswer(HS58_ANSWER)).toEqual([
      { id: 'a', probeUrl: 'https://a.example/health', name: 'A', protocol: 'drain' },
      { id: 'legacy', probeUrl: 'https://legacy.example', name: 'Legacy', protocol: 'drain' },
      { id: '42', probeUrl: 'http://num.example', name: 'unknown', protocol: 'drain' },
      { id: 'dup', probeUrl: 'https://a.example/health', name: 'A again', protocol: 'drain' },
      { id: '', probeUrl: 'https://weird-id.example', name: 'unknown', protocol: 'drain' },
    ]);
  });

  test('miners when there is no providers list', () => {
    expect(parseRegistryAnswer({ miners: [{ id: 'm1', apiUrl: 'https://m1.example', protocol: 'mpp' }] })).toEqual([
      { id: 'm1', probeUrl: 'https://m1.example', name: 'unknown', protocol: 'mpp' },
    ]);
  });

  test('mpp.dev catalog {version, services}', () => {
    const catalog = {
      version: 1,
      services: [
        {
          id: 'openai',
          name: 'OpenAI',
          serviceUrl: 'https://openai.mpp.tempo.xyz',
          description: 'x',
          categories: ['ai'],
          endpoints: [{ method: 'POST', path: '/v1/responses', payment: { amount: '1' } }],
        },
        { id: 'alias', name: 'Alias', url: 'https://alias.example' },
        { id: 'bad-first', serviceUrl: 'not a url', apiUrl: 'https://second-field.example' },
        { id: 'none', name: 'No URL', endpoints: [] },
        42,
      ],
    };
    expect(parseRegistryAnswer(catalog)).toEqual([
      { id: 'openai', probeUrl: 'https://openai.mpp.tempo.xyz', name: 'OpenAI', protocol: 'mpp' },
      { id: 'alias', probeUrl: 'https://alias.example', name: 'Alias', protocol: 'mpp' },
      { id: 'bad-first', probeUrl: 'https://second-field.example', name: 'unknown', protocol: 'mpp' },
    ]);
  });

  test.each([null, 42, 'text', [], [{ probeUrl: 'https://x.example' }], {}, { providers: 'nope' }, { services: {} }])('unrecognised answer %j', (data) => {
    expect(parseRegistryAnswer(data)).toBeNull();
  });
});

describe('createHttpRegistry against local registries', () => {
  test('first registry answering with providers wins and is cached (atomic file, no temp left)', async () => {
    answers.set('/one', json(HS58_ANSWER));
    answers.set('/two', json({ providers: [{ id: 'never', probeUrl: 'https://never.example' }] }));
    const reg = createHttpRegistry({ urls: [u('/one'), u('/two')], cache: createJsonFileCache(cachePath, () => Date.UTC(2026, 0, 2)) });
    const r = await reg.fetchProviders();
    expect(r.source).toBe(u('/one'));
    expect(r.providers.map((p) => p.id)).toEqual(['a', 'legacy', '42', 'dup', '']);
    expect(r.failures).toEqual([]);
    expect(registry.hits.filter((h) => h.url === '/two')).toHaveLength(0);
    const file = JSON.parse(readFileSync(cachePath, 'utf8')) as { version: number; savedAt: string; providers: unknown[] };
    expect(file).toMatchObject({ version: 1, savedAt: '2026-01-02T00:00:00.000Z', providers: r.providers });
    expect(readdirSync(path.dirname(cachePath))).toEqual(['registry_cache.json']);
  });

  test('fails over: HTTP error, non-JSON, unknown shape, empty list, timeout, refused, then a miners answer', async () => {
    const closedPort = await freePort();
    answers.set('/500', { status: 500, body: 'boom' });
    answers.set('/html', { status: 200, body: '<html>maintenance</html>' });
    answers.set('/shape', json({ data: [] }));
    answers.set('/empty', json({ providers: [] }));
    answers.set('/junk-only', json({ providers: [{ id: 'x' }, null] }));
    answers.set('/slow', { ...json({ providers: [{ probeUrl: 'https://slow.example' }] }), delayMs: 2000 });
    answers.set('/miners', json({ miners: [{ id: 'm', probeUrl: 'https://m.example', name: 'M' }] }));
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const reg = createHttpRegistry({
      urls: [u('/500'), u('/html'), u('/shape'), u('/empty'), u('/junk-only'), u('/slow'), `http://127.0.0.1:${closedPort}/r`, u('/miners')],
      timeoutMs: 300,
      cache: createJsonFileCache(cachePath),
      logger,
    });
    const t0 = performance.now();
    const r = await reg.fetchProviders();
    expect(performance.now() - t0).toBeLessThan(1800);
    expect(r.source).toBe(u('/miners'));
    expect(r.providers).toEqual([{ id: 'm', probeUrl: 'https://m.example', name: 'M', protocol: 'drain' }]);
    expect(r.failures.map((f) => f.reason)).toEqual([
      'HTTP 500',
      'answer is not JSON',
      'answer has no providers, miners or services list',
      'answer lists no provider with an http(s) URL',
      'answer lists no provider with an http(s) URL',
      'no answer within 300 ms',
      expect.stringMatching(/fetch failed.*ECONNREFUSED/),
    ]);
    expect(lines.filter((l) => l.includes('provider registry failed'))).toHaveLength(7);
  });

  test('mpp.dev-shaped registry is used when the handshake58 one is down', async () => {
    answers.set('/api/services', json({ version: 1, services: [{ id: 's', name: 'S', serviceUrl: 'https://s.example' }] }));
    const reg = createHttpRegistry({ urls: [u('/api/validator/registry'), u('/api/services')], cache: createJsonFileCache(cachePath) });
    const r = await reg.fetchProviders();
    expect(r).toMatchObject({ source: u('/api/services'), providers: [{ id: 's', probeUrl: 'https://s.example', name: 'S', protocol: 'mpp' }] });
    expect(r.failures).toEqual([{ registry: `${registry.origin}/…`, reason: 'HTTP 404' }]);
  });

  test('all down: the cache is used; an empty answer never overwrites it', async () => {
    const cache = createJsonFileCache(cachePath);
    answers.set('/good', json({ providers: [{ id: 'p', probeUrl: 'https://p.example' }] }));
    const first = await createHttpRegistry({ urls: [u('/good')], cache }).fetchProviders();
    expect(first.source).toBe(u('/good'));
    const before = readFileSync(cachePath, 'utf8');

    answers.set('/good', json({ providers: [] }));
    const second = await createHttpRegistry({ urls: [u('/good')], cache }).fetchProviders();
    expect(second).toMatchObject({ source: 'cache', providers: [{ id: 'p', probeUrl: 'https://p.example', name: 'unknown', protocol: 'drain' }] });
    expect(readFileSync(cachePath, 'utf8')).toBe(before);

    answers.clear();
    const port = await freePort();
    const third = await createHttpRegistry({ urls: [u('/good'), `http://127.0.0.1:${port}/`], cache }).fetchProviders();
    expect(third).toMatchObject({ source: 'cache', providers: first.providers });
    expect(third.failures).toHaveLength(2);
  });

  test('reads the Python validator cache (a bare list); no cache and no registry: empty, source null', async () => {
    const port = await freePort();
    const down = [`http://127.0.0.1:${port}/`];
    expect(await createHttpRegistry({ urls: down, cache: createJsonFileCache(cachePath) }).fetchProviders()).toMatchObject({ providers: [], source: null });

    const pyCache = path.join(dir, 'py_registry_cache.json');
    writeFileSync(pyCache, JSON.stringify([{ id: 'cached', probeUrl: 'https://cached.example', name: 'C', protocol: 'drain' }, { id: 'bad' }]));
    expect(await createHttpRegistry({ urls: down, cache: createJsonFileCache(pyCache) }).fetchProviders()).toMatchObject({
      source: 'cache',
      providers: [{ id: 'cached', probeUrl: 'https://cached.example', name: 'C', protocol: 'drain' }],
    });
  });

  test('a corrupt cache is reported, not thrown', async () => {
    const bad = path.join(dir, 'corrupt.json');
    writeFileSync(bad, '{"providers": [');
    await expect(createJsonFileCache(bad).load()).rejects.toMatchObject({ code: 'REGISTRY_CACHE_CORRUPT' });
    const port = await freePort();
    const r = await createHttpRegistry({ urls: [`http://127.0.0.1:${port}/`], cache: createJsonFileCache(bad) }).fetchProviders();
    expect(r).toMatchObject({ providers: [], source: null });
  });

  test('a failing cache write does not lose the answer', async () => {
    answers.set('/good', json({ providers: [{ id: 'p', probeUrl: 'https://p.example' }] }));
    const failing: ProviderCache = {
      load: async () => null,
      save: async () => {
        throw new Error('disk full');
      },
    };
    const r = await createHttpRegistry({ urls: [u('/good')], cache: failing }).fetchProviders();
    expect(r.source).toBe(u('/good'));
    expect(r.providers).toHaveLength(1);
  });

  test('an oversized answer is refused', async () => {
    answers.set('/big', json({ providers: Array.from({ length: 5000 }, (_, i) => ({ id: String(i), probeUrl: `https://p${i}.example` })) }));
    const r = await createHttpRegistry({ urls: [u('/big')], cache: createJsonFileCache(cachePath), maxAnswerBytes: 10_000 }).fetchProviders();
    expect(r).toMatchObject({ source: null, failures: [{ reason: 'answer larger than 10000 bytes' }] });
    expect(existsSync(cachePath)).toBe(false);
  });

  test('the caller aborting ends the fetch with the abort, not with the cache', async () => {
    answers.set('/slow', { ...json({ providers: [{ probeUrl: 'https://slow.example' }] }), delayMs: 2000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutdown')), 100);
    await expect(createHttpRegistry({ urls: [u('/slow')], cache: createJsonFileCache(cachePath) }).fetchProviders(controller.signal)).rejects.toThrow(
      'shutdown',
    );
  });

  test('a registry URL that is not http(s) is a configuration error', () => {
    expect(() => createHttpRegistry({ urls: ['ftp://x/'], cache: createJsonFileCache(cachePath) })).toThrow(RegistryError);
  });
});
