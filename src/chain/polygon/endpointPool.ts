import { errorMessage } from '../../errors.js';
import { createThrottle, type Logger } from '../../observability/logger.js';
import { redactText } from '../../observability/redact.js';
import { sleep } from '../../util/deadline.js';
import {
  afterFailure,
  afterSuccess,
  backoffMs,
  FRESH_HEALTH,
  isResting,
  preparation,
  withHead,
  type EndpointHealth,
  type HealthPolicy,
} from './endpointHealth.js';
import { PolygonError } from './errors.js';
import { EndpointScheduler, type EndpointState } from './endpointScheduler.js';
import {
  checkEndpointUrl,
  endpointLabels,
  parseQuantity,
  sendRpc,
  splitCredentials,
  type RpcAnswerClass,
  type RpcFailureKind,
  type RpcOutcome,
} from './rpcTransport.js';

/**
 * A pool of Polygon JSON-RPC endpoints. Requests wait in one queue and take a free slot on
 * whichever healthy endpoint has one, so a fast endpoint naturally carries more of the load
 * and a slow or failing one less. Each endpoint has its own concurrency limit. A failure is
 * retried with backoff (on another endpoint when one is free); an endpoint that keeps failing
 * is rested for a cool-down, doubling while it keeps failing, while the others carry on
 * (the rules: endpointHealth.ts; one request: rpcTransport.ts).
 *
 * Endpoints are only asked for blocks they have: before a request that needs block N goes to
 * an endpoint whose head is unknown or older than N, the pool asks that endpoint for its head
 * (a lagging public RPC answers `[]` for blocks it has not seen, which would lose claims).
 * With `expectedChainId` each endpoint's chain id is checked once before its first use.
 *
 * URLs appear in logs, errors and metrics only as `redactUrl` labels (API keys stay out).
 */

export interface RpcRequestInfo {
  method: string;
  /** Set when the request failed; `range_too_large` is not an endpoint failure. */
  failure?: RpcAnswerClass;
}

/** Optional metrics sink (e.g. prom-client counters wired by the validator). */
export interface RpcMetricsSink {
  onRequest(endpoint: string, ok: boolean, ms: number, info?: RpcRequestInfo): void;
}

export interface EndpointPoolOptions {
  urls: readonly string[];
  /**
   * Used only while none of `urls` can take a request (all resting or behind), e.g. the public
   * RPCs behind a private one. Never when every one of `urls` is on the wrong chain: that is a
   * configuration error and is reported. Not counted in `capacity`.
   */
  fallbackUrls?: readonly string[];
  /** Requests in flight per endpoint. */
  concurrencyPerEndpoint?: number;
  /** One HTTP request's time limit. */
  timeoutMs?: number;
  /** Attempts of one request across all endpoints before it fails. */
  maxAttempts?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Consecutive failures after which an endpoint is rested. */
  failuresBeforeCooldown?: number;
  /** First cool-down; doubles on each further cool-down until a success, up to cooldownMaxMs. */
  cooldownMs?: number;
  cooldownMaxMs?: number;
  /** When set, an endpoint answering another eth_chainId is never used. */
  expectedChainId?: number | null;
  /** An endpoint found behind a needed block is asked for its head again after this long. */
  headRefreshMs?: number;
  metrics?: RpcMetricsSink | null;
  logger?: Logger | null;
  fetch?: typeof globalThis.fetch;
  now?: () => number;
  /** The backoff's jitter, in [0, 1). */
  random?: () => number;
}

export interface RequestOptions<T> {
  signal?: AbortSignal;
  /** Only endpoints whose head has reached this block may answer. */
  minBlock?: number;
  /** Checks and converts the result; a throw counts as a bad answer of that endpoint. */
  parse?: (result: unknown) => T;
  /**
   * True when the caller can split the block range: a "range too large / too many results"
   * answer is then thrown as POLYGON_RANGE_TOO_LARGE at once. Otherwise it counts as a failure
   * of that endpoint and another one is tried (endpoints have different limits).
   */
  splittable?: boolean;
}

export interface EndpointStats {
  endpoint: string;
  requests: number;
  failures: number;
  rangeErrors: number;
  cooldowns: number;
  coolingForMs: number;
  head: number | null;
  disabled: string | null;
  lastError: string | null;
}

/** One attempt on one endpoint: its value, a failure of the endpoint, or a skip (behind, wrong chain). */
type Served<T> = { kind: 'value'; value: T } | { kind: 'failed'; problem: string } | { kind: 'skipped'; problem: string };

const uniqueUrls = (urls: readonly string[], except: readonly string[] = []) => [
  ...new Set(urls.map((u) => u.trim()).filter((u) => u !== '' && !except.includes(u))),
];

export class EndpointPool {
  readonly concurrencyPerEndpoint: number;
  private readonly endpoints: EndpointState[];
  private readonly scheduler: EndpointScheduler;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly policy: HealthPolicy;
  private readonly metrics: RpcMetricsSink | null;
  private readonly logger: Logger | null;
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly now: () => number;
  private readonly random: () => number;
  private readonly warnThrottle = createThrottle(60_000);
  private nextId = 1;

  constructor(options: EndpointPoolOptions) {
    const primary = uniqueUrls(options.urls);
    const urls = [...primary, ...uniqueUrls(options.fallbackUrls ?? [], primary)];
    if (primary.length === 0) {
      throw new PolygonError('POLYGON_NO_ENDPOINTS', 'no Polygon RPC endpoint configured: set POLYGON_RPC_URL or --polygon.rpc_url');
    }
    urls.forEach(checkEndpointUrl);
    const labels = endpointLabels(urls);
    this.endpoints = urls.map((raw, i) => ({
      target: splitCredentials(raw),
      tier: i < primary.length ? 0 : 1,
      label: labels[i]!,
      active: 0,
      health: FRESH_HEALTH,
      prepare: null,
      stats: { requests: 0, failures: 0, rangeErrors: 0, cooldowns: 0, lastError: null },
    }));
    this.concurrencyPerEndpoint = options.concurrencyPerEndpoint ?? 4;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.policy = {
      failuresBeforeCooldown: options.failuresBeforeCooldown ?? 3,
      cooldownMs: options.cooldownMs ?? 30_000,
      cooldownMaxMs: options.cooldownMaxMs ?? 300_000,
      backoffBaseMs: options.backoffBaseMs ?? 200,
      backoffMaxMs: options.backoffMaxMs ?? 5_000,
      headRefreshMs: options.headRefreshMs ?? 2_000,
      expectedChainId: options.expectedChainId ?? null,
    };
    this.metrics = options.metrics ?? null;
    this.logger = options.logger ?? null;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.scheduler = new EndpointScheduler(this.endpoints, { concurrencyPerEndpoint: this.concurrencyPerEndpoint, policy: this.policy, now: this.now });
  }

  /** Requests the pool can have in flight when every endpoint is usable. */
  get capacity(): number {
    return this.endpoints.filter((e) => e.health.disabled === null && e.tier === 0).length * this.concurrencyPerEndpoint || this.concurrencyPerEndpoint;
  }

  /** Secret-free endpoint names, in configuration order. */
  get labels(): string[] {
    return this.endpoints.map((e) => e.label);
  }

  /** HTTP requests sent so far, all endpoints and outcomes. */
  get requestCount(): number {
    return this.endpoints.reduce((n, e) => n + e.stats.requests, 0);
  }

  stats(): EndpointStats[] {
    const now = this.now();
    return this.endpoints.map((e) => ({
      endpoint: e.label,
      ...e.stats,
      coolingForMs: Math.max(0, e.health.coolingUntil - now),
      head: e.health.head,
      disabled: e.health.disabled,
    }));
  }

  /**
   * The chain head. On first contact every endpoint is checked at once (chain id and head, one
   * round trip each) and the highest head wins; afterwards one healthy endpoint is asked.
   */
  async blockNumber(options: { signal?: AbortSignal } = {}): Promise<number> {
    const started = this.now();
    const unchecked = (h: EndpointHealth) => h.head === null || (this.policy.expectedChainId !== null && !h.chainChecked);
    const fresh = this.endpoints.filter((e) => e.tier === 0 && e.health.disabled === null && !isResting(e.health, started) && unchecked(e.health));
    if (fresh.length > 0) {
      await Promise.all(fresh.map((e) => this.prepareEndpoint(e, 0, options.signal)));
      const heads = this.endpoints
        .filter((e) => e.health.disabled === null && e.health.head !== null && e.health.headCheckedAt >= started)
        .map((e) => e.health.head!);
      if (heads.length > 0) return Math.max(...heads);
    }
    const { value, endpoint } = await this.run('eth_blockNumber', [], { signal: options.signal, parse: (r) => parseQuantity(r, 'block number') });
    endpoint.health = withHead(endpoint.health, value, this.now(), { keepHigher: true });
    return value;
  }

  async request<T = unknown>(method: string, params: unknown[], options: RequestOptions<T> = {}): Promise<T> {
    return (await this.run(method, params, options)).value;
  }

  /** Rejects every waiting request; in-flight ones finish or time out on their own signals. */
  close(): void {
    this.scheduler.close();
  }

  /** Attempts across endpoints until one serves the request, with backoff between failures. */
  private async run<T>(method: string, params: unknown[], options: RequestOptions<T>): Promise<{ value: T; endpoint: EndpointState }> {
    const { signal, minBlock } = options;
    const avoid = new Set<EndpointState>();
    let lastProblem = 'no attempt made';
    let lastWasBehind = false;
    for (let attempt = 1; attempt <= this.maxAttempts; ) {
      signal?.throwIfAborted();
      let endpoint: EndpointState;
      try {
        endpoint = await this.scheduler.acquire(minBlock, avoid, signal);
      } catch (err) {
        if (!(err instanceof PolygonError) || err.code !== 'POLYGON_ENDPOINTS_BEHIND') throw err;
        lastProblem = err.shortMessage;
        lastWasBehind = true;
        attempt += 1;
        // An abort ends the sleep at once; the loop's throwIfAborted then throws its reason.
        if (attempt <= this.maxAttempts) await sleep(Math.max(this.policy.headRefreshMs, this.backoff(attempt)), signal);
        continue;
      }
      let served: Served<T>;
      try {
        served = await this.serve(endpoint, method, params, options);
      } finally {
        this.scheduler.release(endpoint);
      }
      if (served.kind === 'value') return { value: served.value, endpoint };
      lastProblem = served.problem;
      if (served.kind === 'failed') {
        lastWasBehind = false;
        avoid.add(endpoint);
        if (avoid.size >= this.endpoints.length) avoid.clear();
        attempt += 1;
        if (attempt <= this.maxAttempts) await sleep(this.backoff(attempt - 1), signal);
      }
    }
    throw new PolygonError(
      lastWasBehind ? 'POLYGON_ENDPOINTS_BEHIND' : 'POLYGON_RPC_FAILED',
      `${method} failed after ${this.maxAttempts} attempts; last: ${lastProblem}`,
      {
        details: { method },
      },
    );
  }

  /** One attempt on an acquired endpoint. Throws POLYGON_RANGE_TOO_LARGE for a splittable refused range. */
  private async serve<T>(endpoint: EndpointState, method: string, params: unknown[], options: RequestOptions<T>): Promise<Served<T>> {
    const ready = await this.prepareEndpoint(endpoint, options.minBlock, options.signal);
    if (ready === 'failed') return { kind: 'failed', problem: `${endpoint.label}: ${endpoint.stats.lastError ?? 'preparation failed'}` };
    if (ready !== 'ok') {
      // Behind the needed block or on the wrong chain: not a failure of this request, try another endpoint.
      const why = ready === 'behind' ? `head ${endpoint.health.head} is behind block ${options.minBlock}` : endpoint.health.disabled;
      return { kind: 'skipped', problem: `${endpoint.label}: ${why}` };
    }
    const outcome = await this.attempt(endpoint, method, params, options.signal, options.parse ?? ((r) => r as T));
    if (outcome.ok) {
      this.recordSuccess(endpoint);
      return { kind: 'value', value: outcome.result };
    }
    if (outcome.kind === 'range_too_large') endpoint.stats.rangeErrors += 1;
    if (outcome.kind === 'range_too_large' && options.splittable) {
      this.recordSuccess(endpoint); // the endpoint works; the range is the problem
      throw new PolygonError('POLYGON_RANGE_TOO_LARGE', `${endpoint.label} refused the range: ${outcome.message}`, { details: { endpoint: endpoint.label } });
    }
    this.recordFailure(endpoint, outcome.kind, outcome.message, outcome.retryAfterMs);
    return { kind: 'failed', problem: `${endpoint.label}: ${outcome.message}` };
  }

  private backoff(attempt: number): number {
    return backoffMs(attempt, this.policy, this.random);
  }

  /**
   * Chain id check and head refresh before an endpoint serves a request that needs them.
   * Concurrent requests on one endpoint share a single check.
   */
  private async prepareEndpoint(e: EndpointState, minBlock: number | undefined, signal?: AbortSignal): Promise<'ok' | 'behind' | 'failed' | 'disabled'> {
    for (;;) {
      signal?.throwIfAborted();
      const next = preparation(e.health, minBlock, this.now(), this.policy);
      if (next !== 'check') return next;
      if (!e.prepare) {
        const needsChain = this.policy.expectedChainId !== null && !e.health.chainChecked;
        e.prepare = this.checkEndpoint(e, needsChain, signal).finally(() => {
          e.prepare = null;
        });
      }
      const outcome = await e.prepare;
      if (outcome === 'failed') return 'failed';
      // 'aborted' (another caller's signal) or 'done': look again.
    }
  }

  private async checkEndpoint(e: EndpointState, needsChain: boolean, signal?: AbortSignal): Promise<'done' | 'failed' | 'aborted'> {
    type Answer = { value: number } | { kind: RpcFailureKind; message: string; retryAfterMs?: number };
    const ask = async (method: string, what: string): Promise<Answer> => {
      const out = await this.attempt(e, method, [], signal, (r) => parseQuantity(r, what));
      if (!out.ok) return { kind: out.kind === 'range_too_large' ? 'rpc_error' : out.kind, message: out.message, retryAfterMs: out.retryAfterMs };
      return { value: out.result };
    };
    try {
      // Both questions at once: one round trip (one request above the endpoint's limit, once).
      const [chain, head] = await Promise.all([needsChain ? ask('eth_chainId', 'chain id') : Promise.resolve(null), ask('eth_blockNumber', 'block number')]);
      const failure = [chain, head].find((a): a is Exclude<Answer, { value: number }> => a !== null && !('value' in a));
      if (failure) {
        this.recordFailure(e, failure.kind, failure.message, failure.retryAfterMs);
        return 'failed';
      }
      if (chain !== null && 'value' in chain) {
        if (chain.value !== this.policy.expectedChainId) {
          e.health = { ...e.health, disabled: `chain id ${chain.value}, expected ${this.policy.expectedChainId}` };
          this.logger?.error(
            { endpoint: e.label, chainId: chain.value, expected: this.policy.expectedChainId },
            'Polygon endpoint serves another chain; not used',
          );
          this.scheduler.pump();
          return 'done';
        }
        e.health = { ...e.health, chainChecked: true };
      }
      e.health = afterSuccess(withHead(e.health, (head as { value: number }).value, this.now()));
      return 'done';
    } catch {
      return 'aborted';
    }
  }

  /**
   * One HTTP round trip through the transport and the answer's parse, counted and timed: a result
   * `parse` refuses is a `bad_response` failure (in the metrics too). Throws only when the caller's signal aborts.
   */
  private async attempt<T>(
    e: EndpointState,
    method: string,
    params: unknown[],
    signal: AbortSignal | undefined,
    parse: (result: unknown) => T,
  ): Promise<{ ok: true; result: T } | Extract<RpcOutcome, { ok: false }>> {
    const started = this.now();
    e.stats.requests += 1;
    const sent = await sendRpc(e.target, { method, params, id: this.nextId++, timeoutMs: this.timeoutMs, signal, fetch: this.fetchFn });
    let outcome: { ok: true; result: T } | Extract<RpcOutcome, { ok: false }>;
    if (!sent.ok) outcome = sent;
    else {
      try {
        outcome = { ok: true, result: parse(sent.result) };
      } catch (err) {
        outcome = { ok: false, kind: 'bad_response', message: redactText(errorMessage(err)) };
      }
    }
    this.metrics?.onRequest(e.label, outcome.ok, this.now() - started, { method, failure: outcome.ok ? undefined : outcome.kind });
    return outcome;
  }

  private recordSuccess(e: EndpointState): void {
    e.health = afterSuccess(e.health);
  }

  private recordFailure(e: EndpointState, kind: RpcAnswerClass, message: string, retryAfterMs?: number): void {
    e.stats.failures += 1;
    e.stats.lastError = `${kind}: ${message}`;
    if (this.warnThrottle(`${e.label}:${kind}`)) {
      this.logger?.warn({ endpoint: e.label, kind, error: message }, 'Polygon RPC request failed; retrying');
    }
    const { health, restMs } = afterFailure(e.health, { kind, retryAfterMs, now: this.now() }, this.policy);
    e.health = health;
    if (restMs === null) return;
    e.stats.cooldowns += 1;
    this.logger?.warn({ endpoint: e.label, cooldownMs: restMs, lastError: e.stats.lastError }, 'Polygon RPC endpoint rested after repeated failures');
  }
}
