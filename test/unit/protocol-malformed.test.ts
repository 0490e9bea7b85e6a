/**
 * Hostile input, fuzzed: every malformed request is a ProtocolError with the right status, every
 * unusable response a ProtocolError 422, and nothing else is ever thrown (seeded; the tables of
 * malformed requests are in protocol-decodeRequest.test.ts).
 */
import { describe, expect, test } from 'vitest';
import {
  ProtocolError,
  type ProviderProbe,
  decodeRequest,
  decodeResponse,
  encodeErrorResponse,
  encodeResponse,
  type Coercion,
  type DecodedRequest,
  type SynapseFields,
} from '../../src/protocol/index.js';
import { testRng, testSeed } from '../support/python-oracle.js';
import { valid } from '../support/protocol.js';

const validResponse = encodeResponse(
  decodeRequest('ProviderProbe', valid.headers, valid.body),
  { probe_latency_ms: 10, probe_status: 200, probe_reachable: true },
  { processTimeSec: 0.01 },
);

const SEED = testSeed(58_0058);
const TOKENS = [
  '{',
  '}',
  '[',
  ']',
  '"',
  ',',
  ':',
  'null',
  'true',
  '1e999',
  '-',
  '\\u0000',
  '\\',
  'NaN',
  '"__proto__"',
  '1.5',
  '"x"',
  '99999999999999999999999',
  '\u0000',
  '\ud800',
  'é',
  '😀',
];

type Rng = ReturnType<typeof testRng>;

function randomJson(rng: Rng, depth = 0): string {
  switch (rng.int(0, depth > 3 ? 5 : 7)) {
    case 0:
      return 'null';
    case 1:
      return rng.pick(['true', 'false']);
    case 2:
      return String(rng.pick([0, 1, -1, 12, 402, 600_000, 600_001, 2 ** 53 + 1, -(2 ** 63)]));
    case 3:
      return rng.pick(['1.5', '12.0', '-0.0', '1e308', '1e-320', '3.14']);
    case 4:
      return JSON.stringify(rng.pick(['', 'x', '12', 'true', 'a'.repeat(rng.int(0, 3000)), '\u0000\n\r', 'ü😀', '\ud800']));
    case 5:
      return JSON.stringify('b'.repeat(rng.int(0, 50)));
    case 6:
      return `[${Array.from({ length: rng.int(0, 3) }, () => randomJson(rng, depth + 1)).join(',')}]`;
    default:
      return `{${Array.from({ length: rng.int(0, 3) }, () => `${JSON.stringify(rng.pick(['a', '__proto__', 'nonce', 'status_code', 'hotkey', 'constructor']))}:${randomJson(rng, depth + 1)}`).join(',')}}`;
  }
}

function mutateText(rng: Rng, text: string): string {
  let t = text;
  for (let n = rng.int(1, 3); n > 0; n--) {
    const at = rng.int(0, t.length);
    switch (rng.int(0, 4)) {
      case 0:
        t = t.slice(0, at) + String.fromCharCode(rng.int(0, 0xffff)) + t.slice(at + 1);
        break;
      case 1:
        t = t.slice(0, at) + t.slice(at + rng.int(1, 20));
        break;
      case 2:
        t = t.slice(0, at) + rng.pick(TOKENS) + t.slice(at);
        break;
      case 3:
        t = t.slice(0, at);
        break;
      default:
        t = t.slice(0, at) + rng.pick(TOKENS) + t.slice(at + 1);
    }
  }
  return t;
}

const BODY_KEYS = [
  'target_url',
  'probe_latency_ms',
  'probe_status',
  'probe_reachable',
  'timeout',
  'total_size',
  'header_size',
  'dendrite',
  'axon',
  'computed_body_hash',
  'name',
  '__proto__',
];

function mutateBody(rng: Rng, body: string): string | Uint8Array {
  switch (rng.int(0, 3)) {
    case 0:
      return mutateText(rng, body);
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
      case 0:
        delete out[name];
        break;
      case 1:
        out[name] = mutateText(rng, String(out[name] ?? ''));
        break;
      case 2:
        out[name] = [String(out[name] ?? ''), '1'];
        break;
      default:
        out[name] = rng.pick(['', '0', '-1', 'None', 'nan', '1e400', ' 1 ', 'x'.repeat(rng.int(0, 500)), '18446744073709551616', '\u00ff']);
    }
  }
  return out;
}

function checkFields(fields: SynapseFields<typeof ProviderProbe>): void {
  expect(typeof fields.target_url).toBe('string');
  expect(fields.target_url.length).toBeLessThanOrEqual(2048);
  for (const [k, max] of [
    ['probe_latency_ms', 600_000],
    ['probe_status', 999],
  ] as const) {
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
      let decoded: DecodedRequest<typeof ProviderProbe>;
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
      const res = encodeErrorResponse(rng.pick([0, 400, 401, 1000, NaN]), message, {
        synapseName: rng.pick(['ProviderProbe', '__proto__', 'x']),
        requestHeaders: mutateHeaders(rng, valid.headers),
        processTimeSec: rng.pick([NaN, -1, 0.5]),
      });
      for (const v of Object.values(res.headers)) expect(v).toMatch(/^[\t\x20-\x7e]*$/);
      expect(typeof JSON.parse(res.body).message).toBe('string');
    }
  });
});
