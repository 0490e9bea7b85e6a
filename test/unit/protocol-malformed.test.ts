/**
 * Hostile input: every malformed request is a ProtocolError with the right status, every
 * unusable response a ProtocolError 422, and nothing else is ever thrown (table + seeded fuzz).
 */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  ProtocolError,
  ProviderProbe,
  decodeRequest,
  decodeRequestHead,
  decodeResponse,
  encodeErrorResponse,
  encodeRequest,
  encodeResponse,
  type Coercion,
  type HeaderInput,
  type SynapseFields,
} from '../../src/protocol/index.js';
import { testRng, testSeed } from '../support/python-oracle.js';

const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';
const sign = (m: Uint8Array) => new Uint8Array(createHash('sha512').update(m).digest());

const valid = encodeRequest({
  synapse: 'ProviderProbe',
  fields: { target_url: 'https://p.example/health' },
  timeoutSec: 30,
  nonce: 1_795_318_990_457_350_190n,
  dendrite: { hotkey: ALICE, uuid: 'uuid-1', ip: '203.0.113.7' },
  axon: { hotkey: BOB, ip: '198.51.100.2', port: 8091 },
  sign,
});
const validResponse = encodeResponse(decodeRequest('ProviderProbe', valid.headers, valid.body), { probe_latency_ms: 10, probe_status: 200, probe_reachable: true }, { processTimeSec: 0.01 });

/** The body with one key's JSON value replaced (text level, so any JSON can go in). */
function withField(key: string, json: string): string {
  const obj = JSON.parse(valid.body) as Record<string, unknown>;
  const marker = '"@@VALUE@@"';
  obj[key] = '@@VALUE@@';
  return JSON.stringify(obj).replace(marker, json);
}

function expectProtocolError(fn: () => unknown, status: number, code?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).status).toBe(status);
    if (code) expect((err as ProtocolError).code).toBe(code);
    return;
  }
  expect.unreachable('no ProtocolError thrown');
}

describe('decodeRequest refuses malformed bodies: 422 when not JSON (as FastAPI), else 400', () => {
  test.each([
    ['not JSON', 'not json', 'json-syntax'],
    ['empty', '', 'malformed-json'],
    ['an array', '[]', 'malformed-json'],
    ['a string', '"x"', 'malformed-json'],
    ['a number', '123', 'malformed-json'],
    ['null', 'null', 'malformed-json'],
    ['truncated', valid.body.slice(0, -10), 'json-syntax'],
    ['NaN literal (JSON to Python, not a finite timeout to us)', withField('timeout', 'NaN'), 'invalid-field'],
    ['deeply nested', withField('extra', '['.repeat(40) + ']'.repeat(40)), 'malformed-json'],
    ['latency as a string', withField('probe_latency_ms', '"12"'), 'invalid-field'],
    ['latency as a float', withField('probe_latency_ms', '1.5'), 'invalid-field'],
    ['latency as 12.0', withField('probe_latency_ms', '12.0'), 'invalid-field'],
    ['latency as a bool', withField('probe_latency_ms', 'true'), 'invalid-field'],
    ['latency negative', withField('probe_latency_ms', '-1'), 'invalid-field'],
    ['latency too big', withField('probe_latency_ms', '600001'), 'invalid-field'],
    ['latency huge', withField('probe_latency_ms', '1' + '0'.repeat(40)), 'invalid-field'],
    ['status 1000', withField('probe_status', '1000'), 'invalid-field'],
    ['reachable as 1', withField('probe_reachable', '1'), 'invalid-field'],
    ['reachable as "true"', withField('probe_reachable', '"true"'), 'invalid-field'],
    ['target_url a number', withField('target_url', '5'), 'invalid-field'],
    ['target_url null', withField('target_url', 'null'), 'invalid-field'],
    ['target_url too long', withField('target_url', JSON.stringify('h'.repeat(2049))), 'invalid-field'],
    ['target_url an object', withField('target_url', '{"__proto__": 1}'), 'invalid-field'],
    ['timeout a string', withField('timeout', '"12"'), 'invalid-field'],
    ['timeout negative', withField('timeout', '-1'), 'invalid-field'],
    ['total_size a float', withField('total_size', '1.5'), 'invalid-field'],
    ['dendrite a string', withField('dendrite', '"x"'), 'invalid-field'],
    ['axon an array', withField('axon', '[]'), 'invalid-field'],
    ['dendrite nonce a string', withField('dendrite', '{"nonce": "1"}'), 'invalid-field'],
    ['dendrite nonce negative', withField('dendrite', '{"nonce": -1}'), 'invalid-field'],
    ['dendrite nonce beyond u64', withField('dendrite', '{"nonce": 18446744073709551616}'), 'invalid-field'],
    ['axon port out of range', withField('axon', '{"port": 70000}'), 'invalid-field'],
    ['dendrite hotkey with a space', withField('dendrite', '{"hotkey": "a b"}'), 'invalid-field'],
    ['dendrite hotkey with CRLF', withField('dendrite', '{"hotkey": "a\\r\\nX: y"}'), 'invalid-field'],
    ['dendrite signature too long', withField('dendrite', JSON.stringify({ signature: 'a'.repeat(300) })), 'invalid-field'],
    ['axon process_time a string', withField('axon', '{"process_time": "0.1"}'), 'invalid-field'],
    ['computed_body_hash a number', withField('computed_body_hash', '5'), 'invalid-field'],
  ])('%s', (_name, body, code) => {
    expectProtocolError(() => decodeRequest('ProviderProbe', valid.headers, body), code === 'json-syntax' ? 422 : 400, code);
  });

  test('a body that is not application/json: 415 (Python answers 500)', () => {
    for (const type of [undefined, 'text/plain', 'application/x-www-form-urlencoded', 'json', 'application/json/x']) {
      const headers: Record<string, string> = { ...valid.headers };
      if (type === undefined) delete headers['content-type'];
      else headers['content-type'] = type;
      expectProtocolError(() => decodeRequest('ProviderProbe', headers, valid.body), 415, 'unsupported-media-type');
    }
    for (const type of ['application/json; charset=utf-8', 'APPLICATION/JSON', 'application/vnd.x+json']) {
      expect(decodeRequest('ProviderProbe', { ...valid.headers, 'content-type': type }, valid.body).fields.target_url).toBe('https://p.example/health');
    }
  });

  test('invalid UTF-8 and oversized bodies', () => {
    expectProtocolError(() => decodeRequest('ProviderProbe', valid.headers, Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])), 400, 'malformed-json');
    expectProtocolError(() => decodeRequest('ProviderProbe', valid.headers, withField('pad', JSON.stringify('x'.repeat(70_000)))), 400, 'body-too-large');
    expectProtocolError(() => decodeRequest('ProviderProbe', valid.headers, Buffer.alloc(70_000, 0x20)), 400, 'body-too-large');
    expect(decodeRequest('ProviderProbe', valid.headers, valid.body, { maxBodyBytes: valid.body.length }).fields.target_url).toBe('https://p.example/health');
    expectProtocolError(() => decodeRequest('ProviderProbe', valid.headers, valid.body, { maxBodyBytes: 100 }), 400, 'body-too-large');
  });

  test('an unknown synapse is 404', () => {
    expectProtocolError(() => decodeRequest('Nope' as 'ProviderProbe', valid.headers, valid.body), 404, 'unknown-synapse');
    expectProtocolError(() => decodeRequest('__proto__' as 'ProviderProbe', valid.headers, valid.body), 404, 'unknown-synapse');
  });

  test('prototype-pollution keys are plain data: ignored, nothing polluted', () => {
    const body = valid.body.replace(/^\{/, '{"__proto__": {"target_url": "https://evil/", "polluted": 1}, "constructor": {"prototype": {"polluted": 1}}, ');
    const d = decodeRequest('ProviderProbe', valid.headers, body);
    expect(d.fields.target_url).toBe('https://p.example/health');
    expect(Object.getPrototypeOf(d.fields)).toBe(Object.prototype);
    expect(Object.keys(d.fields)).toEqual(['target_url', 'probe_latency_ms', 'probe_status', 'probe_reachable']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    // A header named __proto__ is a header like any other.
    expect(decodeRequest('ProviderProbe', JSON.parse(`{"__proto__": "x", ${JSON.stringify(valid.headers).slice(1)}`) as HeaderInput, valid.body).nonce).toBe(1_795_318_990_457_350_190n);
  });

  test('unknown keys are ignored as pydantic does', () => {
    expect(decodeRequest('ProviderProbe', valid.headers, withField('future_field', '{"a": [1, 2]}')).fields.target_url).toBe('https://p.example/health');
  });
});

describe('decodeRequest reads headers as Python’s Synapse.from_headers: 400 where it cannot (Python: 500)', () => {
  test.each([
    ['bt_header_dendrite_nonce', 'abc'],
    ['bt_header_dendrite_nonce', '1.5'],
    ['bt_header_dendrite_nonce', ''],
    ['bt_header_dendrite_nonce', '9'.repeat(4301)],
    ['bt_header_dendrite_version', 'x'],
    ['bt_header_dendrite_port', '1e3'],
    ['bt_header_axon_port', 'x'],
    ['bt_header_axon_status_code', 'abc'],
    ['bt_header_axon_process_time', 'soon'],
    ['x_bt_header_dendrite_nonce', 'abc'],
    ['timeout', 'abc'],
    ['timeout', ''],
    ['timeout', 'None'],
    ['header_size', '1.5'],
    ['total_size', 'x'],
    ['bt_header_input_obj_target_url', Buffer.from('5').toString('base64')],
    ['bt_header_input_obj_target_url', Buffer.from('null').toString('base64')],
    ['bt_header_input_obj_probe_reachable', Buffer.from('"maybe"').toString('base64')],
  ])('%s: %j', (name, value) => {
    expectProtocolError(() => decodeRequest('ProviderProbe', { ...valid.headers, [name]: value }, valid.body), 400, 'invalid-header');
  });

  test('what Python’s int() and float() accept is accepted, at any size and sign', () => {
    const head = (h: Record<string, string>) => decodeRequestHead('ProviderProbe', { ...valid.headers, ...h });
    expect(head({ bt_header_dendrite_nonce: ' 12 ' }).nonce).toBe(12n);
    expect(head({ bt_header_dendrite_nonce: '+1_000' }).nonce).toBe(1000n);
    expect(head({ bt_header_dendrite_nonce: '-1' }).nonce).toBe(-1n);
    expect(head({ bt_header_dendrite_nonce: '18446744073709551616' }).nonce).toBe(2n ** 64n);
    expect(head({ bt_header_dendrite_version: '2147483648' }).version).toBe(2_147_483_648);
    expect(head({ timeout: 'nan' }).timeoutSec).toBeNaN();
    expect(head({ timeout: '-1' }).timeoutSec).toBe(-1);
    expect(head({ timeout: '1e9' }).timeoutSec).toBe(1e9);
    expect(head({ bt_header_axon_port: '65536' }).headerTerminals.axon.port).toBe(65_536);
  });

  test('text headers are taken as they are; an empty hotkey or signature is a missing one, an empty uuid is ""', () => {
    const head = (h: Record<string, string>) => decodeRequestHead('ProviderProbe', { ...valid.headers, ...h });
    expect(head({ bt_header_dendrite_hotkey: 'a b' }).dendriteHotkey).toBe('a b');
    expect(head({ bt_header_dendrite_hotkey: 'x'.repeat(65) }).dendriteHotkey).toBe('x'.repeat(65));
    expect(head({ bt_header_dendrite_hotkey: '' }).dendriteHotkey).toBeNull();
    expect(head({ bt_header_dendrite_signature: '' }).signature).toBeNull();
    expect(head({ bt_header_dendrite_signature: '0x' + 'a'.repeat(300) }).signature).toBe('0x' + 'a'.repeat(300));
    expect(head({ bt_header_dendrite_uuid: 'u\u00e9' }).uuid).toBe('u\u00e9');
    expect(head({ bt_header_dendrite_uuid: '' }).uuid).toBe('');
    expect(head({ computed_body_hash: '' }).headerBodyHash).toBe('');
    expect(head({ computed_body_hash: 'h'.repeat(129) }).headerBodyHash).toBe('h'.repeat(129));
  });

  test('input_obj headers Python cannot decode are skipped, as Python does', () => {
    for (const value of ['!!!', Buffer.from('{nope').toString('base64'), 'NQ', Buffer.from([0xff]).toString('base64'), 'IiI\u00e9=']) {
      expect(decodeRequest('ProviderProbe', { ...valid.headers, bt_header_input_obj_target_url: value }, valid.body).fields.target_url).toBe('https://p.example/health');
    }
    expect(decodeRequest('ProviderProbe', { ...valid.headers, bt_header_input_obj_nope: Buffer.from('[1]').toString('base64') }, valid.body).nonce).toBe(1_795_318_990_457_350_190n);
  });

  test('a header given twice', () => {
    expectProtocolError(() => decodeRequest('ProviderProbe', { ...valid.headers, Timeout: '12.0' }, valid.body), 400, 'invalid-header');
    expectProtocolError(() => decodeRequest('ProviderProbe', { ...valid.headers, bt_header_dendrite_nonce: ['1', '2'] }, valid.body), 400, 'invalid-header');
    expectProtocolError(() => decodeRequest('ProviderProbe', new Headers([...Object.entries(valid.headers), ['bt_header_dendrite_nonce', '2']]), valid.body), 400, 'invalid-header');
  });
});

// --- fuzz -------------------------------------------------------------------------------------

const SEED = testSeed(58_0058);
const TOKENS = ['{', '}', '[', ']', '"', ',', ':', 'null', 'true', '1e999', '-', '\\u0000', '\\', 'NaN', '"__proto__"', '1.5', '"x"', '99999999999999999999999', '\u0000', '\ud800', 'é', '😀'];

type Rng = ReturnType<typeof testRng>;

function randomJson(rng: Rng, depth = 0): string {
  switch (rng.int(0, depth > 3 ? 5 : 7)) {
    case 0: return 'null';
    case 1: return rng.pick(['true', 'false']);
    case 2: return String(rng.pick([0, 1, -1, 12, 402, 600_000, 600_001, 2 ** 53 + 1, -(2 ** 63)]));
    case 3: return rng.pick(['1.5', '12.0', '-0.0', '1e308', '1e-320', '3.14']);
    case 4: return JSON.stringify(rng.pick(['', 'x', '12', 'true', 'a'.repeat(rng.int(0, 3000)), '\u0000\n\r', 'ü😀', '\ud800']));
    case 5: return JSON.stringify('b'.repeat(rng.int(0, 50)));
    case 6: return `[${Array.from({ length: rng.int(0, 3) }, () => randomJson(rng, depth + 1)).join(',')}]`;
    default: return `{${Array.from({ length: rng.int(0, 3) }, () => `${JSON.stringify(rng.pick(['a', '__proto__', 'nonce', 'status_code', 'hotkey', 'constructor']))}:${randomJson(rng, depth + 1)}`).join(',')}}`;
  }
}

function mutateText(rng: Rng, text: string): string {
  let t = text;
  for (let n = rng.int(1, 3); n > 0; n--) {
    const at = rng.int(0, t.length);
    switch (rng.int(0, 4)) {
      case 0: t = t.slice(0, at) + String.fromCharCode(rng.int(0, 0xffff)) + t.slice(at + 1); break;
      case 1: t = t.slice(0, at) + t.slice(at + rng.int(1, 20)); break;
      case 2: t = t.slice(0, at) + rng.pick(TOKENS) + t.slice(at); break;
      case 3: t = t.slice(0, at); break;
      default: t = t.slice(0, at) + rng.pick(TOKENS) + t.slice(at + 1);
    }
  }
  return t;
}

const BODY_KEYS = ['target_url', 'probe_latency_ms', 'probe_status', 'probe_reachable', 'timeout', 'total_size', 'header_size', 'dendrite', 'axon', 'computed_body_hash', 'name', '__proto__'];

function mutateBody(rng: Rng, body: string): string | Uint8Array {
  switch (rng.int(0, 3)) {
    case 0: return mutateText(rng, body);
    case 1: {
      const bytes = Buffer.from(body);
      for (let n = rng.int(1, 4); n > 0; n--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
      return bytes;
    }
    default: {
      const obj = JSON.parse(body) as Record<string, unknown>;
      const key = rng.pick(BODY_KEYS);
      obj[key] = '@@V@@';
      return JSON.stringify(obj).replace('"@@V@@"', randomJson(rng));
    }
  }
}

const HEADER_NAMES = Object.keys(valid.headers);
function mutateHeaders(rng: Rng, headers: Record<string, string>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = { ...headers };
  for (let n = rng.int(0, 3); n > 0; n--) {
    const name = rng.pick(HEADER_NAMES);
    switch (rng.int(0, 3)) {
      case 0: delete out[name]; break;
      case 1: out[name] = mutateText(rng, String(out[name] ?? '')); break;
      case 2: out[name] = [String(out[name] ?? ''), '1']; break;
      default: out[name] = rng.pick(['', '0', '-1', 'None', 'nan', '1e400', ' 1 ', 'x'.repeat(rng.int(0, 500)), '18446744073709551616', '\u00ff']);
    }
  }
  return out;
}

function checkFields(fields: SynapseFields<typeof ProviderProbe>): void {
  expect(typeof fields.target_url).toBe('string');
  expect(fields.target_url.length).toBeLessThanOrEqual(2048);
  for (const [k, max] of [['probe_latency_ms', 600_000], ['probe_status', 999]] as const) {
    const v = fields[k];
    if (v !== null) {
      expect(Number.isSafeInteger(v)).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
      expect(v).toBeLessThanOrEqual(max);
    }
  }
  expect([true, false, null]).toContain(fields.probe_reachable);
}

describe('fuzz: only ProtocolError, and what decodes is valid', () => {
  test('requests: 4000 mutated bodies and headers', () => {
    const rng = testRng(SEED);
    const outcomes = { decoded: 0, refused: 0 };
    for (let i = 0; i < 4000; i++) {
      const body = i % 4 === 3 ? valid.body : mutateBody(rng, valid.body);
      const headers = i % 4 === 0 ? valid.headers : mutateHeaders(rng, valid.headers);
      let decoded;
      try {
        decoded = decodeRequest('ProviderProbe', headers, body);
      } catch (err) {
        if (!(err instanceof ProtocolError) || ![400, 404, 415, 422].includes(err.status)) throw new Error(`case ${i} (seed ${SEED}) threw ${String(err)}`);
        // A cause means an unexpected internal exception was caught by the safety net: a bug.
        if (err.cause !== undefined) throw new Error(`case ${i} (seed ${SEED}): internal error ${String(err.cause)}`);
        outcomes.refused++;
        // Whatever was refused, the error answer can be encoded from the raw headers.
        const res = encodeErrorResponse(err.status, err.shortMessage, { synapseName: 'ProviderProbe', requestHeaders: headers });
        for (const v of Object.values(res.headers)) expect(v).toMatch(/^[\t\x20-\x7e]*$/);
        continue;
      }
      outcomes.decoded++;
      checkFields(decoded.fields);
      // Whatever decoded can be answered, and the answer reads back.
      const res = encodeResponse(decoded, { probe_latency_ms: 1, probe_status: 200, probe_reachable: true }, { processTimeSec: 0.001 });
      for (const v of Object.values(res.headers)) expect(v).toMatch(/^[\t\x20-\x7e]*$/);
      expect(decodeResponse('ProviderProbe', res.status, res.headers, res.body).fields?.probe_status).toBe(200);
    }
    expect(outcomes.decoded).toBeGreaterThan(500);
    expect(outcomes.refused).toBeGreaterThan(1000);
  });

  test.each<Coercion>(['strict', 'python'])('responses (%s): 3000 mutated answers', (coercion) => {
    const rng = testRng(SEED + (coercion === 'strict' ? 1 : 2));
    let decoded = 0;
    for (let i = 0; i < 3000; i++) {
      const body = mutateBody(rng, validResponse.body);
      const headers = i % 3 === 0 ? validResponse.headers : mutateHeaders(rng, validResponse.headers);
      const status = rng.pick([200, 200, 200, 401, 403, 500]);
      try {
        const d = decodeResponse('ProviderProbe', status, headers, body, { coercion });
        decoded++;
        if (status === 200 && coercion === 'strict') checkFields(d.fields!);
        if (status !== 200) expect(d.fields).toBeNull();
      } catch (err) {
        if (!(err instanceof ProtocolError) || err.status !== 422) throw new Error(`case ${i} (seed ${SEED}) threw ${String(err)}`);
        if (err.cause !== undefined) throw new Error(`case ${i} (seed ${SEED}): internal error ${String(err.cause)}`);
      }
    }
    expect(decoded).toBeGreaterThan(300);
  });

  test('encodeErrorResponse never throws and keeps headers printable', () => {
    const rng = testRng(SEED + 3);
    for (let i = 0; i < 500; i++) {
      const message = mutateText(rng, 'Not Verified with error: \r\n"ü😀\ud800');
      const res = encodeErrorResponse(rng.pick([0, 400, 401, 1000, NaN]), message, { synapseName: rng.pick(['ProviderProbe', '__proto__', 'x']), requestHeaders: mutateHeaders(rng, valid.headers), processTimeSec: rng.pick([NaN, -1, 0.5]) });
      for (const v of Object.values(res.headers)) expect(v).toMatch(/^[\t\x20-\x7e]*$/);
      expect(typeof JSON.parse(res.body).message).toBe('string');
    }
  });
});
