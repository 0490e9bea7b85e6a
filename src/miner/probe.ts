/**
 * The miner's answer to a `ProviderProbe`: one timed GET of the target URL.
 *
 * Semantics of the Python miner (generation C): latency is the whole GET
 * including redirects and the body, in integer milliseconds; any HTTP answer is
 * `reachable` with its status (402 is a legitimate answer of a paid API); any
 * failure (timeout, DNS, TLS, refused connection, empty or invalid URL) is
 * `false, 0, 0`.
 *
 * Unlike the original, the target is checked by the address guard before each
 * connection: after DNS and on every redirect hop, and the socket connects to the
 * very address that was checked (the guard runs inside the socket's `lookup`),
 * so DNS rebinding between check and connect has nothing to exploit.
 */
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import type { LookupFunction } from 'node:net';
import pLimit from 'p-limit';
import { errorMessage } from '../errors.js';
import { createAddressGuard, type AddressGuard } from './addressGuard.js';
import { raceSignal, startDeadline } from '../util/deadline.js';

/** The three fields a miner copies onto the `ProviderProbe` synapse. */
export interface ProbeFields {
  probe_latency_ms: number;
  probe_status: number;
  probe_reachable: boolean;
}

export type ProbeFailureKind = 'invalid-url' | 'refused' | 'timeout' | 'aborted' | 'too-many-redirects' | 'network';

/** The probe fields, plus why it failed (for the miner's log; never sent on the wire). */
export interface ProbeOutcome extends ProbeFields {
  failure?: { kind: ProbeFailureKind; message: string };
}

export interface ResolvedAddress {
  address: string;
  /** 4 or 6 */
  family: number;
}

/** DNS: every address of a host name. Injectable so tests can simulate names without a DNS server. */
export type HostResolver = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemResolver: HostResolver = (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

export interface ProbeOptions {
  /** Whole probe, redirects and body included. Default 5000 (`PROBE_TIMEOUT_MS`). */
  timeoutMs?: number;
  /** Default 5. One more redirect is a failure. */
  maxRedirects?: number;
  /** Body bytes read before the rest is dropped (the answer still counts). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Hosts or CIDRs reachable although private/loopback (`--probe.allow`). */
  allow?: readonly string[];
  /** Cancels the probe (the caller's deadline); reported as unreachable. */
  signal?: AbortSignal;
  lookup?: HostResolver;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

export const PROBE_DEFAULTS = {
  timeoutMs: 5000,
  maxRedirects: 5,
  maxBodyBytes: 1024 * 1024,
} as const;

const USER_AGENT = 'hs58-miner-probe/1';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/**
 * Probes one URL. Never rejects for anything about the target; throws
 * `AddressGuardError` only for a malformed `allow` entry (a configuration error).
 */
export async function probeUrl(targetUrl: string, options: ProbeOptions = {}): Promise<ProbeOutcome> {
  const guard = createAddressGuard({ allow: options.allow ?? [] });
  return runProbe(targetUrl, guard, options);
}

export interface ProberOptions extends Omit<ProbeOptions, 'signal'> {
  /** Probes running at once (`--probe.concurrency`); the rest wait. Default 16. */
  concurrency?: number;
}

export interface Prober {
  /** Waits for a slot, then probes; the timeout starts when the probe starts. */
  probe(targetUrl: string, signal?: AbortSignal): Promise<ProbeOutcome>;
  readonly activeCount: number;
  readonly pendingCount: number;
}

/** A prober with a concurrency limit; a bad `allow` entry throws here, at start. */
export function createProber(options: ProberOptions = {}): Prober {
  const guard = createAddressGuard({ allow: options.allow ?? [] });
  const limit = pLimit(options.concurrency ?? 16);
  return {
    probe: (targetUrl, signal) =>
      limit(() => {
        if (signal?.aborted) return failed('aborted', 'aborted before it started');
        return runProbe(targetUrl, guard, { ...options, signal });
      }),
    get activeCount() {
      return limit.activeCount;
    },
    get pendingCount() {
      return limit.pendingCount;
    },
  };
}

// ---------------------------------------------------------------------------------------------

/** A failure that already knows how to report itself. */
class ProbeFailure extends Error {
  constructor(
    readonly kind: ProbeFailureKind,
    message: string,
  ) {
    super(message);
  }
}

function failed(kind: ProbeFailureKind, message: string): ProbeOutcome {
  return { probe_latency_ms: 0, probe_status: 0, probe_reachable: false, failure: { kind, message } };
}

async function runProbe(targetUrl: string, guard: AddressGuard, options: ProbeOptions): Promise<ProbeOutcome> {
  const now = options.now ?? (() => performance.now());
  const timeoutMs = options.timeoutMs ?? PROBE_DEFAULTS.timeoutMs;
  const maxRedirects = options.maxRedirects ?? PROBE_DEFAULTS.maxRedirects;
  const maxBodyBytes = options.maxBodyBytes ?? PROBE_DEFAULTS.maxBodyBytes;
  const resolver = options.lookup ?? systemResolver;

  let url: URL;
  try {
    url = parseTarget(targetUrl);
  } catch (err) {
    return failed('invalid-url', errorMessage(err));
  }

  const deadline = startDeadline(timeoutMs, { parent: options.signal, label: 'probe' });
  const signal = deadline.signal;
  const started = now();
  try {
    for (let hop = 0; ; hop++) {
      const answer = await raceSignal(getOnce(url, { guard, resolver, signal, maxBodyBytes }), signal);
      if (answer.location === undefined) {
        return { probe_latency_ms: Math.max(0, Math.round(now() - started)), probe_status: answer.status, probe_reachable: true };
      }
      if (hop >= maxRedirects) throw new ProbeFailure('too-many-redirects', `more than ${maxRedirects} redirects`);
      url = parseTarget(answer.location, url);
    }
  } catch (err) {
    if (options.signal?.aborted) return failed('aborted', 'aborted by the caller');
    if (deadline.expired) return failed('timeout', `no complete answer within ${timeoutMs} ms`);
    if (err instanceof ProbeFailure) return failed(err.kind, err.message);
    return failed('network', errorMessage(err));
  } finally {
    deadline.clear();
  }
}

/** Only absolute http(s) URLs; `base` resolves a relative redirect. */
function parseTarget(text: string, base?: URL): URL {
  if (typeof text !== 'string' || text.trim() === '') throw new ProbeFailure('invalid-url', 'empty URL');
  let url: URL;
  try {
    url = new URL(text, base);
  } catch {
    throw new ProbeFailure('invalid-url', base ? 'invalid redirect location' : 'invalid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ProbeFailure('invalid-url', `scheme ${url.protocol} is not http or https`);
  }
  return url;
}

interface HopContext {
  guard: AddressGuard;
  resolver: HostResolver;
  signal: AbortSignal;
  maxBodyBytes: number;
}

interface HopAnswer {
  status: number;
  /** Set when the answer is a redirect to follow. */
  location?: string;
}

/** One request: check the host, connect to a checked address, read a bounded body. */
function getOnce(url: URL, ctx: HopContext): Promise<HopAnswer> {
  const verdict = ctx.guard.checkHost(url.hostname);
  if (!verdict.ok) return Promise.reject(new ProbeFailure('refused', verdict.reason));
  if (ctx.signal.aborted) return Promise.reject(ctx.signal.reason);

  return new Promise<HopAnswer>((resolve, reject) => {
    let settled = false;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      ctx.signal.removeEventListener('abort', onAbort);
      fn();
    };

    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request({
      protocol: url.protocol,
      // An IP literal connects to exactly the checked address; a name goes through the guarded lookup.
      hostname: verdict.ip ?? url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'GET',
      headers: { host: url.host, 'user-agent': USER_AGENT, accept: '*/*', 'accept-encoding': 'identity' },
      auth: url.username || url.password ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined,
      lookup: verdict.ip === null ? guardedLookup(ctx.guard, ctx.resolver) : undefined,
      agent: false,
    });

    function onAbort() {
      request.destroy(ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('aborted'));
    }
    ctx.signal.addEventListener('abort', onAbort, { once: true });

    request.on('error', (err) => settle(() => reject(err)));
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (REDIRECT_STATUSES.has(status) && typeof location === 'string' && location !== '') {
        settle(() => resolve({ status, location }));
        response.destroy();
        return;
      }
      if (ctx.maxBodyBytes === 0) {
        settle(() => resolve({ status }));
        response.destroy();
        return;
      }
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received >= ctx.maxBodyBytes) {
          // Enough to know the provider answers; drop the rest instead of downloading it.
          settle(() => resolve({ status }));
          response.destroy();
        }
      });
      response.once('end', () => settle(() => resolve({ status })));
      response.on('error', (err) => settle(() => reject(err)));
      response.once('close', () => {
        if (!response.complete) settle(() => reject(new Error('connection closed before the body ended')));
      });
    });
    request.end();
  });
}

/**
 * The socket's DNS step: resolve, refuse the whole host if any address is not
 * allowed (a mixed answer could fail over to the private one), and hand the
 * socket only the addresses just checked.
 */
function guardedLookup(guard: AddressGuard, resolver: HostResolver): LookupFunction {
  return (hostname, options, callback) => {
    const done = callback as (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
    resolver(hostname).then(
      (all) => {
        const family = typeof options === 'object' && options ? options.family : undefined;
        const wanted = all.filter((a) => (family === 4 || family === 6 ? a.family === family : true));
        for (const a of all) {
          const reason = guard.checkResolved(hostname, a.address);
          if (reason !== null) return done(new ProbeFailure('refused', reason), '');
        }
        const first = wanted[0];
        if (first === undefined) {
          const err: NodeJS.ErrnoException = new Error(`no address for ${hostname}`);
          err.code = 'ENOTFOUND';
          return done(err, '');
        }
        if (typeof options === 'object' && options?.all)
          return done(
            null,
            wanted.map((a) => ({ address: a.address, family: a.family })),
          );
        return done(null, first.address, first.family);
      },
      (err: unknown) => done(err instanceof Error ? err : new Error(String(err)), ''),
    );
  };
}
