/**
 * The few CPython and pydantic behaviours the bittensor wire format leaks: how a float
 * prints (`str(12.0)` is `"12.0"`), how `int()` / `float()` read a header string, and how
 * pydantic's lax mode coerces JSON values into `Optional[int]` / `Optional[bool]` fields.
 * Each function here was checked against the real interpreter (test/e2e/protocol-python.test.ts).
 */

/** `repr(float)` / `str(float)` of CPython 3: shortest round-trip digits, `.0` on integers, `e±XX` outside 1e-4 ≤ |x| < 1e16. */
export function pyFloatRepr(x: number): string {
  // CPython's fixed-notation range, where `String(x)` has the same shortest digits and no
  // exponent either (JavaScript switches to one below 1e-6 and from 1e21). The double 1e-4 is
  // slightly above 10⁻⁴, so every double in the range prints with an exponent of -4 or more.
  const abs = x < 0 ? -x : x;
  if (abs >= 1e-4 && abs < 1e16) return Number.isInteger(x) ? `${x}.0` : String(x);
  if (abs > 0 && abs < Infinity) {
    // Outside that range CPython always writes `d.ddde±XX`: toExponential()'s digits with the
    // exponent padded to two digits (`6.3e-5` → `6.3e-05`). A small process_time takes this path.
    const text = x.toExponential();
    const e = text.indexOf('e');
    return text.length - e === 3 ? `${text.slice(0, e + 2)}0${text.slice(e + 2)}` : text;
  }
  return pyFloatReprGeneral(x);
}

/** `pyFloatRepr` for any double, from the digits and exponent of `toExponential()`; the reference the fast path is tested against. */
export function pyFloatReprGeneral(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest digits that round-trip, like repr.
  const [mantissa = '', expText = '0'] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  if (exp >= -5 + 1 && exp < 16) {
    if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
    const whole = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
    const frac = digits.slice(exp + 1);
    return `${sign}${whole}.${frac === '' ? '0' : frac}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/**
 * CPython's `f"{x:.2f}"`: exact ties round half to even (`0.125` → `0.12`, where `toFixed` gives
 * `0.13`), no exponent at any size (`1e30` prints all its digits), `inf`, `-inf`, `nan`.
 */
export function pyFormatFixed2(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  // From 1e21 on JavaScript switches to an exponent; such a double is an integer, exactly a BigInt.
  if (Math.abs(x) >= 1e21) return `${BigInt(x)}.00`;
  // A double is exactly halfway between two cents only when it is an odd number of eighths (x·100 is then exact).
  const cents = x * 100;
  if (Number.isInteger(x * 8) && !Number.isInteger(cents)) {
    const down = Math.floor(cents);
    const even = down % 2 === 0 ? down : down + 1;
    const a = Math.abs(even);
    return `${x < 0 ? '-' : ''}${Math.floor(a / 100)}.${String(a % 100).padStart(2, '0')}`;
  }
  return x.toFixed(2);
}

/**
 * The whitespace both CPython's `int()` / `float()` and pydantic-core strip around a number:
 * ASCII whitespace plus non-ASCII Unicode White_Space. (\x1c-\x1f are `isspace()` in Python
 * but are NOT stripped by `int()`: ASCII characters are not mapped to ' ' first.)
 */
const SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${SPACE}]+|[${SPACE}]+$`, 'g');
const RUST_STRIP = PY_STRIP;

const PY_INT_TEXT = /^[+-]?\d+(?:_\d+)*$/;
const PY_FLOAT_TEXT = /^[+-]?(?:\d+(?:_\d+)*(?:\.(?:\d+(?:_\d+)*)?)?|\.\d+(?:_\d+)*)(?:[eE][+-]?\d+(?:_\d+)*)?$/;
const PY_FLOAT_SPECIAL = /^([+-]?)(inf|infinity|nan)$/i;
/** CPython refuses to convert longer digit strings (sys.int_info.str_digits_check_threshold default). */
const PY_MAX_INT_DIGITS = 4300;

const NON_ASCII_SPACE = /[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const DECIMAL_DIGIT = /^\p{Nd}$/u;

/**
 * CPython's `_PyUnicode_TransformDecimalAndSpaceToASCII`, the first step of `int()` and
 * `float()` on text: non-ASCII whitespace → ' ', any Unicode decimal digit → its ASCII digit,
 * any other non-ASCII character → '?' (which then fails to parse).
 */
function transformDecimalAndSpace(text: string): string {
  let out = '';
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp < 128) out += ch;
    else if (NON_ASCII_SPACE.test(ch)) out += ' ';
    else if (DECIMAL_DIGIT.test(ch)) {
      // Decimal digits are encoded in contiguous runs of ten, zero first (a Unicode stability rule).
      let start = cp;
      while (DECIMAL_DIGIT.test(String.fromCodePoint(start - 1))) start--;
      out += String((cp - start) % 10);
    } else out += '?';
  }
  return out;
}

/** CPython's `int(text)` in base 10, or null where it raises. */
export function pyIntFromText(text: string): bigint | null {
  const t = transformDecimalAndSpace(text).replace(PY_STRIP, '');
  if (!PY_INT_TEXT.test(t)) return null;
  const clean = t.replace(/_/g, '');
  if (clean.replace(/^[+-]/, '').length > PY_MAX_INT_DIGITS) return null;
  return BigInt(clean);
}

/** CPython's `float(text)`, or null where it raises. */
export function pyFloatFromText(text: string): number | null {
  const t = transformDecimalAndSpace(text).replace(PY_STRIP, '');
  const special = PY_FLOAT_SPECIAL.exec(t);
  if (special) {
    if (special[2]!.toLowerCase() === 'nan') return NaN;
    return special[1] === '-' ? -Infinity : Infinity;
  }
  if (!PY_FLOAT_TEXT.test(t)) return null;
  return Number(t.replace(/_/g, ''));
}

/** CPython's `int(x)` on a JSON value (bittensor's `cast_int` validator), or undefined where it raises. */
export function pyInt(x: unknown): bigint | null | undefined {
  if (x === null) return null;
  if (typeof x === 'bigint') return x;
  if (typeof x === 'boolean') return x ? 1n : 0n;
  if (typeof x === 'number') return Number.isFinite(x) ? BigInt(Math.trunc(x)) : undefined;
  if (typeof x === 'string') return pyIntFromText(x) ?? undefined;
  return undefined;
}

/** CPython's `float(x)` on a JSON value (bittensor's `cast_float` validator), or undefined where it raises. */
export function pyFloat(x: unknown): number | null | undefined {
  if (x === null) return null;
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') {
    const n = Number(x);
    return Number.isFinite(n) ? n : undefined; // OverflowError: int too large to convert to float
  }
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'string') return pyFloatFromText(x) ?? undefined;
  return undefined;
}

const I64_LIMIT = 2 ** 63;
const LAX_INT_TEXT = /^[+-]?\d+(?:_\d+)*(?:\.0+)?$/;

/** pydantic 2 lax-mode `int` validation of a JSON value, or undefined where it fails. */
export function pydanticLaxInt(x: unknown): bigint | undefined {
  if (typeof x === 'bigint') return x;
  if (typeof x === 'boolean') return x ? 1n : 0n;
  if (typeof x === 'number') {
    if (!Number.isInteger(x) || Math.abs(x) >= I64_LIMIT) return undefined;
    return BigInt(x);
  }
  if (typeof x === 'string') {
    const t = x.replace(RUST_STRIP, '');
    if (!LAX_INT_TEXT.test(t)) return undefined;
    const whole = t.replace(/\.0+$/, '').replace(/_/g, '');
    if (whole.replace(/^[+-]/, '').length > PY_MAX_INT_DIGITS) return undefined;
    return BigInt(whole);
  }
  return undefined;
}

const LAX_TRUE = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const LAX_FALSE = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** pydantic 2 lax-mode `bool` validation of a JSON value, or undefined where it fails. */
export function pydanticLaxBool(x: unknown): boolean | undefined {
  if (typeof x === 'boolean') return x;
  if (typeof x === 'bigint') return x === 1n ? true : x === 0n ? false : undefined;
  if (typeof x === 'number') return x === 1 ? true : x === 0 ? false : undefined;
  if (typeof x === 'string') {
    const t = x.toLowerCase();
    if (LAX_TRUE.has(t)) return true;
    if (LAX_FALSE.has(t)) return false;
  }
  return undefined;
}

/** pydantic 2 lax-mode `float` validation of a JSON value (inf and nan allowed), or undefined where it fails. */
export function pydanticLaxFloat(x: unknown): number | undefined {
  if (typeof x === 'number') return x;
  if (typeof x === 'bigint') {
    const n = Number(x);
    return Number.isFinite(n) ? n : undefined;
  }
  if (typeof x === 'boolean') return x ? 1 : 0;
  if (typeof x === 'string') {
    const t = x.replace(RUST_STRIP, '');
    const special = PY_FLOAT_SPECIAL.exec(t);
    if (special) return special[2]!.toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity;
    if (!PY_FLOAT_TEXT.test(t)) return undefined;
    return Number(t.replace(/_/g, ''));
  }
  return undefined;
}
