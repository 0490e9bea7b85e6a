/** encodeResponse: the success answer a Python axon gives, read back by decodeResponse. */
import { describe, expect, test } from 'vitest';
import {
  BITTENSOR_WIRE_VERSION,
  ProtocolError,
  ProviderCheck,
  checkBodyHash,
  decodeRequest,
  decodeResponse,
  encodeResponse,
  requestSigningMessage,
} from '../../src/protocol/index.js';
import { ALICE, BOB, request } from '../support/protocol.js';

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
    for (const name of [
      'timeout',
      'header_size',
      'total_size',
      'bt_header_axon_status_code',
      'bt_header_axon_process_time',
      'bt_header_axon_port',
      'bt_header_dendrite_version',
      'bt_header_dendrite_nonce',
    ]) {
      expect(res.headers[name], name).toMatch(/^\d+(\.\d+)?(e[+-]\d+)?$/);
    }
    expect(res.body).toContain('"axon":{"status_code":200,"status_message":"Success","process_time":0.25,"ip":"198.51.100.2","port":8091');
    expect(res.body).toContain(
      `"dendrite":{"status_code":null,"status_message":null,"process_time":null,"ip":"203.0.113.7","port":null,"version":${BITTENSOR_WIRE_VERSION},"nonce":1795318990457350190`,
    );

    const back = decodeResponse('ProviderProbe', res.status, res.headers, res.body);
    expect(back.fields).toEqual({ target_url: 'https://ü.example/?q="1"&x=\\', probe_latency_ms: 250, probe_status: 402, probe_reachable: true });
    expect([back.statusCode, back.statusMessage, back.processTimeSec]).toEqual([200, 'Success', 0.25]);
    expect(back.axon.hotkey).toBe(BOB);
  });

  test('ProviderCheck round trip, Headers object input, and a partially filled answer', () => {
    const r = request('ProviderCheck');
    const decoded = decodeRequest('ProviderCheck', new Headers(r.headers), r.body);
    expect(decoded.fields).toEqual({ polygon_wallet: null, wallet_proof: null, api_url: null });
    const res = encodeResponse(decoded, { polygon_wallet: `0x${'1'.repeat(40)}` }, { processTimeSec: 1 });
    const back = decodeResponse(ProviderCheck, res.status, new Headers(res.headers), new TextEncoder().encode(res.body));
    expect(back.fields).toEqual({ polygon_wallet: `0x${'1'.repeat(40)}`, wallet_proof: null, api_url: null });
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
