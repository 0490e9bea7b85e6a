/**
 * Headers out: a synapse's `to_headers()` (TerminalInfo values as `str()` prints them, the
 * input_obj headers, the sizes and the body hash), every value kept printable ASCII.
 *
 * Headers in: a case-insensitive table over any header input, and what a Python axon reads
 * from a request's headers (`Synapse.from_headers`, bittensor 10.x) with the same rules, so
 * that our axon refuses the headers a Python axon cannot parse and accepts those it can:
 *
 * - every header whose name CONTAINS `bt_header_axon_` / `bt_header_dendrite_` fills that
 *   TerminalInfo field: integers as CPython's `int()` reads text (`" +1_2 "` is 12, any size),
 *   `process_time` as `float()`, text fields as they are (empty stays empty);
 * - `timeout` is `float()` (NaN, inf, 0 and negatives included), `header_size` and
 *   `total_size` `int()`; `computed_body_hash` any text;
 * - `bt_header_input_obj_<field>` is base64 → UTF-8 → JSON (each step failing silently, as in
 *   Python), then the value must validate as that field (pydantic lax mode).
 * What Python cannot parse it answers with 500; we answer 400 (`invalid-header`). One rule is
 * ours: a header given twice is refused (Python silently keeps one of the values).
 */
import { specLayout } from './fields.js';
import { parseJson, type JsonValue } from './json.js';
import { pyFloatFromText, pyFloatRepr, pyIntFromText } from './python.js';
import { computeBodyHash, EMPTY_BODY_HASH } from './signing.js';
import { ProtocolError } from './status.js';
import { emptyTerminalInfo, TERMINAL_INFO_FIELDS, type SynapseSpec, type TerminalInfo } from './synapses.js';

// --- headers out ----------------------------------------------------------------------------

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

export function terminalHeaders(prefix: 'axon' | 'dendrite', info: TerminalInfo | null, into: Record<string, string>): void {
  if (info === null) return;
  const names = TERMINAL_HEADER_NAMES[prefix];
  for (let k = 0; k < TERMINAL_INFO_FIELDS.length; k++) {
    const f = TERMINAL_INFO_FIELDS[k]!;
    const v = info[f.key];
    if (v !== null) into[names[k]!] = headerText(v, f.kind);
  }
}

/** Python's to_headers tail: input_obj headers for required fields, then the sizes and the body hash. */
export function finishHeaders(spec: SynapseSpec | null, fields: Record<string, unknown>, headers: Record<string, string>, totalSize: number): void {
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

// --- headers in -----------------------------------------------------------------------------

/** Request or response headers: Node's `IncomingHttpHeaders`, a plain record, or a fetch `Headers`. */
export type HeaderInput = { get(name: string): string | null } | Readonly<Record<string, string | readonly string[] | number | undefined>>;

type FetchHeaders = { get(name: string): string | null; forEach?: (fn: (value: string, name: string) => void) => void };

/**
 * Case-insensitive lookup; a header given twice is an error (strict: `onDuplicate` throws) or
 * reads as absent (lenient). Node's request headers are already lower-case, so a record whose
 * names `toLowerCase()` leaves unchanged is read in place; any other is copied into a map first.
 */
export class HeaderTable {
  private readonly fetchHeaders: FetchHeaders | null = null;
  private readonly record: Readonly<Record<string, unknown>> | null = null;
  private readonly map: Map<string, string | null> | null = null;

  constructor(input: HeaderInput | undefined, onDuplicate: (name: string) => void) {
    if (input === undefined || input === null) return;
    if (typeof (input as { get?: unknown }).get === 'function') {
      this.fetchHeaders = input as FetchHeaders;
      return;
    }
    const record = input as Readonly<Record<string, unknown>>;
    // In the order the map below would see them, so that the same header is reported first.
    for (const name of Object.keys(record)) {
      if (name !== name.toLowerCase()) {
        this.map = headerMap(record, onDuplicate);
        return;
      }
      const raw = record[name];
      if (raw !== undefined && singleHeaderValue(raw) === undefined) onDuplicate(name);
    }
    this.record = record;
  }

  get(name: string): string | null {
    if (this.record !== null) {
      if (!Object.prototype.propertyIsEnumerable.call(this.record, name)) return null;
      return singleHeaderValue(this.record[name]) ?? null;
    }
    if (this.map !== null) return this.map.get(name) ?? null;
    if (this.fetchHeaders !== null) {
      const v = this.fetchHeaders.get(name);
      return typeof v === 'string' ? v : null;
    }
    return null;
  }

  /** Every header name (lower case) with one value, in the order given. */
  names(): string[] {
    if (this.record !== null) return Object.keys(this.record).filter((n) => singleHeaderValue(this.record![n]) !== undefined);
    if (this.map !== null) return [...this.map.keys()].filter((n) => this.map!.get(n) !== null);
    const out: string[] = [];
    this.fetchHeaders?.forEach?.((_v, n) => {
      out.push(n.toLowerCase());
    });
    return out;
  }
}

/** A header's one value as text; undefined when absent or not one value (an array of several, an object…). */
function singleHeaderValue(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (typeof raw === 'number') return String(raw);
  if (Array.isArray(raw) && raw.length === 1 && typeof raw[0] === 'string') return raw[0];
  return undefined;
}

function headerMap(record: Readonly<Record<string, unknown>>, onDuplicate: (name: string) => void): Map<string, string | null> {
  const map = new Map<string, string | null>();
  for (const [rawName, raw] of Object.entries(record)) {
    const name = rawName.toLowerCase();
    if (raw === undefined) continue;
    let value = singleHeaderValue(raw) ?? null;
    if (value === null) onDuplicate(name);
    if (map.has(name)) {
      onDuplicate(name);
      value = null;
    }
    map.set(name, value);
  }
  return map;
}

export function excerpt(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

/**
 * CPython's `base64.b64decode(text)` (non-strict `binascii.a2b_base64`): characters outside the
 * alphabet are skipped, a complete padding ends the input; null where Python raises (bad padding,
 * or text that is not ASCII).
 */
export function pyB64Decode(text: string): Uint8Array | null {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range, NUL included, is the point
  if (/[^\x00-\x7f]/.test(text)) return null;
  const out: number[] = [];
  let quad = 0;
  let acc = 0;
  let pads = 0;
  for (const ch of text) {
    if (ch === '=') {
      if (quad >= 2 && quad + ++pads >= 4) return Uint8Array.from(out);
      continue;
    }
    const v = B64_VALUE.get(ch);
    if (v === undefined) continue;
    pads = 0;
    acc = (acc << 6) | v;
    quad = (quad + 1) % 4;
    if (quad === 2) out.push((acc >> 4) & 0xff);
    else if (quad === 3) out.push((acc >> 2) & 0xff);
    else if (quad === 0) {
      out.push(acc & 0xff);
      acc = 0;
    }
  }
  return quad === 0 ? Uint8Array.from(out) : null;
}

const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** An input_obj header's value as Python decodes it; undefined where Python logs and skips it. */
function inputObjValue(text: string): JsonValue | undefined {
  const bytes = pyB64Decode(text);
  if (bytes === null) return undefined;
  try {
    return parseJson(UTF8_STRICT.decode(bytes), { allowNonFinite: true });
  } catch {
    return undefined;
  }
}

/** The request headers a Python axon's blacklist and verify read. */
export interface RequestHeaderValues {
  /** The `timeout` header as Python's `float()` reads it (may be NaN, infinite, zero or negative); null when absent. */
  timeoutSec: number | null;
  computedBodyHash: string | null;
  dendrite: TerminalInfo;
  axon: TerminalInfo;
}

export interface ReadRequestHeadersOptions {
  /** Strict: what Python cannot parse throws `invalid-header` (400); lenient: it reads as null. */
  strict: boolean;
  /** Validates an input_obj value against the synapse field `key` (unknown keys: null); the reason it fails, else null. */
  checkInputObj?: (key: string, value: JsonValue) => string | null;
}

function invalidHeader(strict: boolean, name: string, why: string): null {
  if (strict) throw new ProtocolError('invalid-header', `invalid header ${name}: ${why}`, { details: { header: name } });
  return null;
}

const duplicateHeaderStrict = (name: string): void => {
  invalidHeader(true, name, 'given more than once');
};
const duplicateHeaderLenient = (): void => {};

const SAFE = BigInt(Number.MAX_SAFE_INTEGER);
/** A Python int as a number for TerminalInfo (absurd sizes clamped: they only compare or echo). */
const clampInt = (n: bigint): number => Number(n > SAFE ? SAFE : n < -SAFE ? -SAFE : n);

function intHeader(name: string, text: string, strict: boolean): bigint | null {
  return pyIntFromText(text) ?? invalidHeader(strict, name, `${excerpt(text)} is not an integer`);
}

function terminalFrom(raw: ReadonlyMap<string, { name: string; value: string }>, strict: boolean): TerminalInfo {
  const info = emptyTerminalInfo();
  const out = info as unknown as Record<string, unknown>;
  for (const f of TERMINAL_INFO_FIELDS) {
    const h = raw.get(f.wire);
    if (h === undefined) continue;
    if (f.kind === 'string') out[f.key] = h.value;
    else if (f.kind === 'float') out[f.key] = pyFloatFromText(h.value) ?? invalidHeader(strict, h.name, `${excerpt(h.value)} is not a number`);
    else {
      const n = intHeader(h.name, h.value, strict);
      out[f.key] = n === null ? null : f.kind === 'bigint' ? n : clampInt(n);
    }
  }
  return info;
}

/** What `Synapse.from_headers` reads from request headers, with its rules (see the file comment). */
export function readRequestHeaders(input: HeaderInput | undefined, options: ReadRequestHeadersOptions): RequestHeaderValues {
  const { strict } = options;
  const headers = new HeaderTable(input, strict ? duplicateHeaderStrict : duplicateHeaderLenient);
  const axonRaw = new Map<string, { name: string; value: string }>();
  const dendriteRaw = new Map<string, { name: string; value: string }>();
  const inputObjs = new Set<string>(['axon', 'dendrite']);
  for (const name of headers.names()) {
    const value = headers.get(name)!;
    if (name.includes('bt_header_axon_')) axonRaw.set(name.split('bt_header_axon_')[1]!, { name, value });
    else if (name.includes('bt_header_dendrite_')) dendriteRaw.set(name.split('bt_header_dendrite_')[1]!, { name, value });
    else if (name.includes('bt_header_input_obj') && options.checkInputObj) {
      const key = name.split('bt_header_input_obj_')[1];
      if (key === undefined || inputObjs.has(key)) continue;
      const v = inputObjValue(value);
      if (v === undefined) continue;
      inputObjs.add(key);
      const why = options.checkInputObj(key, v);
      if (why !== null) invalidHeader(strict, name, why);
    }
  }

  const timeoutText = headers.get('timeout');
  const timeoutSec =
    timeoutText === null ? null : (pyFloatFromText(timeoutText) ?? invalidHeader(strict, 'timeout', `${excerpt(timeoutText)} is not a number`));
  for (const name of ['header_size', 'total_size']) {
    const text = headers.get(name);
    if (text !== null) intHeader(name, text, strict);
  }
  return { timeoutSec, computedBodyHash: headers.get('computed_body_hash'), dendrite: terminalFrom(dendriteRaw, strict), axon: terminalFrom(axonRaw, strict) };
}
