/** Random inputs from a fixed seed for the codec's differential tests (unit and against CPython). */

import { mulberry32 as rng } from './rng.js';

export { rng };

const view = new DataView(new ArrayBuffer(8));
export function doubleFromBits(hi: number, lo: number): number {
  view.setUint32(0, hi >>> 0);
  view.setUint32(4, lo >>> 0);
  return view.getFloat64(0);
}
export function nextUp(x: number): number {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  return lo === 0xffffffff ? doubleFromBits(hi + 1, 0) : doubleFromBits(hi, lo + 1);
}
export function nextDown(x: number): number {
  view.setFloat64(0, x);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  return lo === 0 ? doubleFromBits(hi - 1, 0xffffffff) : doubleFromBits(hi, lo - 1);
}

/** Doubles of every kind: random bit patterns, the boundaries of the fixed-notation range, integers, process times. */
export function sampleDoubles(count: number, seed: number): number[] {
  const r = rng(seed);
  const out: number[] = [0, -0, NaN, Infinity, -Infinity, 5e-324, -5e-324, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53, 2 ** 53 + 2, 1e21, 1e22, 0.1, 0.2, 0.3];
  for (const edge of [1e-4, 1e16, 1e-5, 1e15, 1e-6, 1e-7, 1e20, 1e21]) {
    let up = edge;
    let down = edge;
    for (let k = 0; k < 4; k++) {
      out.push(up, -up, down, -down);
      up = nextUp(up);
      down = nextDown(down);
    }
  }
  while (out.length < count) {
    const kind = out.length % 5;
    if (kind === 0) out.push(doubleFromBits(r() * 2 ** 32, r() * 2 ** 32));
    else if (kind === 1) out.push((r() - 0.5) * 10 ** Math.floor(r() * 40 - 20));
    else if (kind === 2) out.push(Math.round((r() - 0.5) * 10 ** Math.floor(r() * 18)));
    else if (kind === 3)
      out.push(r() * 0.01); // process_time-like
    else out.push(Math.round(r() * 1e6) / 10 ** Math.floor(r() * 8));
  }
  return out;
}

/** A string of mixed characters: ASCII, controls, DEL, quotes, Latin-1, BMP, emoji, lone surrogates. */
export function sampleString(r: () => number, length: number): string {
  const pools = [
    () => String.fromCharCode(0x20 + Math.floor(r() * 95)),
    () => String.fromCharCode(Math.floor(r() * 0x20)),
    () => ['"', '\\', '/', '\x7f', '\u2028'][Math.floor(r() * 5)]!,
    () => String.fromCharCode(0x80 + Math.floor(r() * 0x780)),
    () => String.fromCharCode(0x800 + Math.floor(r() * 0xd000)),
    () => '😀',
    () => String.fromCharCode(0xd800 + Math.floor(r() * 0x800)),
  ];
  let s = '';
  for (let k = 0; k < length; k++) s += r() < 0.7 ? pools[0]!() : pools[1 + Math.floor(r() * 6)]!();
  return s;
}
