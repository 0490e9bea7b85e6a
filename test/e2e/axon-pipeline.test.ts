/**
 * The axon's request pipeline over real HTTP on 127.0.0.1: our dendrite and hand-made requests
 * against the real server with the verify worker pool. Every refusal must carry the status and
 * the message a Python axon (bittensor 10.x) gives, in Python's order of checks.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createVerifyPool, type SignatureVerifier } from '../../src/axon/verifyPool.js';
import { createDendrite } from '../../src/dendrite/dendrite.js';
import { createMinerMetrics } from '../../src/observability/metrics.js';
import { encodeRequest, signingMessage, type EncodedRequest } from '../../src/protocol/index.js';
import { timeNs } from '../../src/util/timeNs.js';
import { loadPolygonAccount, verifyWalletProof } from '../../src/wallet/polygon.js';
import { rawRequest, signerFromSeed, startTestAxon, startTestMiner, type TestSigner } from '../support/axon.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';

const POLYGON_KEY = '0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318';

let verifier: SignatureVerifier;
let miner: TestSigner;
let validator: TestSigner;
let noPermit: TestSigner;
let stranger: TestSigner;
let axonPort: number;
let closeAxon: () => Promise<void>;
let provider: LocalServer;
const metrics = createMinerMetrics();

beforeAll(async () => {
  [miner, validator, noPermit, stranger] = (await Promise.all([1, 2, 3, 4].map(signerFromSeed))) as [TestSigner, TestSigner, TestSigner, TestSigner];
  verifier = await createVerifyPool({ threads: 2 });
  provider = await startLocalServer((_req, res) => {
    res.writeHead(402, { 'content-type': 'application/json' });
    res.end('{"error":"payment required"}');
  });
  const started = await startTestMiner({
    miner,
    polygonKey: POLYGON_KEY,
    apiUrl: 'https://provider.example/v1',
    probe: { allow: ['127.0.0.1'] },
    neurons: [
      { hotkey: miner.address, stakeTao: 0, permit: false },
      { hotkey: validator.address, stakeTao: 1000, permit: true },
      { hotkey: noPermit.address, stakeTao: 10, permit: false },
    ],
    verifier,
    metrics,
  });
  axonPort = started.port;
  closeAxon = () => started.axon.close();
});

afterAll(async () => {
  await closeAxon?.();
  await verifier?.close();
  await provider?.close();
});

const endpoint = () => ({ uid: 0, hotkey: miner.address, ip: '127.0.0.1', port: axonPort });

/** A request as a Python dendrite builds it, signed by `signer` unless told otherwise. */
function request(
  o: {
    signer?: TestSigner;
    as?: string;
    nonce?: bigint;
    uuid?: string;
    synapse?: 'ProviderCheck' | 'ProviderProbe';
    fields?: Record<string, unknown>;
    timeoutSec?: number;
    axonHotkey?: string;
    version?: number;
  } = {},
): EncodedRequest {
  const signer = o.signer ?? validator;
  return encodeRequest({
    synapse: o.synapse ?? 'ProviderCheck',
    fields: (o.fields ?? {}) as never,
    timeoutSec: o.timeoutSec ?? 12,
    nonce: o.nonce ?? timeNs(),
    dendrite: { hotkey: o.as ?? signer.address, uuid: o.uuid ?? `uuid-${Math.random()}`, ip: '127.0.0.1', version: o.version },
    axon: { hotkey: o.axonHotkey ?? miner.address, ip: '127.0.0.1', port: axonPort },
    sign: (m) => signer.sign(m),
  });
}

function send(req: EncodedRequest, tweak: { dropHeaders?: string[]; headers?: Record<string, string>; method?: string; path?: string } = {}) {
  const headers = { ...req.headers, ...(tweak.headers ?? {}) };
  for (const h of tweak.dropHeaders ?? []) delete headers[h];
  return rawRequest(axonPort, { method: tweak.method, path: tweak.path ?? req.path, headers, body: req.body });
}

describe('answers a dendrite like a Python axon', () => {
  test('ProviderCheck: the Polygon wallet, an EIP-191 proof over the hotkey that recovers to it, the API URL', async () => {
    const d = createDendrite({ signer: validator });
    try {
      const r = await d.call(endpoint(), 'ProviderCheck', {}, { timeoutSec: 10 });
      if (!r.ok) throw new Error(`${r.statusCode} ${r.message}`);
      const account = loadPolygonAccount({ privateKey: POLYGON_KEY });
      expect(r.fields.polygon_wallet).toBe(account.address);
      expect(r.fields.api_url).toBe('https://provider.example/v1');
      expect(await verifyWalletProof({ hotkey: miner.address, polygonWallet: r.fields.polygon_wallet!, proof: r.fields.wallet_proof! })).toBe(true);
      // The proof is over the MINER's hotkey: it does not verify for another one.
      expect(await verifyWalletProof({ hotkey: validator.address, polygonWallet: r.fields.polygon_wallet!, proof: r.fields.wallet_proof! })).toBe(false);
    } finally {
      d.close();
    }
  });

  test('ProviderProbe: probes the target (402 is an answer) and fills integers and a bool', async () => {
    const d = createDendrite({ signer: validator });
    try {
      const r = await d.call(endpoint(), 'ProviderProbe', { target_url: `${provider.origin}/v1/models` }, { timeoutSec: 10 });
      if (!r.ok) throw new Error(`${r.statusCode} ${r.message}`);
      expect(r.fields).toMatchObject({ probe_reachable: true, probe_status: 402 });
      expect(Number.isInteger(r.fields.probe_latency_ms)).toBe(true);
      expect(provider.hits.some((h) => h.url === '/v1/models' && h.method === 'GET')).toBe(true);
    } finally {
      d.close();
    }
  });

  test('the 200 body echoes the synapse with axon status 200 / Success and numeric headers', async () => {
    const req = request({ synapse: 'ProviderProbe', fields: { target_url: '' } });
    const a = await send(req);
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toMatch(/^application\/json/);
    expect(a.headers.bt_header_axon_status_code).toBe('200');
    expect(a.headers.bt_header_axon_status_message).toBe('Success');
    expect(Number.isFinite(Number(a.headers.bt_header_axon_process_time))).toBe(true);
    for (const h of ['timeout', 'header_size', 'total_size', 'bt_header_dendrite_nonce', 'bt_header_axon_port'])
      expect(Number.isFinite(Number(a.headers[h])), h).toBe(true);
    // An empty target is an exception in the Python miner: unreachable, 0, 0.
    expect(a.json).toMatchObject({
      name: 'ProviderProbe',
      target_url: '',
      probe_reachable: false,
      probe_status: 0,
      probe_latency_ms: 0,
      axon: { status_code: 200, status_message: 'Success' },
    });
    expect((a.json!.dendrite as Record<string, unknown>).hotkey).toBe(validator.address);
  });

  test('GET is served like POST (Python attaches both methods)', async () => {
    const a = await send(request(), { method: 'GET' });
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ name: 'ProviderCheck', api_url: 'https://provider.example/v1' });
  });
});

describe('refusals carry Python’s status codes and messages', () => {
  test('unsigned: 401 Missing Signature, whatever the dendrite version claims', async () => {
    for (const version of [10_005_000, 6_000_000]) {
      const a = await send(request({ version }), { dropHeaders: ['bt_header_dendrite_signature'] });
      expect(a.status).toBe(401);
      expect(a.json).toEqual({ message: 'Not Verified with error: Missing Signature' });
      expect(a.headers.bt_header_axon_status_code).toBe('401');
    }
  });

  test('an empty signature header is a missing signature too (the hole of old SDKs)', async () => {
    const a = await send(request(), { headers: { bt_header_dendrite_signature: '' } });
    expect(a.status).toBe(401);
    expect(a.json).toEqual({ message: 'Not Verified with error: Missing Signature' });
  });

  test('signed by another key than the hotkey it claims: 401 Signature mismatch with the message and signature', async () => {
    const req = request({ signer: stranger, as: validator.address });
    const a = await send(req);
    expect(a.status).toBe(401);
    expect(a.json).toEqual({
      message: `Not Verified with error: Signature mismatch with ${req.signingMessage} and ${req.headers.bt_header_dendrite_signature}`,
    });
  });

  test('signed for another axon: the axon verifies with its own hotkey and refuses', async () => {
    const req = request({ axonHotkey: stranger.address });
    const a = await send(req);
    expect(a.status).toBe(401);
    const ownMessage = req.signingMessage.replace(`.${stranger.address}.`, `.${miner.address}.`);
    expect(a.json!.message).toBe(`Not Verified with error: Signature mismatch with ${ownMessage} and ${req.headers.bt_header_dendrite_signature}`);
  });

  test('a signature that is not 0x + 128 hex digits: 401 with the words of Python’s Keypair.verify', async () => {
    const cases: Array<[string, string]> = [
      ['0xnothex', "Invalid hex string: InvalidHexCharacter { c: 'n', index: 0 }"],
      ['0xabc', 'Invalid hex string: OddLength'],
      [`0x${'ab'.repeat(63)}`, 'Invalid SR25519 signature.'],
      [`0x${'a'.repeat(298)}`, 'Invalid SR25519 signature.'],
    ];
    for (const [signature, error] of cases) {
      const a = await send(request(), { headers: { bt_header_dendrite_signature: signature } });
      expect(a.status, signature).toBe(401);
      expect(a.json!.message).toBe(`Not Verified with error: ${error}`);
    }
    // A valid signature without its 0x: Python refuses it, so do we.
    const req = request();
    const bare = await send(req, { headers: { bt_header_dendrite_signature: req.headers.bt_header_dendrite_signature!.slice(2) } });
    expect(bare.json).toEqual({ message: 'Not Verified with error: Invalid signature format. Expected hex string.' });
  });

  test('an empty signature in the headers and the body: 401 Missing Signature (the body is read after verification)', async () => {
    const req = request();
    const body = req.body.replace(/"signature": "0x[0-9a-f]+"/, '"signature": ""');
    const a = await rawRequest(axonPort, { path: req.path, headers: { ...req.headers, bt_header_dendrite_signature: '' }, body });
    expect(a.status).toBe(401);
    expect(a.json).toEqual({ message: 'Not Verified with error: Missing Signature' });
  });

  test('a hotkey or uuid over 64 characters and a nonce of 2^64 are judged by blacklist and verify, not refused unread', async () => {
    const longHotkey = await send(request(), { headers: { bt_header_dendrite_hotkey: 'x'.repeat(80) } });
    expect([longHotkey.status, longHotkey.json]).toEqual([403, { message: 'Forbidden. Key is blacklisted: Unrecognized hotkey.' }]);
    const longUuid = await send(request(), { headers: { bt_header_dendrite_uuid: 'u'.repeat(80) }, dropHeaders: ['bt_header_dendrite_signature'] });
    expect([longUuid.status, longUuid.json]).toEqual([401, { message: 'Not Verified with error: Missing Signature' }]);
    const big = await send(request(), { headers: { bt_header_dendrite_nonce: String(2n ** 64n) }, dropHeaders: ['bt_header_dendrite_signature'] });
    expect([big.status, big.json]).toEqual([401, { message: 'Not Verified with error: Missing Signature' }]);
    // Signed over them, they are served as Python serves them (a long uuid costs the nonce store no more memory).
    const uuid = `long-${'u'.repeat(200)}`;
    const req = request({ uuid: 'short' });
    const message = signingMessage({ nonce: 2n ** 64n, dendriteHotkey: validator.address, axonHotkey: miner.address, uuid, bodyHash: req.bodyHash });
    const signature = `0x${Buffer.from(validator.sign(new TextEncoder().encode(message))).toString('hex')}`;
    const ok = await send(req, {
      headers: { bt_header_dendrite_nonce: String(2n ** 64n), bt_header_dendrite_uuid: uuid, bt_header_dendrite_signature: signature },
    });
    expect(ok.status).toBe(200);
    const again = await send(req, {
      headers: { bt_header_dendrite_nonce: String(2n ** 64n), bt_header_dendrite_uuid: uuid, bt_header_dendrite_signature: signature },
    });
    expect(again.json).toEqual({ message: 'Not Verified with error: Nonce is too old, a newer one was last processed' });
  });

  test('without a timeout header the nonce window is 4 s, as Python’s (its synapse timeout is then None)', async () => {
    const a = await send(request({ nonce: timeNs() - 10_000_000_000n }), { dropHeaders: ['timeout'] });
    expect(a.status).toBe(401);
    expect(String(a.json!.message)).toMatch(
      /^Not Verified with error: Nonce is too old: acceptable delta is 4\.00 seconds but request was 10\.\d\d seconds old$/,
    );
  });

  test('replayed: the second use of a nonce is 401, as is any older nonce of the same dendrite', async () => {
    const uuid = 'replay-uuid';
    const nonce = timeNs();
    const req = request({ uuid, nonce });
    expect((await send(req)).status).toBe(200);
    const again = await send(req);
    expect(again.status).toBe(401);
    expect(again.json).toEqual({ message: 'Not Verified with error: Nonce is too old, a newer one was last processed' });
    const older = await send(request({ uuid, nonce: nonce - 1n }));
    expect(older.json).toEqual({ message: 'Not Verified with error: Nonce is too old, a newer one was last processed' });
    expect((await send(request({ uuid, nonce: nonce + 1n }))).status).toBe(200);
  });

  test('a first nonce older than 4 s + timeout: 401 with Python’s numbers', async () => {
    const a = await send(request({ nonce: timeNs() - 20_000_000_000n, timeoutSec: 12 }));
    expect(a.status).toBe(401);
    expect(String(a.json!.message)).toMatch(
      /^Not Verified with error: Nonce is too old: acceptable delta is 16\.00 seconds but request was 20\.\d\d seconds old$/,
    );
  });

  test('no nonce: 401 Missing Nonce', async () => {
    const a = await send(request(), { dropHeaders: ['bt_header_dendrite_nonce'] });
    expect(a.status).toBe(401);
    expect(a.json).toEqual({ message: 'Not Verified with error: Missing Nonce' });
  });

  test('unregistered caller: 403 Unrecognized hotkey (and blacklist comes before verify)', async () => {
    const a = await send(request({ signer: stranger }));
    expect(a.status).toBe(403);
    expect(a.json).toEqual({ message: 'Forbidden. Key is blacklisted: Unrecognized hotkey.' });
    const unsigned = await send(request({ signer: stranger }), { dropHeaders: ['bt_header_dendrite_signature'] });
    expect(unsigned.status).toBe(403);
  });

  test('registered without a validator permit: 403 Non-validator hotkey', async () => {
    const a = await send(request({ signer: noPermit }));
    expect(a.status).toBe(403);
    expect(a.json).toEqual({ message: 'Forbidden. Key is blacklisted: Non-validator hotkey.' });
  });

  test('no hotkey header: 403 Missing dendrite or hotkey', async () => {
    const a = await send(request(), { dropHeaders: ['bt_header_dendrite_hotkey'] });
    expect(a.status).toBe(403);
    expect(a.json).toEqual({ message: 'Forbidden. Key is blacklisted: Missing dendrite or hotkey.' });
  });

  test('signed header body hash that does not match the body: 500 after verification', async () => {
    const req = request();
    const fakeHash = 'ab'.repeat(32);
    const nonce = req.headers.bt_header_dendrite_nonce!;
    const message = signingMessage({
      nonce: BigInt(nonce),
      dendriteHotkey: validator.address,
      axonHotkey: miner.address,
      uuid: req.headers.bt_header_dendrite_uuid!,
      bodyHash: fakeHash,
    });
    const signature = `0x${Buffer.from(validator.sign(new TextEncoder().encode(message))).toString('hex')}`;
    const a = await send(req, { headers: { computed_body_hash: fakeHash, bt_header_dendrite_signature: signature } });
    expect(a.status).toBe(500);
    expect(a.json!.message).toBe(`Hash mismatch between header body hash ${fakeHash} and parsed body hash ${req.bodyHash}`);
  });

  test('other paths and methods of a served synapse: refused by blacklist and verify first, then 404 / 405 as Starlette', async () => {
    for (const method of ['HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      expect((await send(request(), { method })).status, method).toBe(405);
      expect((await send(request({ signer: stranger }), { method })).status, method).toBe(403);
    }
    const sub = await send(request(), { path: '/ProviderCheck/x' });
    expect([sub.status, sub.json]).toEqual([404, { message: 'Not Found' }]);
    expect((await send(request({ signer: stranger }), { path: '/ProviderCheck/x' })).status).toBe(403);
    // The path is percent-decoded before its first segment names the synapse, as uvicorn does.
    expect((await send(request(), { path: '/Provider%43heck' })).status).toBe(200);
    expect((await send(request(), { path: '/%2FProviderCheck' })).json).toEqual({
      message: "Synapse name '' not found. Available synapses ['ProviderCheck', 'ProviderProbe']",
    });
  });

  test('unknown synapse: 404 with Python’s list of synapses', async () => {
    const a = await send(request(), { path: '/Nope' });
    expect(a.status).toBe(404);
    expect(a.json).toEqual({ message: "Synapse name 'Nope' not found. Available synapses ['ProviderCheck', 'ProviderProbe']" });
    expect(a.headers.bt_header_axon_status_code).toBe('404');
  });
});

describe('malformed input: a 4xx with a message, the server keeps serving', () => {
  test('bodies, read after verification: not JSON 422 (as Python), not an object or wrong field types 400, not JSON by content-type 415', async () => {
    const cases: Array<{ body?: (body: string) => string; headers?: Record<string, string>; status: number; expect: RegExp }> = [
      { body: () => '{"name": ', status: 422, expect: /body is not JSON/ },
      { body: () => '[1,2]', status: 400, expect: /must be a JSON object/ },
      { body: (b) => b.replace('"target_url": "x"', '"target_url": 5'), status: 400, expect: /target_url must be a string/ },
      { body: (b) => b.replace('"target_url": "x"', '"target_url": null'), status: 400, expect: /target_url must not be null/ },
      { headers: { 'content-type': 'text/plain' }, status: 415, expect: /content-type must be application\/json/ },
      { body: () => '', status: 400, expect: /body is empty/ },
    ];
    for (const c of cases) {
      const req = request({ synapse: 'ProviderProbe', fields: { target_url: 'x' } }); // signed anew: each passes verification
      const a = await rawRequest(axonPort, {
        path: '/ProviderProbe',
        headers: { ...req.headers, ...(c.headers ?? {}) },
        body: c.body ? c.body(req.body) : req.body,
      });
      expect(a.status, c.expect.source).toBe(c.status);
      expect(String(a.json?.message), c.expect.source).toMatch(c.expect);
    }
  });

  test('headers Python cannot parse: 400 before anything else (Python answers 500)', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ bt_header_dendrite_nonce: 'abc' }, /invalid header bt_header_dendrite_nonce/],
      [{ timeout: 'soon' }, /invalid header timeout/],
      [{ total_size: 'x' }, /invalid header total_size/],
      [{ bt_header_input_obj_target_url: Buffer.from('5').toString('base64') }, /invalid header bt_header_input_obj_target_url/],
    ];
    for (const [headers, message] of cases) {
      const a = await send(request({ signer: stranger, synapse: 'ProviderProbe', fields: { target_url: 'x' } }), { headers });
      expect(a.status, message.source).toBe(400);
      expect(String(a.json?.message)).toMatch(message);
    }
  });

  test('a body over the limit: 413; a head over the limit: 431', async () => {
    const big = await rawRequest(axonPort, {
      path: '/ProviderCheck',
      headers: { 'content-type': 'application/json' },
      body: `{"pad":"${'x'.repeat(70_000)}"}`,
    });
    expect(big.status).toBe(413);
    expect(big.json).toEqual({ message: 'Request body larger than 65536 bytes' });
    const head = await rawRequest(axonPort, { path: '/ProviderCheck', headers: { 'x-pad': 'y'.repeat(20_000) }, body: '{}' });
    expect(head.status).toBe(431);
    expect((await send(request())).status).toBe(200);
  });

  test('metrics count answers by synapse and status', async () => {
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/hs58_axon_requests_total\{synapse="ProviderCheck",status="200"\} [1-9]/);
    expect(text).toMatch(/hs58_axon_requests_total\{synapse="ProviderCheck",status="401"\} [1-9]/);
    expect(text).toMatch(/hs58_axon_requests_total\{synapse="ProviderCheck",status="403"\} [1-9]/);
    expect(text).toMatch(/hs58_miner_probes_total|hs58_axon_request_seconds_bucket/);
  });

  test('each pipeline stage is timed, in order: a refused request reaches no later stage', async () => {
    const text = await metrics.registry.metrics();
    const counts = ['parse', 'blacklist', 'verify', 'body', 'admit', 'handle'].map((stage) => {
      const m = new RegExp(`^hs58_axon_stage_seconds_count\\{stage="${stage}"\\} (\\d+)$`, 'm').exec(text);
      expect(m, stage).not.toBeNull();
      return Number(m![1]);
    });
    expect(counts[5]).toBeGreaterThan(0);
    for (let k = 1; k < counts.length; k++) expect(counts[k], `stage ${k} after ${k - 1}`).toBeLessThanOrEqual(counts[k - 1]!);
    // 401 and 403 answers were sent above: those requests stopped before the handler.
    expect(counts[5]).toBeLessThan(counts[0]!);
  });
});

describe('priority under load', () => {
  test('waiting requests are served by stake; a full waiting room answers 503, a deadline 408', async () => {
    const callers = await Promise.all([11, 12, 13, 14, 15].map(signerFromSeed));
    const [first, low, high, lowest, late] = callers as [TestSigner, TestSigner, TestSigner, TestSigner, TestSigner];
    const started: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const { axon, port } = await startTestAxon({
      miner,
      handlers: {
        ProviderProbe: async (req) => {
          started.push(req.fields.target_url);
          await gate;
          return { probe_latency_ms: 1, probe_status: 200, probe_reachable: true };
        },
      },
      neurons: [
        { hotkey: first.address, stakeTao: 50, permit: true },
        { hotkey: low.address, stakeTao: 1, permit: true },
        { hotkey: high.address, stakeTao: 5, permit: true },
        { hotkey: lowest.address, stakeTao: 0.5, permit: true },
        { hotkey: late.address, stakeTao: 100, permit: true },
      ],
      limits: { handlerConcurrency: 1, maxQueue: 2 },
      verifier,
    });
    const probe = (signer: TestSigner, name: string, timeoutSec = 12) => {
      const req = encodeRequest({
        synapse: 'ProviderProbe',
        fields: { target_url: name },
        timeoutSec,
        nonce: timeNs(),
        dendrite: { hotkey: signer.address, uuid: name, ip: '127.0.0.1' },
        axon: { hotkey: miner.address, ip: '127.0.0.1', port },
        sign: (m) => signer.sign(m),
      });
      return rawRequest(port, { path: req.path, headers: req.headers, body: req.body });
    };
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    try {
      const a = probe(first, 'first');
      await until(() => started.length === 1);
      // Waiting past its own deadline: 408.
      const late408 = await probe(late, 'late', 1);
      expect(late408.status).toBe(408);
      expect(late408.json).toEqual({ message: 'Response timeout after: 1.0s' });
      const b = probe(low, 'low');
      await new Promise((r) => setTimeout(r, 100));
      const c = probe(high, 'high');
      await new Promise((r) => setTimeout(r, 100));
      // The waiting room (2) is full of higher stakes: the newcomer is turned away at once.
      const d = await probe(lowest, 'lowest');
      expect(d.status).toBe(503);
      expect(d.json).toEqual({ message: 'Service unavailable: axon overloaded' });
      open();
      const answers = await Promise.all([a, b, c]);
      expect(answers.map((x) => x.status)).toEqual([200, 200, 200]);
      expect(started).toEqual(['first', 'high', 'low']);
    } finally {
      open();
      await axon.close();
    }
  });
});

test('close() stops the server and answers in-flight requests first', async () => {
  let release!: () => void;
  const hold = new Promise<void>((r) => (release = r));
  const { axon, port } = await startTestAxon({
    miner,
    handlers: {
      ProviderProbe: async (_req, ctx) => {
        await Promise.race([hold, new Promise((r) => ctx.signal.addEventListener('abort', r, { once: true }))]);
        return { probe_latency_ms: 0, probe_status: 0, probe_reachable: false };
      },
    },
    neurons: [{ hotkey: validator.address, stakeTao: 1, permit: true }],
    verifier,
  });
  const req = encodeRequest({
    synapse: 'ProviderProbe',
    fields: { target_url: 'x' },
    timeoutSec: 12,
    nonce: timeNs(),
    dendrite: { hotkey: validator.address, uuid: 'close', ip: '127.0.0.1' },
    axon: { hotkey: miner.address, ip: '127.0.0.1', port },
    sign: (m) => validator.sign(m),
  });
  const inFlight = rawRequest(port, { path: req.path, headers: req.headers, body: req.body });
  await new Promise((r) => setTimeout(r, 200));
  const closing = axon.close();
  const answer = await inFlight;
  await closing;
  release();
  expect(answer.status).toBe(200);
  expect(answer.json).toMatchObject({ probe_reachable: false });
  await expect(rawRequest(port, { path: '/ProviderCheck', body: '{}' })).rejects.toThrow(/ECONNREFUSED/);
  expect(axon.address()).toBeNull();
});

test('a sender too slow to finish its request within the request timeout is cut off with 408', async () => {
  const { axon, port } = await startTestAxon({
    miner,
    handlers: { ProviderCheck: () => ({}) },
    neurons: [{ hotkey: validator.address, stakeTao: 1, permit: true }],
    limits: { requestTimeoutMs: 300 },
    verifier,
  });
  try {
    const started = Date.now();
    const answer = await new Promise<string>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
      socket.on('close', () => resolve(got));
      socket.on('error', () => resolve(got));
      // Headers trickle in and never end.
      socket.on('connect', () => socket.write('POST /ProviderCheck HTTP/1.1\r\nhost: x\r\n'));
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeLessThan(3_000);
  } finally {
    await axon.close();
  }
});

test('keep-alive connections are reused by a dendrite', async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const sockets = new Set<unknown>();
    for (let i = 0; i < 5; i++) {
      const req = request();
      const a = await new Promise<number>((resolve, reject) => {
        const r = http.request(
          {
            host: '127.0.0.1',
            port: axonPort,
            method: 'POST',
            path: req.path,
            agent,
            headers: { ...req.headers, 'content-length': String(Buffer.byteLength(req.body)) },
          },
          (res) => {
            sockets.add(res.socket);
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        r.on('error', reject);
        r.end(req.body);
      });
      expect(a).toBe(200);
    }
    expect(sockets.size).toBe(1);
  } finally {
    agent.destroy();
  }
});
