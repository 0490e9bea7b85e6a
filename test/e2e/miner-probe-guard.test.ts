/**
 * Request forgery through `ProviderProbe.target_url`, end to end: a signed validator request to
 * the real axon with the miner's real handlers. A target that is or resolves to (or redirects to)
 * loopback, private, link-local or cloud-metadata addresses is answered as unreachable and never
 * contacted. 127.0.0.2 plays the public internet (`allow: ['127.0.0.2']`); 127.0.0.1 is the
 * internal service that must never see a request. DNS is simulated by an injected resolver.
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDendrite, type Dendrite } from '../../src/dendrite/dendrite.js';
import type { HostResolver } from '../../src/miner/probe.js';
import { signerFromSeed, startTestMiner, type TestSigner } from '../support/axon.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';

let internal: LocalServer;
let publicSite: LocalServer;
let dendrite: Dendrite;
let miner: TestSigner;
let port: number;
let close: () => Promise<void>;

const dns =
  (table: Record<string, string[]>): HostResolver =>
  async (hostname) => {
    const list = table[hostname];
    if (!list) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

beforeAll(async () => {
  internal = await startLocalServer((_req, res) => {
    res.end('internal secret');
  });
  publicSite = await startLocalServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/to') {
      res.writeHead(302, { location: url.searchParams.get('target') ?? '/' });
      res.end();
      return;
    }
    res.end('public');
  }, '127.0.0.2');
  const validator = await signerFromSeed(32);
  miner = await signerFromSeed(31);
  const lookup = dns({
    'internal.example': ['127.0.0.1'],
    'metadata.example': ['169.254.169.254'],
    'ten.example': ['10.1.2.3'],
    'v6-internal.example': ['::1'],
    'mixed.example': ['127.0.0.2', '127.0.0.1'],
    'public.example': ['127.0.0.2'],
  });
  const started = await startTestMiner({
    miner,
    probe: { allow: ['127.0.0.2'], lookup, timeoutMs: 2000 },
    neurons: [{ hotkey: validator.address, stakeTao: 1, permit: true }],
  });
  port = started.port;
  close = () => started.axon.close();
  dendrite = createDendrite({ signer: validator });
});

afterAll(async () => {
  dendrite?.close();
  await close?.();
  await internal?.close();
  await publicSite?.close();
});

async function probe(targetUrl: string) {
  const r = await dendrite.call({ uid: 0, hotkey: miner.address, ip: '127.0.0.1', port }, 'ProviderProbe', { target_url: targetUrl }, { timeoutSec: 10 });
  if (!r.ok) throw new Error(`axon answered ${r.statusCode} ${r.message}`);
  return r.fields;
}

test('the allowed "public" host is probed normally (the guard is not a wall)', async () => {
  expect(await probe(`${publicSite.origin}/ok`)).toMatchObject({ probe_reachable: true, probe_status: 200 });
  expect(await probe(`http://public.example:${publicSite.port}/ok`)).toMatchObject({ probe_reachable: true, probe_status: 200 });
});

test('internal targets, directly, by name, and by redirect, are refused and never contacted', async () => {
  const p = internal.port;
  const targets = [
    `http://127.0.0.1:${p}/secret`,
    `http://localhost:${p}/secret`,
    `http://[::1]:${p}/secret`,
    `http://0.0.0.0:${p}/secret`,
    `http://2130706433:${p}/secret`, // 127.0.0.1 as one decimal number
    `http://0x7f.1:${p}/secret`,
    `http://[::ffff:127.0.0.1]:${p}/secret`,
    'http://10.0.0.1/admin',
    'http://192.168.1.1/',
    'http://172.16.0.1/',
    'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
    'http://[fd00::1]/',
    `http://internal.example:${p}/secret`,
    'http://metadata.example/latest/meta-data/',
    'http://ten.example/',
    `http://v6-internal.example:${p}/secret`,
    `http://mixed.example:${p}/secret`,
    `${publicSite.origin}/to?target=${encodeURIComponent(`http://127.0.0.1:${p}/secret`)}`,
    `${publicSite.origin}/to?target=${encodeURIComponent(`http://internal.example:${p}/secret`)}`,
    `${publicSite.origin}/to?target=${encodeURIComponent('http://169.254.169.254/latest/meta-data/')}`,
    `http://public.example:${publicSite.port}/to?target=${encodeURIComponent(`http://[::1]:${p}/secret`)}`,
  ];
  for (const target of targets) {
    expect(await probe(target), target).toEqual({ target_url: target, probe_reachable: false, probe_status: 0, probe_latency_ms: 0 });
  }
  expect(internal.hits).toEqual([]);
  // The redirecting site was reached (the refusal happened at the redirect hop).
  expect(publicSite.hits.filter((h) => h.url.startsWith('/to')).length).toBe(4);
});
