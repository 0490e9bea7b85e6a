/**
 * Wire compatibility of src/protocol with the REAL bittensor SDK (the interop venv), in one
 * Python process (test/interop/protocol_peer.py):
 *  (a) requests: our encodeRequest vs the SDK's own Dendrite.preprocess_synapse_for_request +
 *      to_headers() + json.dumps(model_dump()) for the same nonce/uuid/keys;
 *  (b) a Python Dendrite.call() against a small axon built on our decodeRequest/encodeResponse/
 *      encodeErrorResponse, and our encodeRequest/decodeResponse against a real Python Axon
 *      (its default_verify checks our sr25519 signatures and nonces);
 *  (c) signing message, body hash (incl. py_str of hash fields) and signatures checked by Python;
 *  plus pydantic lax-mode parity of decodeResponse({coercion: 'python'}).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  BITTENSOR_WIRE_VERSION,
  ProtocolError,
  type ProviderCheck,
  type ProviderProbe,
  VERIFY_ERRORS,
  blacklistedMessage,
  checkBodyHash,
  computeBodyHash,
  connectionRefusedMessage,
  decodeRequest,
  decodeResponse,
  defineSynapse,
  dendriteTimeoutMessage,
  encodeErrorResponse,
  encodeRequest,
  encodeResponse,
  isKnownSynapse,
  notVerifiedMessage,
  parseSignatureHex,
  pyFloatRepr,
  requestSigningMessage,
  synapseNames,
  unknownSynapseMessage,
  type DecodedRequest,
  type DecodedResponse,
  type EncodedRequest,
  type EncodedResponse,
  type SynapseRef,
} from '../../src/protocol/index.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';

let python: string | null = null;
let reason: string | null = null;
const SCRIPT = `${REPO_ROOT}/test/interop/protocol_peer.py`;
const MARK = '@@HS58 ';

interface PyValue {
  type: string;
  value: string | boolean | null;
}
interface Vector {
  headers: Record<string, string>;
  body: string;
  body_hash: string;
  message: string;
  signature_valid: boolean;
  version: number;
}
type LaxResult = ({ ok: true } & Record<string, PyValue>) | { ok: false; error: string };
interface CallResult {
  fields: Record<string, PyValue> | null;
  dendrite_status_code: PyValue;
  dendrite_status_message: string | null;
  axon_status_code: PyValue;
  axon_status_message: string | null;
  axon_process_time: PyValue;
  axon_hotkey: string | null;
  timeout: PyValue;
}
interface Results {
  version: number;
  vectors: Vector[];
  hashes: string[];
  verify: boolean[];
  lax: LaxResult[];
  lax_headers: LaxResult[];
  calls: CallResult[];
}

// --- inputs -------------------------------------------------------------------------------------

const HashedProbe = defineSynapse({
  name: 'HashedProbe',
  description: 'test synapse with required_hash_fields',
  fields: {
    text: { type: 'string', role: 'request', nullable: false, default: '', maxLength: 10_000, description: '' },
    count: { type: 'int', role: 'request', nullable: false, default: 0, min: -1e15, max: 1e15, description: '' },
    ratio: { type: 'float', role: 'request', nullable: false, default: 0, min: -1e300, max: 1e300, description: '' },
    flag: { type: 'bool', role: 'request', nullable: false, default: false, description: '' },
    maybe: { type: 'string', role: 'request', nullable: true, default: null, maxLength: 100, description: '' },
  },
  hashFields: ['text', 'count', 'ratio', 'flag', 'maybe'],
});

const LaxProbe = defineSynapse({
  name: 'LaxProbe',
  description: 'one field of each type',
  fields: {
    i: { type: 'int', role: 'response', nullable: true, default: null, min: 0, max: 10, description: '' },
    b: { type: 'bool', role: 'response', nullable: true, default: null, description: '' },
    s: { type: 'string', role: 'response', nullable: true, default: null, maxLength: 5, description: '' },
    f: { type: 'float', role: 'response', nullable: true, default: null, min: 0, max: 10, description: '' },
  },
  hashFields: [],
});

const HASH_VALUES = [
  { text: 'abc', count: 3, ratio: 0.5, flag: true, maybe: null },
  { text: '', count: 0, ratio: 0, flag: false, maybe: 'x' },
  { text: 'ü😀\n"\'\\', count: -12, ratio: 1e-7, flag: true, maybe: 'None' },
  { text: 'x'.repeat(300), count: 123456789012, ratio: 1e16, flag: false, maybe: '' },
  { text: 't', count: 1, ratio: 123456789.125, flag: true, maybe: null },
  { text: 't', count: 1, ratio: 0.1 + 0.2, flag: true, maybe: null },
];

interface VectorInput {
  synapse: 'ProviderProbe' | 'ProviderCheck';
  fields: Record<string, unknown>;
  timeout: number;
  nonce: string;
  uuid: string;
  dendrite_ip: string;
}
const VECTORS: VectorInput[] = [
  {
    synapse: 'ProviderProbe',
    fields: { target_url: 'https://example.com/health' },
    timeout: 30,
    nonce: '1700000000000000001',
    uuid: 'a6b1c2d4-0000-11f1-9570-02fc00000001',
    dendrite_ip: '1.2.3.4',
  },
  {
    synapse: 'ProviderProbe',
    fields: { target_url: 'https://ex.com/ü/😀?q="x"&b=\\\u0001\u007f\u2028' },
    timeout: 12.5,
    nonce: '1795318990457350190',
    uuid: 'u',
    dendrite_ip: '2001:db8::1',
  },
  { synapse: 'ProviderProbe', fields: {}, timeout: 0.1 + 0.2, nonce: '18446744073709551615', uuid: 'uuid-b', dendrite_ip: '10.0.0.1' },
  { synapse: 'ProviderProbe', fields: { target_url: 'h'.repeat(2048) }, timeout: 1e-5, nonce: '1', uuid: 'uuid-c', dendrite_ip: '10.0.0.1' },
  { synapse: 'ProviderCheck', fields: {}, timeout: 12, nonce: '1700000000000000002', uuid: 'uuid-d', dendrite_ip: '203.0.113.9' },
];

const LAX_VALUES = [
  '12',
  '12.0',
  '12.5',
  '-1',
  '0',
  '1',
  '2',
  '1.0',
  '0.0',
  '-0.0',
  '1e20',
  '1e18',
  '9.3e18',
  '1000000000000000000000000000000',
  '"12"',
  '" 12 "',
  '"12.0"',
  '"12.00"',
  '"12."',
  '"1_000"',
  '"1__0"',
  '"_1"',
  '"0x10"',
  '"+5"',
  '"-0"',
  '"1e3"',
  '"\\u00a05"',
  '"5\\u001c"',
  '"\\t5\\n"',
  '"\\u20005"',
  '"\\u00855"',
  '"\\u000b5"',
  '"5\\u3000"',
  '"\\ufeff5"',
  '"\\u0661\\u0662"',
  '"\\u0661.\\u0665"',
  '"\\uff11\\uff12"',
  '"\\ud835\\udfd7"',
  '"\\u00b2"',
  '"\\u2167"',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  '""',
  '"true"',
  '"True"',
  '"yes"',
  '"on"',
  '"off"',
  '"no"',
  '"f"',
  '"T"',
  '" true"',
  '"abc"',
  '"abcdefgh"',
  '"nan"',
  '"inf"',
  '"-Infinity"',
  'NaN',
  'Infinity',
  '-Infinity',
  '1.5e308',
  '"1_0.5"',
  '".5"',
  '"5."',
];
const LAX_TEMPLATES = [
  (v: string) => `{"i": ${v}}`,
  (v: string) => `{"b": ${v}}`,
  (v: string) => `{"s": ${v}}`,
  (v: string) => `{"f": ${v}}`,
  (v: string) => `{"timeout": ${v}}`,
  (v: string) => `{"total_size": ${v}}`,
  (v: string) => `{"axon": {"status_code": ${v}}}`,
  (v: string) => `{"axon": {"process_time": ${v}}}`,
  (v: string) => `{"axon": {"ip": ${v}}}`,
  (v: string) => `{"dendrite": {"nonce": ${v}}}`,
  (v: string) => `{"dendrite": ${v}}`,
];
const LAX_BODIES = LAX_TEMPLATES.flatMap((t) => LAX_VALUES.map(t));

const HEADER_TEXTS = [
  '200',
  ' 200 ',
  '200.0',
  '2_00',
  '+200',
  '-1',
  'abc',
  '',
  '1e3',
  'nan',
  'None',
  '0x1',
  '0.25',
  '6.318092346191406e-05',
  '1795318990457350190',
];
const HEADER_NAMES = ['bt_header_axon_status_code', 'bt_header_axon_process_time', 'timeout', 'total_size'];
const LAX_HEADERS = HEADER_NAMES.flatMap((name) => HEADER_TEXTS.map((text) => ({ [name]: text })));

// --- run everything once ------------------------------------------------------------------------

let alice: KeyringPair;
let bob: KeyringPair;
let charlie: KeyringPair;
let results: Results;
let served: string[] = [];
let axonLog: { synapse: string; target_url?: string; timeout?: string }[] = [];
const tsRequests: EncodedRequest[] = [];
const tsAxonSeen: { decoded: DecodedRequest; signatureValid: boolean; hashOk: boolean }[] = [];
let tsAxonPort = 0;
let closedPort = 0;
let server: http.Server | undefined;
let peer: ReturnType<typeof spawn> | undefined;
const toPython: Record<string, { status: number; decoded: DecodedResponse | ProtocolError; request: EncodedRequest; raw: { headers: Headers; body: string } }> =
  {};

const signer = (pair: KeyringPair) => (m: Uint8Array) => pair.sign(m);

function send(res: http.ServerResponse, r: EncodedResponse): void {
  res.writeHead(r.status, r.headers);
  res.end(r.body);
}

/** A minimal axon on our codec: decode → verify (sr25519, own hotkey) → behave by target URL → encode. */
function tsAxonHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const name = (req.url ?? '/').split('?')[0]!.split('/')[1] ?? '';
    if (!isKnownSynapse(name)) return send(res, encodeErrorResponse(404, unknownSynapseMessage(name, synapseNames())));
    let decoded: DecodedRequest;
    try {
      decoded = decodeRequest(name, req.headers, Buffer.concat(chunks));
    } catch (err) {
      const e = err as ProtocolError;
      return send(res, encodeErrorResponse(e.status, e.shortMessage, { synapseName: name, requestHeaders: req.headers }));
    }
    const sig = parseSignatureHex(decoded.signature);
    const signatureValid =
      sig !== null && decoded.dendriteHotkey !== null && signatureVerify(requestSigningMessage(decoded, bob.address), sig, decoded.dendriteHotkey).isValid;
    tsAxonSeen.push({ decoded, signatureValid, hashOk: checkBodyHash(decoded) === null });
    const errorOptions = {
      request: decoded,
      axon: { hotkey: bob.address, uuid: 'ts-axon-uuid', nonce: 1_795_000_000_000_000_000n, sign: signer(bob) },
      client: { ip: req.socket.remoteAddress ?? null, port: req.socket.remotePort ?? null },
      processTimeSec: 0.0012,
    };
    if (!signatureValid) return send(res, encodeErrorResponse(401, notVerifiedMessage('bad signature'), errorOptions));
    if (decoded.synapse.name === 'ProviderCheck') {
      return send(
        res,
        encodeResponse(
          decoded as DecodedRequest<typeof ProviderCheck>,
          { polygon_wallet: `0x${'ab'.repeat(20)}`, wallet_proof: `0x${'cd'.repeat(65)}`, api_url: 'https://api.example/ü' },
          { processTimeSec: 0.25 },
        ),
      );
    }
    const probe = decoded as DecodedRequest<typeof ProviderProbe>;
    const url = probe.fields.target_url;
    if (url.startsWith('https://ok.example/'))
      return send(res, encodeResponse(probe, { probe_latency_ms: 123, probe_status: 402, probe_reachable: true }, { processTimeSec: 6.318092346191406e-5 }));
    if (url === 'https://down.example/')
      return send(res, encodeResponse(probe, { probe_latency_ms: 0, probe_status: 0, probe_reachable: false }, { processTimeSec: 5 }));
    if (url === 'https://null.example/') return send(res, encodeResponse(probe, {}, { processTimeSec: 0 }));
    if (url === 'https://blacklist.example/') return send(res, encodeErrorResponse(403, blacklistedMessage('Hotkey not in metagraph'), errorOptions));
    if (url === 'https://slow.example/') {
      setTimeout(() => send(res, encodeResponse(probe, {}, { processTimeSec: 1.5 })), 1500).unref();
      return;
    }
    if (url === 'https://garbage.example/') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end('<html>not json</html>');
    }
    return send(res, encodeErrorResponse(500, 'unexpected target', errorOptions));
  });
}

const PY_CALLS = [
  { synapse: 'ProviderProbe', fields: { target_url: 'https://ok.example/ä?x="y"' }, timeout: 5 },
  { synapse: 'ProviderProbe', fields: { target_url: 'https://down.example/' }, timeout: 5 },
  { synapse: 'ProviderProbe', fields: { target_url: 'https://null.example/' }, timeout: 5 },
  { synapse: 'ProviderProbe', fields: { target_url: 'https://blacklist.example/' }, timeout: 5 },
  { synapse: 'ProviderProbe', fields: { target_url: 'https://slow.example/' }, timeout: 0.5 },
  { synapse: 'ProviderProbe', fields: { target_url: 'https://garbage.example/' }, timeout: 5 },
  { synapse: 'ProviderCheck', fields: {}, timeout: 12 },
  { synapse: 'Nope', fields: {}, timeout: 5 },
  { synapse: 'ProviderProbe', fields: { target_url: 'https://ok.example/closed' }, timeout: 5, closed: true },
] as const;

function tsVector(v: VectorInput): EncodedRequest {
  return encodeRequest({
    synapse: v.synapse,
    fields: v.fields as never,
    timeoutSec: v.timeout,
    nonce: BigInt(v.nonce),
    dendrite: { hotkey: alice.address, uuid: v.uuid, ip: v.dendrite_ip },
    axon: { hotkey: bob.address, ip: '5.6.7.8', port: 8091 },
    sign: signer(alice),
  });
}

let nonceCounter = 0n;
const freshNonce = (): bigint => BigInt(Date.now()) * 1_000_000n + nonceCounter++;

async function post(port: number, path: string, headers: Record<string, string>, body: string) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers, body });
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/** Our dendrite side against the real Python axon. */
async function queryPythonAxon(port: number, axonHotkey: string): Promise<void> {
  const target = { hotkey: axonHotkey, ip: '127.0.0.1', port };
  const me = { hotkey: alice.address, uuid: 'hs58-ts-dendrite', ip: '127.0.0.1' };
  const run = async (key: string, synapse: SynapseRef, request: EncodedRequest, path = request.path, headers = request.headers) => {
    const raw = await post(port, path, headers, request.body);
    let decoded: DecodedResponse | ProtocolError;
    try {
      decoded = decodeResponse(synapse, raw.status, raw.headers, raw.body);
    } catch (err) {
      decoded = err as ProtocolError;
    }
    toPython[key] = { status: raw.status, decoded, request, raw };
  };
  const probe = encodeRequest({
    synapse: 'ProviderProbe',
    fields: { target_url: 'https://probe.example/ü' },
    timeoutSec: 12,
    nonce: freshNonce(),
    dendrite: me,
    axon: target,
    sign: signer(alice),
  });
  await run('probe', 'ProviderProbe', probe);
  await run(
    'check',
    'ProviderCheck',
    encodeRequest({ synapse: 'ProviderCheck', fields: {}, timeoutSec: 12, nonce: freshNonce(), dendrite: me, axon: target, sign: signer(alice) }),
  );
  await run(
    'blacklisted',
    'ProviderCheck',
    encodeRequest({
      synapse: 'ProviderCheck',
      fields: {},
      timeoutSec: 12,
      nonce: freshNonce(),
      dendrite: { ...me, hotkey: charlie.address },
      axon: target,
      sign: signer(charlie),
    }),
  );
  await run('replay', 'ProviderProbe', probe);
  await run(
    'forged',
    'ProviderProbe',
    encodeRequest({
      synapse: 'ProviderProbe',
      fields: { target_url: 'https://x/' },
      timeoutSec: 12,
      nonce: freshNonce(),
      dendrite: me,
      axon: target,
      sign: signer(charlie),
    }),
  );
  const nope = encodeRequest({ synapse: 'ProviderProbe', fields: {}, timeoutSec: 12, nonce: freshNonce(), dendrite: me, axon: target, sign: signer(alice) });
  await run('unknown', 'ProviderProbe', nope, '/Nope');
  const old = encodeRequest({
    synapse: 'ProviderProbe',
    fields: {},
    timeoutSec: 12,
    nonce: freshNonce() - 60_000_000_000n,
    dendrite: { ...me, uuid: 'hs58-ts-old' },
    axon: target,
    sign: signer(alice),
  });
  await run('old', 'ProviderProbe', old);
  const unsigned = encodeRequest({
    synapse: 'ProviderProbe',
    fields: {},
    timeoutSec: 12,
    nonce: freshNonce(),
    dendrite: me,
    axon: target,
    sign: signer(alice),
  });
  const { bt_header_dendrite_signature: _dropped, ...noSignature } = unsigned.headers;
  await run('unsigned', 'ProviderProbe', unsigned, unsigned.path, noSignature);
}

beforeAll(async () => {
  // Fails in CI when the venv is missing; elsewhere every test skips with the reason.
  ({ python, reason } = requireInteropPython());
  if (reason || !python) return;
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  alice = keyring.addFromUri('//Alice');
  bob = keyring.addFromUri('//Bob');
  charlie = keyring.addFromUri('//Charlie');

  server = http.createServer(tsAxonHandler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  tsAxonPort = (server.address() as AddressInfo).port;
  const probeClosed = http.createServer();
  await new Promise<void>((resolve) => probeClosed.listen(0, '127.0.0.1', resolve));
  closedPort = (probeClosed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probeClosed.close(() => resolve()));

  for (const v of VECTORS) tsRequests.push(tsVector(v));
  const verifyCases = tsRequests.flatMap((r) => [
    { ss58: alice.address, message: r.signingMessage, signature: r.headers.bt_header_dendrite_signature },
    { ss58: alice.address, message: `${r.signingMessage}x`, signature: r.headers.bt_header_dendrite_signature },
  ]);
  const job = {
    vectors: VECTORS.map((v) => ({ ...v, dendrite_uri: '//Alice', axon_ip: '5.6.7.8', axon_port: 8091, axon_hotkey: bob.address })),
    hashes: HASH_VALUES,
    verify: verifyCases,
    lax: LAX_BODIES,
    lax_headers: LAX_HEADERS,
    calls: PY_CALLS.map(({ closed, ...c }: { closed?: boolean; synapse: string; fields: object; timeout: number }) =>
      closed ? { ...c, port: closedPort } : c,
    ),
    ts_axon_port: tsAxonPort,
    ts_axon_hotkey: bob.address,
  };

  // Messages come on their own pipe (fd 3): the SDK's threads write to stdout and could cut into a long line.
  const child = spawn(python, [SCRIPT], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONIOENCODING: 'utf-8', HS58_MSG_FD: '3' } });
  peer = child;
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-8000);
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdin!.write(`${JSON.stringify(job)}\n`);
  for await (const line of createInterface({ input: child.stdio[3] as NodeJS.ReadableStream })) {
    if (!line.startsWith(MARK)) continue;
    const msg = JSON.parse(line.slice(MARK.length)) as { event: string } & Record<string, unknown>;
    if (msg.event === 'results') results = msg as unknown as Results;
    if (msg.event === 'axon_ready') {
      served = msg.served as string[];
      try {
        await queryPythonAxon(msg.port as number, msg.hotkey as string);
      } finally {
        child.stdin!.write('finish\n');
      }
    }
    if (msg.event === 'axon_log') axonLog = msg.received as typeof axonLog;
  }
  const code = await exited;
  if (code !== 0 || !results) throw new Error(`protocol_peer.py exited with ${code}: ${stderr}`);
});

afterAll(async () => {
  if (peer && peer.exitCode === null) peer.kill(); // only if a failure left it waiting
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
});

// --- assertions ---------------------------------------------------------------------------------

const SIZE_HEADERS = new Set(['header_size', 'total_size', 'bt_header_dendrite_signature']);
const maskBody = (body: string) => body.replace(/"total_size": \d+/, '"total_size": N').replace(/"signature": "0x[0-9a-f]{128}"/, '"signature": "SIG"');

describe('wire compatibility with the bittensor SDK', () => {
  test('(a) encodeRequest sends what a Python dendrite sends', (ctx) => {
    if (reason) return ctx.skip(reason);
    expect(BITTENSOR_WIRE_VERSION, 'BITTENSOR_WIRE_VERSION must equal the interop SDK version').toBe(results.version);
    VECTORS.forEach((v, i) => {
      const py = results.vectors[i]!;
      const ts = tsRequests[i]!;
      const { 'content-type': contentType, ...tsHeaders } = ts.headers;
      expect(contentType).toBe('application/json');
      expect(Object.keys(tsHeaders), `header names and order, vector ${i}`).toEqual(Object.keys(py.headers));
      for (const [name, value] of Object.entries(py.headers)) {
        if (SIZE_HEADERS.has(name)) expect(tsHeaders[name], name).toMatch(name.endsWith('signature') ? /^0x[0-9a-f]{128}$/ : /^\d+$/);
        else expect(tsHeaders[name], `${name}, vector ${i}`).toBe(value);
      }
      expect(maskBody(ts.body), `body bytes, vector ${i}`).toBe(maskBody(py.body));
      // Python's body carries the same total_size as its header; so does ours, and ours is the body's byte length.
      const tsTotal = /"total_size": (\d+)/.exec(ts.body)![1];
      expect(tsHeaders.total_size).toBe(tsTotal);
      expect(Number(tsTotal)).toBe(Buffer.byteLength(ts.body, 'utf8'));
      expect(/"total_size": (\d+)/.exec(py.body)![1]).toBe(py.headers.total_size);
      // (c) the signed message and the body hash
      expect(ts.signingMessage).toBe(py.message);
      expect(ts.bodyHash).toBe(py.body_hash);
      expect(py.signature_valid).toBe(true);
    });
  });

  test('(c) Python verifies our sr25519 signatures over signingMessage, and refuses a changed message', (ctx) => {
    if (reason) return ctx.skip(reason);
    expect(results.verify).toEqual(tsRequests.flatMap(() => [true, false]));
  });

  test('(c) computeBodyHash equals Synapse.body_hash with required_hash_fields (py_str of str/int/float/bool/None)', (ctx) => {
    if (reason) return ctx.skip(reason);
    const ours = HASH_VALUES.map((v) => computeBodyHash(HashedProbe, v));
    expect(ours).toEqual(results.hashes);
    expect(new Set(ours).size).toBe(HASH_VALUES.length);
  });

  test('(b) a Python dendrite reads our axon answers with the right values and Python types', (ctx) => {
    if (reason) return ctx.skip(reason);
    const [ok, down, empty, blacklisted, slow, garbage, check, nope, closed] = results.calls as [CallResult, ...CallResult[]];
    const int = (n: number) => ({ type: 'int', value: String(n) });
    expect(ok!.fields).toEqual({
      target_url: { type: 'str', value: 'https://ok.example/ä?x="y"' },
      probe_latency_ms: int(123),
      probe_status: int(402),
      probe_reachable: { type: 'bool', value: true },
    });
    expect(ok!.dendrite_status_code).toEqual(int(200));
    expect(ok!.dendrite_status_message).toBe('Success');
    expect(ok!.axon_process_time).toEqual({ type: 'float', value: pyFloatRepr(6.318092346191406e-5) });
    expect(ok!.axon_hotkey).toBe(bob.address);
    expect(ok!.timeout).toEqual({ type: 'float', value: '5.0' });

    expect(down!.fields).toEqual({
      target_url: { type: 'str', value: 'https://down.example/' },
      probe_latency_ms: int(0),
      probe_status: int(0),
      probe_reachable: { type: 'bool', value: false },
    });
    const none = { type: 'NoneType', value: null };
    expect(empty!.fields).toEqual({
      target_url: { type: 'str', value: 'https://null.example/' },
      probe_latency_ms: none,
      probe_status: none,
      probe_reachable: none,
    });
    expect(empty!.dendrite_status_code).toEqual(int(200));

    expect(blacklisted!.dendrite_status_code).toEqual(int(403));
    expect(blacklisted!.dendrite_status_message).toBe(blacklistedMessage('Hotkey not in metagraph'));
    expect(blacklisted!.fields).toEqual({
      target_url: { type: 'str', value: 'https://blacklist.example/' },
      probe_latency_ms: none,
      probe_status: none,
      probe_reachable: none,
    });

    expect(slow!.dendrite_status_code).toEqual(int(408));
    expect(slow!.dendrite_status_message).toBe(dendriteTimeoutMessage(0.5));
    expect(garbage!.dendrite_status_code).toEqual(int(422));
    expect(garbage!.dendrite_status_message).toMatch(/^Failed to parse response: /);

    expect(check!.fields).toEqual({
      polygon_wallet: { type: 'str', value: `0x${'ab'.repeat(20)}` },
      wallet_proof: { type: 'str', value: `0x${'cd'.repeat(65)}` },
      api_url: { type: 'str', value: 'https://api.example/ü' },
    });
    expect(check!.dendrite_status_code).toEqual(int(200));
    expect(check!.timeout).toEqual({ type: 'float', value: '12.0' });

    expect(nope!.dendrite_status_code).toEqual(int(404));
    expect(nope!.dendrite_status_message).toBe(unknownSynapseMessage('Nope', synapseNames()));
    expect(closed!.dendrite_status_code).toEqual(int(503));
    expect(closed!.dendrite_status_message).toBe(connectionRefusedMessage('127.0.0.1', closedPort, 'ProviderProbe'));
  });

  test('(b) decodeRequest reads Python dendrite requests; their signatures verify against our signing message', (ctx) => {
    if (reason) return ctx.skip(reason);
    // Every call that reached the decoder (not the unknown synapse, not the closed port).
    expect(tsAxonSeen).toHaveLength(7);
    const timeouts = [5, 5, 5, 5, 0.5, 5, 12];
    tsAxonSeen.forEach((seen, i) => {
      expect(seen.signatureValid, `signature ${i}`).toBe(true);
      expect(seen.hashOk).toBe(true);
      const d = seen.decoded;
      expect(d.dendriteHotkey).toBe(alice.address);
      expect(d.axonHotkey).toBe(bob.address);
      expect(d.uuid).toBe('hs58-python-dendrite');
      expect(d.dendriteIp).toBe('10.9.8.7');
      expect(d.version).toBe(results.version);
      expect(d.timeoutSec).toBe(timeouts[i]);
      expect(d.envelope.timeout).toBe(timeouts[i]);
      expect(typeof d.nonce).toBe('bigint');
      expect(d.nonce! > 1_700_000_000_000_000_000n).toBe(true);
      // The body carries the same 19-digit nonce exactly (a double could not hold it).
      expect(d.envelope.dendrite?.nonce).toBe(d.nonce);
    });
    expect(tsAxonSeen[0]!.decoded.fields).toEqual({
      target_url: 'https://ok.example/ä?x="y"',
      probe_latency_ms: null,
      probe_status: null,
      probe_reachable: null,
    });
    const nonces = tsAxonSeen.map((s) => s.decoded.nonce!);
    expect([...nonces].sort((a, b) => (a < b ? -1 : 1))).toEqual(nonces);
  });

  test('(b) our encodeRequest passes a real Python axon (default_verify), decodeResponse reads its answers', (ctx) => {
    if (reason) return ctx.skip(reason);
    const ok = (key: string) => {
      const r = toPython[key]!;
      expect(r.decoded, `${key}: ${r.decoded instanceof Error ? r.decoded.message : ''}`).not.toBeInstanceOf(ProtocolError);
      return r.decoded as DecodedResponse;
    };
    const probe = ok('probe');
    expect(probe.httpStatus).toBe(200);
    expect(probe.statusCode).toBe(200);
    expect(probe.statusMessage).toBe('Success');
    expect(probe.fields).toEqual({ target_url: 'https://probe.example/ü', probe_latency_ms: 42, probe_status: 402, probe_reachable: true });
    expect(probe.processTimeSec).toBeGreaterThanOrEqual(0);
    expect(probe.axon.hotkey).toBe(bob.address);
    expect(probe.envelope?.dendrite?.nonce).toBe(BigInt(toPython.probe!.request.headers.bt_header_dendrite_nonce!));

    expect(ok('check').fields).toEqual({ polygon_wallet: `0x${'ab'.repeat(20)}`, wallet_proof: `0x${'cd'.repeat(65)}`, api_url: 'https://api.example/v1' });

    const blacklisted = ok('blacklisted');
    expect([blacklisted.httpStatus, blacklisted.statusCode, blacklisted.fields]).toEqual([403, 403, null]);
    expect(blacklisted.statusMessage).toBe(blacklistedMessage('Unrecognized hotkey'));

    const replay = ok('replay');
    expect([replay.statusCode, replay.statusMessage]).toEqual([401, notVerifiedMessage(VERIFY_ERRORS.nonceReplayed)]);

    const forged = ok('forged');
    const forgedReq = toPython.forged!.request;
    expect(forged.statusCode).toBe(401);
    expect(forged.statusMessage).toBe(
      notVerifiedMessage(VERIFY_ERRORS.signatureMismatch(forgedReq.signingMessage, forgedReq.headers.bt_header_dendrite_signature!)),
    );

    const unknown = ok('unknown');
    expect([unknown.statusCode, unknown.statusMessage]).toEqual([404, unknownSynapseMessage('Nope', served)]);

    const old = ok('old');
    expect(old.statusCode).toBe(401);
    const age = /request was ([\d.]+) seconds old$/.exec(old.statusMessage ?? '')?.[1];
    expect(age, old.statusMessage ?? '').toBeDefined();
    expect(old.statusMessage).toBe(notVerifiedMessage(VERIFY_ERRORS.nonceTooOld(16, Number(age))));

    const unsigned = ok('unsigned');
    expect([unsigned.statusCode, unsigned.statusMessage]).toEqual([401, notVerifiedMessage(VERIFY_ERRORS.missingSignature)]);

    // The Python handler received our fields exactly.
    expect(axonLog).toEqual([{ synapse: 'ProviderProbe', target_url: 'https://probe.example/ü', timeout: '12.0' }, { synapse: 'ProviderCheck' }]);
  });

  test("decodeResponse({coercion: 'python'}) accepts exactly what pydantic accepts, with the same values; strict only a subset", (ctx) => {
    if (reason) return ctx.skip(reason);
    const project = (d: DecodedResponse): Record<string, unknown> => {
      const f = d.fields as Record<string, unknown>;
      return {
        i: f.i,
        b: f.b,
        s: f.s,
        f: f.f,
        timeout: d.envelope!.timeout,
        total_size: d.envelope!.totalSize,
        axon_status_code: d.axon.statusCode,
        axon_process_time: d.axon.processTime,
        axon_ip: d.axon.ip,
        dendrite_nonce: d.envelope!.dendrite?.nonce ?? null,
      };
    };
    const same = (py: PyValue, ts: unknown): boolean => {
      if (py.type === 'NoneType') return ts === null;
      if (py.type === 'bool') return ts === py.value;
      if (py.type === 'str') return ts === py.value;
      if (py.type === 'float') return typeof ts === 'number' && pyFloatRepr(ts) === py.value;
      if (py.type === 'int')
        return (typeof ts === 'bigint' && ts === BigInt(py.value as string)) || (typeof ts === 'number' && ts === Number(BigInt(py.value as string)));
      return false;
    };
    const mismatches: string[] = [];
    LAX_BODIES.forEach((body, k) => {
      const py = results.lax[k]!;
      let lax: DecodedResponse | null = null;
      let strict: DecodedResponse | null = null;
      try {
        lax = decodeResponse(LaxProbe, 200, {}, body, { coercion: 'python' });
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
      try {
        strict = decodeResponse(LaxProbe, 200, {}, body);
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
      if (py.ok !== (lax !== null)) mismatches.push(`${body}: python ${py.ok ? 'accepts' : 'refuses'}, ours ${lax ? 'accepts' : 'refuses'}`);
      if (strict !== null && !py.ok) mismatches.push(`${body}: strict accepts what python refuses`);
      if (py.ok && lax) {
        const ours = project(lax);
        for (const [key, value] of Object.entries(py))
          if (key !== 'ok' && !same(value as PyValue, ours[key])) mismatches.push(`${body}: ${key} python ${JSON.stringify(value)} ours ${String(ours[key])}`);
        if (strict) {
          const s = project(strict);
          for (const key of Object.keys(s))
            if (s[key] !== ours[key] && !(Number.isNaN(s[key]) && Number.isNaN(ours[key]))) mismatches.push(`${body}: strict ${key} differs`);
        }
      }
    });
    LAX_HEADERS.forEach((headers, k) => {
      const py = results.lax_headers[k]!;
      let lax: DecodedResponse | null = null;
      try {
        lax = decodeResponse('ProviderProbe', 403, headers, '{"message": "x"}', { coercion: 'python' });
      } catch (err) {
        expect(err).toBeInstanceOf(ProtocolError);
      }
      if (py.ok !== (lax !== null)) mismatches.push(`${JSON.stringify(headers)}: python ${py.ok ? 'accepts' : 'refuses'}, ours ${lax ? 'accepts' : 'refuses'}`);
      if (py.ok && lax) {
        const sc = (py as Record<string, PyValue>).axon_status_code!;
        const pt = (py as Record<string, PyValue>).axon_process_time!;
        const ourCode = 'bt_header_axon_status_code' in headers ? lax.statusCode : null;
        if (!same(sc, ourCode)) mismatches.push(`${JSON.stringify(headers)}: status ${JSON.stringify(sc)} vs ${ourCode}`);
        if (!same(pt, lax.processTimeSec)) mismatches.push(`${JSON.stringify(headers)}: process_time ${JSON.stringify(pt)} vs ${lax.processTimeSec}`);
      }
    });
    expect(mismatches).toEqual([]);
    // The table must exercise both outcomes.
    expect(results.lax.filter((r) => r.ok).length).toBeGreaterThan(50);
    expect(results.lax.filter((r) => !r.ok).length).toBeGreaterThan(50);
  });
});
