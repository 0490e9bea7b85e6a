/**
 * The codec's fast paths against CPython itself (plain python3, no SDK needed): `pyFloatRepr`
 * against `repr(float)` for 100,000 doubles of every kind, and the JSON string escaper against
 * `json.dumps(s)` (a Python dendrite's requests) and `json.dumps(s, ensure_ascii=False)`
 * (Starlette's responses) for 10,000 mixed strings. One python3 process (test/interop/repr_oracle.py).
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect, test } from 'vitest';
import { pyJsonString } from '../../src/protocol/json.js';
import { pyFloatRepr } from '../../src/protocol/python.js';
import { REPO_ROOT, requirePython3 } from '../support/programs.js';
import { rng, sampleDoubles, sampleString } from '../support/randomInputs.js';

function bitsHex(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  return view.getUint32(0).toString(16).padStart(8, '0') + view.getUint32(4).toString(16).padStart(8, '0');
}

test('repr(float) and json.dumps(str) equal CPython on random inputs', (ctx) => {
  const reason = requirePython3();
  if (reason) return ctx.skip(reason);
  const floats = sampleDoubles(100_000, 2026);
  const r = rng(99);
  const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  // Every other string without lone surrogates, so that both styles compare on thousands of strings.
  const strings = Array.from({ length: 10_000 }, (_, n) => (n % 2 ? sampleString(r, n % 40) : sampleString(r, n % 40).replace(new RegExp(lone, 'g'), '')));
  const run = spawnSync('python3', [path.join(REPO_ROOT, 'test/interop/repr_oracle.py')], {
    input: JSON.stringify({ floats: floats.map(bitsHex), strings }),
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  expect(run.status, run.stderr).toBe(0);
  const py = JSON.parse(run.stdout) as { repr: string[]; ascii: string[]; utf8: string[] };

  const wrongRepr = floats.flatMap((x, k) => (pyFloatRepr(x) === py.repr[k] ? [] : [[x, pyFloatRepr(x), py.repr[k]]]));
  expect(wrongRepr).toEqual([]);

  const wrongAscii = strings.flatMap((s, k) => (pyJsonString(s, true) === py.ascii[k] ? [] : [[s, pyJsonString(s, true), py.ascii[k]]]));
  expect(wrongAscii).toEqual([]);
  // Lone surrogates are the one deliberate difference: Python would write them raw and then fail
  // to encode the response as UTF-8; we escape them (protocol-json.test.ts checks that).
  const wrongUtf8 = strings.flatMap((s, k) => (lone.test(s) || pyJsonString(s, false) === py.utf8[k] ? [] : [[s, pyJsonString(s, false), py.utf8[k]]]));
  expect(wrongUtf8).toEqual([]);
  expect(strings.filter((s) => !lone.test(s)).length).toBeGreaterThan(5_000);
});
