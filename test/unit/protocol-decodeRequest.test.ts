/**
 * decodeRequest: headers as Python's `Synapse.from_headers` reads them, bodies in FastAPI's order,
 * every malformed request a ProtocolError with the right status.
 */
import { describe, expect, test } from 'vitest';
import { EMPTY_BODY_HASH, checkBodyHash, decodeRequest, decodeRequestHead, requestSigningMessage, type HeaderInput } from '../../src/protocol/index.js';
import { BOB, expectProtocolError, request, valid, withField } from '../support/protocol.js';

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
});

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
    ['latency huge', withField('probe_latency_ms', `1${'0'.repeat(40)}`), 'invalid-field'],
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
    expect(decodeRequest('ProviderProbe', JSON.parse(`{"__proto__": "x", ${JSON.stringify(valid.headers).slice(1)}`) as HeaderInput, valid.body).nonce).toBe(
      1_795_318_990_457_350_190n,
    );
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
    expect(head({ bt_header_dendrite_signature: `0x${'a'.repeat(300)}` }).signature).toBe(`0x${'a'.repeat(300)}`);
    expect(head({ bt_header_dendrite_uuid: 'u\u00e9' }).uuid).toBe('u\u00e9');
    expect(head({ bt_header_dendrite_uuid: '' }).uuid).toBe('');
    expect(head({ computed_body_hash: '' }).headerBodyHash).toBe('');
    expect(head({ computed_body_hash: 'h'.repeat(129) }).headerBodyHash).toBe('h'.repeat(129));
  });

  test('input_obj headers Python cannot decode are skipped, as Python does', () => {
    for (const value of ['!!!', Buffer.from('{nope').toString('base64'), 'NQ', Buffer.from([0xff]).toString('base64'), 'IiI\u00e9=']) {
      expect(decodeRequest('ProviderProbe', { ...valid.headers, bt_header_input_obj_target_url: value }, valid.body).fields.target_url).toBe(
        'https://p.example/health',
      );
    }
    expect(decodeRequest('ProviderProbe', { ...valid.headers, bt_header_input_obj_nope: Buffer.from('[1]').toString('base64') }, valid.body).nonce).toBe(
      1_795_318_990_457_350_190n,
    );
  });

  test('a header given twice', () => {
    expectProtocolError(() => decodeRequest('ProviderProbe', { ...valid.headers, Timeout: '12.0' }, valid.body), 400, 'invalid-header');
    expectProtocolError(() => decodeRequest('ProviderProbe', { ...valid.headers, bt_header_dendrite_nonce: ['1', '2'] }, valid.body), 400, 'invalid-header');
    expectProtocolError(
      () => decodeRequest('ProviderProbe', new Headers([...Object.entries(valid.headers), ['bt_header_dendrite_nonce', '2']]), valid.body),
      400,
      'invalid-header',
    );
  });
});

// --- fuzz -------------------------------------------------------------------------------------
