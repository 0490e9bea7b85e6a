/**
 * Fixtures for the axon and miner tests: sr25519 identities, a blacklist over a metagraph-like
 * table (the real `judgeCaller`), a real axon server on 127.0.0.1, the miner's real handlers
 * behind one, and a raw HTTP client for requests no dendrite would send.
 */
import http from 'node:http';
import { buildCallerTable, judgeCaller, type BlacklistPolicy } from '../../src/axon/blacklist.js';
import type { NonceStore } from '../../src/axon/nonces.js';
import { createAxonServer, type AxonHandlers, type AxonLimits, type AxonServer } from '../../src/axon/server.js';
import type { SignatureVerifier } from '../../src/axon/verifyPool.js';
import type { Logger } from '../../src/observability/logger.js';
import { createLogger } from '../../src/observability/logger.js';
import type { MinerMetrics } from '../../src/observability/metrics.js';
import { createProber, type ProberOptions } from '../../src/miner/probe.js';
import { createMinerService } from '../../src/miner/service.js';
import { loadPolygonAccount } from '../../src/wallet/polygon.js';
import { initCrypto, publicKeyToSs58, signSr25519, sr25519KeypairFromSeed } from '../../src/wallet/sr25519.js';

export interface TestSigner {
  address: string;
  publicKey: Uint8Array;
  sign(message: Uint8Array): Uint8Array;
}

/** A deterministic sr25519 identity from a one-byte seed pattern. */
export async function signerFromSeed(byte: number): Promise<TestSigner> {
  await initCrypto();
  const kp = sr25519KeypairFromSeed(new Uint8Array(32).fill(byte));
  return { address: publicKeyToSs58(kp.publicKey), publicKey: kp.publicKey, sign: (m) => signSr25519(kp, m) };
}

export interface NeuronEntry {
  hotkey: string;
  stakeTao: number;
  permit: boolean;
}

/** Python's blacklist and priority over a fixed metagraph (the real pure functions). */
export function tableBlacklist(neurons: readonly NeuronEntry[], policy: Partial<BlacklistPolicy> = {}) {
  const table = buildCallerTable({
    block: 1,
    hotkeys: neurons.map((n) => n.hotkey),
    uids: neurons.map((_, i) => i),
    stake: neurons.map((n) => BigInt(Math.round(n.stakeTao * 1e9))),
    validatorPermit: neurons.map((n) => n.permit),
  });
  const full: BlacklistPolicy = { forceValidatorPermit: policy.forceValidatorPermit ?? true, minStakeRao: policy.minStakeRao ?? 0n };
  return {
    blacklist: (hotkey: string | null) => judgeCaller(table, hotkey, full),
    priority: (hotkey: string) => Number(table.byHotkey.get(hotkey)?.stake ?? 0n) / 1e9,
  };
}

export interface StartTestAxonOptions {
  miner: { address: string };
  handlers: AxonHandlers;
  neurons: readonly NeuronEntry[];
  policy?: Partial<BlacklistPolicy>;
  limits?: Partial<AxonLimits>;
  verifier?: SignatureVerifier;
  nonces?: NonceStore;
  metrics?: MinerMetrics | null;
  logger?: Logger;
}

export async function startTestAxon(o: StartTestAxonOptions): Promise<{ axon: AxonServer; port: number }> {
  const { blacklist, priority } = tableBlacklist(o.neurons, o.policy);
  const axon = createAxonServer({
    hotkey: o.miner,
    handlers: o.handlers,
    blacklist,
    priorityFn: priority,
    limits: o.limits,
    verifier: o.verifier,
    nonces: o.nonces,
    metrics: o.metrics,
    logger: o.logger ?? createLogger({ level: 'silent' }),
  });
  const { port } = await axon.listen({ host: '127.0.0.1', port: 0 });
  return { axon, port };
}

export interface StartTestMinerOptions extends Omit<StartTestAxonOptions, 'handlers'> {
  /** The miner's Polygon key: ProviderCheck answers its address and wallet proof; absent: both null. */
  polygonKey?: string;
  /** ProviderCheck's api_url (default null). */
  apiUrl?: string | null;
  /** The miner's prober: allowed private ranges, DNS, timeout. */
  probe?: ProberOptions;
}

/** The miner's own handlers (`createMinerService` with a real prober) behind a test axon on 127.0.0.1. */
export async function startTestMiner(o: StartTestMinerOptions): Promise<{ axon: AxonServer; port: number }> {
  const { polygonKey, apiUrl, probe, ...axon } = o;
  const service = await createMinerService({
    hotkeyAddress: o.miner.address,
    polygonAccount: polygonKey ? loadPolygonAccount({ privateKey: polygonKey }) : null,
    polygonWallet: null,
    apiUrl: apiUrl ?? null,
    prober: createProber(probe),
    logger: createLogger({ level: 'silent' }),
  });
  return startTestAxon({ ...axon, handlers: service.handlers });
}

export interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: Record<string, unknown> | null;
}

/** One HTTP request with exactly these headers and body bytes (keep-alive agent optional). */
export function rawRequest(
  port: number,
  o: { method?: string; path: string; headers?: Record<string, string | string[]>; body?: string | Buffer; agent?: http.Agent; timeoutMs?: number },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const body = o.body === undefined ? undefined : Buffer.isBuffer(o.body) ? o.body : Buffer.from(o.body, 'utf8');
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: o.method ?? 'POST',
        path: o.path,
        agent: o.agent ?? false,
        headers: { ...(o.headers ?? {}), ...(body ? { 'content-length': String(body.length) } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: Record<string, unknown> | null = null;
          try {
            json = JSON.parse(text) as Record<string, unknown>;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, json });
        });
        res.on('error', reject);
      },
    );
    if (o.timeoutMs !== undefined) req.setTimeout(o.timeoutMs, () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
