/**
 * JSON in and out the way the bittensor wire needs it.
 *
 * Parsing: `JSON.parse` loses the 19-digit nanosecond nonces that Python writes as plain
 * integers and cannot tell `12` from `12.0`, so this small strict parser gives integer
 * literals as `bigint`, every other number as `number`, objects as `Map` (so `__proto__`
 * is just a key), and stops at a depth limit. It only throws `JsonSyntaxError`.
 *
 * Printing: `pyJsonDumps` writes what CPython's `json.dumps` writes (key order as given,
 * `30.0` for floats, its separators and `ensure_ascii` escaping), so our requests are the
 * bytes a Python dendrite sends and our responses the bytes a Python axon sends.
 */
import { pyFloatRepr } from './python.js';

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export type JsonObject = Map<string, JsonValue>;

export class JsonSyntaxError extends Error {
  override name = 'JsonSyntaxError';
  constructor(
    /** What is wrong, without the position (`nested too deep` for the depth limit). */
    readonly reason: string,
    readonly position: number,
  ) {
    super(`${reason} at position ${position}`);
  }
}

export interface ParseJsonOptions {
  /** Deepest nesting of arrays and objects accepted (default 32). */
  maxDepth?: number;
  /** Accept `NaN`, `Infinity`, `-Infinity` like Python's `json.loads` (default false). */
  allowNonFinite?: boolean;
}

const MAX_INT_DIGITS = 4300; // CPython's json.loads refuses longer integers

/** Parses one JSON document (RFC 8259; whitespace around it allowed). Throws only JsonSyntaxError. */
export function parseJson(text: string, options: ParseJsonOptions = {}): JsonValue {
  const parser = new JsonParser(text, options.maxDepth ?? 32, options.allowNonFinite ?? false);
  const value = parser.parseValue(0);
  parser.skipWs();
  if (parser.i !== text.length) parser.fail('extra data');
  return value;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what JSON strings must escape
const ESCAPE_OR_CONTROL = /[\\\x00-\x1f]/;

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHexDigit = (c: number): boolean => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);

/**
 * The parser's state as one object with methods rather than closures: it runs once per
 * request, and per-call closures cost an allocation each (and a `__name` call under tsx).
 */
class JsonParser {
  i = 0;
  /**
   * No backslash and no control character anywhere (so in no string): every string then ends
   * at the next quote, which `indexOf` finds far faster than a loop over its characters. True
   * for most bodies: json.dumps escapes only what is not plain ASCII text.
   */
  readonly plainStrings: boolean;

  constructor(
    readonly text: string,
    readonly maxDepth: number,
    readonly allowNonFinite: boolean,
  ) {
    this.plainStrings = !ESCAPE_OR_CONTROL.test(text);
  }

  fail(message: string): never {
    throw new JsonSyntaxError(message, this.i);
  }

  skipWs(): void {
    const { text } = this;
    let i = this.i;
    while (i < text.length) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.i = i;
  }

  literal(word: string): void {
    if (this.text.startsWith(word, this.i)) this.i += word.length;
    else this.fail('unexpected token');
  }

  parseString(): string {
    const { text } = this;
    const n = text.length;
    let i = ++this.i; // after the opening quote
    if (this.plainStrings) {
      const end = text.indexOf('"', i);
      if (end >= 0) {
        this.i = end + 1;
        return text.slice(i, end);
      }
      this.i = n;
      this.fail('unterminated string');
    }
    let out = '';
    let start = i;
    while (true) {
      if (i >= n) {
        this.i = i;
        this.fail('unterminated string');
      }
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        this.i = i + 1;
        return out + text.slice(start, i);
      }
      if (c < 0x20) {
        this.i = i;
        this.fail('control character in string');
      }
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          if (
            !(
              i + 4 <= n &&
              isHexDigit(text.charCodeAt(i)) &&
              isHexDigit(text.charCodeAt(i + 1)) &&
              isHexDigit(text.charCodeAt(i + 2)) &&
              isHexDigit(text.charCodeAt(i + 3))
            )
          ) {
            this.i = i;
            this.fail('bad \\u escape');
          }
          out += String.fromCharCode(parseInt(text.slice(i, i + 4), 16));
          i += 4;
          break;
        }
        default:
          this.i = i - 1;
          this.fail('bad escape');
      }
      start = i;
    }
  }

  /** `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: without fraction and exponent an exact bigint. */
  parseNumber(): number | bigint {
    const { text } = this;
    const start = this.i;
    let p = start;
    if (text.charCodeAt(p) === 0x2d) p++;
    const first = text.charCodeAt(p);
    if (first === 0x30) p++;
    else if (first >= 0x31 && first <= 0x39) {
      p++;
      while (isDigit(text.charCodeAt(p))) p++;
    } else return this.fail('bad number');
    let integer = true;
    if (text.charCodeAt(p) === 0x2e && isDigit(text.charCodeAt(p + 1))) {
      p += 2;
      while (isDigit(text.charCodeAt(p))) p++;
      integer = false;
    }
    const e = text.charCodeAt(p);
    if (e === 0x65 || e === 0x45) {
      let q = p + 1;
      const sign = text.charCodeAt(q);
      if (sign === 0x2b || sign === 0x2d) q++;
      if (isDigit(text.charCodeAt(q))) {
        q++;
        while (isDigit(text.charCodeAt(q))) q++;
        p = q;
        integer = false;
      }
    }
    const raw = text.slice(start, p);
    this.i = p;
    if (integer) {
      if (raw.length - (text.charCodeAt(start) === 0x2d ? 1 : 0) > MAX_INT_DIGITS) this.fail('integer too long');
      return BigInt(raw);
    }
    return Number(raw);
  }

  parseValue(depth: number): JsonValue {
    this.skipWs();
    const { text } = this;
    if (this.i >= text.length) this.fail('unexpected end');
    const c = text.charCodeAt(this.i);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth);
      case 0x5b: // [
        return this.parseArray(depth);
      case 0x22: // "
        return this.parseString();
      case 0x74: // t
        this.literal('true');
        return true;
      case 0x66: // f
        this.literal('false');
        return false;
      case 0x6e: // n
        this.literal('null');
        return null;
      case 0x4e: // N
        if (!this.allowNonFinite) this.fail('unexpected token');
        this.literal('NaN');
        return NaN;
      case 0x49: // I
        if (!this.allowNonFinite) this.fail('unexpected token');
        this.literal('Infinity');
        return Infinity;
      default:
        if (c === 0x2d && this.allowNonFinite && text.startsWith('-Infinity', this.i)) {
          this.i += 9;
          return -Infinity;
        }
        if (c === 0x2d || isDigit(c)) return this.parseNumber();
        return this.fail('unexpected token');
    }
  }

  parseObject(depth: number): JsonObject {
    if (depth >= this.maxDepth) this.fail('nested too deep');
    const { text } = this;
    this.i++;
    const obj: JsonObject = new Map();
    this.skipWs();
    if (text.charCodeAt(this.i) === 0x7d) {
      this.i++;
      return obj;
    }
    while (true) {
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x22) this.fail('expected a key');
      const key = this.parseString();
      this.skipWs();
      if (text.charCodeAt(this.i) !== 0x3a) this.fail("expected ':'");
      this.i++;
      obj.set(key, this.parseValue(depth + 1)); // duplicate keys: the last wins, as in Python
      this.skipWs();
      const c = text.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x7d) {
        this.i++;
        return obj;
      }
      this.fail("expected ',' or '}'");
    }
  }

  parseArray(depth: number): JsonValue[] {
    if (depth >= this.maxDepth) this.fail('nested too deep');
    const { text } = this;
    this.i++;
    const arr: JsonValue[] = [];
    this.skipWs();
    if (text.charCodeAt(this.i) === 0x5d) {
      this.i++;
      return arr;
    }
    while (true) {
      arr.push(this.parseValue(depth + 1));
      this.skipWs();
      const c = text.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        continue;
      }
      if (c === 0x5d) {
        this.i++;
        return arr;
      }
      this.fail("expected ',' or ']'");
    }
  }
}

/** Marks a number that Python holds as a float, so it prints as `30.0` rather than `30`. */
export class PyFloat {
  constructor(readonly value: number) {}
}

export type PyJson = null | boolean | string | number | bigint | PyFloat | readonly PyJson[] | { readonly [key: string]: PyJson };

export interface PyJsonStyle {
  /** `(',', ':')` like Starlette's JSONResponse, else json.dumps' default `(', ', ': ')`. */
  compact: boolean;
  /** Escape every non-ASCII character (json.dumps' default), else write UTF-8 as is. */
  ensureAscii: boolean;
}

/** What aiohttp sends for `json=` (a Python dendrite's request body). */
export const PY_DUMPS_DEFAULT: PyJsonStyle = { compact: false, ensureAscii: true };
/** What Starlette's JSONResponse sends (a Python axon's response body). */
export const PY_STARLETTE: PyJsonStyle = { compact: true, ensureAscii: false };

function escapeChar(ch: string): string {
  switch (ch) {
    case '"':
      return '\\"';
    case '\\':
      return '\\\\';
    case '\n':
      return '\\n';
    case '\r':
      return '\\r';
    case '\t':
      return '\\t';
    case '\b':
      return '\\b';
    case '\f':
      return '\\f';
    default:
      return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
  }
}

// ensure_ascii: everything outside ' '..'~' (DEL and non-ASCII included); else only controls,
// quote, backslash, and lone surrogates (which Python would fail to encode as UTF-8 anyway).
const ESCAPE_ASCII = /["\\]|[^\x20-\x7e]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what json.dumps escapes
const ESCAPE_UTF8 = /["\\\x00-\x1f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A string as json.dumps writes it (with quotes). Most strings need no escape: one test, no replace. */
export function pyJsonString(s: string, ensureAscii: boolean): string {
  if (!(ensureAscii ? MAY_ESCAPE_ASCII : MAY_ESCAPE_UTF8).test(s)) return `"${s}"`;
  return `"${s.replace(ensureAscii ? ESCAPE_ASCII : ESCAPE_UTF8, escapeChar)}"`;
}

// Supersets of the two escape patterns, without their lookarounds (any surrogate, paired or not).
const MAY_ESCAPE_ASCII = /["\\]|[^\x20-\x7e]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what json.dumps escapes
const MAY_ESCAPE_UTF8 = /["\\\x00-\x1f\ud800-\udfff]/;

/** A float as json.dumps writes it (`30.0`, `1e-05`); non-finite is refused (allow_nan=False). */
export function pyJsonFloat(x: number): string {
  if (!Number.isFinite(x)) throw new RangeError('non-finite float in JSON');
  return pyFloatRepr(x);
}

/** CPython's `json.dumps(value)` with the given separators and escaping. Non-finite floats are refused (allow_nan=False). */
export function pyJsonDumps(value: PyJson, style: PyJsonStyle): string {
  return style.compact ? dumpValue(value, style.ensureAscii, ',', ':') : dumpValue(value, style.ensureAscii, ', ', ': ');
}

function dumpValue(v: PyJson, ensureAscii: boolean, itemSep: string, keySep: string): string {
  switch (typeof v) {
    case 'string':
      return pyJsonString(v, ensureAscii);
    case 'number':
      if (!Number.isFinite(v)) throw new RangeError('non-finite float in JSON');
      return Number.isSafeInteger(v) ? String(v) : pyFloatRepr(v);
    case 'bigint':
      return v.toString();
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v === null) return 'null';
  if (v instanceof PyFloat) return pyJsonFloat(v.value);
  if (Array.isArray(v)) {
    const items = v as readonly PyJson[];
    let out = '[';
    for (let k = 0; k < items.length; k++) {
      if (k > 0) out += itemSep;
      out += dumpValue(items[k]!, ensureAscii, itemSep, keySep);
    }
    return `${out}]`;
  }
  const obj = v as { readonly [key: string]: PyJson };
  let out = '{';
  let first = true;
  for (const key of Object.keys(obj)) {
    if (!first) out += itemSep;
    first = false;
    out += pyJsonString(key, ensureAscii) + keySep + dumpValue(obj[key]!, ensureAscii, itemSep, keySep);
  }
  return `${out}}`;
}
