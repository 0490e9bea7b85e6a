/**
 * The codec's fast paths against the general code they shortcut: `pyFloatRepr` against
 * `pyFloatReprGeneral`, the JSON string escaper against an independent reference, the body
 * writer against `pyJsonDumps` of the same object, and the in-place header table against the
 * case-insensitive reading of any header record. Random inputs from a fixed seed.
 * (test/e2e/protocol-fastpaths-python.test.ts checks the same against CPython itself.)
 */
import { describe, expect, test } from 'vitest';
import {
  decodeRequest,
  defineSynapse,
  encodeRequest,
  encodeResponse,
  ProtocolError,
  type DecodedRequest,
  type SynapseSpec,
  type TerminalInfo,
  TERMINAL_INFO_FIELDS,
} from '../../src/protocol/index.js';
import { PY_DUMPS_DEFAULT, PY_STARLETTE, PyFloat, parseJson, pyJsonDumps, pyJsonString, type PyJson, type PyJsonStyle } from '../../src/protocol/json.js';
import { pyFloatRepr, pyFloatReprGeneral } from '../../src/protocol/python.js';
import { nextDown, rng, sampleDoubles, sampleString } from '../support/randomInputs.js';

/** json.dumps' string escaping, written out rule by rule (CPython's `py_encode_basestring(_ascii)`). */
function referenceJsonString(s: string, ensureAscii: boolean): string {
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    const ch = s[k]!;
    const named: Record<string, string> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f' };
    const u = (): string => `\\u${c.toString(16).padStart(4, '0')}`;
    if (named[ch] !== undefined) out += named[ch];
    else if (c < 0x20) out += u();
    else if (ensureAscii) out += c > 0x7e ? u() : ch;
    else if (c >= 0xd800 && c <= 0xdbff && k + 1 < s.length && s.charCodeAt(k + 1) >= 0xdc00 && s.charCodeAt(k + 1) <= 0xdfff) {
      out += ch + s[k + 1]!;
      k++;
    } else if (c >= 0xd800 && c <= 0xdfff)
      out += u(); // lone surrogate
    else out += ch;
  }
  return `${out}"`;
}

describe('pyFloatRepr fast paths', () => {
  test('equal the general path on 200,000 doubles of every kind', () => {
    const xs = sampleDoubles(200_000, 58);
    const wrong = xs.filter((x) => pyFloatRepr(x) !== pyFloatReprGeneral(x));
    expect(wrong.map((x) => [x, pyFloatRepr(x), pyFloatReprGeneral(x)])).toEqual([]);
  });

  test('the edges of the fixed-notation range', () => {
    expect(pyFloatRepr(1e-4)).toBe('0.0001');
    expect(pyFloatRepr(nextDown(1e-4))).toBe('9.999999999999999e-05');
    expect(pyFloatRepr(nextDown(1e16))).toBe('9999999999999998.0');
    expect(pyFloatRepr(1e16)).toBe('1e+16');
    expect(pyFloatRepr(-1e-7)).toBe('-1e-07');
    expect(pyFloatRepr(1.5e-300)).toBe('1.5e-300');
    expect(pyFloatRepr(2 ** 60)).toBe('1.152921504606847e+18');
  });
});

describe('JSON string escaping', () => {
  test('equals the rule-by-rule reference on 20,000 mixed strings, both styles', () => {
    const r = rng(7);
    for (let n = 0; n < 20_000; n++) {
      const s = sampleString(r, Math.floor(r() * 24));
      expect(pyJsonString(s, true), JSON.stringify(s)).toBe(referenceJsonString(s, true));
      expect(pyJsonString(s, false), JSON.stringify(s)).toBe(referenceJsonString(s, false));
    }
  });
});

describe('parseJson reads back what pyJsonDumps writes', () => {
  test('random documents round-trip (integers as bigint, floats as numbers, objects as Maps)', () => {
    const r = rng(11);
    const toPlain = (v: unknown): unknown =>
      v instanceof Map ? Object.fromEntries([...v].map(([k, x]) => [k, toPlain(x)])) : Array.isArray(v) ? v.map(toPlain) : v;
    const make = (depth: number): PyJson => {
      const pick = Math.floor(r() * (depth > 3 ? 6 : 8));
      switch (pick) {
        case 0:
          return null;
        case 1:
          return r() < 0.5;
        case 2:
          return BigInt(Math.floor((r() - 0.5) * 2 ** 52)) * BigInt(1 + Math.floor(r() * 4096));
        case 3:
          return new PyFloat(sampleDoubles(40, Math.floor(r() * 1e9)).filter(Number.isFinite)[16 + Math.floor(r() * 20)]!);
        case 4:
          return sampleString(r, Math.floor(r() * 12)).replace(/[\ud800-\udfff]/g, '?');
        case 5:
          return Math.floor((r() - 0.5) * 1e6);
        case 6:
          return Array.from({ length: Math.floor(r() * 4) }, () => make(depth + 1));
        default:
          return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, (_, k) => [`k${k}${sampleString(r, 3)}`, make(depth + 1)]));
      }
    };
    const expected = (v: PyJson): unknown =>
      v instanceof PyFloat
        ? v.value
        : typeof v === 'number'
          ? BigInt(v)
          : Array.isArray(v)
            ? v.map(expected)
            : v !== null && typeof v === 'object'
              ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, expected(x)]))
              : v;
    for (let n = 0; n < 2_000; n++) {
      const doc = make(0);
      for (const style of [PY_DUMPS_DEFAULT, PY_STARLETTE]) {
        const text = pyJsonDumps(doc, style);
        expect(toPlain(parseJson(text)), text).toEqual(expected(doc));
      }
    }
  });
});

// A synapse with every field type, so that the writer's per-type paths all run.
const Mixed = defineSynapse({
  name: 'MixedFast',
  description: 'test',
  fields: {
    text: { type: 'string', role: 'request', nullable: false, default: '', maxLength: 4096, description: '' },
    ratio: { type: 'float', role: 'request', nullable: true, default: null, min: -1e300, max: 1e300, description: '' },
    count: { type: 'int', role: 'response', nullable: true, default: null, min: -(2 ** 53 - 1), max: 2 ** 53 - 1, description: '' },
    flag: { type: 'bool', role: 'response', nullable: true, default: null, description: '' },
    note: { type: 'string', role: 'response', nullable: true, default: null, maxLength: 4096, description: '' },
  },
  hashFields: [],
});

/** A synapse body built as one object and printed by the general `pyJsonDumps` (what the codec did before its writer). */
function referenceBody(request: DecodedRequest<SynapseSpec>, fields: Record<string, unknown>, axon: TerminalInfo | null, style: PyJsonStyle): string {
  const terminal = (info: TerminalInfo | null): PyJson =>
    info === null
      ? null
      : Object.fromEntries(
          TERMINAL_INFO_FIELDS.map((f) => [
            f.wire,
            info[f.key] === null ? null : f.kind === 'float' ? new PyFloat(info[f.key] as number) : (info[f.key] as PyJson),
          ]),
        );
  const env = request.envelope;
  const out: Record<string, PyJson> = {
    name: request.synapse.name,
    timeout: new PyFloat(env.timeout ?? request.timeoutSec ?? 12),
    total_size: env.totalSize,
    header_size: env.headerSize,
    dendrite: terminal(env.dendrite),
    axon: terminal(axon),
    computed_body_hash: env.computedBodyHash,
  };
  for (const [key, field] of Object.entries(request.synapse.fields)) {
    const v = fields[key];
    out[key] = v === null || v === undefined ? null : field.type === 'float' ? new PyFloat(v as number) : (v as PyJson);
  }
  return pyJsonDumps(out, style);
}

describe('the body writer', () => {
  const sign = (): Uint8Array => new Uint8Array(64).fill(9);
  test('encodeRequest and encodeResponse write what pyJsonDumps writes for the same object (1,000 random requests)', () => {
    const r = rng(5);
    const floats = sampleDoubles(5_000, 3).filter((x) => Number.isFinite(x) && Math.abs(x) <= 1e300);
    for (let n = 0; n < 1_000; n++) {
      const text = sampleString(r, Math.floor(r() * 30)).replace(/[\ud800-\udfff]/g, '');
      const ratio = r() < 0.2 ? null : floats[Math.floor(r() * floats.length)]!;
      const timeoutSec = [12, 60, 0.5, 1e-3, 86_400][n % 5]!;
      const req = encodeRequest({
        synapse: Mixed,
        fields: { text, ratio },
        timeoutSec,
        nonce: 1_795_318_990_457_350_190n + BigInt(n),
        dendrite: { hotkey: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', uuid: `u-${n}`, ip: r() < 0.3 ? null : '10.0.0.1' },
        axon: { hotkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', ip: '127.0.0.1', port: 8091 },
        sign,
      });
      // The request body is the object a Python dendrite dumps (json.dumps defaults): read back and printed again, it is the same.
      const decoded = decodeRequest(Mixed, req.headers, req.body);
      const reqAxon = decoded.envelope.axon;
      expect(req.body).toBe(referenceBody(decoded, decoded.fields, reqAxon, PY_DUMPS_DEFAULT));

      const filled = {
        count: r() < 0.3 ? null : Math.round((r() - 0.5) * 2 ** 40),
        flag: r() < 0.3 ? null : r() < 0.5,
        note: r() < 0.3 ? null : sampleString(r, 10).replace(/[\ud800-\udfff]/g, ''),
      };
      const processTimeSec = Math.abs(floats[Math.floor(r() * floats.length)]!) % 100;
      const res = encodeResponse(decoded, filled, { processTimeSec });
      const axon: TerminalInfo = { ...reqAxon!, statusCode: 200, statusMessage: 'Success', processTime: processTimeSec };
      expect(res.body).toBe(referenceBody(decoded, { ...decoded.fields, ...filled }, axon, PY_STARLETTE));
      expect(res.headers.bt_header_axon_process_time).toBe(pyFloatReprGeneral(processTimeSec));
    }
  });

  test('a non-finite float is still refused', () => {
    const req = encodeRequest({
      synapse: Mixed,
      fields: { text: 'x' },
      timeoutSec: 12,
      nonce: 1n,
      dendrite: { hotkey: 'a', uuid: 'b' },
      axon: { hotkey: 'c', ip: '127.0.0.1', port: 1 },
      sign,
    });
    const decoded = decodeRequest(Mixed, req.headers, req.body);
    expect(() => encodeResponse(decoded, {}, { processTimeSec: Infinity })).toThrow(ProtocolError);
  });
});

describe('request headers read in place', () => {
  const req = encodeRequest({
    synapse: 'ProviderProbe',
    fields: { target_url: 'https://p.example/health' },
    timeoutSec: 12,
    nonce: 1_795_318_990_457_350_190n,
    dendrite: { hotkey: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY', uuid: 'u-1', ip: '10.0.0.1' },
    axon: { hotkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty', ip: '127.0.0.1', port: 8091 },
    sign: () => new Uint8Array(64).fill(3),
  });
  const strip = (d: ReturnType<typeof decodeRequest>) => ({ ...d, synapse: d.synapse.name });

  test('lower-case names (as Node gives them), mixed case, and a fetch Headers decode alike', () => {
    const lower = strip(decodeRequest('ProviderProbe', req.headers, req.body));
    const upper = Object.fromEntries(Object.entries(req.headers).map(([k, v], i) => [i % 2 ? k.toUpperCase() : k, v]));
    expect(strip(decodeRequest('ProviderProbe', upper, req.body))).toEqual(lower);
    expect(strip(decodeRequest('ProviderProbe', new Headers(req.headers), req.body))).toEqual(lower);
    expect(strip(decodeRequest('ProviderProbe', { ...req.headers, extra: ['one'], n: 5 }, req.body))).toEqual(lower);
  });

  test('a repeated header is refused wherever it is, and named', () => {
    const named = (headers: Record<string, unknown>): string => {
      try {
        decodeRequest('ProviderProbe', headers as never, req.body);
      } catch (err) {
        return (err as ProtocolError).shortMessage;
      }
      return 'accepted';
    };
    expect(named({ ...req.headers, 'set-cookie': ['a', 'b'] })).toBe('invalid header set-cookie: given more than once');
    expect(named({ ...req.headers, BT_HEADER_DENDRITE_UUID: 'x' })).toBe('invalid header bt_header_dendrite_uuid: given more than once');
    expect(named({ 'x-first': ['a', 'b'], ...req.headers, BT_HEADER_DENDRITE_UUID: 'x' })).toBe('invalid header x-first: given more than once');
    expect(named({ ...req.headers, 'X-Other': 'y', 'x-last': { a: 1 } })).toBe('invalid header x-last: given more than once');
  });
});
