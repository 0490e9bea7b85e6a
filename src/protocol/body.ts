/**
 * Body: a synapse's JSON body. In, the bytes to text (size, strict UTF-8), the text to a JSON object,
 * and the common fields every synapse carries (the envelope); out, a synapse's `model_dump()` as
 * json.dumps writes it, field by field. Pure.
 */
import { describeValue, isError, specLayout, toPyJson, type Coercion } from './fields.js';
import {
  JsonSyntaxError,
  parseJson,
  PyFloat,
  pyJsonDumps,
  pyJsonFloat,
  pyJsonString,
  type JsonObject,
  type JsonValue,
  type PyJson,
  type PyJsonStyle,
} from './json.js';
import { pyFloat, pyInt } from './python.js';
import { DEFAULT_TIMEOUT_SEC, type FieldSpec, type SynapseEnvelope, type SynapseSpec, type TerminalInfo } from './synapses.js';
import { readTerminalInfo, terminalJson, terminalToPyJson, TOKEN } from './terminalInfo.js';

// --- bodies in -----------------------------------------------------------------------------

/** Stateless between calls (no `stream: true`), so one serves every request. BOM kept: JSON refuses it, like Python. */
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function bodyText(raw: string | Uint8Array, maxBytes: number, onError: (code: 'body-too-large' | 'malformed-json', msg: string) => never): string {
  if (typeof raw === 'string') {
    // UTF-8 length without encoding: ≤ 3 bytes per UTF-16 unit, so only measure when it could matter.
    if (raw.length * 3 > maxBytes && Buffer.byteLength(raw, 'utf8') > maxBytes) onError('body-too-large', `body larger than ${maxBytes} bytes`);
    return raw;
  }
  if (!(raw instanceof Uint8Array)) onError('malformed-json', 'body is not text');
  if (raw.byteLength > maxBytes) onError('body-too-large', `body larger than ${maxBytes} bytes`);
  try {
    return UTF8_STRICT.decode(raw);
  } catch {
    return onError('malformed-json', 'body is not valid UTF-8');
  }
}

/** `onError` kinds: `syntax`, not JSON at all; `shape`, JSON nested deeper than we read or not an object. */
export function parseBodyObject(text: string, allowNonFinite: boolean, onError: (msg: string, kind: 'syntax' | 'shape') => never): JsonObject {
  let value: JsonValue;
  try {
    value = parseJson(text, { maxDepth: 32, allowNonFinite });
  } catch (err) {
    if (err instanceof JsonSyntaxError) return onError(`body is not JSON: ${err.message}`, err.reason === 'nested too deep' ? 'shape' : 'syntax');
    throw err;
  }
  if (!(value instanceof Map)) return onError(`body must be a JSON object, got ${describeValue(value)}`, 'shape');
  return value;
}

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/** One of the envelope's numbers (`timeout`, `total_size`, `header_size`), or its pydantic default when absent. */
function readEnvelopeNumber(body: JsonObject, key: string, kind: 'int' | 'float', coercion: Coercion): number | null | { error: string } {
  const v = body.get(key);
  if (v === undefined) return key === 'timeout' ? DEFAULT_TIMEOUT_SEC : 0; // pydantic defaults
  if (v === null) return null;
  if (coercion === 'python') {
    const x = kind === 'int' ? pyInt(v) : pyFloat(v);
    return x === undefined || x === null ? { error: `${key} is invalid (${describeValue(v)})` } : Number(x);
  }
  if (kind === 'int') {
    if (typeof v !== 'bigint' || v < 0n || v > MAX_SAFE_BIGINT) return { error: `${key} must be a non-negative integer, got ${describeValue(v)}` };
    return Number(v);
  }
  const x = typeof v === 'bigint' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) return { error: `${key} must be a non-negative number, got ${describeValue(v)}` };
  return x;
}

export function readEnvelope(body: JsonObject, coercion: Coercion): SynapseEnvelope | { error: string } {
  const dendrite = readTerminalInfo(body.get('dendrite'), coercion, 'dendrite');
  if (isError(dendrite)) return dendrite;
  const axon = readTerminalInfo(body.get('axon'), coercion, 'axon');
  if (isError(axon)) return axon;

  const timeout = readEnvelopeNumber(body, 'timeout', 'float', coercion);
  if (isError(timeout)) return timeout;
  const totalSize = readEnvelopeNumber(body, 'total_size', 'int', coercion);
  if (isError(totalSize)) return totalSize;
  const headerSize = readEnvelopeNumber(body, 'header_size', 'int', coercion);
  if (isError(headerSize)) return headerSize;

  let computedBodyHash: string | null = '';
  const v = body.get('computed_body_hash');
  if (v !== undefined) {
    if (v !== null && typeof v !== 'string') return { error: `computed_body_hash must be a string, got ${describeValue(v)}` };
    if (coercion === 'strict' && typeof v === 'string' && (v.length > 128 || (v !== '' && !TOKEN.test(v)))) return { error: 'computed_body_hash is invalid' };
    computedBodyHash = v;
  }
  const name = body.get('name'); // Python overwrites it with the class name; we only refuse nonsense
  if (name !== undefined && coercion === 'strict' && name !== null && (typeof name !== 'string' || name.length > 128))
    return { error: 'name must be a string' };
  return { timeout, totalSize, headerSize, dendrite, axon, computedBodyHash };
}

// --- bodies out ----------------------------------------------------------------------------

function fieldJson(field: FieldSpec, v: unknown, style: PyJsonStyle): string {
  if (v === null || v === undefined) return 'null';
  return field.type === 'float' ? pyJsonFloat(v as number) : pyJsonDumps(v as string | number | boolean, style);
}

/** The common fields of a synapse body (Python's `Synapse` attributes, in their order). */
export interface BodyCommon {
  timeout: number;
  totalSize: number | null;
  headerSize: number | null;
  dendrite: TerminalInfo | null;
  axon: TerminalInfo | null;
  computedBodyHash: string | null;
}

/** A synapse's `model_dump()` as json.dumps writes it: the common fields, then the synapse's own in declaration order. */
export function synapseBodyJson(spec: SynapseSpec, common: BodyCommon, fields: Record<string, unknown>, style: PyJsonStyle): string {
  const layout = specLayout(spec);
  if (!layout.plainKeys) {
    // A field that reuses a common key takes its place (or, `__proto__`, vanishes) as in an object literal.
    const out: Record<string, PyJson> = {
      name: spec.name,
      timeout: new PyFloat(common.timeout),
      total_size: common.totalSize,
      header_size: common.headerSize,
      dendrite: terminalToPyJson(common.dendrite),
      axon: terminalToPyJson(common.axon),
      computed_body_hash: common.computedBodyHash,
    };
    for (const { key, field } of layout.fields) out[key] = toPyJson(field, fields[key]);
    return pyJsonDumps(out, style);
  }
  const c = style.compact;
  let out =
    (c ? '{"name":' : '{"name": ') +
    pyJsonString(spec.name, style.ensureAscii) +
    (c ? ',"timeout":' : ', "timeout": ') +
    pyJsonFloat(common.timeout) +
    (c ? ',"total_size":' : ', "total_size": ') +
    pyJsonDumps(common.totalSize, style) +
    (c ? ',"header_size":' : ', "header_size": ') +
    pyJsonDumps(common.headerSize, style) +
    (c ? ',"dendrite":' : ', "dendrite": ') +
    terminalJson(common.dendrite, style) +
    (c ? ',"axon":' : ', "axon": ') +
    terminalJson(common.axon, style) +
    (c ? ',"computed_body_hash":' : ', "computed_body_hash": ') +
    pyJsonDumps(common.computedBodyHash, style);
  for (const f of layout.fields) out += (c ? f.compactKey : f.spacedKey) + fieldJson(f.field, fields[f.key], style);
  return `${out}}`;
}
