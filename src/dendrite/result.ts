/** What a dendrite call gives back for one axon: the answer's fields, or the status a Python dendrite records and why. */
import type { ResponseFields, SpecOf, SynapseName } from '../protocol/index.js';

export type DendriteResult<N extends SynapseName> =
  | { uid: number; ok: true; statusCode: 200; fields: ResponseFields<SpecOf<N>>; processTimeSec: number | null; elapsedMs: number }
  | { uid: number; ok: false; statusCode: number; message: string; elapsedMs: number };

/** A failed call to `uid`, its `elapsedMs` counted from `started` (a `performance.now()`) to now. */
export function failure<N extends SynapseName>(uid: number, statusCode: number, message: string, started: number): DendriteResult<N> {
  return { uid, ok: false, statusCode, message, elapsedMs: performance.now() - started };
}
