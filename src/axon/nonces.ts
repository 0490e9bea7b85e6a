/**
 * Replay protection exactly as the Python axon's `default_verify` (bittensor ≥ 7.2):
 * nonces per `{hotkey}:{uuid}` strictly increase, and a first-seen key needs
 * `nonce > now − ALLOWED_DELTA − timeout`. Bounded: the oldest keys are evicted
 * first, and an evicted key falls back to the freshness window, which still refuses
 * any replay older than the window; a key longer than 128 characters (a long uuid) is
 * kept as its sha-256, so a key costs the same memory whatever the caller sends.
 */
import { createHash } from 'node:crypto';
import { NONCE_WINDOW_VERSION, VERIFY_ERRORS } from '../protocol/index.js';
import { timeNs } from '../util/timeNs.js';

export const ALLOWED_DELTA_NS = 4_000_000_000n;

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

  /**
   * Checks without recording; call `commit` after the signature verified. `timeoutSec` is the
   * request's `timeout` header as Python reads it: null (no header) counts as 0 like Python's
   * `(synapse.timeout or 0)`, NaN and +∞ make every nonce fresh, −∞ none.
   */
  check(params: { hotkey: string; uuid: string; nonce: bigint; version: number | null; timeoutSec: number | null }): NonceCheck {
    const key = endpointKey(params.hotkey, params.uuid);
    const prev = this.last.get(key);
    // The freshness window only matters for a key not seen before (known keys just compare).
    if (prev === undefined && params.version !== null && params.version >= NONCE_WINDOW_VERSION) {
      const now = this.nowNs();
      const timeoutNs = (params.timeoutSec ?? 0) * 1e9;
      if (nonceTooOld(params.nonce, now, timeoutNs)) {
        const diff = Number(now - params.nonce) / 1e9;
        const allowed = (Number(ALLOWED_DELTA_NS) + timeoutNs) / 1e9;
        return { ok: false, message: VERIFY_ERRORS.nonceTooOld(allowed, diff) };
      }
    }
    if (prev !== undefined && params.nonce <= prev) return { ok: false, message: VERIFY_ERRORS.nonceReplayed };
    return FRESH;
  }

  commit(hotkey: string, uuid: string, nonce: bigint): void {
    const key = endpointKey(hotkey, uuid);
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

/** Python's `nonce <= now − ALLOWED_DELTA − timeout_ns` (a float there: NaN compares false, infinities win). */
function nonceTooOld(nonce: bigint, nowNs: bigint, timeoutNs: number): boolean {
  if (Number.isNaN(timeoutNs) || timeoutNs === Infinity) return false;
  if (timeoutNs === -Infinity) return true;
  return nonce <= nowNs - ALLOWED_DELTA_NS - BigInt(Math.round(timeoutNs));
}

function endpointKey(hotkey: string, uuid: string): string {
  const key = `${hotkey}:${uuid}`;
  // Hashed keys have no ':' so they never equal a plain one.
  return key.length <= 128 ? key : `#${createHash('sha256').update(key, 'utf8').digest('hex')}`;
}
