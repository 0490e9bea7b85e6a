import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sendProbeAlert } from '../../src/marketplace/probeAlert.js';
import { createLogger } from '../../src/observability/logger.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';
import { freePort } from '../support/net.js';

const SECRET = 'vs-4f1c9e2b7a-top-secret';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let marketplace: LocalServer;
const logLines: string[] = [];
const logger = createLogger({ level: 'trace', destination: new Writable({ write: (c, _e, cb) => (logLines.push(String(c)), cb()) }) });

beforeAll(async () => {
  marketplace = await startLocalServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path.startsWith('/slow/')) await sleep(2000);
    if (path.startsWith('/deny/')) {
      res.statusCode = 403;
      res.end(`bad secret ${String(req.headers['x-validator-secret'])}`);
      return;
    }
    res.statusCode = path === '/api/validator/probe-alert' ? 204 : 404;
    res.end();
  });
});

afterAll(async () => {
  await marketplace?.close();
  // nothing this file did may have logged or returned the secret
  expect(logLines.join('\n')).not.toContain(SECRET);
});

const base = () => ({ marketplaceUrl: marketplace.origin, providerId: 'prov-1', probeUrl: 'https://down.example/health', logger });

describe('sendProbeAlert against a local marketplace', () => {
  test('posts {providerId, probeUrl, reachable:false} with the secret header', async () => {
    const outcome = await sendProbeAlert({ ...base(), secret: SECRET });
    expect(outcome).toEqual({ ok: true, status: 204 });
    const hit = marketplace.hits.at(-1)!;
    expect(hit.method).toBe('POST');
    expect(hit.url).toBe('/api/validator/probe-alert');
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['x-validator-secret']).toBe(SECRET);
    expect(JSON.parse(hit.body)).toEqual({ providerId: 'prov-1', probeUrl: 'https://down.example/health', reachable: false });
    expect(JSON.stringify(outcome)).not.toContain(SECRET);
  });

  test('no header when no secret is set', async () => {
    expect(await sendProbeAlert({ ...base(), secret: null })).toEqual({ ok: true, status: 204 });
    expect(marketplace.hits.at(-1)!.headers).not.toHaveProperty('x-validator-secret');
    expect(await sendProbeAlert({ ...base(), secret: '' })).toEqual({ ok: true, status: 204 });
    expect(marketplace.hits.at(-1)!.headers).not.toHaveProperty('x-validator-secret');
  });

  test('a refusal is an outcome that does not repeat what the server echoed (the secret)', async () => {
    const outcome = await sendProbeAlert({ ...base(), marketplaceUrl: `${marketplace.origin}/deny/`, secret: SECRET });
    expect(outcome).toEqual({ ok: false, reason: 'marketplace answered HTTP 403' });
    expect(marketplace.hits.at(-1)!.url).toBe('/deny/api/validator/probe-alert');
  });

  test('timeout, refused connection and a bad URL never reject', async () => {
    const t0 = performance.now();
    expect(await sendProbeAlert({ ...base(), marketplaceUrl: `${marketplace.origin}/slow`, secret: SECRET, timeoutMs: 200 })).toEqual({
      ok: false,
      reason: 'marketplace did not answer within 200 ms',
    });
    expect(performance.now() - t0).toBeLessThan(1500);

    const port = await freePort();
    const refused = await sendProbeAlert({ ...base(), marketplaceUrl: `http://127.0.0.1:${port}`, secret: SECRET });
    expect(refused.ok).toBe(false);
    if (!refused.ok) expect(refused.reason).toMatch(/ECONNREFUSED/);

    expect(await sendProbeAlert({ ...base(), marketplaceUrl: 'not a url', secret: SECRET })).toEqual({
      ok: false,
      reason: 'invalid marketplace URL <invalid url>',
    });
    // failures are logged at debug, without the secret
    expect(logLines.some((l) => l.includes('probe alert not delivered'))).toBe(true);
  });

  test('fire-and-forget: a throwing fetch still resolves', async () => {
    const outcome = await sendProbeAlert({
      ...base(),
      secret: SECRET,
      fetch: async () => {
        throw new Error(`socket closed while sending ${SECRET}`);
      },
    });
    expect(outcome).toEqual({ ok: false, reason: 'marketplace unreachable: socket closed while sending <redacted>' });
  });
});
