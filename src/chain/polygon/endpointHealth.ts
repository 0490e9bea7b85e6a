import type { RpcAnswerClass } from './rpcTransport.js';

/**
 * What the pool knows about one endpoint's health, and the rules that change it. Pure: the
 * time and the randomness come in as arguments, every rule returns a new value, nothing here
 * sends a request or logs. The pool (endpointPool.ts) applies the results.
 */

export interface EndpointHealth {
  consecutiveFailures: number;
  /** Cool-downs in a row without a success: each one doubles the next. */
  cooldownLevel: number;
  /** Resting until this time (ms since the epoch); 0 when not resting. */
  coolingUntil: number;
  /** Why it is never used (another chain), or null. */
  disabled: string | null;
  chainChecked: boolean;
  /** Its last known head block, and when it was asked. */
  head: number | null;
  headCheckedAt: number;
}

export interface HealthPolicy {
  /** Consecutive failures after which an endpoint is rested. */
  failuresBeforeCooldown: number;
  /** First cool-down; doubles on each further cool-down until a success, up to cooldownMaxMs. */
  cooldownMs: number;
  cooldownMaxMs: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** An endpoint found behind a needed block is asked for its head again after this long. */
  headRefreshMs: number;
  /** When set, an endpoint whose chain id was not checked yet must be checked first. */
  expectedChainId: number | null;
}

export const FRESH_HEALTH: EndpointHealth = {
  consecutiveFailures: 0,
  cooldownLevel: 0,
  coolingUntil: 0,
  disabled: null,
  chainChecked: false,
  head: null,
  headCheckedAt: 0,
};

/** A success ends a run of failures and resets the cool-down doubling. */
export function afterSuccess(h: EndpointHealth): EndpointHealth {
  return { ...h, consecutiveFailures: 0, cooldownLevel: 0 };
}

/**
 * A failure of the endpoint. After `failuresBeforeCooldown` in a row, or at once for a rate
 * limit that says when to come back, it rests: `restMs` is how long (null when it does not).
 */
export function afterFailure(
  h: EndpointHealth,
  failure: { kind: RpcAnswerClass; retryAfterMs?: number; now: number },
  policy: HealthPolicy,
): { health: EndpointHealth; restMs: number | null } {
  const consecutiveFailures = h.consecutiveFailures + 1;
  const rateLimitedWithHint = failure.kind === 'rate_limited' && failure.retryAfterMs !== undefined;
  if (consecutiveFailures < policy.failuresBeforeCooldown && !rateLimitedWithHint) return { health: { ...h, consecutiveFailures }, restMs: null };
  const restMs = Math.min(policy.cooldownMaxMs, Math.max(failure.retryAfterMs ?? 0, policy.cooldownMs * 2 ** h.cooldownLevel));
  return {
    health: { ...h, consecutiveFailures: 0, cooldownLevel: h.cooldownLevel + 1, coolingUntil: Math.max(h.coolingUntil, failure.now + restMs) },
    restMs,
  };
}

/** A head learnt from the endpoint (never lowered by a lagging answer of another request). */
export function withHead(h: EndpointHealth, head: number, now: number, options: { keepHigher?: boolean } = {}): EndpointHealth {
  return { ...h, head: options.keepHigher && h.head !== null && h.head > head ? h.head : head, headCheckedAt: now };
}

/** 'ready' to serve a request for minBlock, 'prepare' after a head/chain check, or 'no'. */
export function usability(h: EndpointHealth, minBlock: number | undefined, now: number, policy: HealthPolicy): 'ready' | 'prepare' | 'no' {
  if (h.disabled !== null) return 'no';
  if (policy.expectedChainId !== null && !h.chainChecked) return 'prepare';
  if (minBlock === undefined || (h.head !== null && h.head >= minBlock)) return 'ready';
  if (h.head === null || now - h.headCheckedAt >= policy.headRefreshMs) return 'prepare';
  return 'no';
}

/** What an endpoint must do before serving a request for `minBlock`: nothing, a check, or wait (behind). */
export function preparation(h: EndpointHealth, minBlock: number | undefined, now: number, policy: HealthPolicy): 'ok' | 'check' | 'behind' | 'disabled' {
  if (h.disabled !== null) return 'disabled';
  return PREPARATION[usability(h, minBlock, now, policy)];
}

/** `usability` in the words of an endpoint about to serve (the endpoint is not disabled). */
const PREPARATION = { ready: 'ok', prepare: 'check', no: 'behind' } as const;

export function isResting(h: EndpointHealth, now: number): boolean {
  return h.coolingUntil > now;
}

/** Wait before attempt `attempt` + 1: exponential, capped, with jitter in [50 %, 100 %]. `random` is in [0, 1). */
export function backoffMs(attempt: number, policy: Pick<HealthPolicy, 'backoffBaseMs' | 'backoffMaxMs'>, random: () => number): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** (attempt - 1));
  return Math.round(ceiling * (0.5 + random() / 2));
}
