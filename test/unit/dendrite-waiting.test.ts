/**
 * How a dendrite call ends when no answer comes: its own timeout is Python's 408 "Timeout after Ns";
 * the caller's abort (a validator shutting down) ends it at once and says so. The timeout fires
 * whatever the peer does (silent, headers then nothing, a byte a second) and whatever the garbage
 * collector does meanwhile (forced GCs: Node 20 loses an AbortSignal.timeout inside AbortSignal.any).
 */
import http from 'node:http';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createDendrite } from '../../src/dendrite/dendrite.js';
import { signerFromSeed } from '../support/axon.js';
import { collectGarbageEvery, startTarpit, within } from '../support/tarpit.js';

let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer(() => undefined); // takes the request, never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

test('no answer: 408 after its own timeout; aborted by the caller: ended at once, reported as cancelled', async () => {
  const dendrite = createDendrite({ signer: await signerFromSeed(40) });
  const axon = { uid: 3, hotkey: (await signerFromSeed(41)).address, ip: '127.0.0.1', port };
  try {
    const timedOut = await dendrite.call(axon, 'ProviderCheck', {}, { timeoutSec: 1 });
    expect(timedOut).toMatchObject({ ok: false, statusCode: 408, message: 'Timeout after 1s' });
    expect(timedOut.elapsedMs).toBeGreaterThanOrEqual(950);

    const stop = new AbortController();
    setTimeout(() => stop.abort(), 100);
    const cancelled = await dendrite.call(axon, 'ProviderCheck', {}, { timeoutSec: 30, signal: stop.signal });
    expect(cancelled).toMatchObject({ ok: false, statusCode: 408 });
    expect(cancelled.ok ? '' : cancelled.message).toMatch(/^Cancelled before an answer/);
    expect(cancelled.elapsedMs).toBeLessThan(5_000);
  } finally {
    dendrite.close();
  }
});

test.each(['silent', 'headers-then-stall', 'trickle'] as const)(
  'a %s peer: 408 at the timeout although garbage collections run while it stalls',
  async (kind) => {
    const tarpit = await startTarpit(kind);
    const dendrite = createDendrite({ signer: await signerFromSeed(42) });
    const axon = { uid: 5, hotkey: (await signerFromSeed(43)).address, ip: '127.0.0.1', port: tarpit.port };
    // A caller signal that never aborts: the deadline must fire on its own (the Node 20 AbortSignal.any case).
    const caller = new AbortController();
    const stopGc = collectGarbageEvery(100);
    try {
      const result = await within(
        15_000,
        `the ${kind} call`,
        dendrite.call(axon, 'ProviderProbe', { target_url: 'https://a.example' }, { timeoutSec: 1, signal: caller.signal }),
      );
      expect(result).toMatchObject({ ok: false, statusCode: 408, message: 'Timeout after 1s' });
      expect(tarpit.accepted()).toBe(1);
    } finally {
      stopGc();
      dendrite.close();
      await tarpit.close();
    }
  },
);
