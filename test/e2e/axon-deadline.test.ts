/**
 * The axon's own deadline: a handler still running at the synapse timeout is left behind with
 * 408 and its slot freed, whatever the handler does with its signal and whatever the garbage
 * collector does meanwhile (forced GCs; Node 20 loses an AbortSignal.timeout inside AbortSignal.any).
 */
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createInlineVerifier, type SignatureVerifier } from '../../src/axon/verifyPool.js';
import { encodeRequest } from '../../src/protocol/index.js';
import { timeNs } from '../../src/util/timeNs.js';
import { rawRequest, signerFromSeed, startTestAxon, type TestSigner } from '../support/axon.js';
import { collectGarbageEvery, within } from '../support/tarpit.js';

let verifier: SignatureVerifier;
let miner: TestSigner;
let validator: TestSigner;

beforeAll(async () => {
  [miner, validator] = (await Promise.all([61, 62].map(signerFromSeed))) as [TestSigner, TestSigner];
  verifier = await createInlineVerifier();
});
afterAll(async () => {
  await verifier?.close();
});

function probeRequest(port: number, uuid: string) {
  return encodeRequest({
    synapse: 'ProviderProbe',
    fields: { target_url: 'https://a.example' },
    timeoutSec: 1,
    nonce: timeNs(),
    dendrite: { hotkey: validator.address, uuid, ip: '127.0.0.1' },
    axon: { hotkey: miner.address, ip: '127.0.0.1', port },
    sign: (m) => validator.sign(m),
  });
}

test.each([
  ['ignores its signal', () => new Promise<never>(() => undefined)],
  [
    'waits for its signal, then never answers either',
    (signal: AbortSignal) => new Promise<never>((_, reject) => signal.addEventListener('abort', () => void setTimeout(reject, 60_000))),
  ],
] as const)('a handler that %s: 408 at the synapse timeout through forced GCs, the slot freed', async (_what, body) => {
  const { axon, port } = await startTestAxon({
    miner,
    handlers: { ProviderProbe: (_req, ctx) => body(ctx.signal) },
    neurons: [{ hotkey: validator.address, stakeTao: 1, permit: true }],
    limits: { handlerConcurrency: 1 },
    verifier,
  });
  const stopGc = collectGarbageEvery(100);
  try {
    const req = probeRequest(port, 'deadline-1');
    const answer = await within(15_000, 'the axon', rawRequest(port, { path: req.path, headers: req.headers, body: req.body }));
    expect(answer.status).toBe(408);
    expect(answer.headers.bt_header_axon_status_code).toBe('408');
    expect(axon.stats().active).toBe(0);
    // The one handler slot is free again: the next request is admitted and cut at its own deadline too.
    const next = probeRequest(port, 'deadline-2');
    expect((await within(15_000, 'the second request', rawRequest(port, { path: next.path, headers: next.headers, body: next.body }))).status).toBe(408);
  } finally {
    stopGc();
    await axon.close();
  }
});
