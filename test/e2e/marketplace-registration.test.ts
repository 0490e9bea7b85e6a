import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady, mnemonicGenerate, signatureVerify } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { registerOnMarketplace, registrationMessage, type HotkeySigner } from '../../src/marketplace/registration.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';
import { freePort } from '../support/net.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const API_URL = 'https://provider.example.com/v1';
const WALLET = '0x1111111111111111111111111111111111111111';

let pair: KeyringPair;
let hotkey: HotkeySigner;
let marketplace: LocalServer;
/** What the fake marketplace concluded about each registration it received. */
const verdicts: { validSignature: boolean; body: Record<string, unknown> }[] = [];

beforeAll(async () => {
  await cryptoWaitReady();
  pair = new Keyring({ type: 'sr25519', ss58Format: 42 }).addFromUri(mnemonicGenerate());
  hotkey = { address: pair.address, sign: (m) => pair.sign(m) };
  marketplace = await startLocalServer(async (req, res, raw) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.startsWith('/fail/')) {
      res.statusCode = 500;
      res.end(`internal error at 0x${'ab'.repeat(32)}`);
      return;
    }
    if (url.pathname.startsWith('/slow/')) await sleep(2000);
    if (!url.pathname.endsWith('/api/directory/providers') || req.method !== 'POST') {
      res.statusCode = 404;
      res.end();
      return;
    }
    const body = JSON.parse(raw) as Record<string, unknown>;
    // Verify as the marketplace would: rebuild the message from the body and check the sr25519 signature.
    const message = `handshake58:${String(body.bittensorHotkey)}:${String(body.apiUrl)}`;
    const validSignature = signatureVerify(message, `0x${String(body.hotkeySignature)}`, String(body.bittensorHotkey)).isValid;
    verdicts.push({ validSignature, body });
    res.writeHead(validSignature ? 201 : 401, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: validSignature }));
  });
});

afterAll(async () => {
  await marketplace?.close();
});

describe('registerOnMarketplace against a local marketplace', () => {
  test('posts the registration JSON with a valid sr25519 signature (hex, no 0x)', async () => {
    const result = await registerOnMarketplace({ marketplaceUrl: `${marketplace.origin}/`, hotkey, apiUrl: API_URL, providerAddress: WALLET, uid: 7 });
    expect(result).toEqual({ ok: true, status: 201 });
    const hit = marketplace.hits.at(-1)!;
    expect(hit.method).toBe('POST');
    expect(hit.url).toBe('/api/directory/providers');
    expect(hit.headers['content-type']).toBe('application/json');
    const verdict = verdicts.at(-1)!;
    expect(verdict.validSignature).toBe(true);
    expect(Object.keys(verdict.body).sort()).toEqual(['apiUrl', 'bittensorHotkey', 'hotkeySignature', 'name', 'providerAddress']);
    expect(verdict.body).toMatchObject({ bittensorHotkey: pair.address, apiUrl: API_URL, providerAddress: WALLET, name: 'Miner 7' });
    expect(verdict.body.hotkeySignature).toMatch(/^[0-9a-f]{128}$/);
  });

  test('the signature covers the hotkey and the API URL: a changed URL does not verify', async () => {
    await registerOnMarketplace({ marketplaceUrl: marketplace.origin, hotkey, apiUrl: API_URL, providerAddress: WALLET, uid: 1 });
    const sig = String(verdicts.at(-1)!.body.hotkeySignature);
    expect(signatureVerify(registrationMessage(pair.address, API_URL), `0x${sig}`, pair.address).isValid).toBe(true);
    expect(signatureVerify(registrationMessage(pair.address, `${API_URL}/other`), `0x${sig}`, pair.address).isValid).toBe(false);
  });

  test('a marketplace URL with a path prefix keeps it', async () => {
    const result = await registerOnMarketplace({ marketplaceUrl: `${marketplace.origin}/prefix//`, hotkey, apiUrl: API_URL, providerAddress: WALLET, uid: 2 });
    expect(result.ok).toBe(true);
    expect(marketplace.hits.at(-1)!.url).toBe('/prefix/api/directory/providers');
  });

  test('a rejected signature (wrong key) comes back as a failure with the status', async () => {
    const other = new Keyring({ type: 'sr25519' }).addFromUri(mnemonicGenerate());
    const impostor: HotkeySigner = { address: pair.address, sign: (m) => other.sign(m) };
    const result = await registerOnMarketplace({ marketplaceUrl: marketplace.origin, hotkey: impostor, apiUrl: API_URL, providerAddress: WALLET, uid: 3 });
    expect(result).toEqual({ ok: false, reason: 'marketplace answered HTTP 401: {"ok":false}' });
    expect(verdicts.at(-1)!.validSignature).toBe(false);
  });

  test('HTTP 500: failure with a redacted snippet of the answer', async () => {
    const result = await registerOnMarketplace({ marketplaceUrl: `${marketplace.origin}/fail`, hotkey, apiUrl: API_URL, providerAddress: WALLET, uid: 4 });
    expect(result).toEqual({ ok: false, reason: 'marketplace answered HTTP 500: internal error at 0x<redacted>' });
    expect(marketplace.hits.at(-1)!.url).toBe('/fail/api/directory/providers');
  });

  test('timeout: a marketplace that does not answer in time', async () => {
    const t0 = performance.now();
    const result = await registerOnMarketplace({
      marketplaceUrl: `${marketplace.origin}/slow/`,
      hotkey,
      apiUrl: API_URL,
      providerAddress: WALLET,
      uid: 5,
      timeoutMs: 200,
    });
    expect(result).toEqual({ ok: false, reason: 'marketplace did not answer within 200 ms' });
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  test('connection refused', async () => {
    const port = await freePort();
    const result = await registerOnMarketplace({ marketplaceUrl: `http://127.0.0.1:${port}`, hotkey, apiUrl: API_URL, providerAddress: WALLET, uid: 6 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(/^marketplace unreachable: .*ECONNREFUSED/);
  });

  test('missing settings and a bad URL are reported, not thrown', async () => {
    const base = { marketplaceUrl: marketplace.origin, hotkey, apiUrl: API_URL, providerAddress: WALLET, uid: 0 };
    expect(await registerOnMarketplace({ ...base, apiUrl: '' })).toEqual({ ok: false, reason: 'no API_URL (--miner.api_url) set' });
    expect(await registerOnMarketplace({ ...base, providerAddress: '' })).toEqual({ ok: false, reason: 'no POLYGON_WALLET (--polygon.wallet) set' });
    expect(await registerOnMarketplace({ ...base, marketplaceUrl: 'ftp://user:pw@x/y' })).toEqual({ ok: false, reason: 'invalid marketplace URL ftp://x/…' });
    const broken: HotkeySigner = {
      address: pair.address,
      sign: () => {
        throw new Error('hotkey locked');
      },
    };
    expect(await registerOnMarketplace({ ...base, hotkey: broken })).toEqual({ ok: false, reason: 'could not sign the registration: hotkey locked' });
  });
});
