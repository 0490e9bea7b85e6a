/**
 * Replay protection exactly as the Python axon's `default_verify` (bittensor ≥ 7.2):
 * nonces per `{hotkey}:{uuid}` strictly increase, and a first-seen key needs
 * `nonce > now − ALLOWED_DELTA − timeout`. Bounded: the oldest keys are evicted
 * first, and an evicted key falls back to the freshness window, which still refuses
 * any replay older than the window.
 */
export const ALLOWED_DELTA_NS = 4_000_000_000n;
export const V_7_2_0 = 7_002_000;

// Wall-clock nanoseconds with a monotonic tick: Date.now() has ms resolution only.
const HRTIME_OFFSET = process.hrtime.bigint();
const WALL_AT_START = BigInt(Date.now()) * 1_000_000n;

/** Nanoseconds since the epoch, like Python's time.time_ns(). */
export function timeNs(): bigint {
  return process.hrtime.bigint() - HRTIME_OFFSET + WALL_AT_START;
}

export type NonceCheck = { ok: true } | { ok: false; message: string };

const FRESH: NonceCheck = Object.freeze({ ok: true });

export interface NonceStoreOptions {
  maxKeys?: number;
  nowNs?: () => bigint;
}

export class NonceStore {
  private readonly last = new Map<string, bigint>();
  private readonly maxKeys: number;
  private readonly nowNs: () => bigint;

  constructor(options: NonceStoreOptions = {}) {
    this.maxKeys = options.maxKeys ?? 100_000;
    this.nowNs = options.nowNs ?? timeNs;
  }

  /** Checks without recording; call `commit` after the signature verified. */
  check(params: { hotkey: string; uuid: string; nonce: bigint; version: number | null; timeoutSec: number | null }): NonceCheck {
    const key = `${params.hotkey}:${params.uuid}`;
    const prev = this.last.get(key);
    // The freshness window only matters for a key not seen before (known keys just compare).
    if (prev === undefined && params.version !== null && params.version >= V_7_2_0) {
      const now = this.nowNs();
      const timeoutNs = BigInt(Math.round((params.timeoutSec ?? 0) * 1e9));
      const window = now - ALLOWED_DELTA_NS - timeoutNs;
      if (params.nonce <= window) {
        const diff = Number(now - params.nonce) / 1e9;
        const allowed = Number(ALLOWED_DELTA_NS + timeoutNs) / 1e9;
        return { ok: false, message: `Nonce is too old: acceptable delta is ${allowed.toFixed(2)} seconds but request was ${diff.toFixed(2)} seconds old` };
      }
    }
    if (prev !== undefined && params.nonce <= prev) return { ok: false, message: 'Nonce is too old, a newer one was last processed' };
    return FRESH;
  }

  commit(hotkey: string, uuid: string, nonce: bigint): void {
    const key = `${hotkey}:${uuid}`;
    this.last.delete(key); // re-insert to keep Map order = recency
    this.last.set(key, nonce);
    while (this.last.size > this.maxKeys) {
      const oldest = this.last.keys().next().value as string;
      this.last.delete(oldest);
    }
  }

  get size(): number {
    return this.last.size;
  }
}
