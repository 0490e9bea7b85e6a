/** decodeResponse: an answer as a Python dendrite reads it (header overlay, strict or pydantic coercion, 422). */
import { describe, expect, test } from 'vitest';
import { ProtocolError, decodeRequest, decodeResponse, encodeResponse } from '../../src/protocol/index.js';
import { request } from '../support/protocol.js';

describe('round trips', () => {
  test('the response headers overlay the body as in Python: the header status wins', () => {
    const r = request('ProviderProbe');
    const res = encodeResponse(decodeRequest('ProviderProbe', r.headers, r.body), { probe_reachable: false }, { processTimeSec: 0 });
    const back = decodeResponse('ProviderProbe', 200, { ...res.headers, bt_header_axon_status_code: '503', bt_header_axon_status_message: 'later' }, res.body);
    expect([back.statusCode, back.statusMessage]).toEqual([503, 'later']);
    expect(back.fields?.probe_reachable).toBe(false); // a 200 body still counts, as for a Python dendrite
  });
});

describe('decodeResponse', () => {
  const okBody = (fields: string) => `{"name": "ProviderProbe", "axon": {"status_code": 200}, ${fields}}`;

  test('strict: exact types and limits, else unparseable-response (422)', () => {
    expect(decodeResponse('ProviderProbe', 200, {}, okBody('"probe_latency_ms": 12')).fields?.probe_latency_ms).toBe(12);
    for (const bad of [
      '"probe_latency_ms": "12"',
      '"probe_latency_ms": 12.0',
      '"probe_latency_ms": 1.5',
      '"probe_latency_ms": true',
      '"probe_latency_ms": 600001',
      '"probe_reachable": 1',
      '"probe_reachable": "true"',
      '"target_url": null',
      '"probe_status": -1',
    ]) {
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
    const d = decodeResponse('ProviderProbe', 200, {}, okBody('"probe_latency_ms": "12", "probe_status": 402.0, "probe_reachable": "yes"'), {
      coercion: 'python',
    });
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
