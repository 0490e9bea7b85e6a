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
    message: string,
    readonly position: number,
  ) {
    super(`${message} at position ${position}`);
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
  const maxDepth = options.maxDepth ?? 32;
  const allowNonFinite = options.allowNonFinite ?? false;
  let i = 0;
  const n = text.length;

  const fail = (message: string): never => {
    throw new JsonSyntaxError(message, i);
  };
  const skipWs = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
  };
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail('unexpected token');
  };

  const parseString = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    while (true) {
      if (i >= n) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i);
        i++;
        return out;
      }
      if (c < 0x20) fail('control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      i += 2;
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = text.slice(i, i + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          i -= 1;
          fail('bad escape');
      }
      start = i;
    }
  };

  const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
  const parseNumber = (): number | bigint => {
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('bad number');
    const raw = m[0];
    i += raw.length;
    if (m[1] === undefined && m[2] === undefined) {
      if (raw.length - (raw.startsWith('-') ? 1 : 0) > MAX_INT_DIGITS) fail('integer too long');
      return BigInt(raw);
    }
    return Number(raw);
  };

  const parseValue = (depth: number): JsonValue => {
    skipWs();
    if (i >= n) fail('unexpected end');
    const c = text[i];
    switch (c) {
      case '{': {
        if (depth >= maxDepth) fail('nested too deep');
        i++;
        const obj: JsonObject = new Map();
        skipWs();
        if (text[i] === '}') {
          i++;
          return obj;
        }
        while (true) {
          skipWs();
          if (text[i] !== '"') fail('expected a key');
          const key = parseString();
          skipWs();
          if (text[i] !== ':') fail("expected ':'");
          i++;
          obj.set(key, parseValue(depth + 1)); // duplicate keys: the last wins, as in Python
          skipWs();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === '}') {
            i++;
            return obj;
          }
          fail("expected ',' or '}'");
        }
      }
      case '[': {
        if (depth >= maxDepth) fail('nested too deep');
        i++;
        const arr: JsonValue[] = [];
        skipWs();
        if (text[i] === ']') {
          i++;
          return arr;
        }
        while (true) {
          arr.push(parseValue(depth + 1));
          skipWs();
          if (text[i] === ',') {
            i++;
            continue;
          }
          if (text[i] === ']') {
            i++;
            return arr;
          }
          fail("expected ',' or ']'");
        }
      }
      case '"':
        return parseString();
      case 't':
        literal('true');
        return true;
      case 'f':
        literal('false');
        return false;
      case 'n':
        literal('null');
        return null;
      case 'N':
        if (!allowNonFinite) fail('unexpected token');
        literal('NaN');
        return NaN;
      case 'I':
        if (!allowNonFinite) fail('unexpected token');
        literal('Infinity');
        return Infinity;
      default:
        if (c === '-' && allowNonFinite && text.startsWith('-Infinity', i)) {
          i += 9;
          return -Infinity;
        }
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return parseNumber();
        return fail('unexpected token');
    }
  };

  const value = parseValue(0);
  skipWs();
  if (i !== n) fail('extra data');
  return value;
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
    case '"': return '\\"';
    case '\\': return '\\\\';
    case '\n': return '\\n';
    case '\r': return '\\r';
    case '\t': return '\\t';
    case '\b': return '\\b';
    case '\f': return '\\f';
    default: return '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0');
  }
}

// ensure_ascii: everything outside ' '..'~' (DEL and non-ASCII included); else only controls,
// quote, backslash, and lone surrogates (which Python would fail to encode as UTF-8 anyway).
const ESCAPE_ASCII = /["\\]|[^\x20-\x7e]/g;
const ESCAPE_UTF8 = /["\\\x00-\x1f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function dumpString(s: string, ensureAscii: boolean): string {
  return `"${s.replace(ensureAscii ? ESCAPE_ASCII : ESCAPE_UTF8, escapeChar)}"`;
}

/** CPython's `json.dumps(value)` with the given separators and escaping. Non-finite floats are refused (allow_nan=False). */
export function pyJsonDumps(value: PyJson, style: PyJsonStyle): string {
  const itemSep = style.compact ? ',' : ', ';
  const keySep = style.compact ? ':' : ': ';
  const dump = (v: PyJson): string => {
    if (v === null) return 'null';
    if (v === true) return 'true';
    if (v === false) return 'false';
    if (typeof v === 'string') return dumpString(v, style.ensureAscii);
    if (typeof v === 'bigint') return v.toString();
    if (typeof v === 'number' || v instanceof PyFloat) {
      const x = typeof v === 'number' ? v : v.value;
      if (!Number.isFinite(x)) throw new RangeError('non-finite float in JSON');
      return typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : pyFloatRepr(x);
    }
    if (Array.isArray(v)) return `[${(v as readonly PyJson[]).map(dump).join(itemSep)}]`;
    const entries = Object.entries(v as { readonly [key: string]: PyJson });
    return `{${entries.map(([k, x]) => dumpString(k, style.ensureAscii) + keySep + dump(x)).join(itemSep)}}`;
  };
  return dump(value);
}
