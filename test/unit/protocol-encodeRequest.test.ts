/** encodeRequest: headers, body and signature as a Python dendrite builds them; bad input refused. */
import { describe, expect, test } from 'vitest';
import { BITTENSOR_WIRE_VERSION, EMPTY_BODY_HASH, ProtocolError, decodeRequest, defineSynapse } from '../../src/protocol/index.js';
import { ALICE, BOB, fakeSign, request, signed } from '../support/protocol.js';

describe('encodeRequest', () => {
  test('headers like a Python dendrite, numbers as Python prints them, signature over the message', () => {
    signed.length = 0;
    const r = request('ProviderProbe', { target_url: 'https://p.example/x' }, { timeoutSec: 12 });
    expect(r.path).toBe('/ProviderProbe');
    expect(Object.keys(r.headers)).toEqual([
      'name',
      'timeout',
      'bt_header_axon_ip',
      'bt_header_axon_port',
      'bt_header_axon_hotkey',
      'bt_header_dendrite_ip',
      'bt_header_dendrite_version',
      'bt_header_dendrite_nonce',
      'bt_header_dendrite_uuid',
      'bt_header_dendrite_hotkey',
      'bt_header_dendrite_signature',
      'header_size',
      'total_size',
      'computed_body_hash',
      'content-type',
    ]);
    expect(r.headers.timeout).toBe('12.0');
    expect(r.headers.bt_header_dendrite_version).toBe(String(BITTENSOR_WIRE_VERSION));
    expect(BITTENSOR_WIRE_VERSION).toBeGreaterThanOrEqual(7_002_000);
    expect(r.headers.bt_header_dendrite_nonce).toBe('1795318990457350190');
    expect(r.signingMessage).toBe(`1795318990457350190.${ALICE}.${BOB}.d6c1e2f0-0000-11f1-9570-02fc00000001.${EMPTY_BODY_HASH}`);
    expect(signed).toEqual([r.signingMessage]);
    expect(r.headers.bt_header_dendrite_signature).toBe(`0x${Buffer.from(fakeSign(new TextEncoder().encode(r.signingMessage))).toString('hex')}`);
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
