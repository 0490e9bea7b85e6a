import { errorMessage } from '../../errors.js';
import { createThrottle, type Logger } from '../../observability/logger.js';
import { redactText, redactUrl } from '../../observability/redact.js';
import { PolygonError } from './errors.js';
import { raceSignal, startDeadline } from '../../util/deadline.js';

/**
 * A pool of Polygon JSON-RPC endpoints. Requests wait in one queue and take a free slot on
 * whichever healthy endpoint has one, so a fast endpoint naturally carries more of the load
 * and a slow or failing one less. Each endpoint has its own concurrency limit. A failure is
 * retried with backoff (on another endpoint when one is free); an endpoint that keeps failing
 * is rested for a cool-down, doubling while it keeps failing, while the others carry on.
 *
 * Endpoints are only asked for blocks they have: before a request that needs block N goes to
 * an endpoint whose head is unknown or older than N, the pool asks that endpoint for its head
 * (a lagging public RPC answers `[]` for blocks it has not seen, which would lose claims).
 * With `expectedChainId` each endpoint's chain id is checked once before its first use.
 *
 * URLs appear in logs, errors and metrics only as `redactUrl` labels (API keys stay out).
 */

export type RpcFailureKind = 'timeout' | 'rate_limited' | 'server_error' | 'http_error' | 'network' | 'rpc_error' | 'bad_response';

/** What one answer means for the pool: a usable result, a range to split, or an endpoint failure. */
export type RpcAnswerClass = 'range_too_large' | RpcFailureKind;

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

interface EndpointState {
  /** Without userinfo: fetch refuses URLs with credentials; they go in `authorization`. */
  url: string;
  authorization: string | null;
  /** 0 = configured, 1 = fallback. */
  tier: number;
  label: string;
  active: number;
  consecutiveFailures: number;
  cooldownLevel: number;
  coolingUntil: number;
  disabled: string | null;
  chainChecked: boolean;
  head: number | null;
  headCheckedAt: number;
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

type Attempt = { ok: true; result: unknown } | { ok: false; kind: RpcAnswerClass; message: string; retryAfterMs?: number };

const RATE_LIMIT_TEXT = /rate.?limit|too many requests|request limit|requests? (per|\/) ?(second|sec|minute|min)|quota|throttl|capacity|compute units|credits|daily limit/i;
const RANGE_TEXT =
  /block range|range (is )?too (large|wide|big)|too many (results|logs|blocks)|(more|greater) than \d+ (results|logs|blocks)|response (size|is too (big|large))|log response size|limited to (a )?\d+|exceeds? (the )?(max|maximum|limit)|max(imum)? (block )?range|range limit|results? limit|too large|query timeout|query returned more/i;

/**
 * Classifies a failed answer. Pure, so the many phrasings of public RPCs can be unit-tested.
 * Rate limits are checked first: "limit exceeded" texts of throttling services also match
 * the looser range patterns.
 */
export function classifyRpcError(answer: { status?: number; code?: number; message?: string }): RpcAnswerClass {
  const text = answer.message ?? '';
  if (answer.status === 429 || RATE_LIMIT_TEXT.test(text)) return 'rate_limited';
  if (RANGE_TEXT.test(text)) return 'range_too_large';
  // -32005 "limit exceeded" without a range hint is a throttle (Infura's range answer says "more than … results").
  if (answer.code === -32005) return 'rate_limited';
  if (answer.status !== undefined && answer.status >= 500) return 'server_error';
  if (answer.status !== undefined && answer.status >= 400) return 'http_error';
  if (answer.code !== undefined) return 'rpc_error';
  return 'bad_response';
}

/** 0x-prefixed hex quantity → safe integer; throws POLYGON_BAD_RESPONSE otherwise. */
export function parseQuantity(value: unknown, what = 'quantity'): number {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{1,15}$/.test(value)) {
    throw new PolygonError('POLYGON_BAD_RESPONSE', `expected a hex ${what}, got ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  const n = Number.parseInt(value, 16);
  if (!Number.isSafeInteger(n)) throw new PolygonError('POLYGON_BAD_RESPONSE', `${what} ${value} is too large`);
  return n;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `https://user:pass@host/…` → the URL without userinfo and a Basic authorization header. */
function splitCredentials(raw: string): { url: string; authorization: string | null } {
  const u = new URL(raw);
  if (u.username === '' && u.password === '') return { url: raw, authorization: null };
  const token = Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64');
  u.username = '';
  u.password = '';
  return { url: u.toString(), authorization: `Basic ${token}` };
}

/** Distinct, secret-free labels: `redactUrl`, numbered when two endpoints share a host. */
function endpointLabels(urls: readonly string[]): string[] {
  const base = urls.map((u) => redactUrl(u));
  return base.map((b, i) => (base.filter((x) => x === b).length > 1 ? `${b}#${i}` : b));
}

export class EndpointPool {
  readonly concurrencyPerEndpoint: number;
  private readonly endpoints: EndpointState[];
  private readonly waiters: Waiter[] = [];
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly failuresBeforeCooldown: number;
  private readonly cooldownMs: number;
  private readonly cooldownMaxMs: number;
  private readonly expectedChainId: number | null;
  private readonly headRefreshMs: number;
  private readonly metrics: RpcMetricsSink | null;
  private readonly logger: Logger | null;
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly now: () => number;
  private readonly warnThrottle = createThrottle(60_000);
  private nextId = 1;
  private rotate = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(options: EndpointPoolOptions) {
    const primary = [...new Set(options.urls.map((u) => u.trim()).filter((u) => u !== ''))];
    const fallback = [...new Set((options.fallbackUrls ?? []).map((u) => u.trim()).filter((u) => u !== '' && !primary.includes(u)))];
    const urls = [...primary, ...fallback];
    if (primary.length === 0) {
      throw new PolygonError('POLYGON_NO_ENDPOINTS', 'no Polygon RPC endpoint configured: set POLYGON_RPC_URL or --polygon.rpc_url');
    }
    for (const url of urls) {
      let ok = false;
      try {
        const u = new URL(url);
        ok = u.protocol === 'http:' || u.protocol === 'https:';
      } catch {
        ok = false;
      }
      if (!ok) throw new PolygonError('POLYGON_NO_ENDPOINTS', `Polygon RPC endpoint ${redactUrl(url)} is not an http(s) URL`);
    }
    const labels = endpointLabels(urls);
    this.endpoints = urls.map((raw, i) => ({
      ...splitCredentials(raw),
      tier: i < primary.length ? 0 : 1,
      label: labels[i]!,
      active: 0,
      consecutiveFailures: 0,
      cooldownLevel: 0,
      coolingUntil: 0,
      disabled: null,
      chainChecked: false,
      head: null,
      headCheckedAt: 0,
      prepare: null,
      stats: { requests: 0, failures: 0, rangeErrors: 0, cooldowns: 0, lastError: null },
    }));
    this.concurrencyPerEndpoint = options.concurrencyPerEndpoint ?? 4;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.maxAttempts = options.maxAttempts ?? 8;
    this.backoffBaseMs = options.backoffBaseMs ?? 200;
    this.backoffMaxMs = options.backoffMaxMs ?? 5_000;
    this.failuresBeforeCooldown = options.failuresBeforeCooldown ?? 3;
    this.cooldownMs = options.cooldownMs ?? 30_000;
    this.cooldownMaxMs = options.cooldownMaxMs ?? 300_000;
    this.expectedChainId = options.expectedChainId ?? null;
    this.headRefreshMs = options.headRefreshMs ?? 2_000;
    this.metrics = options.metrics ?? null;
    this.logger = options.logger ?? null;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? Date.now;
  }

  /** Requests the pool can have in flight when every endpoint is usable. */
  get capacity(): number {
    return this.endpoints.filter((e) => e.disabled === null && e.tier === 0).length * this.concurrencyPerEndpoint || this.concurrencyPerEndpoint;
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
      coolingForMs: Math.max(0, e.coolingUntil - now),
      head: e.head,
      disabled: e.disabled,
    }));
  }

  /**
   * The chain head. On first contact every endpoint is checked at once (chain id and head, one
   * round trip each) and the highest head wins; afterwards one healthy endpoint is asked.
   */
  async blockNumber(options: { signal?: AbortSignal } = {}): Promise<number> {
    const started = this.now();
    const fresh = this.endpoints.filter(
      (e) => e.tier === 0 && e.disabled === null && e.coolingUntil <= started && (e.head === null || (this.expectedChainId !== null && !e.chainChecked)),
    );
    if (fresh.length > 0) {
      await Promise.all(fresh.map((e) => this.prepareEndpoint(e, 0, options.signal)));
      const heads = this.endpoints.filter((e) => e.disabled === null && e.head !== null && e.headCheckedAt >= started).map((e) => e.head!);
      if (heads.length > 0) return Math.max(...heads);
    }
    const { value, endpoint } = await this.run('eth_blockNumber', [], { signal: options.signal, parse: (r) => parseQuantity(r, 'block number') });
    if (endpoint.head === null || value > endpoint.head) endpoint.head = value;
    endpoint.headCheckedAt = this.now();
    return value;
  }

  async request<T = unknown>(method: string, params: unknown[], options: RequestOptions<T> = {}): Promise<T> {
    return (await this.run(method, params, options)).value;
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

  private async run<T>(method: string, params: unknown[], options: RequestOptions<T>): Promise<{ value: T; endpoint: EndpointState }> {
    const { signal, minBlock } = options;
    const avoid = new Set<EndpointState>();
    let lastProblem = 'no attempt made';
    let lastWasBehind = false;
    for (let attempt = 1; attempt <= this.maxAttempts; ) {
      signal?.throwIfAborted();
      let endpoint: EndpointState;
      try {
        endpoint = await this.acquire(minBlock, avoid, signal);
      } catch (err) {
        if (!(err instanceof PolygonError) || err.code !== 'POLYGON_ENDPOINTS_BEHIND') throw err;
        lastProblem = err.shortMessage;
        lastWasBehind = true;
        attempt += 1;
        if (attempt <= this.maxAttempts) await sleep(Math.max(this.headRefreshMs, this.backoff(attempt)), signal);
        continue;
      }
      let result: { value: T } | null = null;
      let failed = false;
      try {
        const ready = await this.prepareEndpoint(endpoint, minBlock, signal);
        if (ready === 'ok') {
          const outcome = await this.attempt(endpoint, method, params, signal);
          if (outcome.ok) {
            try {
              result = { value: options.parse ? options.parse(outcome.result) : (outcome.result as T) };
              this.recordSuccess(endpoint);
            } catch (err) {
              failed = true;
              lastProblem = `${endpoint.label}: ${redactText(errorMessage(err))}`;
              this.recordFailure(endpoint, 'bad_response', lastProblem);
            }
          } else if (outcome.kind === 'range_too_large' && options.splittable) {
            endpoint.stats.rangeErrors += 1;
            this.recordSuccess(endpoint); // the endpoint works; the range is the problem
            throw new PolygonError('POLYGON_RANGE_TOO_LARGE', `${endpoint.label} refused the range: ${outcome.message}`, {
              details: { endpoint: endpoint.label },
            });
          } else {
            if (outcome.kind === 'range_too_large') endpoint.stats.rangeErrors += 1;
            failed = true;
            lastProblem = `${endpoint.label}: ${outcome.message}`;
            this.recordFailure(endpoint, outcome.kind, outcome.message, outcome.retryAfterMs);
          }
        } else if (ready === 'failed') {
          failed = true;
          lastProblem = `${endpoint.label}: ${endpoint.stats.lastError ?? 'preparation failed'}`;
        } else {
          // Behind the needed block or on the wrong chain: not a failure of this request, try another endpoint.
          lastProblem = `${endpoint.label}: ${ready === 'behind' ? `head ${endpoint.head} is behind block ${minBlock}` : endpoint.disabled}`;
        }
      } finally {
        this.release(endpoint);
      }
      if (result) return { value: result.value, endpoint };
      if (failed) {
        lastWasBehind = false;
        avoid.add(endpoint);
        if (avoid.size >= this.endpoints.length) avoid.clear();
        attempt += 1;
        if (attempt <= this.maxAttempts) await sleep(this.backoff(attempt - 1), signal);
      }
    }
    throw new PolygonError(lastWasBehind ? 'POLYGON_ENDPOINTS_BEHIND' : 'POLYGON_RPC_FAILED', `${method} failed after ${this.maxAttempts} attempts; last: ${lastProblem}`, {
      details: { method },
    });
  }

  private backoff(attempt: number): number {
    const ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1));
    return Math.round(ceiling * (0.5 + Math.random() / 2));
  }

  /**
   * Chain id check and head refresh before an endpoint serves a request that needs them.
   * Concurrent requests on one endpoint share a single check.
   */
  private async prepareEndpoint(e: EndpointState, minBlock: number | undefined, signal?: AbortSignal): Promise<'ok' | 'behind' | 'failed' | 'disabled'> {
    for (;;) {
      signal?.throwIfAborted();
      if (e.disabled !== null) return 'disabled';
      const needsChain = this.expectedChainId !== null && !e.chainChecked;
      const needsHead = minBlock !== undefined && (e.head === null || e.head < minBlock);
      if (!needsChain && !needsHead) return 'ok';
      if (!needsChain && e.head !== null && this.now() - e.headCheckedAt < this.headRefreshMs) return 'behind';
      if (!e.prepare) {
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
      const out = await this.attempt(e, method, [], signal);
      if (!out.ok) return { kind: out.kind === 'range_too_large' ? 'rpc_error' : out.kind, message: out.message, retryAfterMs: out.retryAfterMs };
      try {
        return { value: parseQuantity(out.result, what) };
      } catch (err) {
        return { kind: 'bad_response', message: errorMessage(err) };
      }
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
        if (chain.value !== this.expectedChainId) {
          e.disabled = `chain id ${chain.value}, expected ${this.expectedChainId}`;
          this.logger?.error({ endpoint: e.label, chainId: chain.value, expected: this.expectedChainId }, 'Polygon endpoint serves another chain; not used');
          this.pump();
          return 'done';
        }
        e.chainChecked = true;
      }
      e.head = (head as { value: number }).value;
      e.headCheckedAt = this.now();
      this.recordSuccess(e);
      return 'done';
    } catch {
      return 'aborted';
    }
  }

  /** One HTTP round trip, classified. Throws only when the caller's signal aborts. */
  private async attempt(e: EndpointState, method: string, params: unknown[], signal?: AbortSignal): Promise<Attempt> {
    const started = this.now();
    e.stats.requests += 1;
    const deadline = startDeadline(this.timeoutMs, { parent: signal, label: method });
    const combined = deadline.signal;
    let outcome: Attempt;
    try {
      const res = await raceSignal(this.fetchFn(e.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', ...(e.authorization ? { authorization: e.authorization } : {}) },
        body: JSON.stringify({ jsonrpc: '2.0', id: this.nextId++, method, params }),
        signal: combined,
      }), combined);
      const text = await raceSignal(res.text(), combined);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const rpcError = typeof body === 'object' && body !== null && 'error' in body ? (body as { error: unknown }).error : undefined;
      const errFields = typeof rpcError === 'object' && rpcError !== null ? (rpcError as { code?: unknown; message?: unknown }) : undefined;
      const code = typeof errFields?.code === 'number' ? errFields.code : undefined;
      const message = redactText(typeof errFields?.message === 'string' ? errFields.message : text.slice(0, 200));
      if (!res.ok) {
        const retryAfter = Number(res.headers.get('retry-after'));
        outcome = {
          ok: false,
          kind: classifyRpcError({ status: res.status, code, message }),
          message: `HTTP ${res.status}${message ? `: ${message}` : ''}`,
          retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
        };
      } else if (body === undefined || typeof body !== 'object' || body === null || Array.isArray(body)) {
        outcome = { ok: false, kind: 'bad_response', message: `not a JSON-RPC answer: ${redactText(text.slice(0, 80))}` };
      } else if (rpcError !== undefined) {
        outcome = { ok: false, kind: classifyRpcError({ code: code ?? 0, message }), message: `JSON-RPC error ${code ?? '?'}: ${message}` };
      } else if (!('result' in body)) {
        outcome = { ok: false, kind: 'bad_response', message: 'JSON-RPC answer without result' };
      } else {
        outcome = { ok: true, result: (body as { result: unknown }).result };
      }
    } catch (err) {
      if (signal?.aborted) throw signal.reason;
      if (deadline.expired) outcome = { ok: false, kind: 'timeout', message: `no answer within ${this.timeoutMs} ms` };
      else {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        outcome = { ok: false, kind: 'network', message: redactText(cause?.code ?? cause?.message ?? errorMessage(err)) };
      }
    } finally {
      deadline.clear();
    }
    this.metrics?.onRequest(e.label, outcome.ok, this.now() - started, { method, failure: outcome.ok ? undefined : outcome.kind });
    return outcome;
  }

  private recordSuccess(e: EndpointState): void {
    e.consecutiveFailures = 0;
    e.cooldownLevel = 0;
  }

  private recordFailure(e: EndpointState, kind: RpcAnswerClass, message: string, retryAfterMs?: number): void {
    e.stats.failures += 1;
    e.stats.lastError = `${kind}: ${message}`;
    e.consecutiveFailures += 1;
    if (this.warnThrottle(`${e.label}:${kind}`)) {
      this.logger?.warn({ endpoint: e.label, kind, error: message }, 'Polygon RPC request failed; retrying');
    }
    const rateLimitedWithHint = kind === 'rate_limited' && retryAfterMs !== undefined;
    if (e.consecutiveFailures < this.failuresBeforeCooldown && !rateLimitedWithHint) return;
    const ms = Math.min(this.cooldownMaxMs, Math.max(retryAfterMs ?? 0, this.cooldownMs * 2 ** e.cooldownLevel));
    e.cooldownLevel += 1;
    e.consecutiveFailures = 0;
    e.coolingUntil = Math.max(e.coolingUntil, this.now() + ms);
    e.stats.cooldowns += 1;
    this.logger?.warn({ endpoint: e.label, cooldownMs: ms, lastError: e.stats.lastError }, 'Polygon RPC endpoint rested after repeated failures');
  }

  /** 'ready' to serve a request for minBlock, 'prepare' after a head/chain check, or 'no'. */
  private usability(e: EndpointState, minBlock: number | undefined): 'ready' | 'prepare' | 'no' {
    if (e.disabled !== null) return 'no';
    if (this.expectedChainId !== null && !e.chainChecked) return 'prepare';
    if (minBlock === undefined || (e.head !== null && e.head >= minBlock)) return 'ready';
    if (e.head === null || this.now() - e.headCheckedAt >= this.headRefreshMs) return 'prepare';
    return 'no';
  }

  private acquire(minBlock: number | undefined, avoid: ReadonlySet<EndpointState>, signal?: AbortSignal): Promise<EndpointState> {
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

  private unsatisfiable(minBlock: number | undefined): PolygonError | null {
    // Fallbacks cover for resting endpoints, not for a misconfigured list (e.g. all on another chain).
    if (this.endpoints.every((e) => e.disabled !== null || e.tier > 0)) {
      const primaries = this.endpoints.filter((e) => e.tier === 0);
      return new PolygonError('POLYGON_NO_ENDPOINTS', `no usable Polygon endpoint: ${primaries.map((e) => `${e.label} (${e.disabled})`).join(', ')}`);
    }
    if (this.endpoints.every((e) => e.disabled !== null)) {
      return new PolygonError('POLYGON_NO_ENDPOINTS', `no usable Polygon endpoint: ${this.endpoints.map((e) => `${e.label} (${e.disabled})`).join(', ')}`);
    }
    if (this.endpoints.every((e) => this.usability(e, minBlock) === 'no')) {
      const heads = this.endpoints.map((e) => `${e.label} at ${e.head ?? '?'}`).join(', ');
      return new PolygonError('POLYGON_ENDPOINTS_BEHIND', `no endpoint has reached block ${minBlock} yet (${heads})`);
    }
    return null;
  }

  private release(e: EndpointState): void {
    e.active -= 1;
    this.pump();
  }

  /** Hands free slots to waiting requests in arrival order; arms a timer for the next cool-down end. */
  private pump(): void {
    const now = this.now();
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
      const ends = this.endpoints.filter((e) => e.disabled === null && e.coolingUntil > now).map((e) => e.coolingUntil);
      if (ends.length > 0) this.wakeTimer = setTimeout(() => this.pump(), Math.max(1, Math.min(...ends) - now));
    }
  }

  private pick(w: Waiter, now: number): EndpointState | undefined {
    let best: EndpointState | undefined;
    let bestScore = Infinity;
    const n = this.endpoints.length;
    // Fallbacks only while no configured endpoint could serve this request (busy is not enough).
    const tier = Math.min(
      ...this.endpoints.filter((e) => e.disabled === null && e.coolingUntil <= now && this.usability(e, w.minBlock) !== 'no').map((e) => e.tier),
    );
    this.rotate = (this.rotate + 1) % n;
    for (let k = 0; k < n; k++) {
      const e = this.endpoints[(this.rotate + k) % n]!;
      if (e.tier !== tier || e.disabled !== null || e.coolingUntil > now || e.active >= this.concurrencyPerEndpoint) continue;
      const use = this.usability(e, w.minBlock);
      if (use === 'no') continue;
      const score = (w.avoid.has(e) ? 10 : 0) + (use === 'prepare' ? 0.5 : 0) + e.active / this.concurrencyPerEndpoint;
      if (score < bestScore) {
        best = e;
        bestScore = score;
      }
    }
    return best;
  }
}
