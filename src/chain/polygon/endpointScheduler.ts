import { isResting, usability, type EndpointHealth, type HealthPolicy } from './endpointHealth.js';
import { PolygonError } from './errors.js';
import type { RpcTarget } from './rpcTransport.js';

/**
 * Who serves the next request: one queue of waiting requests, handed free slots in arrival
 * order. A request takes the least busy endpoint that can serve it (not resting, not behind the
 * block it needs, preferably not one that just failed it); fallbacks only while no configured
 * endpoint could. A request no endpoint will ever serve is rejected at once, not left waiting.
 */

export interface EndpointState {
  target: RpcTarget;
  /** 0 = configured, 1 = fallback. */
  tier: number;
  label: string;
  /** Requests in flight on it. */
  active: number;
  health: EndpointHealth;
  /** The chain id and head check in flight, shared by the requests waiting for it. */
  prepare: Promise<'done' | 'failed' | 'aborted'> | null;
  stats: { requests: number; failures: number; rangeErrors: number; cooldowns: number; lastError: string | null };
}

interface Waiter {
  minBlock: number | undefined;
  avoid: ReadonlySet<EndpointState>;
  resolve: (e: EndpointState) => void;
  reject: (err: unknown) => void;
  onAbort?: () => void;
  signal?: AbortSignal;
}

export class EndpointScheduler {
  private readonly waiters: Waiter[] = [];
  private rotate = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly endpoints: readonly EndpointState[],
    private readonly options: { concurrencyPerEndpoint: number; policy: HealthPolicy; now: () => number },
  ) {}

  usable(e: EndpointState, minBlock: number | undefined): 'ready' | 'prepare' | 'no' {
    return usability(e.health, minBlock, this.options.now(), this.options.policy);
  }

  /** A slot on an endpoint for a request needing `minBlock`; `release` it when done. */
  acquire(minBlock: number | undefined, avoid: ReadonlySet<EndpointState>, signal?: AbortSignal): Promise<EndpointState> {
    if (this.closed) return Promise.reject(new PolygonError('POLYGON_NO_ENDPOINTS', 'endpoint pool closed'));
    signal?.throwIfAborted();
    const unsatisfiable = this.unsatisfiable(minBlock);
    if (unsatisfiable) return Promise.reject(unsatisfiable);
    return new Promise<EndpointState>((resolve, reject) => {
      const waiter: Waiter = { minBlock, avoid, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
      this.pump();
    });
  }

  release(e: EndpointState): void {
    e.active -= 1;
    this.pump();
  }

  /** Rejects every waiting request; in-flight ones finish or time out on their own signals. */
  close(): void {
    this.closed = true;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    for (const w of this.waiters.splice(0)) {
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      w.reject(new PolygonError('POLYGON_NO_ENDPOINTS', 'endpoint pool closed'));
    }
  }

  private unsatisfiable(minBlock: number | undefined): PolygonError | null {
    const disabled = (e: EndpointState) => e.health.disabled !== null;
    const list = (es: readonly EndpointState[]) => es.map((e) => `${e.label} (${e.health.disabled})`).join(', ');
    // Fallbacks cover for resting endpoints, not for a misconfigured list (e.g. all on another chain).
    if (this.endpoints.every((e) => disabled(e) || e.tier > 0)) {
      return new PolygonError('POLYGON_NO_ENDPOINTS', `no usable Polygon endpoint: ${list(this.endpoints.filter((e) => e.tier === 0))}`);
    }
    if (this.endpoints.every(disabled)) return new PolygonError('POLYGON_NO_ENDPOINTS', `no usable Polygon endpoint: ${list(this.endpoints)}`);
    if (this.endpoints.every((e) => this.usable(e, minBlock) === 'no')) {
      const heads = this.endpoints.map((e) => `${e.label} at ${e.health.head ?? '?'}`).join(', ');
      return new PolygonError('POLYGON_ENDPOINTS_BEHIND', `no endpoint has reached block ${minBlock} yet (${heads})`);
    }
    return null;
  }

  /** Hands free slots to waiting requests in arrival order; arms a timer for the next cool-down end. */
  pump(): void {
    const now = this.options.now();
    for (let i = 0; i < this.waiters.length; ) {
      const w = this.waiters[i]!;
      const blocked = this.unsatisfiable(w.minBlock);
      if (blocked) {
        this.waiters.splice(i, 1);
        if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
        w.reject(blocked);
        continue;
      }
      const e = this.pick(w, now);
      if (!e) {
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
      e.active += 1;
      w.resolve(e);
    }
    if (this.wakeTimer) {
      clearTimeout(this.wakeTimer);
      this.wakeTimer = null;
    }
    if (this.waiters.length > 0) {
      const ends = this.endpoints.filter((e) => e.health.disabled === null && isResting(e.health, now)).map((e) => e.health.coolingUntil);
      if (ends.length > 0) this.wakeTimer = setTimeout(() => this.pump(), Math.max(1, Math.min(...ends) - now));
    }
  }

  private pick(w: Waiter, now: number): EndpointState | undefined {
    let best: EndpointState | undefined;
    let bestScore = Infinity;
    const n = this.endpoints.length;
    const { concurrencyPerEndpoint } = this.options;
    const open = (e: EndpointState) => e.health.disabled === null && !isResting(e.health, now);
    // Fallbacks only while no configured endpoint could serve this request (busy is not enough).
    const tier = Math.min(...this.endpoints.filter((e) => open(e) && this.usable(e, w.minBlock) !== 'no').map((e) => e.tier));
    this.rotate = (this.rotate + 1) % n;
    for (let k = 0; k < n; k++) {
      const e = this.endpoints[(this.rotate + k) % n]!;
      if (e.tier !== tier || !open(e) || e.active >= concurrencyPerEndpoint) continue;
      const use = this.usable(e, w.minBlock);
      if (use === 'no') continue;
      const score = (w.avoid.has(e) ? 10 : 0) + (use === 'prepare' ? 0.5 : 0) + e.active / concurrencyPerEndpoint;
      if (score < bestScore) {
        best = e;
        bestScore = score;
      }
    }
    return best;
  }
}
