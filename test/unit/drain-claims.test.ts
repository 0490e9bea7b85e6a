import http from 'node:http';
import { afterAll, describe, expect, test } from 'vitest';
import { ClaimsStore, formatUsdc, totalsToJSON, type ClaimsStateJSON } from '../../src/chain/polygon/claimsStore.js';
import { EndpointPool } from '../../src/chain/polygon/endpointPool.js';
import { classifyRpcError } from '../../src/chain/polygon/rpcTransport.js';
import { PolygonError } from '../../src/chain/polygon/errors.js';
import { CHANNEL_CLAIMED_TOPIC, ChunkSizer, decodeClaimLogs, splitRange, type ChannelClaim } from '../../src/chain/polygon/getLogs.js';
import { addRange, clipBelow, coveredThrough, gapsIn, isNormalized } from '../../src/chain/polygon/ranges.js';
import { createProgressReporter } from '../../src/cli/commands/scan.js';

const A = '0x1c1918c99b6dce977392e4131c91654d8ab71e64';
const B = '0x0c2b3aa1e80629d572b1f200e6df3586b3946a8a';
const P1 = '0x00000000000000000000000000000000000000a1';
const P2 = '0x00000000000000000000000000000000000000b2';
const word = (n: bigint | number) => `0x${BigInt(n).toString(16).padStart(64, '0')}`;
const tx = (n: number) => word(0xabc000 + n);

function claim(over: Partial<ChannelClaim> & { block: number }): ChannelClaim {
  return { contract: A, channelId: word(1), provider: P1, amount: 1_000_000n, txHash: tx(over.block), logIndex: 0, blockNumber: over.block, ...over };
}

describe('block range sets', () => {
  test('add merges overlapping and adjacent ranges and keeps order', () => {
    let s = addRange([], { from: 10, to: 19 });
    s = addRange(s, { from: 30, to: 39 });
    s = addRange(s, { from: 20, to: 25 });
    expect(s).toEqual([
      { from: 10, to: 25 },
      { from: 30, to: 39 },
    ]);
    s = addRange(s, { from: 0, to: 4 });
    s = addRange(s, { from: 24, to: 31 });
    expect(s).toEqual([
      { from: 0, to: 4 },
      { from: 10, to: 39 },
    ]);
    expect(isNormalized(s)).toBe(true);
    expect(
      isNormalized([
        { from: 0, to: 4 },
        { from: 5, to: 9 },
      ]),
    ).toBe(false);
  });

  test('gaps, clipping and the covered-through cursor', () => {
    const s = [
      { from: 10, to: 19 },
      { from: 30, to: 39 },
    ];
    expect(gapsIn(s, { from: 0, to: 50 })).toEqual([
      { from: 0, to: 9 },
      { from: 20, to: 29 },
      { from: 40, to: 50 },
    ]);
    expect(gapsIn(s, { from: 12, to: 35 })).toEqual([{ from: 20, to: 29 }]);
    expect(gapsIn(s, { from: 30, to: 39 })).toEqual([]);
    expect(clipBelow(s, 15)).toEqual([
      { from: 15, to: 19 },
      { from: 30, to: 39 },
    ]);
    expect(coveredThrough(s, 10)).toBe(19);
    expect(coveredThrough(s, 20)).toBe(19);
    expect(coveredThrough(s, 5)).toBe(4);
  });

  test('split halves cover the range exactly', () => {
    expect(splitRange({ from: 0, to: 1999 })).toEqual([
      { from: 0, to: 999 },
      { from: 1000, to: 1999 },
    ]);
    expect(splitRange({ from: 7, to: 8 })).toEqual([
      { from: 7, to: 7 },
      { from: 8, to: 8 },
    ]);
    expect(splitRange({ from: 7, to: 9 })).toEqual([
      { from: 7, to: 8 },
      { from: 9, to: 9 },
    ]);
  });
});

describe('claims store', () => {
  test('JSON round trip keeps bigints exact; other contracts or chain, or a corrupt file, are refused', () => {
    const s = new ClaimsStore({ contracts: [A, B], chainId: 137 });
    const huge = 2n ** 200n + 12345n;
    s.addRange({ from: 100, to: 200 }, [claim({ block: 150, amount: huge })]);
    s.lastComplete = { window: { from: 100, to: 200 }, providers: s.totals(), completedAt: 1_700_000_000_000 };
    const json = JSON.parse(JSON.stringify(s.toJSON())) as ClaimsStateJSON;
    expect(json.claims[0]!.amount).toBe(huge.toString());
    const back = ClaimsStore.fromJSON(json, { contracts: [B.toUpperCase().replace('0X', '0x'), A], chainId: 137 });
    expect(back.totals()).toEqual(s.totals());
    expect(back.lastComplete?.providers.get(P1)?.amount).toBe(huge);
    expect(back.covered).toEqual([{ from: 100, to: 200 }]);
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (err) {
        return err instanceof PolygonError ? `${err.code}/${err.details.reason}` : 'other';
      }
      return 'none';
    };
    expect(reason(() => ClaimsStore.fromJSON(json, { contracts: [A], chainId: 137 }))).toBe('POLYGON_STATE_INVALID/mismatch');
    expect(reason(() => ClaimsStore.fromJSON(json, { contracts: [A, B], chainId: 80002 }))).toBe('POLYGON_STATE_INVALID/mismatch');
    expect(reason(() => ClaimsStore.fromJSON({ ...json, covered: [[5, 1]] }, { contracts: [A, B], chainId: 137 }))).toBe('POLYGON_STATE_INVALID/corrupt');
    expect(reason(() => ClaimsStore.fromJSON({ ...json, covered: [[160, 200]] }, { contracts: [A, B], chainId: 137 }))).toBe('POLYGON_STATE_INVALID/corrupt');
    expect(reason(() => ClaimsStore.fromJSON({ ...json, claims: [{ ...json.claims[0]!, amount: '-1' }] }, { contracts: [A, B], chainId: 137 }))).toBe(
      'POLYGON_STATE_INVALID/corrupt',
    );
  });

  test('USDC display and stable JSON order', () => {
    expect(formatUsdc(0n)).toBe('0.000000');
    expect(formatUsdc(1n)).toBe('0.000001');
    expect(formatUsdc(123_456_789n)).toBe('123.456789');
    const json = totalsToJSON(
      new Map([
        [P1, { amount: 5n, claims: 1, channels: 1 }],
        [P2, { amount: 9n, claims: 2, channels: 1 }],
      ]),
    );
    expect(Object.keys(json)).toEqual([P2, P1]);
    expect(json[P2]).toEqual({ amount: '9', usdc: '0.000009', claims: 2, channels: 1 });
  });
});

describe('eth_getLogs answers', () => {
  const good = (over: Record<string, unknown> = {}) => ({
    address: A.toUpperCase().replace('0X', '0x'),
    topics: [CHANNEL_CLAIMED_TOPIC, word(77), `0x000000000000000000000000${P1.slice(2)}`],
    data: word(1_234_567n),
    blockNumber: '0x64',
    transactionHash: tx(1),
    logIndex: '0x2',
    ...over,
  });
  const expected = { contracts: new Set([A]), range: { from: 100, to: 199 } };

  test('decodes a ChannelClaimed log', () => {
    expect(decodeClaimLogs([good()], expected)).toEqual([
      { contract: A, channelId: word(77), provider: P1, amount: 1_234_567n, blockNumber: 100, txHash: tx(1), logIndex: 2 },
    ]);
    expect(decodeClaimLogs([good({ removed: true })], expected)).toEqual([]);
  });

  test.each([
    ['not an array', { result: 'oops' }],
    ['another contract', { log: { address: B } }],
    ['outside the range', { log: { blockNumber: '0xc8' } }],
    ['wrong topic0', { log: { topics: [word(1), word(77), word(1)] } }],
    ['provider not an address', { log: { topics: [CHANNEL_CLAIMED_TOPIC, word(77), word(2n ** 200n)] } }],
    ['data not one word', { log: { data: '0x01' } }],
  ])('rejects %s (retried elsewhere, never half-trusted)', (_name, c) => {
    const input = 'result' in c ? c.result : [good(c.log)];
    expect(() => decodeClaimLogs(input, expected)).toThrow(/eth_getLogs answer rejected|expected a hex/);
  });
});

describe('RPC error classification', () => {
  test.each([
    [{ status: 429, message: '' }, 'rate_limited'],
    [{ code: -32005, message: 'limit exceeded' }, 'rate_limited'],
    [{ code: -32016, message: 'over rate limit' }, 'rate_limited'],
    [{ code: -32005, message: 'query returned more than 10000 results' }, 'range_too_large'],
    [{ code: -32600, message: 'block range is too wide' }, 'range_too_large'],
    [{ code: -32602, message: 'exceed maximum block range: 1000' }, 'range_too_large'],
    [{ code: -32000, message: 'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range' }, 'range_too_large'],
    [{ code: -32062, message: 'Block range is too large' }, 'range_too_large'],
    [{ status: 400, code: -32602, message: 'eth_getLogs is limited to a 10,000 range' }, 'range_too_large'],
    [{ status: 503, message: 'upstream unavailable' }, 'server_error'],
    [{ status: 403, message: 'forbidden' }, 'http_error'],
    [{ code: -32000, message: 'header not found' }, 'rpc_error'],
  ])('%j → %s', (answer, kind) => {
    expect(classifyRpcError(answer)).toBe(kind);
  });

  test('chunk size halves on refusals and grows back to the start after successes', () => {
    const s = new ChunkSizer(2000, 2000, 2);
    s.onRangeTooLarge(2000);
    expect(s.size).toBe(1000);
    s.onRangeTooLarge(1000);
    expect(s.size).toBe(500);
    s.onSuccess();
    s.onSuccess();
    expect(s.size).toBe(1000);
    for (let i = 0; i < 10; i++) s.onSuccess();
    expect(s.size).toBe(2000);
    expect(() => new ChunkSizer(0)).toThrow(PolygonError);
  });
});

describe('endpoint pool (against small local JSON-RPC servers)', () => {
  const servers: http.Server[] = [];
  afterAll(() => servers.forEach((s) => s.close()));

  async function server(
    handler: (method: string, params: unknown[], headers: http.IncomingHttpHeaders) => { status?: number; body: unknown },
  ): Promise<{ url: string; hits: () => number }> {
    let hits = 0;
    const srv = http.createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        hits += 1;
        const call = JSON.parse(text) as { id: number; method: string; params: unknown[] };
        const { status, body } = handler(call.method, call.params, req.headers);
        res
          .writeHead(status ?? 200, { 'content-type': 'application/json' })
          .end(JSON.stringify(typeof body === 'object' && body !== null ? { jsonrpc: '2.0', id: call.id, ...body } : body));
      });
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return { url: `http://127.0.0.1:${(srv.address() as { port: number }).port}`, hits: () => hits };
  }
  const healthy =
    (head = 1000) =>
    (method: string) => ({ body: { result: method === 'eth_chainId' ? '0x89' : method === 'eth_blockNumber' ? `0x${head.toString(16)}` : [] } });

  test('an endpoint that keeps failing is rested while the other carries on; secrets in URLs never show', async () => {
    const bad = await server(() => ({ status: 500, body: { error: { code: -32000, message: 'boom' } } }));
    const good = await server(healthy());
    const metrics: [string, boolean][] = [];
    const pool = new EndpointPool({
      urls: [`${bad.url}/v2/SECRET-API-KEY`, good.url],
      expectedChainId: 137,
      concurrencyPerEndpoint: 1,
      cooldownMs: 60_000,
      backoffBaseMs: 1,
      metrics: { onRequest: (e, ok) => metrics.push([e, ok]) },
    });
    // Concurrent requests: the bad endpoint gets picked while the good one is busy.
    await Promise.all(Array.from({ length: 20 }, () => pool.request('eth_getLogs', [{}], { minBlock: 10 })));
    const [b, g] = pool.stats();
    expect(b!.cooldowns).toBe(1);
    expect(b!.coolingForMs).toBeGreaterThan(50_000);
    // Three failed checks (chain id and head asked together each time), then it rests.
    expect(bad.hits()).toBe(6);
    expect(g!.requests).toBeGreaterThanOrEqual(22);
    expect(metrics.filter(([, ok]) => !ok).length).toBe(6);
    expect(JSON.stringify(pool.stats()) + JSON.stringify(metrics)).not.toContain('SECRET');
    expect(b!.endpoint).toBe(`${bad.url}/…`);
    pool.close();

    const onlyBad = new EndpointPool({ urls: [`${bad.url}/SECRET-API-KEY`], maxAttempts: 3, backoffBaseMs: 1, cooldownMs: 5 });
    const err = await onlyBad.request('eth_blockNumber', []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolygonError);
    expect((err as PolygonError).code).toBe('POLYGON_RPC_FAILED');
    expect(String((err as Error).message)).not.toContain('SECRET');
    onlyBad.close();
  });

  test('fallbacks serve only while the configured endpoints cannot; wrong chains are never used', async () => {
    const primary = await server(healthy());
    const fallback = await server(healthy());
    const otherChain = await server((m) => ({ body: { result: m === 'eth_chainId' ? '0x13882' : '0x10' } }));
    const pool = new EndpointPool({ urls: [otherChain.url, primary.url], fallbackUrls: [fallback.url], expectedChainId: 137, concurrencyPerEndpoint: 1 });
    await Promise.all(Array.from({ length: 10 }, () => pool.request('eth_getLogs', [{}], { minBlock: 5 })));
    expect(fallback.hits()).toBe(0);
    expect(pool.stats()[0]!.disabled).toMatch(/chain id 80002/);
    expect(otherChain.hits()).toBe(2); // chain id and head, once
    pool.close();

    const down = 'http://127.0.0.1:9/'; // nothing listens on the discard port
    const withFallback = new EndpointPool({ urls: [down], fallbackUrls: [fallback.url], backoffBaseMs: 1, failuresBeforeCooldown: 1, cooldownMs: 60_000 });
    await withFallback.request('eth_getLogs', [{}]);
    expect(fallback.hits()).toBeGreaterThan(0);
    withFallback.close();
    // A list entirely on the wrong chain is a configuration error, not a reason to fall back.
    const misconfigured = new EndpointPool({ urls: [otherChain.url], fallbackUrls: [fallback.url], expectedChainId: 137 });
    const hitsBefore = fallback.hits();
    await expect(misconfigured.request('eth_getLogs', [{}])).rejects.toMatchObject({
      code: 'POLYGON_NO_ENDPOINTS',
      message: expect.stringMatching(/chain id 80002/),
    });
    expect(fallback.hits()).toBe(hitsBefore);
    misconfigured.close();
    expect(() => new EndpointPool({ urls: [] })).toThrow(/no Polygon RPC endpoint/);
    expect(() => new EndpointPool({ urls: ['ftp://x'] })).toThrow(/not an http/);
  });

  test('credentials in a URL go in a Basic authorization header and never in a label', async () => {
    const guarded = await server((m, _p, headers) =>
      headers.authorization === `Basic ${Buffer.from('user:p@ss').toString('base64')}`
        ? healthy()(m)
        : { status: 401, body: { error: { code: -32001, message: 'unauthorized' } } },
    );
    const withAuth = guarded.url.replace('http://', 'http://user:p%40ss@');
    const pool = new EndpointPool({ urls: [withAuth], expectedChainId: 137 });
    expect(await pool.blockNumber()).toBe(1000);
    expect(pool.labels).toEqual([`${guarded.url}/…`]);
    pool.close();
  });

  test('a range refusal is thrown to the caller to split, a single block is retried elsewhere', async () => {
    const refusing = await server((m) =>
      m === 'eth_getLogs' ? { body: { error: { code: -32005, message: 'query returned more than 10000 results' } } } : healthy()(m),
    );
    const good = await server(healthy());
    const pool = new EndpointPool({ urls: [refusing.url], backoffBaseMs: 1 });
    await expect(pool.request('eth_getLogs', [{}], { splittable: true })).rejects.toMatchObject({ code: 'POLYGON_RANGE_TOO_LARGE' });
    pool.close();
    const two = new EndpointPool({ urls: [refusing.url, good.url], backoffBaseMs: 1 });
    for (let i = 0; i < 4; i++) expect(await two.request('eth_getLogs', [{}], { splittable: false })).toEqual([]);
    two.close();
  });

  test('requests for blocks an endpoint has not reached go elsewhere, or fail as behind', async () => {
    const behindMethods: string[] = [];
    const behind = await server((m) => {
      behindMethods.push(m);
      return healthy(100)(m);
    });
    const ahead = await server(healthy(5_000));
    const pool = new EndpointPool({ urls: [behind.url, ahead.url], headRefreshMs: 60_000, concurrencyPerEndpoint: 1 });
    await Promise.all(Array.from({ length: 6 }, () => pool.request('eth_getLogs', [{}], { minBlock: 4_000 })));
    expect(pool.stats().map((s) => s.head)).toEqual([100, 5_000]);
    expect(pool.stats()[0]!.requests).toBe(1); // only its head was asked
    pool.close();
    const alone = new EndpointPool({ urls: [behind.url], headRefreshMs: 50, maxAttempts: 2, backoffBaseMs: 1 });
    const before = behindMethods.length;
    await expect(alone.request('eth_getLogs', [{}], { minBlock: 4_000 })).rejects.toMatchObject({ code: 'POLYGON_ENDPOINTS_BEHIND' });
    // It asked for the head (again, when headRefreshMs passed between attempts: timing-dependent), never for the logs.
    const asked = behindMethods.slice(before);
    expect(asked.length).toBeGreaterThanOrEqual(1);
    expect(asked.every((m) => m === 'eth_blockNumber')).toBe(true);
    alone.close();
  });
});

describe('progress output', () => {
  test('progress: a bar redrawn in place on a terminal, plain lines elsewhere', () => {
    let out = '';
    let t = 0;
    const clock = () => t;
    const p = { window: { from: 0, to: 99 }, totalBlocks: 100, doneBlocks: 40, requests: 3, claimsFound: 0, elapsedMs: 1000, blocksPerSecond: 40, etaMs: 1500 };
    const tty = createProgressReporter({ isTTY: true, write: (s: string) => ((out += s), true) } as never, clock);
    t = 1_000;
    tty.update(p);
    tty.update({ ...p, doneBlocks: 100, etaMs: 0 });
    tty.finish();
    expect(out).toMatch(/^\r\x1b\[K\[#+-+\] {2}40% {2}40\/100 blocks {2}40 blocks\/s {2}2s left {2}3 requests/);
    expect(out.endsWith('\n')).toBe(true);
    out = '';
    const plain = createProgressReporter({ write: (s: string) => ((out += s), true) } as never, clock);
    t = 10_000;
    plain.update(p);
    t = 12_000;
    plain.update({ ...p, doneBlocks: 50 }); // within 5 s: skipped
    plain.update({ ...p, doneBlocks: 100, etaMs: 0 });
    expect(out.split('\n').filter(Boolean)).toEqual([
      'scan: 40/100 blocks (40%), 40 blocks/s, 2s left, 3 requests',
      'scan: 100/100 blocks (100%), 40 blocks/s, 0s left, 3 requests',
    ]);
  });
});
