import http from 'node:http';
import type { CloseStack } from '../src/util/closeStack.js';

/**
 * Local AI-provider stand-ins for the local network and tests: HTTP servers that answer
 * like a DRAIN provider's public surface (GET /health, /v1/pricing, 402 on a paid route).
 * `healthy` always answers; `flaky` fails every other request with 503; `slow` answers
 * after `delayMs`; `down` is a port with nothing listening.
 */
export type ProviderBehaviour = 'healthy' | 'flaky' | 'slow' | 'down';

export interface LocalProvider {
  id: string;
  name: string;
  behaviour: ProviderBehaviour;
  /** What a registry lists as probeUrl. */
  probeUrl: string;
  hits: () => number;
  close: () => Promise<void>;
}

export interface StartProviderParameters {
  id: string;
  behaviour: ProviderBehaviour;
  providerAddress?: string;
  delayMs?: number;
  host?: string;
}

export async function startLocalProvider(params: StartProviderParameters): Promise<LocalProvider> {
  const host = params.host ?? '127.0.0.1';
  const address = params.providerAddress ?? '0x0000000000000000000000000000000000000000';
  let hits = 0;
  const server = http.createServer((req, res) => {
    hits += 1;
    const send = () => {
      if (params.behaviour === 'flaky' && hits % 2 === 0) {
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"overloaded"}');
        return;
      }
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/health') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', provider: address, providerName: params.id }));
      } else if (url.pathname === '/v1/pricing') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            provider: address,
            chainId: 137,
            currency: 'USDC',
            decimals: 6,
            models: { 'local-model': { inputPer1kTokens: '100', outputPer1kTokens: '200' } },
          }),
        );
      } else if (url.pathname === '/v1/chat/completions') {
        res.writeHead(402, { 'x-payment-protocol': 'drain-v2', 'x-payment-provider': address, 'x-payment-chain': '137' }).end('{"error":"payment required"}');
      } else {
        res.writeHead(404).end();
      }
    };
    if (params.behaviour === 'slow') setTimeout(send, params.delayMs ?? 2_500);
    else send();
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  if (params.behaviour === 'down') {
    // Keep the port number, close the listener: connections are refused.
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  return {
    id: params.id,
    name: `${params.id} (${params.behaviour})`,
    behaviour: params.behaviour,
    probeUrl: `http://${host}:${port}/health`,
    hits: () => hits,
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A registry answering `{providers: [...]}` like handshake58.com's validator registry. */
export async function startLocalRegistry(providers: () => { id: string; name: string; probeUrl: string }[], host = '127.0.0.1') {
  const server = http.createServer((_req, res) => {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ providers: providers().map((p) => ({ id: p.id, name: p.name, probeUrl: p.probeUrl, protocol: 'drain' })) }));
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}/api/validator/registry`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface LocalProviderSpec {
  id: string;
  behaviour: ProviderBehaviour;
  /** `slow` answers after this (default 1.5 s). */
  delayMs?: number;
}

export const DEFAULT_LOCAL_PROVIDERS: readonly LocalProviderSpec[] = [
  { id: 'alpha', behaviour: 'healthy' },
  { id: 'beta', behaviour: 'healthy' },
  { id: 'gamma', behaviour: 'flaky' },
  { id: 'delta', behaviour: 'slow' },
  { id: 'omega', behaviour: 'down' },
];

export interface LocalMarketplace {
  providers: LocalProvider[];
  registry: { url: string; requests: () => number };
}

/** The providers of `specs` and a registry listing them, each closed by `closers`. */
export async function startLocalMarketplace(closers: CloseStack, specs: readonly LocalProviderSpec[]): Promise<LocalMarketplace> {
  const providers: LocalProvider[] = [];
  for (const spec of specs) {
    const p = await startLocalProvider({ id: spec.id, behaviour: spec.behaviour, delayMs: spec.delayMs ?? 1_500 });
    providers.push(p);
    closers.push({ name: `provider ${spec.id}`, close: () => p.close() });
  }
  let requests = 0;
  const registry = await startLocalRegistry(() => {
    requests += 1;
    return providers;
  });
  closers.push({ name: 'registry', close: () => registry.close() });
  return { providers, registry: { url: registry.url, requests: () => requests } };
}
