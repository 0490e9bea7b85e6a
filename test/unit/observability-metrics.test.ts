/**
 * The daemons' metrics (src/observability/metrics.ts): hs58_build_info and prom-client's default process
 * metrics on each daemon's private registry (both daemons' registries in one process, as in the tests and
 * the local network); the weights gauges (block and time of the last set, commit and reveal); Polygon RPC
 * failures per endpoint HOST and kind, from the real endpoint pool talking HTTP to local servers, with
 * API keys in the URL's path and query and basic-auth credentials that never reach a label.
 */
import type http from 'node:http';
import { afterAll, describe, expect, test } from 'vitest';
import { EndpointPool } from '../../src/chain/polygon/endpointPool.js';
import {
  createMinerMetrics,
  createValidatorMetrics,
  endpointHost,
  polygonRpcRecorder,
  recordWeightsEvent,
  RPC_FAILURE_KINDS,
} from '../../src/observability/metrics.js';
import { freePort } from '../support/net.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';

const BUILD = { version: '1.2.3', commit: 'abc123def456', node: 'v24.1.0' };

/** The value of the one line of `text` that starts with `series ` (a full series: name and labels). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('build info and the default process metrics', () => {
  test("both daemons' registries in one process each carry hs58_build_info and the process, heap, event-loop and GC metrics", async () => {
    const miner = createMinerMetrics({ build: BUILD, processMetrics: true });
    const validator = createValidatorMetrics({ build: BUILD, processMetrics: true });
    // A second validator in the same process (the local network restarts validators): its own registry, no clash.
    const again = createValidatorMetrics({ processMetrics: true });
    for (const [name, m] of [
      ['miner', miner],
      ['validator', validator],
    ] as const) {
      const text = await m.registry.metrics();
      expect(sample(text, 'hs58_build_info{version="1.2.3",commit="abc123def456",node="v24.1.0"}'), name).toBe(1);
      expect(sample(text, 'process_resident_memory_bytes'), name).toBeGreaterThan(1024 * 1024);
      expect(sample(text, 'nodejs_heap_size_used_bytes'), name).toBeGreaterThan(0);
      expect(sample(text, 'nodejs_eventloop_lag_p99_seconds'), name).toBeGreaterThanOrEqual(0);
      const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
      expect(names, name).toEqual(expect.arrayContaining(['process_cpu_seconds_total', 'process_start_time_seconds', 'nodejs_gc_duration_seconds']));
      // Conventional names: prom-client's own, no prefix.
      expect(
        names.filter((n) => !/^(hs58|process|nodejs)_/.test(n)),
        name,
      ).toEqual([]);
    }
    // Without a build: the version and commit are unknown, the Node.js is the one running.
    expect(sample(await again.registry.metrics(), `hs58_build_info{version="unknown",commit="unknown",node="${process.version}"}`)).toBe(1);
  });

  test('without processMetrics a registry has hs58_* metrics only (what the unit tests of steps count)', async () => {
    const names = (await createValidatorMetrics().registry.getMetricsAsJSON()).map((x) => x.name);
    expect(names).toContain('hs58_build_info');
    expect(names.filter((n) => !n.startsWith('hs58_'))).toEqual([]);
  });
});

describe('the weights gauges', () => {
  test('the block and time of the last set, commit (hash or timelocked) and reveal, each under its event', async () => {
    const m = createValidatorMetrics();
    recordWeightsEvent(m, { kind: 'set', blockNumber: 100 }, 1_700_000_000_000);
    recordWeightsEvent(m, { kind: 'committed', blockNumber: 110 }, 1_700_000_100_000);
    recordWeightsEvent(m, { kind: 'committed-timelocked', blockNumber: 120 }, 1_700_000_200_000);
    recordWeightsEvent(m, { kind: 'revealed', blockNumber: 125 }, 1_700_000_300_000);
    const text = await m.registry.metrics();
    expect(sample(text, 'hs58_validator_weights_last_block{event="set"}')).toBe(100);
    expect(sample(text, 'hs58_validator_weights_last_block{event="committed"}')).toBe(120);
    expect(sample(text, 'hs58_validator_weights_last_block{event="revealed"}')).toBe(125);
    expect(sample(text, 'hs58_validator_weights_last_timestamp_seconds{event="set"}')).toBe(1_700_000_000);
    expect(sample(text, 'hs58_validator_weights_last_timestamp_seconds{event="committed"}')).toBe(1_700_000_200);
    expect(sample(text, 'hs58_validator_weights_last_timestamp_seconds{event="revealed"}')).toBe(1_700_000_300);
  });
});

describe('Polygon RPC failures per endpoint host and kind', () => {
  test('endpointHost keeps the host (and a non-default port) only', () => {
    expect(endpointHost('https://alice:s3cret@polygon-mainnet.g.alchemy.com/v2/KEY?apikey=KEY2')).toBe('polygon-mainnet.g.alchemy.com');
    expect(endpointHost('http://127.0.0.1:8545/…#1')).toBe('127.0.0.1:8545');
    expect(endpointHost('https://rpc.example:443/')).toBe('rpc.example');
    expect(endpointHost('<invalid url>')).toBe('unknown');
  });

  const servers: LocalServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  /** A JSON-RPC server answering eth_getLogs with `answers` in turn (then an empty list), other methods healthily. */
  async function scripted(answers: ((res: http.ServerResponse, id: number) => void)[]): Promise<LocalServer> {
    const server = await startLocalServer((_req, res, body) => {
      const call = JSON.parse(body) as { id: number; method: string };
      const json = (payload: unknown) => void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      const next = call.method === 'eth_getLogs' ? answers.shift() : undefined;
      if (call.method !== 'eth_getLogs') json({ jsonrpc: '2.0', id: call.id, result: call.method === 'eth_chainId' ? '0x89' : '0x3e8' });
      else if (next) next(res, call.id);
      else json({ jsonrpc: '2.0', id: call.id, result: [] });
    });
    servers.push(server);
    return server;
  }

  test('each kind the transport tells apart is counted under the host; no path, query, user or password in any label', async () => {
    const rpcError = (status: number, code: number, message: string) => (res: http.ServerResponse, id: number) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }));
    const server = await scripted([
      rpcError(429, -32005, 'Too Many Requests'),
      rpcError(500, -32000, 'internal error'),
      rpcError(200, -32600, 'block range is too wide'),
      rpcError(403, -32000, 'forbidden'),
      rpcError(200, -32603, 'execution reverted'),
      (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'),
      () => undefined, // never answers: the request times out
    ]);
    const metrics = createValidatorMetrics();
    const secretUrl = `http://alice-user:pa55-w0rd@127.0.0.1:${server.port}/v3/KEY-IN-PATH?apikey=KEY-IN-QUERY`;
    const pool = new EndpointPool({
      urls: [secretUrl],
      expectedChainId: 137,
      maxAttempts: 10,
      timeoutMs: 300,
      backoffBaseMs: 1,
      backoffMaxMs: 2,
      failuresBeforeCooldown: 100,
      metrics: polygonRpcRecorder(metrics),
    });
    try {
      await expect(pool.request('eth_getLogs', [{}])).resolves.toEqual([]);
    } finally {
      pool.close();
    }
    // The basic-auth credentials went in a header, not in a label.
    expect(server.hits.every((h) => h.headers.authorization === `Basic ${Buffer.from('alice-user:pa55-w0rd').toString('base64')}`)).toBe(true);

    // A refused connection: no server on that port.
    const closed = await freePort();
    const down = new EndpointPool({
      urls: [`https://bob:hunter2@127.0.0.1:${closed}/KEY-IN-PATH?key=KEY-IN-QUERY`],
      maxAttempts: 1,
      metrics: polygonRpcRecorder(metrics),
    });
    try {
      await expect(down.request('eth_blockNumber', [])).rejects.toMatchObject({ code: 'POLYGON_RPC_FAILED' });
    } finally {
      down.close();
    }

    const text = await metrics.registry.metrics();
    const host = `127.0.0.1:${server.port}`;
    for (const kind of ['rate_limit', 'server_error', 'range', 'http_error', 'rpc_error', 'bad_response', 'timeout']) {
      expect(sample(text, `hs58_polygon_rpc_failures_total{host="${host}",kind="${kind}"}`), kind).toBe(1);
    }
    expect(sample(text, `hs58_polygon_rpc_failures_total{host="127.0.0.1:${closed}",kind="network"}`)).toBe(1);
    // Requests per redacted endpoint: 7 failures and the chain id, head and final eth_getLogs that succeeded.
    expect(sample(text, `hs58_polygon_rpc_requests_total{endpoint="http://${host}/…",outcome="error"}`)).toBe(7);
    expect(sample(text, `hs58_polygon_rpc_requests_total{endpoint="http://${host}/…",outcome="ok"}`)).toBeGreaterThanOrEqual(2);
    for (const secret of ['alice-user', 'pa55-w0rd', 'KEY-IN-PATH', 'KEY-IN-QUERY', 'apikey', 'bob', 'hunter2', '/v3']) expect(text).not.toContain(secret);
    // Every kind the recorder names is documented in the metric's help.
    const help = text.split('\n').find((l) => l.startsWith('# HELP hs58_polygon_rpc_failures_total'))!;
    for (const kind of Object.values(RPC_FAILURE_KINDS)) expect(help).toContain(kind);
  });

  test('two endpoints on one host (two API keys) keep a series each, numbered, with neither key', async () => {
    const server = await scripted([]);
    const metrics = createValidatorMetrics();
    const base = `http://127.0.0.1:${server.port}`;
    const pool = new EndpointPool({ urls: [`${base}/v2/KEY-ONE`, `${base}/v2/KEY-TWO`], metrics: polygonRpcRecorder(metrics) });
    try {
      // Enough requests that the scheduler uses both endpoints.
      await Promise.all(Array.from({ length: 8 }, () => pool.request('eth_getLogs', [{}])));
    } finally {
      pool.close();
    }
    const text = await metrics.registry.metrics();
    const series = text.split('\n').filter((l) => l.startsWith('hs58_polygon_rpc_requests_total{'));
    expect(series.map((l) => /endpoint="([^"]+)"/.exec(l)![1]).sort()).toEqual([`${base}/…#0`, `${base}/…#1`]);
    expect(text).not.toContain('KEY-ONE');
    expect(text).not.toContain('KEY-TWO');
  });

  test('an answer whose result the caller cannot parse is a failed request and a bad_response, not a success', async () => {
    const server = await scripted([
      (res, id) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id, result: 'not a list' })),
    ]);
    const metrics = createValidatorMetrics();
    const pool = new EndpointPool({
      urls: [`http://127.0.0.1:${server.port}/`],
      maxAttempts: 3,
      backoffBaseMs: 1,
      backoffMaxMs: 2,
      metrics: polygonRpcRecorder(metrics),
    });
    const parse = (r: unknown) => {
      if (!Array.isArray(r)) throw new Error(`eth_getLogs answered ${typeof r}, not a list`);
      return r;
    };
    try {
      await expect(pool.request('eth_getLogs', [{}], { parse })).resolves.toEqual([]);
    } finally {
      pool.close();
    }
    const text = await metrics.registry.metrics();
    const host = `127.0.0.1:${server.port}`;
    expect(pool.stats()[0]).toMatchObject({ failures: 1, lastError: expect.stringContaining('eth_getLogs answered string, not a list') });
    expect(sample(text, `hs58_polygon_rpc_failures_total{host="${host}",kind="bad_response"}`)).toBe(1);
    expect(sample(text, `hs58_polygon_rpc_requests_total{endpoint="http://${host}",outcome="error"}`)).toBe(1);
    expect(sample(text, `hs58_polygon_rpc_requests_total{endpoint="http://${host}",outcome="ok"}`)).toBe(1);
  });
});
