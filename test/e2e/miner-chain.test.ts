/**
 * The miner daemon (neurons/miner.ts) against the real subtensor runtime in Chopsticks:
 * it waits for its registration, serves its axon on chain (a host name resolved to IPv4, served
 * again when it moves), registers on a (local) marketplace, answers a validator's dendrite and
 * refuses by the live metagraph, reports /health and /metrics, and stops cleanly on the signal.
 * A second miner runs as a real `hs58 miner` process to check SIGTERM and measure its RSS.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startMiner, type MinerReadyInfo } from '../../neurons/miner.js';
import { createSubtensor, type SubtensorClient } from '../../src/chain/subtensor/index.js';
import { burnedRegister } from '../../localnet/register.js';
import { adminCalls, sudo } from '../../localnet/sudo.js';
import type { CommandContext } from '../../src/cli/context.js';
import { createDendrite } from '../../src/dendrite/dendrite.js';
import { prepareLocalSubnet, type PreparedSubnet } from '../../localnet/chopsticks.js';
import { registrationMessage } from '../../src/marketplace/registration.js';
import { createLogger } from '../../src/observability/logger.js';
import { renderKeyfile } from '../../src/wallet/keyfile.js';
import { loadPolygonAccount, verifyWalletProof } from '../../src/wallet/polygon.js';
import { initCrypto, sr25519KeypairFromSeed, verifySr25519, publicKeyToSs58 } from '../../src/wallet/sr25519.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';
import { capturingLogger, devPair, withLocalChain, type CapturedLogger } from '../support/localChain.js';
import { freePort } from '../support/net.js';
import { REPO_ROOT } from '../support/programs.js';
import { waitUntil } from '../support/wait.js';
import { productionBuild } from '../support/build.js';
import pkg from '../../package.json' with { type: 'json' };

const local = withLocalChain();

/** The commit `hs58` reports: git's HEAD (neurons/main.ts); a build takes HS58_COMMIT first (scripts/build.mjs). */
const headCommit = (built: boolean) =>
  (built ? process.env.HS58_COMMIT : undefined) ?? execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
const POLYGON_KEY = '0x6370fd033278c143179d81c5526140625662b8daa446c22ee2d73db3707e620c';

let api: ApiPromise;
let sub: SubtensorClient;
let subnet: PreparedSubnet;
let alice: KeyringPair;
let validator: KeyringPair;
let latecomer: KeyringPair;
let stranger: KeyringPair;
let marketplace: LocalServer;

/** A hotkey with its secret (for the miner's BT_HOTKEY_B64) from a one-byte seed. */
function hotkeyFromSeed(byte: number) {
  const seed = new Uint8Array(32).fill(byte);
  const kp = sr25519KeypairFromSeed(seed);
  return { address: publicKeyToSs58(kp.publicKey), b64: Buffer.from(renderKeyfile(kp, { seed })).toString('base64') };
}

function context(argv: string[], env: Record<string, string>, signal: AbortSignal): { ctx: CommandContext; stderr: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  const errText: string[] = [];
  out.resume();
  err.on('data', (d: Buffer) => errText.push(d.toString()));
  return { ctx: { argv, env, cwd: REPO_ROOT, homeDir: os.tmpdir(), stdout: out, stderr: err, signal }, stderr: () => errText.join('') };
}

beforeAll(async () => {
  if (local.skipReason) return;
  await initCrypto();
  [alice, validator, latecomer, stranger] = (await Promise.all(['//Alice', '//Bob', '//Dave', '//Eve'].map(devPair))) as [
    KeyringPair,
    KeyringPair,
    KeyringPair,
    KeyringPair,
  ];
  sub = await createSubtensor({ endpoint: local.chain.endpoint, logger: createLogger({ level: 'silent' }), autoReveal: false });
  api = await sub.api();
  // The validator registers and gets its permit at the first epoch; then epochs stop (tempo raised),
  // so whoever registers later has no permit.
  subnet = await prepareLocalSubnet(api, { sudoKey: alice, tempo: 10, servingRateLimit: 0, register: [{ hotkey: validator.address, coldkey: alice }] });
  await sudo(api, alice, adminCalls.tempo(api, subnet.netuid, 10_000));
  marketplace = await startLocalServer((_req, res) => {
    res.writeHead(201, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
}, 180_000);

afterAll(async () => {
  await marketplace?.close();
  await sub?.close();
  await removeBuild?.();
});

let removeBuild: (() => Promise<void>) | undefined;

describe('the miner daemon on a local subtensor', () => {
  test('waits for registration, serves, answers, refuses by the metagraph, re-serves on a new address, stops', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const hotkey = hotkeyFromSeed(61);
    const axonPort = await freePort();
    const opsPort = await freePort();
    let externalIp = '10.0.0.7';
    const logs: CapturedLogger = capturingLogger('info');
    const stop = new AbortController();
    const { ctx: cmd, stderr } = context(
      [
        '--netuid',
        String(subnet.netuid),
        '--subtensor.chain_endpoint',
        local.chain.endpoint,
        '--axon.ip',
        '127.0.0.1',
        '--axon.port',
        String(axonPort),
        '--axon.external_ip',
        'miner.proxy.example',
        '--axon.external_port',
        '31001',
        '--axon.verify_threads',
        '1',
        '--metrics.host',
        '127.0.0.1',
        '--metrics.port',
        String(opsPort),
        '--marketplace.url',
        marketplace.origin,
        '--miner.api_url',
        'https://provider.example/v1',
      ],
      { BT_HOTKEY_B64: hotkey.b64, POLYGON_PRIVATE_KEY: POLYGON_KEY },
      stop.signal,
    );
    let ready: MinerReadyInfo | null = null;
    const exit = startMiner(cmd, {
      logger: logs.logger,
      registrationRetryMs: 300,
      externalRecheckMs: 300,
      unknownCallerRefreshMs: 200,
      resolveIpv4: async (host) => {
        expect(host).toBe('miner.proxy.example');
        return externalIp;
      },
      onReady: (info) => (ready = info),
    });
    try {
      // Not registered yet: it says so, keeps checking, and /health is down.
      await waitUntil('the registration warning', () =>
        logs.messages().some((m) => m.includes(`hotkey ${hotkey.address} is not registered on netuid ${subnet.netuid}`)),
      );
      const waiting = await fetch(`http://127.0.0.1:${opsPort}/health`);
      expect(waiting.status).toBe(503);
      expect(await waiting.json()).toMatchObject({ status: 'down', parts: { axon: { ok: false, detail: 'waiting for registration' } } });

      const reg = await burnedRegister(api, { netuid: subnet.netuid, hotkey: hotkey.address, coldkey: alice });
      await waitUntil('the miner to be ready', () => ready !== null);
      expect(ready!.uid).toBe(reg.uid);

      // serve_axon with the resolved host name and the external port.
      await waitUntil('the axon on chain', async () => (await sub.getMetagraph(subnet.netuid)).axons[reg.uid]?.ip === '10.0.0.7');
      expect((await sub.getMetagraph(subnet.netuid)).axons[reg.uid]).toMatchObject({ ip: '10.0.0.7', port: 31001, ipType: 4 });

      // A validator with a permit is served; the chain address maps to the local port.
      const dendrite = createDendrite({ signer: validator, resolveAddress: () => ({ host: '127.0.0.1', port: axonPort }) });
      const axonOf = { uid: reg.uid, hotkey: hotkey.address, ip: '10.0.0.7', port: 31001 };
      try {
        const check = await dendrite.call(axonOf, 'ProviderCheck', {}, { timeoutSec: 10 });
        if (!check.ok) throw new Error(`${check.statusCode} ${check.message}`);
        const account = loadPolygonAccount({ privateKey: POLYGON_KEY });
        expect(check.fields).toMatchObject({ polygon_wallet: account.address, api_url: 'https://provider.example/v1' });
        expect(await verifyWalletProof({ hotkey: hotkey.address, polygonWallet: account.address, proof: check.fields.wallet_proof! })).toBe(true);
        const probe = await dendrite.call(axonOf, 'ProviderProbe', { target_url: 'http://169.254.169.254/latest/meta-data/' }, { timeoutSec: 10 });
        expect(probe).toMatchObject({ ok: true, fields: { probe_reachable: false, probe_status: 0, probe_latency_ms: 0 } });
      } finally {
        dendrite.close();
      }

      // Unregistered: 403. Registered after the miner read the metagraph, without a permit: the
      // unknown key makes the miner re-read the metagraph, then it is refused for the permit.
      const asStranger = createDendrite({ signer: stranger, resolveAddress: () => ({ host: '127.0.0.1', port: axonPort }) });
      const asLatecomer = createDendrite({ signer: latecomer, resolveAddress: () => ({ host: '127.0.0.1', port: axonPort }) });
      try {
        expect(await asStranger.call(axonOf, 'ProviderCheck', {}, { timeoutSec: 10 })).toMatchObject({
          ok: false,
          statusCode: 403,
          message: 'Forbidden. Key is blacklisted: Unrecognized hotkey.',
        });
        await burnedRegister(api, { netuid: subnet.netuid, hotkey: latecomer.address, coldkey: alice });
        let last = '';
        await waitUntil('the latecomer to be known without a permit', async () => {
          const r = await asLatecomer.call(axonOf, 'ProviderCheck', {}, { timeoutSec: 10 });
          last = r.ok ? 'ok' : r.message;
          return last === 'Forbidden. Key is blacklisted: Non-validator hotkey.';
        });
      } finally {
        asStranger.close();
        asLatecomer.close();
      }

      // The host name now resolves elsewhere: the miner serves again.
      externalIp = '10.0.0.8';
      await waitUntil('the new address on chain', async () => (await sub.getMetagraph(subnet.netuid)).axons[reg.uid]?.ip === '10.0.0.8');
      expect(logs.messages()).toContain('external address changed; serving the axon again');

      // The marketplace got the registration, signed by the hotkey.
      await waitUntil('the marketplace registration', () => marketplace.hits.length > 0);
      const posted = JSON.parse(marketplace.hits[0]!.body) as Record<string, string>;
      expect(marketplace.hits[0]!.url).toBe('/api/directory/providers');
      expect(posted).toMatchObject({
        bittensorHotkey: hotkey.address,
        apiUrl: 'https://provider.example/v1',
        providerAddress: loadPolygonAccount({ privateKey: POLYGON_KEY }).address,
        name: `Miner ${reg.uid}`,
      });
      expect(verifySr25519(registrationMessage(hotkey.address, 'https://provider.example/v1'), posted.hotkeySignature!, hotkey.address)).toBe(true);

      // The chain shows the new address a moment before the serve call returns to the miner.
      let health: { status?: string; parts?: Record<string, { ok: boolean; detail?: string }> } = {};
      await waitUntil('/health to report the new address', async () => {
        const res = await fetch(`http://127.0.0.1:${opsPort}/health`);
        health = (await res.json()) as typeof health;
        return res.status === 200 && health.parts?.serving?.detail === '10.0.0.8:31001';
      });
      expect(health).toMatchObject({
        status: 'ok',
        parts: { axon: { ok: true }, chain: { ok: true }, metagraph: { ok: true }, serving: { ok: true, detail: '10.0.0.8:31001' } },
      });
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      expect(metrics).toMatch(/hs58_axon_requests_total\{synapse="ProviderCheck",status="200"\} 1/);
      expect(metrics).toMatch(/hs58_axon_requests_total\{synapse="ProviderCheck",status="403"\} \d/);
      expect(metrics).toMatch(/hs58_metagraph_syncs_total\{outcome="ok"\} \d/);
      // No build passed in (the CLI passes the program's): the version and commit are unknown, the Node.js is this one.
      expect(metrics).toContain(`hs58_build_info{version="unknown",commit="unknown",node="${process.version}"} 1\n`);
      expect(metrics).toMatch(/^process_resident_memory_bytes \d+/m);
    } finally {
      stop.abort(new Error('test done'));
    }
    expect(await exit).toBe(0);
    expect(stderr()).toBe('');
    await expect(fetch(`http://127.0.0.1:${axonPort}/ProviderCheck`, { method: 'POST', body: '{}' })).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${opsPort}/health`)).rejects.toThrow();
  });

  // The same program from the sources (bin/hs58.js, through tsx) and as `npm run build` bundles it
  // for production (dist/hs58.mjs, with the verify worker beside it).
  test.for([
    ['from the sources', 62],
    ['production build', 63],
  ] as const)('`hs58 miner` as a process, %s: serves, exits 0 on SIGTERM within seconds; its RSS is reported', async ([form, seed], ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    let entry = path.join(REPO_ROOT, 'bin/hs58.js');
    if (form === 'production build') ({ entry, remove: removeBuild } = await productionBuild());
    const hotkey = hotkeyFromSeed(seed);
    await burnedRegister(api, { netuid: subnet.netuid, hotkey: hotkey.address, coldkey: alice });
    const axonPort = await freePort();
    const opsPort = await freePort();
    const child = spawn(process.execPath, [entry, 'miner'], {
      cwd: os.tmpdir(),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: os.tmpdir(),
        NETUID: String(subnet.netuid),
        SUBTENSOR_CHAIN_ENDPOINT: local.chain.endpoint,
        AXON_IP: '127.0.0.1',
        AXON_PORT: String(axonPort),
        AXON_EXTERNAL_IP: '10.0.0.9',
        METRICS_HOST: '127.0.0.1',
        METRICS_PORT: String(opsPort),
        MARKETPLACE_REGISTER: 'false',
        HS58_ENV_FILE: path.join(os.tmpdir(), 'hs58-no-such.env'),
        BT_HOTKEY_B64: hotkey.b64,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitUntil(
        'the process to serve',
        async () => {
          if (child.exitCode !== null) throw new Error(`hs58 miner exited ${child.exitCode}: ${output.slice(-2000)}`);
          const h = await fetch(`http://127.0.0.1:${opsPort}/health`).catch(() => null);
          return h !== null && h.status === 200 && ((await h.json()) as { parts: { serving?: { ok: boolean } } }).parts.serving?.ok === true;
        },
        60_000,
      );
      const dendrite = createDendrite({ signer: validator });
      try {
        for (let i = 0; i < 50; i++) {
          const r = await dendrite.call({ uid: 0, hotkey: hotkey.address, ip: '127.0.0.1', port: axonPort }, 'ProviderCheck', {}, { timeoutSec: 10 });
          expect(r.ok).toBe(true);
        }
      } finally {
        dendrite.close();
      }
      // What the program reports of itself: package.json's version, the commit it was built from, the Node.js running it.
      const metrics = await (await fetch(`http://127.0.0.1:${opsPort}/metrics`)).text();
      expect(metrics).toContain(`hs58_build_info{version="${pkg.version}",commit="${headCommit(form === 'production build')}",node="${process.version}"} 1\n`);
      expect(Number(/^process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1])).toBeGreaterThan(10 * 1024 * 1024);
      expect(metrics).toMatch(/^nodejs_eventloop_lag_p99_seconds [\d.e-]+$/m);
      expect(metrics).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
      if (hwm)
        console.info(`hs58 miner process (${form}): peak RSS ${(Number(hwm[1]) / 1024).toFixed(0)} MB (connected to Chopsticks, 1 verify thread per core)`);
    } finally {
      const t0 = Date.now();
      child.kill('SIGTERM');
      const code = await exited;
      expect(code, output.slice(-2000)).toBe(0);
      expect(Date.now() - t0).toBeLessThan(10_000);
    }
    expect(output).toContain('miner stopping');
  });
});

describe('a bad configuration stops the miner before any network, naming the flag (exit 2)', () => {
  const run = async (argv: string[], env: Record<string, string> = {}) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'hs58-miner-cfg-'));
    try {
      const { ctx, stderr } = context(['--wallet.path', dir, ...argv], { BT_HOTKEY_B64: hotkeyFromSeed(63).b64, ...env }, new AbortController().signal);
      const code = await startMiner(ctx, { logger: createLogger({ level: 'silent' }) });
      return { code, stderr: stderr() };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  test('a bad flag value, an invalid Polygon key, a bad --probe.allow entry, a missing hotkey', async () => {
    await initCrypto();
    expect(await run(['--axon.port', 'http'])).toEqual({ code: 2, stderr: expect.stringContaining('--axon.port: "http" is not valid') });
    expect(await run([], { POLYGON_PRIVATE_KEY: '0x1234' })).toEqual({
      code: 2,
      stderr: expect.stringContaining('POLYGON_PRIVATE_KEY must be 32 bytes of hex'),
    });
    const mismatch = await run([], { POLYGON_PRIVATE_KEY: POLYGON_KEY, POLYGON_WALLET: `0x${'12'.repeat(20)}` });
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain('POLYGON_WALLET');
    expect(mismatch.stderr).not.toContain(POLYGON_KEY.slice(2));
    expect(await run(['--polygon.wallet', '0x1234'])).toEqual({
      code: 2,
      stderr: expect.stringContaining('POLYGON_WALLET (--polygon.wallet) "0x1234" is not a 0x-prefixed 20-byte address'),
    });
    expect(await run(['--probe.allow', '10.0.0.0/99'])).toEqual({ code: 2, stderr: expect.stringContaining('--probe.allow entry "10.0.0.0/99"') });
    expect(await run([], { BT_HOTKEY_B64: '' })).toEqual({ code: 2, stderr: expect.stringContaining('not found') });
  });
});
