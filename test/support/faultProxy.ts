import http from 'node:http';
import { mulberry32 } from './rng.js';

/**
 * A JSON-RPC proxy in front of a real node (anvil) that behaves like a bad public endpoint:
 * added latency, a share of answers replaced by faults (HTTP 429 with Retry-After, HTTP 500,
 * a hang until the client times out, a reset connection, a JSON-RPC error, garbage, and
 * "range too large" answers in the phrasings of real providers), a hard block-range limit, a
 * lagging head (answers [] for blocks it "has not seen", as real lagging nodes do), and
 * blocks it can never serve. Every decision comes from a seeded generator.
 */

export type FaultKind = '429' | '500' | 'timeout' | 'reset' | 'rpc_error' | 'garbage' | 'range';

export interface FaultProxyOptions {
  upstream: string;
  /** Added before answering, uniform in [min, max] ms. */
  latencyMs?: [number, number];
  /** Share of requests answered with a fault instead. */
  faultRate?: number;
  faults?: readonly FaultKind[];
  /** Faults only for these methods (default: all). */
  faultMethods?: readonly string[];
  /** eth_getLogs spanning more blocks than this is always refused as too large. */
  maxRange?: number;
  /** Pretend to be this many blocks behind the upstream head. */
  lagBlocks?: number;
  /** Retry-After seconds sent with a 429; null sends none (default 1). */
  retryAfter?: number | null;
  /** eth_getLogs touching this range always gets HTTP 500. */
  brokenRange?: { from: number; to: number };
  seed?: number;
}

export interface FaultProxy {
  url: string;
  counts: {
    requests: number;
    forwarded: number;
    faults: Record<FaultKind | 'maxRange' | 'broken' | 'lagEmpty', number>;
    byMethod: Record<string, number>;
    /** Lowest fromBlock of any eth_getLogs seen (Infinity when none). */
    lowestFrom: number;
  };
  set(options: Partial<FaultProxyOptions>): void;
  close(): Promise<void>;
}

const RANGE_ANSWERS = [
  { status: 200, error: { code: -32005, message: 'query returned more than 10000 results' } },
  { status: 200, error: { code: -32600, message: 'block range is too wide' } },
  { status: 400, error: { code: -32602, message: 'exceed maximum block range: 1000' } },
  { status: 200, error: { code: -32000, message: 'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range' } },
];

export async function startFaultProxy(initial: FaultProxyOptions): Promise<FaultProxy> {
  let options = { ...initial };
  const random = mulberry32(options.seed ?? 1);
  const counts: FaultProxy['counts'] = {
    requests: 0,
    forwarded: 0,
    faults: { '429': 0, '500': 0, timeout: 0, reset: 0, rpc_error: 0, garbage: 0, range: 0, maxRange: 0, broken: 0, lagEmpty: 0 },
    byMethod: {},
    lowestFrom: Infinity,
  };

  const upstream = async (body: unknown): Promise<{ result?: unknown; error?: unknown }> => {
    counts.forwarded += 1;
    const res = await fetch(options.upstream, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return (await res.json()) as { result?: unknown };
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => void handle(Buffer.concat(chunks).toString(), req, res).catch(() => res.destroy()));
  });

  const json = (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

  async function handle(text: string, _req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    counts.requests += 1;
    const call = JSON.parse(text) as { id: number; method: string; params: unknown[] };
    counts.byMethod[call.method] = (counts.byMethod[call.method] ?? 0) + 1;
    const [lo, hi] = options.latencyMs ?? [0, 0];
    const delay = lo + random() * (hi - lo);
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));

    const filter = call.method === 'eth_getLogs' ? (call.params[0] as { fromBlock: string; toBlock: string }) : undefined;
    const from = filter ? Number(filter.fromBlock) : 0;
    const to = filter ? Number(filter.toBlock) : 0;
    if (filter) counts.lowestFrom = Math.min(counts.lowestFrom, from);

    const faultable = !options.faultMethods || options.faultMethods.includes(call.method);
    if (faultable && random() < (options.faultRate ?? 0)) {
      const kinds = (options.faults ?? ['429', '500', 'timeout', 'rpc_error', 'range']).filter((k) => k !== 'range' || filter);
      const kind = kinds[Math.floor(random() * kinds.length)];
      if (kind) {
        counts.faults[kind] += 1;
        switch (kind) {
          case '429':
            return json(
              res,
              429,
              { jsonrpc: '2.0', id: call.id, error: { code: -32029, message: 'Too Many Requests' } },
              options.retryAfter === null ? {} : { 'retry-after': String(options.retryAfter ?? 1) },
            );
          case '500':
            return json(res, 500, { message: 'internal server error' });
          case 'timeout':
            return; // never answer; the client's timeout ends it
          case 'reset':
            res.socket?.destroy();
            return;
          case 'rpc_error':
            return json(res, 200, { jsonrpc: '2.0', id: call.id, error: { code: -32000, message: 'header not found' } });
          case 'garbage':
            res.writeHead(200, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
            return;
          case 'range': {
            const a = RANGE_ANSWERS[Math.floor(random() * RANGE_ANSWERS.length)]!;
            return json(res, a.status, { jsonrpc: '2.0', id: call.id, error: a.error });
          }
        }
      }
    }
    if (filter && options.maxRange !== undefined && to - from + 1 > options.maxRange) {
      counts.faults.maxRange += 1;
      return json(res, 200, { jsonrpc: '2.0', id: call.id, error: { code: -32005, message: `block range too large, max ${options.maxRange} blocks` } });
    }
    if (filter && options.brokenRange && from <= options.brokenRange.to && to >= options.brokenRange.from) {
      counts.faults.broken += 1;
      return json(res, 500, { message: 'backend unavailable' });
    }
    const lag = options.lagBlocks ?? 0;
    if (lag > 0 && (call.method === 'eth_blockNumber' || filter)) {
      const head = Number((await upstream({ jsonrpc: '2.0', id: 1, method: 'eth_blockNumber', params: [] })).result);
      const seen = head - lag;
      if (call.method === 'eth_blockNumber') return json(res, 200, { jsonrpc: '2.0', id: call.id, result: `0x${seen.toString(16)}` });
      if (from > seen) {
        counts.faults.lagEmpty += 1;
        return json(res, 200, { jsonrpc: '2.0', id: call.id, result: [] });
      }
      if (to > seen) {
        counts.faults.lagEmpty += 1;
        const clipped = { ...call, params: [{ ...filter, toBlock: `0x${seen.toString(16)}` }] };
        return json(res, 200, { ...(await upstream(clipped)), id: call.id });
      }
    }
    return json(res, 200, { ...(await upstream(call)), id: call.id });
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    set(next) {
      options = { ...options, ...next };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
