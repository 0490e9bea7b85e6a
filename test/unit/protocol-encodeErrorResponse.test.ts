/** encodeErrorResponse: Python's `create_error_response`, echoing only well-formed request headers. */
import { describe, expect, test } from 'vitest';
import { EMPTY_BODY_HASH, STATUS, decodeResponse, encodeErrorResponse, synapseNames, unknownSynapseMessage } from '../../src/protocol/index.js';
import { ALICE, BOB, fakeSign, request } from '../support/protocol.js';

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
    expect(res.headers.bt_header_axon_signature).toBe(`0x${Buffer.from(fakeSign(new TextEncoder().encode(`99.${ALICE}.${BOB}.axon-uuid`))).toString('hex')}`);
    for (const v of Object.values(res.headers)) expect(v).toMatch(/^[\t\x20-\x7e]*$/);
    expect(JSON.parse(res.body).message).toBe('bad\r\nX-Injected: 1 ü');
    expect(encodeErrorResponse(42, 'x').status).toBe(500);
  });
});
