import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createProber, probeUrl, systemResolver, type HostResolver } from '../../src/miner/probe.js';
import { AddressGuardError, createAddressGuard } from '../../src/miner/addressGuard.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';
import { freePort } from '../support/net.js';
import { missingProgram, which } from '../support/programs.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LOCAL = ['127.0.0.1'];

/** Simulated DNS: names of the test resolve to fixed addresses, anything else is NXDOMAIN. */
function fakeDns(table: Record<string, string[]>, calls: string[] = []): HostResolver {
  return async (hostname) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

let server: LocalServer;
let bytesStreamed = 0;
let streamClosed = false;

beforeAll(async () => {
  server = await startLocalServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const delay = Number(url.searchParams.get('delay') ?? 0);
    switch (url.pathname) {
      case '/ok':
        if (delay) await sleep(delay);
        res.end('fine');
        return;
      case '/paid':
        res.writeHead(402, { 'www-authenticate': 'Payment realm="drain"', 'x-payment-required': 'usdc' });
        res.end(JSON.stringify({ error: 'payment required' }));
        return;
      case '/broken':
        res.statusCode = 500;
        res.end('oops');
        return;
      case '/slow-body':
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part');
        await sleep(delay);
        res.end('rest');
        return;
      case '/hang':
        await sleep(10_000);
        res.end('too late');
        return;
      case '/chain': {
        // /chain?n=3 -> /chain?n=2 -> /chain?n=1 -> /ok (relative, absolute and path-absolute locations)
        const n = Number(url.searchParams.get('n'));
        const location = n <= 1 ? `${server.origin}/ok` : n % 2 === 0 ? `chain?n=${n - 1}` : `/chain?n=${n - 1}`;
        res.writeHead(n % 2 === 0 ? 302 : 307, { location });
        res.end();
        return;
      }
      case '/loop':
        res.writeHead(301, { location: '/loop' });
        res.end();
        return;
      case '/redirect-no-location':
        res.statusCode = 302;
        res.end();
        return;
      case '/to':
        res.writeHead(302, { location: url.searchParams.get('target') ?? '' });
        res.end();
        return;
      case '/huge': {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(64 * 1024, 7);
        streamClosed = false;
        bytesStreamed = 0;
        res.on('close', () => (streamClosed = true));
        // An endless body: stops only when the client hangs up.
        const pump = () => {
          while (!res.destroyed && bytesStreamed < 512 * 1024 * 1024) {
            bytesStreamed += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', pump);
          }
          res.end();
        };
        pump();
        return;
      }
      default:
        res.statusCode = 404;
        res.end();
    }
  });
});

afterAll(async () => {
  await server?.close();
});

describe('probeUrl against real local servers (127.0.0.1 allowed)', () => {
  test('a healthy provider: reachable, 200, integer latency', async () => {
    const r = await probeUrl(`${server.origin}/ok`, { allow: LOCAL });
    expect(r).toEqual({ probe_reachable: true, probe_status: 200, probe_latency_ms: expect.any(Number) });
    expect(Number.isInteger(r.probe_latency_ms)).toBe(true);
    expect(r.probe_latency_ms).toBeGreaterThanOrEqual(0);
    expect(r.probe_latency_ms).toBeLessThan(2000);
  });

  test('402 Payment Required is a legitimate answer', async () => {
    const r = await probeUrl(`${server.origin}/paid`, { allow: LOCAL });
    expect(r).toMatchObject({ probe_reachable: true, probe_status: 402 });
    expect(r.failure).toBeUndefined();
  });

  test('a 500 is still an answer', async () => {
    expect(await probeUrl(`${server.origin}/broken`, { allow: LOCAL })).toMatchObject({ probe_reachable: true, probe_status: 500 });
  });

  test('latency covers the server delay', async () => {
    const r = await probeUrl(`${server.origin}/ok?delay=250`, { allow: LOCAL });
    expect(r.probe_reachable).toBe(true);
    expect(r.probe_latency_ms).toBeGreaterThanOrEqual(250);
    expect(r.probe_latency_ms).toBeLessThan(2000);
  });

  test('latency covers the body, not just the headers', async () => {
    const r = await probeUrl(`${server.origin}/slow-body?delay=300`, { allow: LOCAL });
    expect(r).toMatchObject({ probe_reachable: true, probe_status: 200 });
    expect(r.probe_latency_ms).toBeGreaterThanOrEqual(300);
  });

  test('a server slower than the timeout is unreachable (false, 0, 0), and the probe ends on time', async () => {
    const t0 = performance.now();
    const r = await probeUrl(`${server.origin}/hang`, { allow: LOCAL, timeoutMs: 300 });
    const took = performance.now() - t0;
    expect(r).toMatchObject({ probe_reachable: false, probe_status: 0, probe_latency_ms: 0, failure: { kind: 'timeout' } });
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(1500);
  });

  test('a body that stalls past the timeout is unreachable', async () => {
    const r = await probeUrl(`${server.origin}/slow-body?delay=2000`, { allow: LOCAL, timeoutMs: 300 });
    expect(r).toMatchObject({ probe_reachable: false, probe_status: 0, probe_latency_ms: 0, failure: { kind: 'timeout' } });
  });

  test('follows a redirect chain (relative and absolute locations) and times all of it', async () => {
    const before = server.hits.length;
    const r = await probeUrl(`${server.origin}/chain?n=3&delay=0`, { allow: LOCAL });
    expect(r).toMatchObject({ probe_reachable: true, probe_status: 200 });
    expect(server.hits.slice(before).map((h) => h.url)).toEqual(['/chain?n=3&delay=0', '/chain?n=2', '/chain?n=1', '/ok']);
  });

  test('more redirects than allowed is a failure; exactly the limit is fine', async () => {
    expect(await probeUrl(`${server.origin}/chain?n=3`, { allow: LOCAL, maxRedirects: 2 })).toMatchObject({
      probe_reachable: false,
      probe_status: 0,
      failure: { kind: 'too-many-redirects' },
    });
    expect(await probeUrl(`${server.origin}/chain?n=3`, { allow: LOCAL, maxRedirects: 3 })).toMatchObject({ probe_reachable: true, probe_status: 200 });
    expect(await probeUrl(`${server.origin}/loop`, { allow: LOCAL })).toMatchObject({ probe_reachable: false, failure: { kind: 'too-many-redirects' } });
    expect(await probeUrl(`${server.origin}/chain?n=1`, { allow: LOCAL, maxRedirects: 0 })).toMatchObject({ probe_reachable: false });
  });

  test('a redirect status without Location is the final answer', async () => {
    expect(await probeUrl(`${server.origin}/redirect-no-location`, { allow: LOCAL })).toMatchObject({ probe_reachable: true, probe_status: 302 });
  });

  test('a huge body is cut at maxBodyBytes: still reachable, and the download stops', async () => {
    const t0 = performance.now();
    const r = await probeUrl(`${server.origin}/huge`, { allow: LOCAL, maxBodyBytes: 1024 * 1024 });
    expect(r).toMatchObject({ probe_reachable: true, probe_status: 200 });
    expect(performance.now() - t0).toBeLessThan(3000);
    for (let i = 0; i < 100 && !streamClosed; i++) await sleep(10);
    expect(streamClosed).toBe(true);
    expect(bytesStreamed).toBeLessThan(128 * 1024 * 1024);

    const none = await probeUrl(`${server.origin}/huge`, { allow: LOCAL, maxBodyBytes: 0 });
    expect(none).toMatchObject({ probe_reachable: true, probe_status: 200 });
  });

  test('connection refused is unreachable', async () => {
    const port = await freePort();
    expect(await probeUrl(`http://127.0.0.1:${port}/`, { allow: LOCAL })).toMatchObject({
      probe_reachable: false,
      probe_status: 0,
      probe_latency_ms: 0,
      failure: { kind: 'network' },
    });
  });

  test('a DNS failure is unreachable', async () => {
    const r = await probeUrl('http://no-such-host.test/', { lookup: fakeDns({}) });
    expect(r).toMatchObject({ probe_reachable: false, probe_status: 0, probe_latency_ms: 0, failure: { kind: 'network' } });
    expect(r.failure?.message).toContain('ENOTFOUND');
  });

  test.each(['', '   ', 'not a url', 'ftp://example.com/', 'file:///etc/passwd', 'javascript:alert(1)', 'http://', 'provider.example/path'])(
    'invalid target %j is unreachable without any request',
    async (target) => {
      expect(await probeUrl(target)).toMatchObject({ probe_reachable: false, probe_status: 0, probe_latency_ms: 0, failure: { kind: 'invalid-url' } });
    },
  );

  test('the connection goes to the checked address: a name known only to the injected resolver is reached', async () => {
    const calls: string[] = [];
    const before = server.hits.length;
    const r = await probeUrl(`http://provider.test:${server.port}/ok`, {
      allow: ['127.0.0.0/8'],
      lookup: fakeDns({ 'provider.test': ['127.0.0.1'] }, calls),
    });
    expect(r).toMatchObject({ probe_reachable: true, probe_status: 200 });
    expect(calls).toEqual(['provider.test']); // one resolution, then the socket uses exactly that address
    expect(server.hits[before]?.headers.host).toBe(`provider.test:${server.port}`);
  });

  test('a dual-stack name: every address is checked, and the socket tries only those', async () => {
    const lookup = fakeDns({ 'dual.test': ['::1', '127.0.0.1'] }); // the server listens on 127.0.0.1 only
    expect(await probeUrl(`http://dual.test:${server.port}/ok`, { allow: ['127.0.0.1', '::1'], lookup })).toMatchObject({
      probe_reachable: true,
      probe_status: 200,
    });
    expect(await probeUrl(`http://dual.test:${server.port}/ok`, { allow: ['127.0.0.1'], lookup })).toMatchObject({
      probe_reachable: false,
      failure: { kind: 'refused', message: 'refused: resolves to loopback address ::1' },
    });
  });

  test('an allowed host name lets its private addresses through', async () => {
    const r = await probeUrl(`http://provider.test:${server.port}/ok`, { allow: ['provider.test'], lookup: fakeDns({ 'provider.test': ['127.0.0.1'] }) });
    expect(r).toMatchObject({ probe_reachable: true, probe_status: 200 });
  });

  test('an external abort ends the probe as unreachable', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const r = await probeUrl(`${server.origin}/hang`, { allow: LOCAL, signal: controller.signal });
    expect(r).toMatchObject({ probe_reachable: false, probe_status: 0, failure: { kind: 'aborted' } });
  });
});

describe('refused targets: nothing is fetched', () => {
  const evil = (extra: Record<string, string[]> = {}) => fakeDns({ 'evil.test': ['127.0.0.1'], 'internal.test': ['10.0.0.1'], ...extra });

  test('loopback in every spelling, names that resolve to it, private, metadata and embedded forms', async () => {
    const p = server.port;
    const cases: [string, RegExp][] = [
      [`http://127.0.0.1:${p}/ok`, /^refused: loopback address 127\.0\.0\.1$/],
      [`http://localhost:${p}/ok`, /^refused: localhost is a loopback host name$/],
      [`http://localhost.:${p}/ok`, /loopback/],
      [`http://2130706433:${p}/ok`, /loopback address 127\.0\.0\.1/],
      [`http://0x7f000001:${p}/ok`, /loopback address 127\.0\.0\.1/],
      [`http://0x7f.1:${p}/ok`, /loopback address 127\.0\.0\.1/],
      [`http://127.1:${p}/ok`, /loopback address 127\.0\.0\.1/],
      [`http://0177.0.0.1:${p}/ok`, /loopback address 127\.0\.0\.1/],
      [`http://[::1]:${p}/ok`, /loopback address ::1/],
      [`http://[::ffff:127.0.0.1]:${p}/ok`, /loopback address ::ffff:7f00:1 \(embeds 127\.0\.0\.1\)/],
      [`http://[64:ff9b::7f00:1]:${p}/ok`, /embeds 127\.0\.0\.1/],
      [`http://0.0.0.0:${p}/ok`, /unspecified/],
      [`http://[::]:${p}/ok`, /unspecified/],
      [`http://evil.test:${p}/ok`, /^refused: resolves to loopback address 127\.0\.0\.1$/],
      ['http://internal.test/', /^refused: resolves to private address 10\.0\.0\.1$/],
      ['http://10.0.0.1/', /^refused: private address 10\.0\.0\.1$/],
      ['http://172.16.5.4/', /private/],
      ['http://192.168.1.1/', /private/],
      ['http://100.64.0.1/', /carrier-grade NAT/],
      ['http://169.254.169.254/latest/meta-data/', /cloud metadata address 169\.254\.169\.254/],
      ['http://[fd00:ec2::254]/', /cloud metadata/],
      ['http://metadata.google.internal/computeMetadata/v1/', /cloud metadata host name/],
      ['http://169.254.10.10/', /link-local/],
      ['http://[fe80::1]/', /link-local/],
      ['http://[fc00::1]/', /private/],
      ['http://224.0.0.1/', /multicast/],
      ['http://255.255.255.255/', /broadcast/],
      ['https://127.0.0.1/', /loopback/],
    ];
    const before = server.hits.length;
    for (const [target, reason] of cases) {
      const r = await probeUrl(target, { lookup: evil() });
      expect({ target, r }).toEqual({
        target,
        r: { probe_reachable: false, probe_status: 0, probe_latency_ms: 0, failure: { kind: 'refused', message: expect.stringMatching(reason) } },
      });
    }
    expect(server.hits.length).toBe(before);
  });

  test('a name whose answer mixes public and private addresses is refused as a whole', async () => {
    const r = await probeUrl('http://mixed.test/', { lookup: fakeDns({ 'mixed.test': ['93.184.215.14', '10.0.0.7'] }) });
    expect(r).toMatchObject({ probe_reachable: false, failure: { kind: 'refused', message: 'refused: resolves to private address 10.0.0.7' } });
  });

  test('localhost through the real resolver: every address it returns is refused', async () => {
    const addresses = await systemResolver('localhost');
    expect(addresses.length).toBeGreaterThan(0);
    const guard = createAddressGuard();
    for (const a of addresses) expect(guard.checkResolved('localhost', a.address)).toMatch(/^refused: resolves to loopback address/);
    // and with the name rule out of the way (allow another host), the resolver path still refuses it
    const r = await probeUrl(`http://localhost:${server.port}/ok`, { allow: ['other.test'] });
    expect(r).toMatchObject({ probe_reachable: false, failure: { kind: 'refused' } });
  });

  test('redirects are checked on every hop: to loopback, metadata, private, mapped IPv6, other schemes', async () => {
    const p = server.port;
    // The first hop is allowed by name (provider.test -> 127.0.0.1); where it redirects to is not.
    const opts = { allow: ['provider.test'], lookup: evil({ 'provider.test': ['127.0.0.1'] }) };
    const cases: [string, RegExp, string][] = [
      [`http://127.0.0.1:${p}/ok`, /loopback address 127\.0\.0\.1/, 'refused'],
      [`http://evil.test:${p}/ok`, /resolves to loopback/, 'refused'],
      ['http://169.254.169.254/latest/meta-data/iam/', /cloud metadata/, 'refused'],
      ['http://10.1.2.3/', /private address 10\.1\.2\.3/, 'refused'],
      [`http://[::ffff:127.0.0.1]:${p}/ok`, /embeds 127\.0\.0\.1/, 'refused'],
      ['http://2130706433/', /loopback/, 'refused'],
      ['file:///etc/passwd', /scheme file:/, 'invalid-url'],
    ];
    for (const [target, reason, kind] of cases) {
      const before = server.hits.length;
      const r = await probeUrl(`http://provider.test:${p}/to?target=${encodeURIComponent(target)}`, opts);
      expect({ target, r }).toEqual({
        target,
        r: { probe_reachable: false, probe_status: 0, probe_latency_ms: 0, failure: { kind, message: expect.stringMatching(reason) } },
      });
      expect(server.hits.slice(before).map((h) => h.url.split('?')[0])).toEqual(['/to']);
    }
  });

  test('a bad allow entry is a configuration error, not an unreachable probe', async () => {
    await expect(probeUrl(`${server.origin}/ok`, { allow: ['10.0.0.0/40'] })).rejects.toBeInstanceOf(AddressGuardError);
    expect(() => createProber({ allow: ['nope nope'] })).toThrow(AddressGuardError);
  });
});

describe('createProber', () => {
  test('runs at most `concurrency` probes at once and answers each', async () => {
    let inFlight = 0;
    let peak = 0;
    const busy = await startLocalServer(async (_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await sleep(100);
      inFlight--;
      res.end('ok');
    });
    try {
      const prober = createProber({ concurrency: 3, allow: LOCAL });
      const pending = Array.from({ length: 9 }, () => prober.probe(`${busy.origin}/`));
      await sleep(20);
      expect(prober.activeCount).toBe(3);
      expect(prober.pendingCount).toBe(6);
      const results = await Promise.all(pending);
      expect(results.every((r) => r.probe_reachable && r.probe_status === 200)).toBe(true);
      expect(peak).toBe(3);
      expect(busy.hits.length).toBe(9);
    } finally {
      await busy.close();
    }
  });

  test('a probe whose caller gave up while it waited is not started', async () => {
    const prober = createProber({ concurrency: 1, allow: LOCAL });
    const before = server.hits.length;
    const first = prober.probe(`${server.origin}/ok?delay=150`);
    const controller = new AbortController();
    const second = prober.probe(`${server.origin}/ok`, controller.signal);
    controller.abort();
    expect(await second).toMatchObject({ probe_reachable: false, failure: { kind: 'aborted' } });
    expect((await first).probe_reachable).toBe(true);
    expect(server.hits.length).toBe(before + 1); // only the first one reached the server
  });
});

describe('https', () => {
  let dir: string | undefined;
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an untrusted certificate is unreachable; SNI carries the host name, not the pinned IP', async (ctx) => {
    const reason = missingProgram(() => (which('openssl') ? null : 'openssl on PATH (to make a throwaway self-signed certificate)'));
    if (reason) return ctx.skip(reason);
    dir = mkdtempSync(path.join(tmpdir(), 'hs58-probe-tls-'));
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=provider.test'], {
      stdio: 'ignore',
    });
    const seenNames: string[] = [];
    // record the server name the client asks for (sent before the client rejects the certificate)
    const sniServer = https.createServer(
      {
        key: readFileSync(key),
        cert: readFileSync(cert),
        SNICallback: (name, cb) => {
          seenNames.push(name);
          cb(null, undefined);
        },
      },
      (_req, res) => res.end('secret page'),
    );
    await new Promise<void>((resolve) => sniServer.listen(0, '127.0.0.1', () => resolve()));
    const port = (sniServer.address() as AddressInfo).port;
    try {
      const r = await probeUrl(`https://provider.test:${port}/`, { allow: ['provider.test'], lookup: fakeDns({ 'provider.test': ['127.0.0.1'] }) });
      expect(r).toMatchObject({ probe_reachable: false, probe_status: 0, probe_latency_ms: 0, failure: { kind: 'network' } });
      expect(r.failure?.message).toMatch(/self[- ]signed|certificate/i);
      expect(seenNames).toEqual(['provider.test']);
    } finally {
      sniServer.closeAllConnections();
      await new Promise<void>((resolve) => sniServer.close(() => resolve()));
    }
  });
});
