/**
 * The bittensor axon/dendrite wire codec (HTTP headers, JSON body, body hash, signing
 * message), byte-compatible with the Python SDK 10.x. Pure: no I/O, no clock; the sr25519
 * signer is injected. Every failure is a `ProtocolError`; nothing else is ever thrown for
 * bad input.
 *
 * Where Python reads what (learned from axon.py / synapse.py / dendrite.py):
 * - the Python axon checks blacklist and signature on a synapse built from the HEADERS
 *   (`Synapse.from_headers`), but the handler gets the synapse parsed from the BODY, and
 *   the success response is that body synapse echoed with the handler's fields filled;
 * - the signature covers `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{computed_body_hash}`
 *   from the headers, and a separate check compares that header hash with the body's hash;
 * - a Python dendrite rebuilds the synapse from a 200 body, then overlays every
 *   `bt_header_axon_*` / `bt_header_dendrite_*` response header on top; any parse failure
 *   on the way makes it record 422.
 * `decodeRequest` therefore returns the body's fields (what the handler sees) beside the
 * header values (what blacklist and verify see), and `decodeResponse` applies the overlay.
 */
import { createHash } from 'node:crypto';
import { JsonSyntaxError, parseJson, PY_DUMPS_DEFAULT, PY_STARLETTE, PyFloat, pyJsonDumps, pyJsonFloat, pyJsonString, type JsonObject, type JsonValue, type PyJson, type PyJsonStyle } from './json.js';
import { pydanticLaxBool, pydanticLaxFloat, pydanticLaxInt, pyFloat, pyFloatFromText, pyFloatRepr, pyInt, pyIntFromText } from './python.js';
import { excerpt, HeaderTable, readRequestHeaders, type HeaderInput } from './requestHeaders.js';
import { ProtocolError, STATUS, SUCCESS_MESSAGE, bodyHashMismatchMessage } from './status.js';
import {
  DEFAULT_TIMEOUT_SEC,
  ENVELOPE_WIRE_KEYS,
  TERMINAL_INFO_FIELDS,
  emptyTerminalInfo,
  isKnownSynapse,
  resolveSynapse,
  type FieldSpec,
  type RequestFields,
  type ResponseFields,
  type SpecOf,
  type SynapseEnvelope,
  type SynapseFields,
  type SynapseRef,
  type SynapseSpec,
  type TerminalInfo,
} from './synapses.js';

/** `bt_header_dendrite_version` we send: bittensor 10.5.0 (`major·10⁶ + minor·10³ + patch`), whose wire we mirror. */
export const BITTENSOR_WIRE_VERSION = 10_005_000;
/** From this version on, a Python axon applies the nonce freshness window. */
export const NONCE_WINDOW_VERSION = 7_002_000;

/** Request bodies above this are refused (ours are < 4 KiB; ProviderProbe's biggest field is 2 KiB). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;
/** Response bodies above this count as unparseable. */
export const MAX_RESPONSE_BODY_BYTES = 1024 * 1024;

const sha3Hex = (text: string): string => createHash('sha3-256').update(text, 'utf8').digest('hex');

/** sha3-256 of "": the body hash of every synapse without `required_hash_fields` (both of ours). */
export const EMPTY_BODY_HASH = sha3Hex('');

// --- signing message and body hash -------------------------------------------------------------

export interface SigningMessageParams {
  nonce: bigint | null;
  dendriteHotkey: string | null;
  axonHotkey: string | null;
  uuid: string | null;
  bodyHash: string | null;
}

/**
 * The text a dendrite signs and an axon verifies: `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}`.
 * Missing parts print as Python's `None`, exactly as the Python axon builds it for verification.
 */
export function signingMessage(p: SigningMessageParams): string {
  const s = (v: string | bigint | null): string => (v === null ? 'None' : String(v));
  return `${s(p.nonce)}.${s(p.dendriteHotkey)}.${s(p.axonHotkey)}.${s(p.uuid)}.${s(p.bodyHash)}`;
}

/** The message a Python axon signs into `bt_header_axon_signature` (no body hash): `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}`. */
export function axonSigningMessage(p: Omit<SigningMessageParams, 'bodyHash'>): string {
  const s = (v: string | bigint | null): string => (v === null ? 'None' : String(v));
  return `${s(p.nonce)}.${s(p.dendriteHotkey)}.${s(p.axonHotkey)}.${s(p.uuid)}`;
}

/** `0x` + hex of a 64-byte sr25519 signature → bytes; null when it is not that shape. */
export function parseSignatureHex(signature: string | null): Uint8Array | null {
  if (signature === null) return null;
  const start = signature.startsWith('0x') ? 2 : 0;
  if (signature.length - start !== 128) return null;
  const bytes = new Uint8Array(64);
  for (let k = 0; k < 64; k++) {
    const hi = hexValue(signature.charCodeAt(start + 2 * k));
    const lo = hexValue(signature.charCodeAt(start + 2 * k + 1));
    if (hi < 0 || lo < 0) return null;
    bytes[k] = (hi << 4) | lo;
  }
  return bytes;
}

/** 0–15 for an ASCII hex digit, else -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** Python's `str()` of a field value after pydantic coercion: `True`, `None`, `12`, `12.0`, the string itself. */
function pyStrOfValue(field: FieldSpec, value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return field.type === 'float' ? pyFloatRepr(value) : Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  return String(value);
}

/**
 * bittensor's `Synapse.body_hash`: sha3-256 over the concatenated sha3-256 hex digests of
 * `str(value)` of each `required_hash_fields` entry (lowercase hex, no `0x`). Fields not
 * given take their defaults.
 */
export function computeBodyHash<R extends SynapseRef>(synapse: R, values: Partial<SynapseFields<SpecOf<R>>>): string {
  const spec: SynapseSpec = resolveSynapse(synapse);
  // No hash fields (both Subnet 58 synapses): the hash is a constant; skip the sha3 per request.
  if (spec.hashFields.length === 0) return EMPTY_BODY_HASH;
  const given = values as Record<string, unknown>;
  let joined = '';
  for (const key of spec.hashFields) {
    const field = spec.fields[key]!;
    const value = Object.hasOwn(given, key) ? given[key] : field.default;
    joined += sha3Hex(pyStrOfValue(field, value));
  }
  return sha3Hex(joined);
}

// --- per-synapse layout ----------------------------------------------------------------------

interface FieldLayout {
  key: string;
  field: FieldSpec;
  /** `,"key":` and `, "key": `: the key as it follows the previous one in a compact / default json.dumps. */
  compactKey: string;
  spacedKey: string;
}

interface SpecLayout {
  fields: readonly FieldLayout[];
  /** No field reuses a common key or `__proto__`, so the body can be written field by field. */
  plainKeys: boolean;
}

/** Computed once per declaration (declarations are not changed after they are made). */
const LAYOUTS = new WeakMap<object, SpecLayout>();

function specLayout(spec: SynapseSpec): SpecLayout {
  let layout = LAYOUTS.get(spec.fields);
  if (layout === undefined) {
    const fields = Object.entries(spec.fields).map(([key, field]) => {
      const json = pyJsonString(key, true);
      return { key, field, compactKey: `,${json}:`, spacedKey: `, ${json}: ` };
    });
    const common = new Set<string>([...ENVELOPE_WIRE_KEYS, '__proto__']);
    layout = { fields, plainKeys: fields.every((f) => !common.has(f.key)) };
    LAYOUTS.set(spec.fields, layout);
  }
  return layout;
}

// --- field values: checks and conversions ------------------------------------------------------

/** How strictly JSON values are read into typed fields. */
export type Coercion =
  /** Exact JSON types and our range/length limits (default). */
  | 'strict'
  /** What a Python dendrite accepts (pydantic lax mode: `"12"` → 12, `"yes"` → true; no limits), for score parity. */
  | 'python';

type FieldResult = { ok: true; value: string | number | boolean | null } | { ok: false; reason: string };
const ok = (value: string | number | boolean | null): FieldResult => ({ ok: true, value });
const bad = (reason: string): FieldResult => ({ ok: false, reason });

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'an integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a float literal' : 'a float';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'an object';
  return typeof v;
}

/** Checks a TypeScript value against a field's type and limits (our own values, before encoding). */
function checkTsValue(field: FieldSpec, v: unknown): FieldResult {
  if (v === null) return field.nullable ? ok(null) : bad('must not be null');
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') return bad(`must be a string, got ${describe(v)}`);
      return v.length <= field.maxLength ? ok(v) : bad(`longer than ${field.maxLength} characters`);
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return bad(`must be an integer, got ${describe(v)}`);
      return v >= field.min && v <= field.max ? ok(v) : bad(`out of range ${field.min}..${field.max}`);
    case 'float':
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`must be a finite number, got ${describe(v)}`);
      return v >= field.min && v <= field.max ? ok(v) : bad(`out of range ${field.min}..${field.max}`);
    case 'bool':
      return typeof v === 'boolean' ? ok(v) : bad(`must be a boolean, got ${describe(v)}`);
  }
}

/** Reads a JSON value into a field: exact types (integers written as integers) and our limits. */
function readFieldStrict(field: FieldSpec, v: JsonValue): FieldResult {
  if (field.type === 'int') {
    if (v === null) return field.nullable ? ok(null) : bad('must not be null');
    if (typeof v !== 'bigint') return bad(`must be an integer, got ${describe(v)}`);
    if (v < BigInt(field.min) || v > BigInt(field.max)) return bad(`out of range ${field.min}..${field.max}`);
    return ok(Number(v));
  }
  if (field.type === 'float' && typeof v === 'bigint') return checkTsValue(field, Number(v));
  return checkTsValue(field, v);
}

/** Reads a JSON value into a field as pydantic 2 (lax mode) would, without our limits. */
function readFieldPython(field: FieldSpec, v: JsonValue): FieldResult {
  if (v === null) return field.nullable ? ok(null) : bad('must not be null');
  switch (field.type) {
    case 'string':
      return typeof v === 'string' ? ok(v) : bad(`must be a string, got ${describe(v)}`);
    case 'int': {
      const i = pydanticLaxInt(v);
      return i === undefined ? bad(`is not an integer for pydantic: ${describe(v)}`) : ok(Number(i));
    }
    case 'float': {
      const f = pydanticLaxFloat(v);
      return f === undefined ? bad(`is not a float for pydantic: ${describe(v)}`) : ok(f);
    }
    case 'bool': {
      const b = pydanticLaxBool(v);
      return b === undefined ? bad(`is not a boolean for pydantic: ${describe(v)}`) : ok(b);
    }
  }
}

function toPyJson(field: FieldSpec, v: unknown): PyJson {
  if (v === null || v === undefined) return null;
  if (field.type === 'float') return new PyFloat(v as number);
  return v as string | number | boolean;
}

/**
 * Reads every field of a synapse from a body object. Missing fields take their defaults;
 * a missing field without default (Python "required") is an error; unknown keys are ignored
 * like pydantic does.
 */
function readSynapseFields(spec: SynapseSpec, body: JsonObject, coercion: Coercion): { fields: Record<string, unknown> } | { error: string } {
  const fields: Record<string, unknown> = {};
  for (const { key, field } of specLayout(spec).fields) {
    const raw = body.get(key); // a parsed JSON value is never undefined: undefined means absent
    if (raw === undefined) {
      if (field.default === undefined) return { error: `missing field ${key}` };
      fields[key] = field.default;
      continue;
    }
    const r = coercion === 'strict' ? readFieldStrict(field, raw) : readFieldPython(field, raw);
    if (!r.ok) return { error: `field ${key} ${r.reason}` };
    fields[key] = r.value;
  }
  return { fields };
}

// --- TerminalInfo and the envelope ----------------------------------------------------------

const TOKEN = /^[\x21-\x7e]+$/; // visible ASCII: safe in a header, and all a hotkey/uuid/ip/signature needs
const LIMITS = {
  statusCode: { min: 0n, max: 999n },
  port: { min: 0n, max: 65_535n },
  version: { min: 0n, max: 2_147_483_647n },
  nonce: { min: 0n, max: 2n ** 64n - 1n },
  processTime: { min: 0, max: 1e9 },
  statusMessage: 4096,
  token: { ip: 64, uuid: 64, hotkey: 64, signature: 256 } as Record<string, number>,
} as const;

type TerminalKey = keyof TerminalInfo;

/** One TerminalInfo value from JSON under our strict rules; undefined when invalid. */
function terminalValueStrict(key: TerminalKey, kind: string, v: JsonValue): TerminalInfo[TerminalKey] | undefined {
  if (v === null) return null;
  if (kind === 'int' || kind === 'bigint') {
    if (typeof v !== 'bigint') return undefined;
    const lim = LIMITS[key as 'statusCode' | 'port' | 'version' | 'nonce'];
    if (v < lim.min || v > lim.max) return undefined;
    return kind === 'bigint' ? v : Number(v);
  }
  if (kind === 'float') {
    const x = typeof v === 'bigint' ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < LIMITS.processTime.min || x > LIMITS.processTime.max) return undefined;
    return x;
  }
  if (typeof v !== 'string') return undefined;
  if (key === 'statusMessage') return v.length <= LIMITS.statusMessage ? v : undefined;
  return v.length <= (LIMITS.token[key] ?? 64) && TOKEN.test(v) ? v : undefined;
}

/** Request-header TerminalInfo reduced to what an error answer echoes: values of their wire type within our limits. */
function echoable(info: TerminalInfo): TerminalInfo {
  const out = emptyTerminalInfo() as unknown as Record<string, unknown>;
  for (const f of TERMINAL_INFO_FIELDS) {
    const v = info[f.key];
    if (v === null) continue;
    const value = terminalValueStrict(f.key, f.kind, typeof v === 'number' && f.kind !== 'float' ? BigInt(v) : v);
    if (value !== undefined) out[f.key] = value;
  }
  return out as unknown as TerminalInfo;
}

/** One TerminalInfo value from JSON as Python's TerminalInfo does (`cast_int` / `cast_float` = `int()` / `float()`, lax str). */
function terminalValuePython(kind: string, v: JsonValue): TerminalInfo[TerminalKey] | undefined {
  if (v === null) return null;
  if (kind === 'int' || kind === 'bigint') {
    const i = pyInt(v);
    if (i === undefined || i === null) return undefined;
    return kind === 'bigint' ? i : Number(i);
  }
  if (kind === 'float') {
    const f = pyFloat(v);
    return f === undefined || f === null ? undefined : f;
  }
  return typeof v === 'string' ? v : undefined;
}

function readTerminalInfo(v: JsonValue | undefined, coercion: Coercion, where: string): TerminalInfo | null | { error: string } {
  if (v === undefined) return emptyTerminalInfo(); // pydantic default: TerminalInfo()
  if (v === null) return null;
  if (!(v instanceof Map)) return { error: `${where} must be an object, got ${describe(v)}` };
  // Values by position, then one object literal (its keys in TERMINAL_INFO_FIELDS order, checked
  // below): stores under computed keys would be megamorphic.
  const values: TerminalInfo[TerminalKey][] = [null, null, null, null, null, null, null, null, null, null];
  for (let k = 0; k < TERMINAL_INFO_FIELDS.length; k++) {
    const f = TERMINAL_INFO_FIELDS[k]!;
    const raw = v.get(f.wire);
    if (raw === undefined) continue;
    const value = coercion === 'strict' ? terminalValueStrict(f.key, f.kind, raw) : terminalValuePython(f.kind, raw);
    if (value === undefined) return { error: `${where}.${f.wire} is invalid (${describe(raw)})` };
    values[k] = value;
  }
  return {
    statusCode: values[0] as number | null,
    statusMessage: values[1] as string | null,
    processTime: values[2] as number | null,
    ip: values[3] as string | null,
    port: values[4] as number | null,
    version: values[5] as number | null,
    nonce: values[6] as bigint | null,
    uuid: values[7] as string | null,
    hotkey: values[8] as string | null,
    signature: values[9] as string | null,
  };
}

if (TERMINAL_INFO_FIELDS.map((f) => f.key).join() !== Object.keys(emptyTerminalInfo()).join()) {
  throw new Error('readTerminalInfo: TERMINAL_INFO_FIELDS and TerminalInfo disagree on the field order');
}

const isError = (x: unknown): x is { error: string } => typeof x === 'object' && x !== null && 'error' in x;

const MAX_SAFE_BIGINT = BigInt(Number.MAX_SAFE_INTEGER);

/** One of the envelope's numbers (`timeout`, `total_size`, `header_size`), or its pydantic default when absent. */
function readEnvelopeNumber(body: JsonObject, key: string, kind: 'int' | 'float', coercion: Coercion): number | null | { error: string } {
  const v = body.get(key);
  if (v === undefined) return key === 'timeout' ? DEFAULT_TIMEOUT_SEC : 0; // pydantic defaults
  if (v === null) return null;
  if (coercion === 'python') {
    const x = kind === 'int' ? pyInt(v) : pyFloat(v);
    return x === undefined || x === null ? { error: `${key} is invalid (${describe(v)})` } : Number(x);
  }
  if (kind === 'int') {
    if (typeof v !== 'bigint' || v < 0n || v > MAX_SAFE_BIGINT) return { error: `${key} must be a non-negative integer, got ${describe(v)}` };
    return Number(v);
  }
  const x = typeof v === 'bigint' ? Number(v) : v;
  if (typeof x !== 'number' || !Number.isFinite(x) || x < 0) return { error: `${key} must be a non-negative number, got ${describe(v)}` };
  return x;
}

function readEnvelope(body: JsonObject, coercion: Coercion): SynapseEnvelope | { error: string } {
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
    if (v !== null && typeof v !== 'string') return { error: `computed_body_hash must be a string, got ${describe(v)}` };
    if (coercion === 'strict' && typeof v === 'string' && (v.length > 128 || (v !== '' && !TOKEN.test(v)))) return { error: 'computed_body_hash is invalid' };
    computedBodyHash = v;
  }
  const name = body.get('name'); // Python overwrites it with the class name; we only refuse nonsense
  if (name !== undefined && coercion === 'strict' && name !== null && (typeof name !== 'string' || name.length > 128)) return { error: 'name must be a string' };
  return { timeout, totalSize, headerSize, dendrite, axon, computedBodyHash };
}

// --- bodies and headers out ----------------------------------------------------------------

/** `{"status_code":`, `,"status_message":`, … (compact) and `{"status_code": `, `, "status_message": `, … */
const TERMINAL_JSON_KEYS_COMPACT = TERMINAL_INFO_FIELDS.map((f, k) => `${k === 0 ? '{' : ','}"${f.wire}":`);
const TERMINAL_JSON_KEYS_SPACED = TERMINAL_INFO_FIELDS.map((f, k) => `${k === 0 ? '{' : ', '}"${f.wire}": `);

/** A TerminalInfo as json.dumps writes its `model_dump()`, written directly (no intermediate object). */
function terminalJson(info: TerminalInfo | null, style: PyJsonStyle): string {
  if (info === null) return 'null';
  const keys = style.compact ? TERMINAL_JSON_KEYS_COMPACT : TERMINAL_JSON_KEYS_SPACED;
  let out = '';
  for (let k = 0; k < TERMINAL_INFO_FIELDS.length; k++) {
    const f = TERMINAL_INFO_FIELDS[k]!;
    const v = info[f.key];
    out += keys[k]! + (v === null ? 'null' : f.kind === 'float' ? pyJsonFloat(v as number) : pyJsonDumps(v as string | number | bigint, style));
  }
  return out + '}';
}

function fieldJson(field: FieldSpec, v: unknown, style: PyJsonStyle): string {
  if (v === null || v === undefined) return 'null';
  return field.type === 'float' ? pyJsonFloat(v as number) : pyJsonDumps(v as string | number | boolean, style);
}

/** The common fields of a synapse body (Python's `Synapse` attributes, in their order). */
interface BodyCommon {
  timeout: number;
  totalSize: number | null;
  headerSize: number | null;
  dendrite: TerminalInfo | null;
  axon: TerminalInfo | null;
  computedBodyHash: string | null;
}

/** A synapse's `model_dump()` as json.dumps writes it: the common fields, then the synapse's own in declaration order. */
function synapseBodyJson(spec: SynapseSpec, common: BodyCommon, fields: Record<string, unknown>, style: PyJsonStyle): string {
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
  return out + '}';
}

function terminalToPyJson(info: TerminalInfo | null): PyJson {
  if (info === null) return null;
  const out: Record<string, PyJson> = {};
  for (const f of TERMINAL_INFO_FIELDS) {
    const v = info[f.key];
    out[f.wire] = v === null ? null : f.kind === 'float' ? new PyFloat(v as number) : (v as string | number | bigint);
  }
  return out;
}

/** A header value as `str(v)` in Python; text is reduced to visible ASCII so no value can break the HTTP head. */
function headerText(v: string | number | bigint, kind: string): string {
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return kind === 'float' ? pyFloatRepr(v) : String(v);
  // Most values need no replacement: test first (a regex scan is native code), replace only then.
  if (typeof v === 'string' && !NOT_HEADER_SAFE.test(v)) return v.length > 1024 ? v.slice(0, 1024) : v;
  return v.replace(/[^\t\x20-\x7e]/g, '?').slice(0, 1024);
}

const NOT_HEADER_SAFE = /[^\t\x20-\x7e]/;

const TERMINAL_HEADER_NAMES = {
  axon: TERMINAL_INFO_FIELDS.map((f) => `bt_header_axon_${f.wire}`),
  dendrite: TERMINAL_INFO_FIELDS.map((f) => `bt_header_dendrite_${f.wire}`),
};

function terminalHeaders(prefix: 'axon' | 'dendrite', info: TerminalInfo | null, into: Record<string, string>): void {
  if (info === null) return;
  const names = TERMINAL_HEADER_NAMES[prefix];
  for (let k = 0; k < TERMINAL_INFO_FIELDS.length; k++) {
    const f = TERMINAL_INFO_FIELDS[k]!;
    const v = info[f.key];
    if (v !== null) into[names[k]!] = headerText(v, f.kind);
  }
}

/** Python's to_headers tail: input_obj headers for required fields, then the sizes and the body hash. */
function finishHeaders(spec: SynapseSpec | null, fields: Record<string, unknown>, headers: Record<string, string>, totalSize: number): void {
  if (spec) {
    for (const { key, field } of specLayout(spec).fields) {
      if (field.default !== undefined || fields[key] === null || fields[key] === undefined) continue;
      const empty = field.type === 'string' ? '""' : field.type === 'int' ? '0' : field.type === 'float' ? '0.0' : 'false';
      headers[`bt_header_input_obj_${key}`] = Buffer.from(empty, 'utf8').toString('base64');
    }
  }
  // Python puts sys.getsizeof() of its objects here (CPython memory, checked by nobody);
  // we put the byte sizes these fields are documented to be.
  let headerBytes = 0;
  for (const k of Object.keys(headers)) headerBytes += k.length + headers[k]!.length + 4;
  headers.header_size = String(headerBytes);
  headers.total_size = String(totalSize);
  headers.computed_body_hash = spec ? computeBodyHash(spec, fields as never) : EMPTY_BODY_HASH;
}

// --- headers in: src/protocol/requestHeaders.ts ----------------------------------------------

export type { HeaderInput } from './requestHeaders.js';

// --- bodies in -----------------------------------------------------------------------------

/** Stateless between calls (no `stream: true`), so one serves every request. BOM kept: JSON refuses it, like Python. */
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function bodyText(raw: string | Uint8Array, maxBytes: number, onError: (code: 'body-too-large' | 'malformed-json', msg: string) => never): string {
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
function parseBodyObject(text: string, allowNonFinite: boolean, onError: (msg: string, kind: 'syntax' | 'shape') => never): JsonObject {
  let value: JsonValue;
  try {
    value = parseJson(text, { maxDepth: 32, allowNonFinite });
  } catch (err) {
    if (err instanceof JsonSyntaxError) return onError(`body is not JSON: ${err.message}`, err.reason === 'nested too deep' ? 'shape' : 'syntax');
    throw err;
  }
  if (!(value instanceof Map)) return onError(`body must be a JSON object, got ${describe(value)}`, 'shape');
  return value;
}

// --- requests ------------------------------------------------------------------------------

export interface DendriteIdentity {
  hotkey: string;
  /** One per dendrite instance (Python uses uuid1); the axon tracks nonces per `{hotkey}:{uuid}`. */
  uuid: string;
  /** The dendrite's external IP, as Python sends it; omitted when null. */
  ip?: string | null;
  version?: number;
}

export interface AxonTarget {
  hotkey: string;
  ip: string;
  port: number;
}

export interface EncodeRequestParams<R extends SynapseRef> {
  synapse: R;
  /** Caller-set fields; the others keep their defaults. */
  fields: Partial<RequestFields<SpecOf<R>>>;
  timeoutSec: number;
  /** `time_ns()` now; must grow from one request to the next of this dendrite to the same axon. */
  nonce: bigint;
  dendrite: DendriteIdentity;
  axon: AxonTarget;
  /** sr25519 signature (64 bytes) of the message bytes with the dendrite's hotkey. */
  sign: (message: Uint8Array) => Uint8Array;
}

export interface EncodedRequest {
  /** `/{SynapseName}`: POST it to `http://{axon.ip}:{axon.port}{path}`. */
  path: string;
  headers: Record<string, string>;
  body: string;
  signingMessage: string;
  bodyHash: string;
}

function checkEncode(cond: boolean, what: string): void {
  if (!cond) throw new ProtocolError('invalid-encode-input', what);
}

/** Builds a request exactly as a Python dendrite (`preprocess_synapse_for_request`, `to_headers`, aiohttp `json=`) does. */
export function encodeRequest<R extends SynapseRef>(params: EncodeRequestParams<R>): EncodedRequest {
  const spec: SynapseSpec = resolveSynapse(params.synapse);
  const { dendrite, axon } = params;
  checkEncode(Number.isFinite(params.timeoutSec) && params.timeoutSec > 0 && params.timeoutSec <= 86_400, 'timeoutSec must be in (0, 86400]');
  checkEncode(typeof params.nonce === 'bigint' && params.nonce >= 0n && params.nonce <= LIMITS.nonce.max, 'nonce must be a u64 bigint');
  checkEncode(TOKEN.test(dendrite.hotkey) && dendrite.hotkey.length <= 64, 'dendrite hotkey');
  checkEncode(TOKEN.test(dendrite.uuid) && dendrite.uuid.length <= 64, 'dendrite uuid');
  checkEncode(dendrite.ip == null || (TOKEN.test(dendrite.ip) && dendrite.ip.length <= 64), 'dendrite ip');
  checkEncode(TOKEN.test(axon.hotkey) && axon.hotkey.length <= 64, 'axon hotkey');
  checkEncode(TOKEN.test(axon.ip) && axon.ip.length <= 64, 'axon ip');
  checkEncode(Number.isInteger(axon.port) && axon.port >= 0 && axon.port <= 65_535, 'axon port');
  const version = dendrite.version ?? BITTENSOR_WIRE_VERSION;
  checkEncode(Number.isInteger(version) && version >= 0 && version <= 2_147_483_647, 'dendrite version');

  const given = params.fields as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const { key, field } of specLayout(spec).fields) {
    const value = Object.hasOwn(given, key) && given[key] !== undefined ? given[key] : field.default;
    if (value === undefined) throw new ProtocolError('invalid-encode-input', `${spec.name}.${key} has no default and was not given`);
    const r = checkTsValue(field, value);
    if (!r.ok) throw new ProtocolError('invalid-encode-input', `${spec.name}.${key} ${r.reason}`);
    fields[key] = r.value;
  }
  const bodyHash = computeBodyHash(spec, fields as never);

  const dendriteInfo: TerminalInfo = { ...emptyTerminalInfo(), ip: dendrite.ip ?? null, version, nonce: params.nonce, uuid: dendrite.uuid, hotkey: dendrite.hotkey };
  const axonInfo: TerminalInfo = { ...emptyTerminalInfo(), ip: axon.ip, port: axon.port, hotkey: axon.hotkey };
  const message = signingMessage({ nonce: params.nonce, dendriteHotkey: dendrite.hotkey, axonHotkey: axon.hotkey, uuid: dendrite.uuid, bodyHash });
  const signature = params.sign(new TextEncoder().encode(message));
  checkEncode(signature instanceof Uint8Array && signature.length === 64, 'sign() must return a 64-byte sr25519 signature');
  dendriteInfo.signature = `0x${Buffer.from(signature).toString('hex')}`;

  // Python's body: model_dump() in declaration order; header_size stays 0 and
  // computed_body_hash "" (frozen); total_size equals the header's (set by to_headers first).
  const renderBody = (totalSize: number): string =>
    synapseBodyJson(spec, { timeout: params.timeoutSec, totalSize, headerSize: 0, dendrite: dendriteInfo, axon: axonInfo, computedBodyHash: '' }, fields, PY_DUMPS_DEFAULT);
  let totalSize = 0;
  let body = renderBody(totalSize);
  for (let round = 0; round < 4 && Buffer.byteLength(body, 'utf8') !== totalSize; round++) {
    totalSize = Buffer.byteLength(body, 'utf8');
    body = renderBody(totalSize);
  }

  const headers: Record<string, string> = { name: spec.name, timeout: pyFloatRepr(params.timeoutSec) };
  terminalHeaders('axon', axonInfo, headers);
  terminalHeaders('dendrite', dendriteInfo, headers);
  finishHeaders(spec, fields, headers, totalSize);
  headers['content-type'] = 'application/json';
  return { path: `/${spec.name}`, headers, body, signingMessage: message, bodyHash };
}

/** What a request's headers say: what a Python axon's blacklist and verify read, before the body. */
export interface RequestHead<S extends SynapseSpec = SynapseSpec> {
  /** The synapse name: narrow on it (`if (req.synapseName === 'ProviderProbe')`) to get typed fields. */
  synapseName: S['name'];
  synapse: S;
  /** Null when absent or empty (the blacklist then refuses). */
  dendriteHotkey: string | null;
  /** Any size and sign, as Python's `int()` reads it. Null when absent (verify then fails). */
  nonce: bigint | null;
  /** As sent ("" stays "", as in Python); null when absent (signed as `None`). */
  uuid: string | null;
  /** As sent (`0x` + hex; see `readSignatureText`); null when absent or empty. */
  signature: string | null;
  version: number | null;
  /** The `timeout` header as Python's `float()` reads it: may be NaN, infinite, zero or negative. */
  timeoutSec: number | null;
  /** The `computed_body_hash` header: the hash the signature covers. */
  headerBodyHash: string | null;
  /** The hotkey the caller believes it is talking to (the verifier uses its own, as Python does). */
  axonHotkey: string | null;
  dendriteIp: string | null;
  /** The `content-type` header. */
  contentType: string | null;
  /** The dendrite/axon values from the headers (for error responses). */
  headerTerminals: { dendrite: TerminalInfo; axon: TerminalInfo };
}

export interface DecodedRequest<S extends SynapseSpec = SynapseSpec> extends RequestHead<S> {
  /** The synapse fields from the body: what a Python handler receives. */
  fields: SynapseFields<S>;
  /** The body hash recomputed from `fields`. */
  bodyHash: string;
  /** The body's common fields, echoed in the success response as a Python axon does. */
  envelope: SynapseEnvelope;
}

/** `DecodedRequest` distributed over a union of synapses, so that `synapseName` narrows it. */
export type DecodedRequestOf<S> = S extends SynapseSpec ? DecodedRequest<S> : never;
export type RequestHeadOf<S> = S extends SynapseSpec ? RequestHead<S> : never;

export interface DecodeRequestOptions {
  maxBodyBytes?: number;
}

/**
 * Parses a request for a known synapse (check `isKnownSynapse(path name)` first: unknown is 404):
 * `decodeRequestHead` then `decodeRequestBody`. An axon answering like Python's runs its
 * blacklist and verify between the two: Python reads the body only after them.
 */
export function decodeRequest<R extends SynapseRef>(synapse: R, headers: HeaderInput, rawBody: string | Uint8Array, options: DecodeRequestOptions = {}): DecodedRequestOf<SpecOf<R>> {
  return decodeRequestBody(decodeRequestHead(synapse, headers), rawBody, options) as DecodedRequestOf<SpecOf<R>>;
}

/** Runs a decoding step; anything but a ProtocolError (a bug on hostile input) still becomes a 400. */
function guarded<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError('malformed-json', 'request could not be parsed', { cause: err });
  }
}

/**
 * The request's headers as a Python axon's `Synapse.from_headers` reads them (src/protocol/requestHeaders.ts):
 * what Python cannot parse is an `invalid-header` ProtocolError (400; Python answers 500). Missing
 * auth headers are NOT errors here: they come back as null so the pipeline answers in Python's
 * order (blacklist 403, then verify 401).
 */
export function decodeRequestHead<R extends SynapseRef>(synapse: R, headers: HeaderInput): RequestHeadOf<SpecOf<R>> {
  const spec = resolveSynapse(synapse) as SpecOf<R> & SynapseSpec;
  return guarded(() => {
    const checkInputObj = (key: string, value: JsonValue): string | null => {
      const field = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
      if (field === undefined) return null;
      const r = readFieldPython(field, value);
      return r.ok ? null : `${spec.name}.${key} ${r.reason}`;
    };
    const h = readRequestHeaders(headers, { strict: true, checkInputObj });
    const contentType = new HeaderTable(headers, () => undefined).get('content-type');
    return {
      synapseName: spec.name,
      synapse: spec,
      dendriteHotkey: h.dendrite.hotkey || null, // Python's blacklists test `not hotkey`
      nonce: h.dendrite.nonce,
      uuid: h.dendrite.uuid,
      signature: h.dendrite.signature || null, // Python: `if not synapse.dendrite.signature` → Missing Signature
      version: h.dendrite.version,
      timeoutSec: h.timeoutSec,
      headerBodyHash: h.computedBodyHash,
      axonHotkey: h.axon.hotkey,
      dendriteIp: h.dendrite.ip,
      contentType,
      headerTerminals: { dendrite: h.dendrite, axon: h.axon },
    } as RequestHeadOf<SpecOf<R>>;
  });
}

/** FastAPI's test of a body's content-type: `application/json` or `application/*+json` (parameters ignored). */
function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const type = (value.split(';')[0] ?? '').trim().toLowerCase();
  const parts = type.split('/');
  if (parts.length !== 2 || parts[0] !== 'application') return false;
  return parts[1] === 'json' || parts[1]!.endsWith('+json');
}

/**
 * The body of a request whose head was read, in FastAPI's order: empty (400; Python 500), not
 * JSON by its content-type (415; Python 500), not UTF-8 (400, as Python), not JSON (422, as
 * Python), then our strict reading: a JSON object whose fields have their exact types and
 * limits (400; Python 500 or, for values it coerces, 200).
 */
export function decodeRequestBody<S extends SynapseSpec>(head: RequestHead<S>, rawBody: string | Uint8Array, options: DecodeRequestOptions = {}): DecodedRequest<S> {
  return guarded(() => {
    const spec: SynapseSpec = head.synapse;
    if ((typeof rawBody === 'string' ? rawBody.length : rawBody.byteLength) === 0) throw new ProtocolError('malformed-json', 'body is empty');
    const text = bodyText(rawBody, options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES, refuseRequestBody);
    if (!isJsonContentType(head.contentType)) throw new ProtocolError('unsupported-media-type', `content-type must be application/json, got ${head.contentType === null ? 'none' : excerpt(head.contentType)}`);
    const body = parseBodyObject(text, true, refuseRequestJson);
    const envelope = readEnvelope(body, 'strict');
    if (isError(envelope)) throw new ProtocolError('invalid-field', envelope.error);
    const read = readSynapseFields(spec, body, 'strict');
    if ('error' in read) throw new ProtocolError('invalid-field', `${spec.name}: ${read.error}`);
    const fields = read.fields as SynapseFields<S>;
    return { ...head, fields, bodyHash: computeBodyHash(spec, fields as never), envelope };
  });
}

function refuseRequestBody(code: 'body-too-large' | 'malformed-json', message: string): never {
  throw new ProtocolError(code, message);
}

function refuseRequestJson(message: string, kind: 'syntax' | 'shape'): never {
  throw new ProtocolError(kind === 'syntax' ? 'json-syntax' : 'malformed-json', message);
}

/** The message to verify the request's signature against, with the axon's OWN hotkey (as Python's `default_verify`). */
export function requestSigningMessage(request: RequestHead<SynapseSpec>, ownHotkey: string): string {
  return signingMessage({ nonce: request.nonce, dendriteHotkey: request.dendriteHotkey, axonHotkey: ownHotkey, uuid: request.uuid, bodyHash: request.headerBodyHash });
}

/** The axon's integrity check (after verify): the signed header hash must equal the body's. Python answers 500. */
export function checkBodyHash(request: DecodedRequest<SynapseSpec>): ProtocolError | null {
  const header = request.headerBodyHash ?? '';
  if (header === request.bodyHash) return null;
  return new ProtocolError('body-hash-mismatch', bodyHashMismatchMessage(header, request.bodyHash));
}

// --- responses out ---------------------------------------------------------------------------

export interface EncodedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface EncodeResponseOptions {
  /** Seconds the handler took (`bt_header_axon_process_time`). */
  processTimeSec: number;
  /** Default 200. */
  status?: number;
  /** Default "Success" for 200. */
  message?: string | null;
}

/**
 * The answer of a Python axon to `request` (Starlette JSONResponse of the body synapse):
 * the request body's synapse echoed, the handler's fields filled, `axon.status_code`,
 * `status_message` and `process_time` set; headers are its `to_headers()`.
 */
export function encodeResponse<S extends SynapseSpec>(request: DecodedRequest<S>, filled: Partial<ResponseFields<S>>, options: EncodeResponseOptions): EncodedResponse {
  const spec: SynapseSpec = request.synapse;
  const status = options.status ?? STATUS.SUCCESS;
  checkEncode(Number.isInteger(status) && status >= 100 && status <= 999, 'status must be an HTTP status');
  checkEncode(Number.isFinite(options.processTimeSec) && options.processTimeSec >= 0, 'processTimeSec must be ≥ 0');
  const message = options.message ?? (status === STATUS.SUCCESS ? SUCCESS_MESSAGE : null);

  const given = filled as Record<string, unknown>;
  const fields: Record<string, unknown> = { ...(request.fields as Record<string, unknown>) };
  for (const { key, field } of specLayout(spec).fields) {
    if (field.role !== 'response' || !Object.hasOwn(given, key) || given[key] === undefined) continue;
    const r = checkTsValue(field, given[key]);
    if (!r.ok) throw new ProtocolError('invalid-encode-input', `${spec.name}.${key} ${r.reason}`);
    fields[key] = r.value;
  }

  const env = request.envelope;
  // A null timeout would print as "None" and break a Python dendrite's header parsing.
  const headerTimeout = request.timeoutSec !== null && Number.isFinite(request.timeoutSec) ? request.timeoutSec : null;
  const timeout = env.timeout ?? headerTimeout ?? DEFAULT_TIMEOUT_SEC;
  const axon: TerminalInfo = { ...(env.axon ?? emptyTerminalInfo()), statusCode: status, statusMessage: message, processTime: options.processTimeSec };
  const body = synapseBodyJson(
    spec,
    { timeout, totalSize: env.totalSize, headerSize: env.headerSize, dendrite: env.dendrite, axon, computedBodyHash: env.computedBodyHash },
    fields,
    PY_STARLETTE,
  );

  const headers: Record<string, string> = { name: spec.name, timeout: pyFloatRepr(timeout) };
  terminalHeaders('axon', axon, headers);
  terminalHeaders('dendrite', env.dendrite, headers);
  finishHeaders(spec, fields, headers, Buffer.byteLength(body, 'utf8'));
  headers['content-type'] = 'application/json';
  return { status, headers, body };
}

/** What the axon says about itself in error headers (Python fills these in `preprocess`). */
export interface AxonIdentity {
  hotkey?: string | null;
  ip?: string | null;
  port?: number | null;
  version?: number | null;
  uuid?: string | null;
  /** `time_ns()` when the request arrived. */
  nonce?: bigint | null;
  /** Signs `bt_header_axon_signature` like Python (optional: no Python dendrite checks it). */
  sign?: (message: Uint8Array) => Uint8Array;
}

export interface ErrorResponseOptions {
  /** The synapse of the URL, when known; the headers then echo the request like Python's. */
  synapseName?: string | null;
  /** The decoded request (or its head), when decoding succeeded. */
  request?: RequestHead<SynapseSpec> | DecodedRequest<SynapseSpec>;
  /** The raw request headers, when decoding failed: whatever of them is well-formed is echoed. */
  requestHeaders?: HeaderInput;
  axon?: AxonIdentity;
  /** The caller's address as the server saw it (Python overwrites the dendrite ip/port with it). */
  client?: { ip: string | null; port: number | null };
  processTimeSec?: number;
}

/**
 * An error answer like Python's `create_error_response`: body `{"message": …}`, status as
 * given, and the headers of the synapse built from the request headers (or a bare
 * `Synapse` when the URL named no known synapse). Every numeric header parses as a number.
 */
export function encodeErrorResponse(status: number, message: string, options: ErrorResponseOptions = {}): EncodedResponse {
  const safeStatus = Number.isInteger(status) && status >= 100 && status <= 999 ? status : STATUS.INTERNAL_ERROR;
  const text = String(message).slice(0, LIMITS.statusMessage);
  const name = options.request?.synapse.name ?? (options.synapseName && isKnownSynapse(options.synapseName) ? options.synapseName : null);
  const spec = name === null ? null : resolveSynapse(name as SynapseRef);

  let dendrite: TerminalInfo | null = null;
  let axon = emptyTerminalInfo();
  let timeout: number = DEFAULT_TIMEOUT_SEC;
  if (spec !== null) {
    const source = options.request ? { timeoutSec: options.request.timeoutSec, ...options.request.headerTerminals } : readRequestHeaders(options.requestHeaders, { strict: false });
    const h = { timeoutSec: source.timeoutSec, dendrite: echoable(source.dendrite), axon: echoable(source.axon) };
    // Echoed only when it prints as a plain number (Python would echo `nan` or `inf` too).
    timeout = h.timeoutSec !== null && Number.isFinite(h.timeoutSec) ? h.timeoutSec : DEFAULT_TIMEOUT_SEC;
    dendrite = h.dendrite;
    axon = h.axon;
    if (options.client) {
      dendrite.ip = options.client.ip !== null && TOKEN.test(options.client.ip) ? options.client.ip : dendrite.ip;
      dendrite.port = options.client.port ?? dendrite.port;
    }
    const id = options.axon ?? {};
    const token = (v: string | null | undefined): string | null => (typeof v === 'string' && TOKEN.test(v) && v.length <= 64 ? v : null);
    axon.hotkey = axon.hotkey ?? token(id.hotkey);
    axon.ip = axon.ip ?? token(id.ip);
    axon.port = axon.port ?? (Number.isInteger(id.port) ? (id.port as number) : null);
    axon.version = Number.isInteger(id.version) ? (id.version as number) : BITTENSOR_WIRE_VERSION;
    axon.uuid = token(id.uuid);
    axon.nonce = typeof id.nonce === 'bigint' ? id.nonce : null;
    if (id.sign && axon.nonce !== null && axon.uuid !== null) {
      const msg = axonSigningMessage({ nonce: axon.nonce, dendriteHotkey: dendrite.hotkey, axonHotkey: axon.hotkey, uuid: axon.uuid });
      const sig = id.sign(new TextEncoder().encode(msg));
      if (sig instanceof Uint8Array && sig.length === 64) axon.signature = `0x${Buffer.from(sig).toString('hex')}`;
    }
  }
  axon.statusCode = safeStatus;
  axon.statusMessage = text;
  const pt = options.processTimeSec;
  axon.processTime = typeof pt === 'number' && Number.isFinite(pt) && pt >= 0 ? pt : 0;

  const body = pyJsonDumps({ message: text }, PY_STARLETTE);
  const headers: Record<string, string> = { name: name ?? 'Synapse', timeout: pyFloatRepr(timeout) };
  terminalHeaders('axon', axon, headers);
  terminalHeaders('dendrite', dendrite, headers);
  const fields = options.request && 'fields' in options.request ? options.request.fields : {};
  finishHeaders(spec, spec ? { ...fields } : {}, headers, Buffer.byteLength(body, 'utf8'));
  headers['content-type'] = 'application/json';
  return { status: safeStatus, headers, body };
}

// --- responses in --------------------------------------------------------------------------

export interface DecodedResponse<S extends SynapseSpec = SynapseSpec> {
  /** The HTTP status line. */
  httpStatus: number;
  /** What a Python dendrite records as `dendrite.status_code`: the `bt_header_axon_status_code` header, else the body's or the HTTP status. */
  statusCode: number | null;
  statusMessage: string | null;
  /**
   * Every synapse field as the axon returned it (its `deserialize()`), only for HTTP 200 —
   * a Python dendrite keeps its own unfilled fields for any other status.
   */
  fields: SynapseFields<S> | null;
  /** The axon's `process_time`, seconds. */
  processTimeSec: number | null;
  /** The axon terminal after the header overlay (hotkey, status, …). */
  axon: TerminalInfo;
  /** The body's common fields (timeout, sizes, echoed dendrite), only for HTTP 200. */
  envelope: SynapseEnvelope | null;
}

export interface DecodeResponseOptions {
  coercion?: Coercion;
  maxBodyBytes?: number;
}

const STRICT_HEADER_INT = /^-?\d{1,20}$/;
const DECIMAL_FLOAT = /^-?\d{1,20}(?:\.\d{1,20})?(?:[eE][+-]?\d{1,3})?$/;

/**
 * Parses an axon's answer as a Python dendrite (`process_server_response`) would; an answer
 * a Python dendrite could not use (it records 422) is a ProtocolError `unparseable-response`.
 * `coercion: 'strict'` (default) also wants exact JSON types and our field limits;
 * `'python'` accepts exactly what pydantic's lax mode accepts, for score parity.
 */
export function decodeResponse<R extends SynapseRef>(
  synapse: R,
  httpStatus: number,
  headers: HeaderInput,
  rawBody: string | Uint8Array,
  options: DecodeResponseOptions = {},
): DecodedResponse<SpecOf<R>> {
  try {
    return decodeResponseUnsafe(synapse, httpStatus, headers, rawBody, options);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError('unparseable-response', 'response could not be parsed', { cause: err, details: { httpStatus } });
  }
}

function decodeResponseUnsafe<R extends SynapseRef>(
  synapse: R,
  httpStatus: number,
  headers: HeaderInput,
  rawBody: string | Uint8Array,
  options: DecodeResponseOptions,
): DecodedResponse<SpecOf<R>> {
  const spec = resolveSynapse(synapse) as SpecOf<R> & SynapseSpec;
  const coercion = options.coercion ?? 'strict';
  const fail = (msg: string): never => {
    throw new ProtocolError('unparseable-response', msg, { details: { httpStatus } });
  };
  const text = bodyText(rawBody, options.maxBodyBytes ?? MAX_RESPONSE_BODY_BYTES, (_code, msg) => fail(msg));
  const body = parseBodyObject(text, coercion === 'python', fail);

  // Synapse.from_headers(response headers): every known header must parse, or Python raises.
  const headerTable = new HeaderTable(headers, (name) => (coercion === 'strict' ? fail(`header ${name} given more than once`) : undefined));
  const get = (name: string): string | null => headerTable.get(name);
  const headerInt = (name: string): bigint | null => {
    const v = get(name);
    if (v === null) return null;
    const n = coercion === 'strict' ? (STRICT_HEADER_INT.test(v) ? BigInt(v) : null) : pyIntFromText(v);
    return n === null ? fail(`header ${name} is not an integer: ${excerpt(v)}`) : n;
  };
  const headerFloat = (name: string): number | null => {
    const v = get(name);
    if (v === null) return null;
    const x = coercion === 'strict' ? (DECIMAL_FLOAT.test(v) ? Number(v) : null) : pyFloatFromText(v);
    return x === null ? fail(`header ${name} is not a number: ${excerpt(v)}`) : x;
  };
  headerFloat('timeout');
  headerInt('header_size');
  headerInt('total_size');
  const overlay = (prefix: 'axon' | 'dendrite'): Partial<TerminalInfo> => {
    const o: Record<string, unknown> = {};
    for (const f of TERMINAL_INFO_FIELDS) {
      const name = `bt_header_${prefix}_${f.wire}`;
      let v: unknown;
      if (f.kind === 'int' || f.kind === 'bigint') {
        const n = headerInt(name);
        v = n === null ? null : f.kind === 'bigint' ? n : Number(n);
      } else if (f.kind === 'float') v = headerFloat(name);
      else v = get(name);
      if (v !== null) o[f.key] = v;
    }
    return o as Partial<TerminalInfo>;
  };
  const headerAxon = overlay('axon');
  const headerDendrite = overlay('dendrite');

  if (httpStatus === STATUS.SUCCESS) {
    const envelope = readEnvelope(body, coercion);
    if (isError(envelope)) return fail(envelope.error);
    const read = readSynapseFields(spec, body, coercion);
    if ('error' in read) return fail(`${spec.name}: ${read.error}`);
    const axon: TerminalInfo = { ...(envelope.axon ?? emptyTerminalInfo()), ...headerAxon };
    return {
      httpStatus,
      statusCode: axon.statusCode,
      statusMessage: axon.statusMessage,
      fields: read.fields as SynapseFields<SpecOf<R>>,
      processTimeSec: axon.processTime,
      axon,
      envelope: { ...envelope, axon, dendrite: { ...(envelope.dendrite ?? emptyTerminalInfo()), ...headerDendrite } },
    };
  }
  const message = body.get('message');
  if (message !== undefined && message !== null && typeof message !== 'string') return fail(`error message must be a string, got ${describe(message)}`);
  const axon: TerminalInfo = { ...emptyTerminalInfo(), statusCode: httpStatus, statusMessage: message ?? null, ...headerAxon };
  return { httpStatus, statusCode: axon.statusCode, statusMessage: axon.statusMessage, fields: null, processTimeSec: axon.processTime, axon, envelope: null };
}
