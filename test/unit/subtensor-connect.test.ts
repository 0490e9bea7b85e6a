import net from 'node:net';
import { describe, expect, test } from 'vitest';
import { createSubtensor, isSubtensorError } from '../../src/chain/subtensor/index.js';
import { capturingLogger } from '../support/localChain.js';
import { freePort } from '../support/net.js';

describe('subtensor connection failures', () => {
  test('a non-WebSocket endpoint is refused up front', async () => {
    const { logger } = capturingLogger();
    await expect(createSubtensor({ endpoint: 'https://entrypoint-finney.opentensor.ai', logger })).rejects.toThrow(/must start with ws:\/\/ or wss:\/\//);
  });

  test('an endpoint that refuses connections fails with CONNECT_FAILED after the timeout, without leaking the URL path', async () => {
    const port = await freePort();
    const { logger, lines } = capturingLogger('debug');
    const started = Date.now();
    const err = await createSubtensor({ endpoint: `ws://127.0.0.1:${port}/v2/secret-api-key`, logger, connectTimeoutMs: 1_500, reconnectDelayMs: 100 }).catch(
      (e: unknown) => e,
    );
    expect(isSubtensorError(err) && err.code).toBe('CONNECT_FAILED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_400);
    expect(String((err as Error).message)).toContain(`ws://127.0.0.1:${port}/…`);
    expect(JSON.stringify(lines)).not.toContain('secret-api-key');
    // It kept trying while the deadline ran.
    expect(lines.filter((l) => l.msg === 'subtensor reconnect scheduled').length).toBeGreaterThan(2);
  });

  test('a server that accepts TCP but never speaks WebSocket also times out cleanly', async () => {
    const sockets: net.Socket[] = [];
    const server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { logger } = capturingLogger();
      const err = await createSubtensor({ endpoint: `ws://127.0.0.1:${port}`, logger, connectTimeoutMs: 1_000 }).catch((e: unknown) => e);
      expect(isSubtensorError(err) && err.code).toBe('CONNECT_FAILED');
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
