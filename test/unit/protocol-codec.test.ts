import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  BITTENSOR_WIRE_VERSION,
  EMPTY_BODY_HASH,
  ProtocolError,
  ProviderCheck,
  ProviderProbe,
  STATUS,
  VERIFY_ERRORS,
  axonSigningMessage,
  blacklistedMessage,
  checkBodyHash,
  computeBodyHash,
  decodeRequest,
  decodeResponse,
  defaultFields,
  defineSynapse,
  encodeErrorResponse,
  encodeRequest,
  encodeResponse,
  getSynapse,
  isKnownSynapse,
  notVerifiedMessage,
  parseSignatureHex,
  priorityTimeoutMessage,
  requestSigningMessage,
  resolveSynapse,
  signingMessage,
  synapseNames,
  unknownSynapseMessage,
  readSignatureText,
  type EncodedRequest,
  type SynapseRef,
} from '../../src/protocol/index.js';
import { pyFormatFixed2 } from '../../src/protocol/python.js';
import { pyB64Decode } from '../../src/protocol/requestHeaders.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

/** A stand-in signer (the real sr25519 one is tested against Python in test/e2e): 64 bytes derived from the message. */
const signed: string[] = [];
function fakeSign(message: Uint8Array): Uint8Array {
  signed.push(new TextDecoder().decode(message));
  const h = createHash('sha512').update(message).digest();
  return new Uint8Array(h);
}

function request<R extends SynapseRef>(synapse: R, fields: object = {}, overrides: Partial<Parameters<typeof encodeRequest>[0]> = {}): EncodedRequest {
  return encodeRequest({
    synapse,
    fields: fields as never,
    timeoutSec: 30,
    nonce: 1_795_318_990_457_350_190n,
    dendrite: { hotkey: ALICE, uuid: 'd6c1e2f0-0000-11f1-9570-02fc00000001', ip: '203.0.113.7' },
    axon: { hotkey: BOB, ip: '198.51.100.2', port: 8091 },
    sign: fakeSign,
    ...overrides,
  } as Parameters<typeof encodeRequest>[0]);
}

describe('signing message and body hash', () => {
  test('signingMessage is {nonce}.{dendrite}.{axon}.{uuid}.{body_hash}, None for missing parts', () => {
    expect(signingMessage({ nonce: 17n, dendriteHotkey: ALICE, axonHotkey: BOB, uuid: 'u', bodyHash: EMPTY_BODY_HASH })).toBe(`17.${ALICE}.${BOB}.u.${EMPTY_BODY_HASH}`);
    expect(signingMessage({ nonce: null, dendriteHotkey: null, axonHotkey: BOB, uuid: null, bodyHash: null })).toBe(`None.None.${BOB}.None.None`);
    expect(axonSigningMessage({ nonce: 5n, dendriteHotkey: ALICE, axonHotkey: BOB, uuid: 'ax' })).toBe(`5.${ALICE}.${BOB}.ax`);
  });

  test('the body hash of a synapse without hash fields is sha3-256("") (spec value)', () => {
    expect(EMPTY_BODY_HASH).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
    expect(computeBodyHash('ProviderProbe', { target_url: 'https://anything/' })).toBe(EMPTY_BODY_HASH);
    expect(computeBodyHash('ProviderCheck', {})).toBe(EMPTY_BODY_HASH);
  });

  test('hash fields: sha3(concat(sha3(py_str(v)))) in the declared order', () => {
    const Hashed = defineSynapse({
      name: 'Hashed',
      description: '',
      fields: {
        a: { type: 'string', role: 'request', nullable: false, default: '', maxLength: 10, description: '' },
        b: { type: 'int', role: 'request', nullable: true, default: null, min: 0, max: 9, description: '' },
        c: { type: 'float', role: 'request', nullable: false, default: 0, min: 0, max: 9, description: '' },
        d: { type: 'bool', role: 'request', nullable: false, default: false, description: '' },
      },
      hashFields: ['d', 'a', 'b', 'c'],
    });
    const sha3 = (s: string) => createHash('sha3-256').update(s).digest('hex');
    expect(computeBodyHash(Hashed, { a: 'x', b: null, c: 2, d: true })).toBe(sha3(sha3('True') + sha3('x') + sha3('None') + sha3('2.0')));
    expect(computeBodyHash(Hashed, {})).toBe(sha3(sha3('False') + sha3('') + sha3('None') + sha3('0.0')));
  });

  test('parseSignatureHex', () => {
    expect(parseSignatureHex('0x' + 'ab'.repeat(64))).toHaveLength(64);
    expect(parseSignatureHex('ab'.repeat(64))).toHaveLength(64);
    expect(parseSignatureHex('0x' + 'ab'.repeat(63))).toBeNull();
    expect(parseSignatureHex('0x' + 'zz'.repeat(64))).toBeNull();
    expect(parseSignatureHex(null)).toBeNull();
  });
});

describe('registry', () => {
  test('known synapses; prototype names are not synapses', () => {
    expect(synapseNames()).toEqual(['ProviderCheck', 'ProviderProbe']);
    expect(isKnownSynapse('ProviderProbe')).toBe(true);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'providerprobe', '']) expect(isKnownSynapse(name)).toBe(false);
    expect(getSynapse('ProviderProbe')).toBe(ProviderProbe);
    expect(() => resolveSynapse('__proto__' as SynapseRef)).toThrow(ProtocolError);
    expect(defaultFields(ProviderProbe)).toEqual({ target_url: '', probe_latency_ms: null, probe_status: null, probe_reachable: null });
  });

  test('defineSynapse refuses bad declarations', () => {
    const field = { type: 'string', role: 'request', nullable: false, default: '', maxLength: 1, description: '' } as const;
    expect(() => defineSynapse({ name: 'X', description: '', fields: { timeout: field }, hashFields: [] })).toThrow(/not allowed/);
    expect(() => defineSynapse({ name: 'X', description: '', fields: { 'a-b': field }, hashFields: [] })).toThrow(/not allowed/);
    expect(() => defineSynapse({ name: 'X', description: '', fields: { a: field }, hashFields: ['b'] })).toThrow(/hash field/);
    expect(() => defineSynapse({ name: 'X y', description: '', fields: {}, hashFields: [] })).toThrow(/class name/);
    expect(() => defineSynapse({ name: 'X', description: '', fields: { a: { ...field, default: null } }, hashFields: [] })).toThrow(/null default/);
  });
});

describe('encodeRequest', () => {
  test('headers like a Python dendrite, numbers as Python prints them, signature over the message', () => {
    signed.length = 0;
    const r = request('ProviderProbe', { target_url: 'https://p.example/x' }, { timeoutSec: 12 });
    expect(r.path).toBe('/ProviderProbe');
    expect(Object.keys(r.headers)).toEqual([
      'name', 'timeout', 'bt_header_axon_ip', 'bt_header_axon_port', 'bt_header_axon_hotkey',
      'bt_header_dendrite_ip', 'bt_header_dendrite_version', 'bt_header_dendrite_nonce', 'bt_header_dendrite_uuid',
      'bt_header_dendrite_hotkey', 'bt_header_dendrite_signature', 'header_size', 'total_size', 'computed_body_hash', 'content-type',
    ]);
    expect(r.headers.timeout).toBe('12.0');
    expect(r.headers.bt_header_dendrite_version).toBe(String(BITTENSOR_WIRE_VERSION));
    expect(BITTENSOR_WIRE_VERSION).toBeGreaterThanOrEqual(7_002_000);
    expect(r.headers.bt_header_dendrite_nonce).toBe('1795318990457350190');
    expect(r.signingMessage).toBe(`1795318990457350190.${ALICE}.${BOB}.d6c1e2f0-0000-11f1-9570-02fc00000001.${EMPTY_BODY_HASH}`);
    expect(signed).toEqual([r.signingMessage]);
    expect(r.headers.bt_header_dendrite_signature).toBe('0x' + Buffer.from(fakeSign(new TextEncoder().encode(r.signingMessage))).toString('hex'));
    expect(r.body).toContain('"timeout": 12.0, ');
    expect(r.body).toContain('"nonce": 1795318990457350190');
    expect(r.body).toContain('"computed_body_hash": "", "target_url": "https://p.example/x", "probe_latency_ms": null');
    expect(Number(r.headers.total_size)).toBe(Buffer.byteLength(r.body));
  });

  test('a field without default gets a bt_header_input_obj_ header with the empty value of its type', () => {
    const Required = defineSynapse({
      name: 'Required',
      description: '',
      fields: {
        query: { type: 'string', role: 'request', nullable: false, maxLength: 10, description: '' },
        n: { type: 'int', role: 'request', nullable: false, min: 0, max: 10, description: '' },
        ok: { type: 'bool', role: 'request', nullable: true, description: '' },
      },
      hashFields: [],
    });
    const r = request(Required, { query: 'q', n: 3, ok: null });
    expect(r.headers.bt_header_input_obj_query).toBe('IiI=');
    expect(r.headers.bt_header_input_obj_n).toBe('MA==');
    expect(r.headers).not.toHaveProperty('bt_header_input_obj_ok'); // None values are skipped, as in Python
    expect(() => request(Required, { query: 'q' })).toThrow(/no default/);
    const decoded = decodeRequest(Required, r.headers, r.body);
    expect(decoded.fields).toEqual({ query: 'q', n: 3, ok: null });
    expect(() => decodeRequest(Required, r.headers, '{"query": "q"}')).toThrow(/missing field n/);
  });

  test.each([
    ['target_url too long', { fields: { target_url: 'x'.repeat(2049) } }],
    ['target_url not a string', { fields: { target_url: 5 } }],
    ['timeout 0', { timeoutSec: 0 }],
    ['timeout NaN', { timeoutSec: NaN }],
    ['negative nonce', { nonce: -1n }],
    ['nonce beyond u64', { nonce: 2n ** 64n }],
    ['hotkey with a newline', { dendrite: { hotkey: 'a\nb', uuid: 'u' } }],
    ['port out of range', { axon: { hotkey: BOB, ip: '1.2.3.4', port: 70_000 } }],
    ['short signature', { sign: () => new Uint8Array(32) }],
  ])('refuses %s with invalid-encode-input', (_name, override) => {
    const { fields, ...rest } = override as { fields?: object };
    try {
      request('ProviderProbe', fields ?? {}, rest as never);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ProtocolError);
      expect((err as ProtocolError).code).toBe('invalid-encode-input');
      expect((err as ProtocolError).status).toBe(500);
    }
  });
});

describe('round trips', () => {
  test('ProviderProbe: request → axon decode → response → dendrite decode', () => {
    const r = request('ProviderProbe', { target_url: 'https://ü.example/?q="1"&x=\\' });
    const decoded = decodeRequest('ProviderProbe', r.headers, Buffer.from(r.body));
    expect(decoded.fields).toEqual({ target_url: 'https://ü.example/?q="1"&x=\\', probe_latency_ms: null, probe_status: null, probe_reachable: null });
    expect(decoded.dendriteHotkey).toBe(ALICE);
    expect(decoded.axonHotkey).toBe(BOB);
    expect(decoded.nonce).toBe(1_795_318_990_457_350_190n);
    expect(decoded.envelope.dendrite?.nonce).toBe(1_795_318_990_457_350_190n);
    expect(decoded.timeoutSec).toBe(30);
    expect(decoded.version).toBe(BITTENSOR_WIRE_VERSION);
    expect(decoded.signature).toBe(r.headers.bt_header_dendrite_signature);
    expect(checkBodyHash(decoded)).toBeNull();
    expect(requestSigningMessage(decoded, BOB)).toBe(r.signingMessage);
    expect(requestSigningMessage(decoded, ALICE)).not.toBe(r.signingMessage); // verified with the axon's OWN hotkey

    const res = encodeResponse(decoded, { probe_latency_ms: 250, probe_status: 402, probe_reachable: true }, { processTimeSec: 0.25 });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers.bt_header_axon_status_code).toBe('200');
    expect(res.headers.bt_header_axon_status_message).toBe('Success');
    expect(res.headers.bt_header_axon_process_time).toBe('0.25');
    expect(res.headers.timeout).toBe('30.0');
    // every number-valued header parses as a number
    for (const name of ['timeout', 'header_size', 'total_size', 'bt_header_axon_status_code', 'bt_header_axon_process_time', 'bt_header_axon_port', 'bt_header_dendrite_version', 'bt_header_dendrite_nonce']) {
      expect(res.headers[name], name).toMatch(/^\d+(\.\d+)?(e[+-]\d+)?$/);
    }
    expect(res.body).toContain('"axon":{"status_code":200,"status_message":"Success","process_time":0.25,"ip":"198.51.100.2","port":8091');
    expect(res.body).toContain(`"dendrite":{"status_code":null,"status_message":null,"process_time":null,"ip":"203.0.113.7","port":null,"version":${BITTENSOR_WIRE_VERSION},"nonce":1795318990457350190`);

    const back = decodeResponse('ProviderProbe', res.status, res.headers, res.body);
    expect(back.fields).toEqual({ target_url: 'https://ü.example/?q="1"&x=\\', probe_latency_ms: 250, probe_status: 402, probe_reachable: true });
    expect([back.statusCode, back.statusMessage, back.processTimeSec]).toEqual([200, 'Success', 0.25]);
    expect(back.axon.hotkey).toBe(BOB);
  });

  test('ProviderCheck round trip, Headers object input, and a partially filled answer', () => {
    const r = request('ProviderCheck');
    const decoded = decodeRequest('ProviderCheck', new Headers(r.headers), r.body);
    expect(decoded.fields).toEqual({ polygon_wallet: null, wallet_proof: null, api_url: null });
    const res = encodeResponse(decoded, { polygon_wallet: '0x' + '1'.repeat(40) }, { processTimeSec: 1 });
    const back = decodeResponse(ProviderCheck, res.status, new Headers(res.headers), new TextEncoder().encode(res.body));
    expect(back.fields).toEqual({ polygon_wallet: '0x' + '1'.repeat(40), wallet_proof: null, api_url: null });
  });

  test('the response headers overlay the body as in Python: the header status wins', () => {
    const r = request('ProviderProbe');
    const res = encodeResponse(decodeRequest('ProviderProbe', r.headers, r.body), { probe_reachable: false }, { processTimeSec: 0 });
    const back = decodeResponse('ProviderProbe', 200, { ...res.headers, bt_header_axon_status_code: '503', bt_header_axon_status_message: 'later' }, res.body);
    expect([back.statusCode, back.statusMessage]).toEqual([503, 'later']);
    expect(back.fields?.probe_reachable).toBe(false); // a 200 body still counts, as for a Python dendrite
  });

  test('encodeResponse refuses handler values outside the declared limits', () => {
    const r = request('ProviderProbe');
    const decoded = decodeRequest('ProviderProbe', r.headers, r.body);
    for (const bad of [{ probe_latency_ms: 600_001 }, { probe_status: -1 }, { probe_status: 1.5 }, { probe_reachable: 'yes' }]) {
      expect(() => encodeResponse(decoded, bad as never, { processTimeSec: 0 })).toThrow(ProtocolError);
    }
    expect(() => encodeResponse(decoded, {}, { processTimeSec: -1 })).toThrow(ProtocolError);
  });
});

describe('axon-side checks', () => {
  test('missing auth headers are not parse errors: they come back null for blacklist/verify to refuse', () => {
    const r = request('ProviderProbe');
    const { bt_header_dendrite_signature: _s, bt_header_dendrite_nonce: _n, bt_header_dendrite_hotkey: _h, computed_body_hash: _c, ...rest } = r.headers;
    const decoded = decodeRequest('ProviderProbe', rest, r.body);
    expect([decoded.signature, decoded.nonce, decoded.dendriteHotkey, decoded.headerBodyHash]).toEqual([null, null, null, null]);
    expect(requestSigningMessage(decoded, BOB)).toBe(`None.None.${BOB}.${decoded.uuid}.None`);
    const mismatch = checkBodyHash(decoded);
    expect(mismatch?.status).toBe(500);
    expect(mismatch?.shortMessage).toBe(`Hash mismatch between header body hash  and parsed body hash ${EMPTY_BODY_HASH}`);
    expect(decodeRequest('ProviderProbe', { ...r.headers, bt_header_dendrite_signature: '' }, r.body).signature).toBeNull();
  });

  test('Python status messages', () => {
    expect(blacklistedMessage('Hotkey not registered')).toBe('Forbidden. Key is blacklisted: Hotkey not registered.');
    expect(notVerifiedMessage(VERIFY_ERRORS.missingSignature)).toBe('Not Verified with error: Missing Signature');
    expect(VERIFY_ERRORS.nonceTooOld(16, 60.123)).toBe('Nonce is too old: acceptable delta is 16.00 seconds but request was 60.12 seconds old');
    expect(priorityTimeoutMessage(12)).toBe('Response timeout after: 12.0s');
    expect(unknownSynapseMessage('Nope', ['Synapse', 'ProviderProbe'])).toBe("Synapse name 'Nope' not found. Available synapses ['Synapse', 'ProviderProbe']");
  });

  test('seconds print as CPython’s f"{x:.2f}" (values from CPython 3.11)', () => {
    const cases: Array<[number, string]> = [[0.125, '0.12'], [0.375, '0.38'], [-0.125, '-0.12'], [16.125, '16.12'], [60.123, '60.12'], [1e30, '1000000000000000019884624838656.00'], [-2.5e21, '-2500000000000000000000.00'], [Infinity, 'inf'], [-Infinity, '-inf'], [NaN, 'nan']];
    for (const [x, text] of cases) expect(pyFormatFixed2(x), String(x)).toBe(text);
  });

  test('signature text read as bittensor_wallet’s Keypair.verify reads it, with its words (from the real one)', () => {
    const sig = 'ab'.repeat(64);
    expect(readSignatureText(`0x${sig}`)).toEqual({ ok: true, bytes: new Uint8Array(64).fill(0xab) });
    expect(readSignatureText(`0x${sig.toUpperCase()}`).ok).toBe(true);
    const error = (text: string) => {
      const r = readSignatureText(text);
      return r.ok ? null : r.error;
    };
    expect(error(sig)).toBe('Invalid signature format. Expected hex string.');
    expect(error(`0X${sig}`)).toBe('Invalid signature format. Expected hex string.');
    expect(error('')).toBe('Invalid signature format. Expected hex string.');
    expect(error('0x')).toBe('Invalid SR25519 signature.');
    expect(error('0xabc')).toBe('Invalid hex string: OddLength');
    expect(error('0xnothex')).toBe("Invalid hex string: InvalidHexCharacter { c: 'n', index: 0 }");
    expect(error(`0x${sig.slice(0, -2)}zz`)).toBe("Invalid hex string: InvalidHexCharacter { c: 'z', index: 126 }");
    expect(error(`0x\u00e9${sig.slice(2)}`)).toBe("Invalid hex string: InvalidHexCharacter { c: 'Ã', index: 0 }");
    expect(error(`0x'${sig.slice(1)}`)).toBe("Invalid hex string: InvalidHexCharacter { c: '\\'', index: 0 }");
    expect(error(`0x\t${sig.slice(1)}`)).toBe("Invalid hex string: InvalidHexCharacter { c: '\\t', index: 0 }");
    expect(error(`0x${'ab'.repeat(63)}`)).toBe('Invalid SR25519 signature.');
    expect(error(`0x${'0'.repeat(5000)}`)).toBe('Invalid SR25519 signature.');
  });

  test('input_obj base64 read as CPython’s base64.b64decode (values from CPython 3.11)', () => {
    const text = (s: string) => {
      const b = pyB64Decode(s);
      return b === null ? null : Buffer.from(b).toString('latin1');
    };
    const cases: Array<[string, string | null]> = [['IiI=', '""'], ['IiI', null], ['I i I =', '""'], ['IiI=garbage', '""'], ['NQ==', '5'], ['NQ', null], ['N', null], ['====', ''], ['Ii=I', null], ['IiI\u00e9=', null]];
    for (const [input, output] of cases) expect(text(input), input).toBe(output);
  });
});

describe('encodeErrorResponse', () => {
  test('unknown synapse: a bare Synapse with numeric headers and {"message"} body', () => {
    const res = encodeErrorResponse(STATUS.NOT_FOUND, unknownSynapseMessage('X', synapseNames()));
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toEqual({ message: "Synapse name 'X' not found. Available synapses ['ProviderCheck', 'ProviderProbe']" });
    expect(res.headers).toMatchObject({ name: 'Synapse', timeout: '12.0', bt_header_axon_status_code: '404', computed_body_hash: EMPTY_BODY_HASH });
    const back = decodeResponse('ProviderProbe', res.status, res.headers, res.body);
    expect([back.statusCode, back.statusMessage, back.fields]).toEqual([404, JSON.parse(res.body).message, null]);
  });

  test('echoes the well-formed request headers only, and keeps header values printable', () => {
    const r = request('ProviderProbe');
    const hostile = { ...r.headers, bt_header_dendrite_nonce: 'abc', bt_header_dendrite_uuid: 'x\u00ff\u0100' };
    const res = encodeErrorResponse(400, 'bad\r\nX-Injected: 1 ü', {
      synapseName: 'ProviderProbe',
      requestHeaders: hostile,
      axon: { hotkey: BOB, uuid: 'axon-uuid', nonce: 99n, sign: fakeSign },
      client: { ip: '192.0.2.1', port: 40000 },
      processTimeSec: 0.5,
    });
    expect(res.headers).not.toHaveProperty('bt_header_dendrite_nonce');
    expect(res.headers).not.toHaveProperty('bt_header_dendrite_uuid');
    expect(res.headers.bt_header_dendrite_hotkey).toBe(ALICE);
    expect(res.headers.bt_header_dendrite_ip).toBe('192.0.2.1');
    expect(res.headers.bt_header_dendrite_port).toBe('40000');
    expect(res.headers.bt_header_axon_status_message).toBe('bad??X-Injected: 1 ?');
    expect(res.headers.bt_header_axon_signature).toBe('0x' + Buffer.from(fakeSign(new TextEncoder().encode(`99.${ALICE}.${BOB}.axon-uuid`))).toString('hex'));
    for (const v of Object.values(res.headers)) expect(v).toMatch(/^[\t\x20-\x7e]*$/);
    expect(JSON.parse(res.body).message).toBe('bad\r\nX-Injected: 1 ü');
    expect(encodeErrorResponse(42, 'x').status).toBe(500);
  });
});

describe('decodeResponse', () => {
  const okBody = (fields: string) => `{"name": "ProviderProbe", "axon": {"status_code": 200}, ${fields}}`;

  test('strict: exact types and limits, else unparseable-response (422)', () => {
    expect(decodeResponse('ProviderProbe', 200, {}, okBody('"probe_latency_ms": 12')).fields?.probe_latency_ms).toBe(12);
    for (const bad of ['"probe_latency_ms": "12"', '"probe_latency_ms": 12.0', '"probe_latency_ms": 1.5', '"probe_latency_ms": true', '"probe_latency_ms": 600001', '"probe_reachable": 1', '"probe_reachable": "true"', '"target_url": null', '"probe_status": -1']) {
      try {
        decodeResponse('ProviderProbe', 200, {}, okBody(bad));
        expect.unreachable(bad);
      } catch (err) {
        expect(err, bad).toBeInstanceOf(ProtocolError);
        expect((err as ProtocolError).code).toBe('unparseable-response');
        expect((err as ProtocolError).status).toBe(422);
      }
    }
  });

  test("python: pydantic's lax coercions", () => {
    const d = decodeResponse('ProviderProbe', 200, {}, okBody('"probe_latency_ms": "12", "probe_status": 402.0, "probe_reachable": "yes"'), { coercion: 'python' });
    expect(d.fields).toMatchObject({ probe_latency_ms: 12, probe_status: 402, probe_reachable: true });
    expect(() => decodeResponse('ProviderProbe', 200, {}, okBody('"probe_latency_ms": 1.5'), { coercion: 'python' })).toThrow(ProtocolError);
  });

  test('non-200: message from the body, fields null; the body must still be a JSON object', () => {
    const d = decodeResponse('ProviderProbe', 500, {}, '{"message": "Internal Server Error #abc"}');
    expect([d.statusCode, d.statusMessage, d.fields, d.envelope]).toEqual([500, 'Internal Server Error #abc', null, null]);
    expect(() => decodeResponse('ProviderProbe', 502, {}, '<html>Bad Gateway</html>')).toThrow(ProtocolError);
    expect(() => decodeResponse('ProviderProbe', 401, {}, '["x"]')).toThrow(ProtocolError);
    expect(() => decodeResponse('ProviderProbe', 401, {}, '{"message": 5}')).toThrow(ProtocolError);
  });

  test('bad number headers make the whole answer unparseable, as for a Python dendrite', () => {
    expect(() => decodeResponse('ProviderProbe', 200, { bt_header_axon_status_code: 'abc' }, okBody('"probe_status": 1'))).toThrow(ProtocolError);
    expect(() => decodeResponse('ProviderProbe', 200, { timeout: 'None' }, okBody('"probe_status": 1'))).toThrow(ProtocolError);
  });
});
