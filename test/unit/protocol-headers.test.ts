/** Headers in: what CPython decodes (headers out are checked through the operations that write them). */
import { describe, expect, test } from 'vitest';
import { pyB64Decode } from '../../src/protocol/headers.js';

describe('input_obj headers', () => {
  test('input_obj base64 read as CPython’s base64.b64decode (values from CPython 3.11)', () => {
    const text = (s: string) => {
      const b = pyB64Decode(s);
      return b === null ? null : Buffer.from(b).toString('latin1');
    };
    const cases: Array<[string, string | null]> = [
      ['IiI=', '""'],
      ['IiI', null],
      ['I i I =', '""'],
      ['IiI=garbage', '""'],
      ['NQ==', '5'],
      ['NQ', null],
      ['N', null],
      ['====', ''],
      ['Ii=I', null],
      ['IiI\u00e9=', null],
    ];
    for (const [input, output] of cases) expect(text(input), input).toBe(output);
  });
});
