import { describe, expect, test } from 'vitest';
import { JsonSyntaxError, PY_DUMPS_DEFAULT, PY_STARLETTE, PyFloat, parseJson, pyJsonDumps, type JsonValue } from '../../src/protocol/json.js';
import { pyFloatFromText, pyFloatRepr, pyIntFromText, pydanticLaxBool, pydanticLaxInt } from '../../src/protocol/python.js';

describe('parseJson', () => {
  test('integers are bigint (exact beyond 2^53), other numbers are floats', () => {
    const v = parseJson('{"nonce": 1795318990457350190, "a": 12, "b": 12.0, "c": -0, "d": 1e3, "e": 18446744073709551615}') as Map<string, JsonValue>;
    expect(v.get('nonce')).toBe(1795318990457350190n);
    expect(v.get('a')).toBe(12n);
    expect(v.get('b')).toBe(12);
    expect(v.get('c')).toBe(0n);
    expect(v.get('d')).toBe(1000);
    expect(v.get('e')).toBe(2n ** 64n - 1n);
  });

  test('objects are Maps: __proto__ and constructor are plain keys, the last duplicate wins', () => {
    const v = parseJson('{"__proto__": {"polluted": true}, "constructor": 1, "k": 1, "k": 2}') as Map<string, JsonValue>;
    expect(v).toBeInstanceOf(Map);
    expect(v.get('__proto__')).toBeInstanceOf(Map);
    expect(v.get('k')).toBe(2n);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  test('strings: escapes, surrogate pairs, lone surrogates kept', () => {
    expect(parseJson('"a\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00fc\\ud83d\\ude00\\ud800"')).toBe('a"b\\c/d\b\f\n\r\tü😀\ud800');
  });

  test.each([
    ['', 'unexpected end'],
    ['{', 'expected a key'],
    ['{"a" 1}', "expected ':'"],
    ['{"a": 1,}', 'expected a key'],
    ['[1,]', 'unexpected token'],
    ['[1 2]', "expected ',' or ']'"],
    ['"abc', 'unterminated string'],
    ['"a\u0001"', 'control character'],
    ['"\\x"', 'bad escape'],
    ['"\\u12g4"', 'bad \\u escape'],
    ['01', 'extra data'],
    ['1.', 'extra data'],
    ['.5', 'unexpected token'],
    ['+1', 'unexpected token'],
    ['tru', 'unexpected token'],
    ['NaN', 'unexpected token'],
    ['Infinity', 'unexpected token'],
    ['{} {}', 'extra data'],
    ['\ufeff{}', 'unexpected token'],
    ['1'.repeat(4301), 'integer too long'],
  ])('refuses %j (%s)', (text, why) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
    expect(() => parseJson(text)).toThrow(why);
  });

  test('depth limit stops deep nesting without a stack overflow', () => {
    expect(parseJson('[[[[1]]]]', { maxDepth: 4 })).toEqual([[[[1n]]]]);
    expect(() => parseJson('[[[[[1]]]]]', { maxDepth: 4 })).toThrow('nested too deep');
    expect(() => parseJson('['.repeat(200_000))).toThrow('nested too deep');
  });

  test("NaN / Infinity only when allowed (Python's json.loads accepts them)", () => {
    expect(parseJson('[NaN, Infinity, -Infinity]', { allowNonFinite: true })).toEqual([NaN, Infinity, -Infinity]);
  });
});

describe('pyJsonDumps', () => {
  const value = { name: 'X', timeout: new PyFloat(12), n: 1795318990457350190n, i: 3, s: 'ü"\\\n\u007f😀', a: [true, null], o: {} };
  test('json.dumps defaults: ", " / ": " and ensure_ascii (DEL and astral escaped, lowercase hex)', () => {
    expect(pyJsonDumps(value, PY_DUMPS_DEFAULT)).toBe(
      '{"name": "X", "timeout": 12.0, "n": 1795318990457350190, "i": 3, "s": "\\u00fc\\"\\\\\\n\\u007f\\ud83d\\ude00", "a": [true, null], "o": {}}',
    );
  });
  test('Starlette: compact, UTF-8 as is; lone surrogates escaped so the bytes stay valid UTF-8', () => {
    expect(pyJsonDumps(value, PY_STARLETTE)).toBe('{"name":"X","timeout":12.0,"n":1795318990457350190,"i":3,"s":"ü\\"\\\\\\n\u007f😀","a":[true,null],"o":{}}');
    expect(pyJsonDumps('a\ud800b\udc00', PY_STARLETTE)).toBe('"a\\ud800b\\udc00"');
  });
  test('refuses non-finite floats like allow_nan=False', () => {
    expect(() => pyJsonDumps(new PyFloat(NaN), PY_STARLETTE)).toThrow(RangeError);
  });
  test('round trip through parseJson', () => {
    const text = pyJsonDumps(value, PY_DUMPS_DEFAULT);
    const back = parseJson(text) as Map<string, JsonValue>;
    expect(back.get('s')).toBe(value.s);
    expect(back.get('n')).toBe(value.n);
  });
});

describe('CPython number text', () => {
  // Goldens from CPython 3.11 (`repr(x)`); the e2e test checks more against the real interpreter.
  test.each([
    [30, '30.0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [1e-5, '1e-05'],
    [0.0001, '0.0001'],
    [1.5e-7, '1.5e-07'],
    [1e15, '1000000000000000.0'],
    [1e16, '1e+16'],
    [123456789.125, '123456789.125'],
    [6.318092346191406e-5, '6.318092346191406e-05'],
    [-0, '-0.0'],
    [-2.5, '-2.5'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [NaN, 'nan'],
    [-Infinity, '-inf'],
  ])('repr(%s) = %s', (x, text) => {
    expect(pyFloatRepr(x)).toBe(text);
  });

  test('int() and float() of header text', () => {
    expect(pyIntFromText(' 1_000 ')).toBe(1000n);
    expect(pyIntFromText('\u00a0+7')).toBe(7n);
    expect(pyIntFromText('\u0661\u0662')).toBe(12n); // Arabic-Indic digits
    expect(pyIntFromText('12.0')).toBeNull();
    expect(pyIntFromText('1__0')).toBeNull();
    expect(pyIntFromText('5\u001c')).toBeNull();
    expect(pyFloatFromText('1e3')).toBe(1000);
    expect(pyFloatFromText('-Infinity')).toBe(-Infinity);
    expect(pyFloatFromText('5.')).toBe(5);
    expect(pyFloatFromText('abc')).toBeNull();
  });

  test('pydantic lax int / bool', () => {
    expect(pydanticLaxInt(' 12.00 ')).toBe(12n);
    expect(pydanticLaxInt(12.5)).toBeUndefined();
    expect(pydanticLaxInt(2 ** 63)).toBeUndefined();
    expect(pydanticLaxInt(true)).toBe(1n);
    expect(pydanticLaxBool('YES')).toBe(true);
    expect(pydanticLaxBool(2n)).toBeUndefined();
    expect(pydanticLaxBool(' true')).toBeUndefined();
  });
});
