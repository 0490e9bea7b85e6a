/**
 * The miner's axon: a fastify server that speaks the bittensor axon protocol (bittensor-wire.md §1)
 * so that Python dendrites and ours get the answers a Python axon would give.
 *
 * Every request, whatever its method and path, goes through the same checks in Python's order
 * (its middleware runs before its router), each one answering with Python's status and message:
 *
 *   synapse named by the path (404 unknown synapse; 413 body too large, 431 head too large)
 *   → headers as `Synapse.from_headers` reads them (400 where Python cannot; Python answers 500)
 *   → blacklist (403 `Forbidden. Key is blacklisted: …`)
 *   → verify (401 `Not Verified with error: …`: nonce, then signature; ALWAYS required)
 *   → route (404 `/ProviderCheck/x`, 405 a method other than GET/POST, HEAD included)
 *   → body (422 not JSON, as FastAPI; 415 not application/json; 400 not what the synapse holds)
 *   → priority (503 overloaded, 408 waited past the synapse timeout)
 *   → body hash (500) → handler (500 if it throws).
 *
 * test/e2e/axon-python-differential.test.ts sends the same requests to a real Python axon and to
 * this one; the few answers that may differ are listed, with their reasons, in
 * test/support/axon-python-differences.ts.
 *
 * Load: verification is the expensive step, so it is admitted in stake order through a bounded
 * waiting room and runs on the verify pool's worker threads; the handlers are admitted the
 * same way. A full waiting room answers 503 at once instead of growing memory, so an overloaded
 * axon stays responsive (the lowest-stake waiter is the one turned away). An overloaded axon
 * may thus answer 503 before it checked a signature (Python never sends 503).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from '../observability/logger.js';
import { createThrottle } from '../observability/logger.js';
import type { MinerMetrics } from '../observability/metrics.js';
import {
  blacklistedMessage,
  checkBodyHash,
  decodeRequestBody,
  decodeRequestHead,
  DEFAULT_TIMEOUT_SEC,
  encodeErrorResponse,
  encodeResponse,
  isKnownSynapse,
  isProtocolError,
  MAX_REQUEST_BODY_BYTES,
  notVerifiedMessage,
  OVERLOADED_MESSAGE,
  priorityTimeoutMessage,
  readSignatureText,
  requestSigningMessage,
  STATUS,
  unknownSynapseMessage,
  VERIFY_ERRORS,
  type DecodedRequest,
  type EncodedResponse,
  type RequestHead,
  type ResponseFields,
  type SpecOf,
  type SynapseName,
  type SynapseSpec,
} from '../protocol/index.js';
import { linkSignals, raceSignal, startDeadline } from '../util/deadline.js';
import { ss58ToPublicKey } from '../wallet/sr25519.js';
import { NonceStore } from './nonces.js';
import { PriorityScheduler } from './priority.js';
import { createInlineVerifier, type SignatureVerifier } from './verifyPool.js';

/** What a handler gets besides the request. */
export interface HandlerContext {
  /** Aborts when the synapse timeout passes or the server closes. Created on first access. */
  readonly signal: AbortSignal;
  /** The verified caller. */
  readonly callerHotkey: string;
}

export type SynapseHandler<N extends SynapseName> = (
  request: DecodedRequest<SpecOf<N>>,
  ctx: HandlerContext,
) => Promise<Partial<ResponseFields<SpecOf<N>>>> | Partial<ResponseFields<SpecOf<N>>>;

/** One handler per synapse served; the others answer 404 like a Python axon without them attached. */
export type AxonHandlers = { [N in SynapseName]?: SynapseHandler<N> };

/** Python's blacklist function: `(blacklisted, reason)`. `hotkey` is null when the caller sent none. */
export type BlacklistFn = (hotkey: string | null, synapse: SynapseName) => { blacklisted: boolean; reason: string };

/** Python's priority function: higher is served first (the caller's stake). */
export type PriorityFn = (hotkey: string) => number;

export interface AxonLimits {
  /** Largest request body; bigger gets 413. Default 64 KiB. */
  maxBodyBytes: number;
  /** Largest request head (Node answers 431 above it). Default 16 KiB. */
  maxHeaderBytes: number;
  /** Time to receive a whole request, headers included (slow senders are cut). Default 10 s. */
  requestTimeoutMs: number;
  /** Idle keep-alive connections are closed after this. Default 5 s (uvicorn's). */
  keepAliveTimeoutMs: number;
  /** Open connections at most; more are refused by the socket. Default 2048. */
  maxConnections: number;
  /** Requests waiting for verification, and waiting for a handler; beyond it: 503. Default 256. */
  maxQueue: number;
  /** Verifications in flight (keeps the verify workers busy). Default 32 per verify thread, 1 inline. */
  verifyConcurrency: number;
  /** Handlers running at once. Default 64. */
  handlerConcurrency: number;
  /** The synapse timeout honoured at most, seconds (a caller cannot hold a slot longer). Default 60. */
  maxTimeoutSec: number;
}

export const DEFAULT_AXON_LIMITS: Omit<AxonLimits, 'verifyConcurrency'> = {
  maxBodyBytes: MAX_REQUEST_BODY_BYTES,
  maxHeaderBytes: 16 * 1024,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 2048,
  maxQueue: 256,
  handlerConcurrency: 64,
  maxTimeoutSec: 60,
};

export interface CreateAxonServerParameters {
  /** The miner's hotkey: the axon hotkey every signature must name (Python's `default_verify`). */
  hotkey: { address: string };
  handlers: AxonHandlers;
  blacklist: BlacklistFn;
  priorityFn: PriorityFn;
  limits?: Partial<AxonLimits>;
  /** Default: verification on the main thread (the wasm path). The miner passes a worker pool. */
  verifier?: SignatureVerifier;
  nonces?: NonceStore;
  metrics?: MinerMetrics | null;
  logger: Logger;
  /** Put in error headers so callers see which axon answered (optional). */
  external?: { ip: string | null; port: number | null };
}

export interface AxonStats {
  listening: boolean;
  /** Requests waiting for verification or a handler. */
  queued: number;
  /** Handlers running. */
  active: number;
  verifyThreads: number;
  answered: number;
}

export interface AxonServer {
  listen(options: { host: string; port: number }): Promise<{ host: string; port: number }>;
  /** Stops accepting, aborts running handlers, waits for the answers in flight. Idempotent. */
  close(): Promise<void>;
  address(): { host: string; port: number } | null;
  stats(): AxonStats;
}

type Outcome = EncodedResponse;

/** A request the pipeline turns down; the route turns it into Python's error answer. */
class Refusal {
  constructor(
    readonly status: number,
    readonly message: string,
    readonly request?: RequestHead<SynapseSpec>,
  ) {}
}

function timeoutRefusal(request: RequestHead<SynapseSpec>): Refusal {
  return new Refusal(STATUS.TIMEOUT, priorityTimeoutMessage(request.timeoutSec), request);
}

function mismatchRefusal(request: RequestHead<SynapseSpec>, message: string): Refusal {
  return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(VERIFY_ERRORS.signatureMismatch(message, request.signature!)), request);
}

/** How long a request may wait, seconds: its `timeout` header up to our cap; the default when it names no usable duration. */
function budgetSeconds(timeoutSec: number | null, maxSec: number): number {
  if (timeoutSec === null || Number.isNaN(timeoutSec) || timeoutSec <= 0) return Math.min(DEFAULT_TIMEOUT_SEC, maxSec);
  return Math.min(timeoutSec, maxSec);
}

export function createAxonServer(params: CreateAxonServerParameters): AxonServer {
  const { hotkey, handlers, blacklist, priorityFn, logger } = params;
  const metrics = params.metrics ?? null;
  const nonces = params.nonces ?? new NonceStore();
  let verifier = params.verifier ?? null;
  const verifyThreads = verifier?.threads ?? 0;
  const limits: AxonLimits = {
    ...DEFAULT_AXON_LIMITS,
    verifyConcurrency: verifyThreads > 0 ? verifyThreads * 32 : 1,
    ...params.limits,
  };
  const served = Object.keys(handlers).filter((n) => isKnownSynapse(n) && handlers[n as SynapseName] !== undefined) as SynapseName[];
  const verifyGate = new PriorityScheduler({ concurrency: limits.verifyConcurrency, maxQueue: limits.maxQueue });
  const handlerGate = new PriorityScheduler({ concurrency: limits.handlerConcurrency, maxQueue: limits.maxQueue });
  const closing = new AbortController();
  const warnThrottle = createThrottle(60_000);
  const axonIdentity = { hotkey: hotkey.address, ip: params.external?.ip ?? null, port: params.external?.port ?? null };
  let answered = 0;
  let bound: { host: string; port: number } | null = null;
  let state: 'idle' | 'listening' | 'closing' | 'closed' = 'idle';
  let closed: Promise<void> | null = null;

  const app: FastifyInstance = Fastify({
    logger: false,
    bodyLimit: limits.maxBodyBytes,
    routerOptions: { maxParamLength: 100 },
    exposeHeadRoutes: false, // HEAD goes through `serve` like any method (Starlette: 405 after verification)
    requestIdHeader: false,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    serverFactory: (handler) => {
      const server = http.createServer(
        {
          maxHeaderSize: limits.maxHeaderBytes,
          requestTimeout: limits.requestTimeoutMs,
          headersTimeout: Math.min(limits.requestTimeoutMs, 10_000),
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          // How often Node enforces the two timeouts above (its default, 30 s, would let a slow sender hold on 3× longer).
          connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
          noDelay: true,
        },
        handler,
      );
      server.maxConnections = limits.maxConnections;
      return server;
    },
  });

  // Raw bytes: the codec parses the body itself (19-digit nonces, Python's number types).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limits.maxBodyBytes }, (_req, body, done) => done(null, body));

  const send = (reply: FastifyReply, out: Outcome, synapse: string, startedAt: number): FastifyReply => {
    answered += 1;
    if (metrics) {
      metrics.requests.inc({ synapse, status: String(out.status) });
      metrics.requestSeconds.observe({ synapse }, (performance.now() - startedAt) / 1000);
      metrics.queueDepth.set(verifyGate.queued + handlerGate.queued);
    }
    return reply.code(out.status).headers(out.headers).send(out.body);
  };

  const clientOf = (req: FastifyRequest) => ({ ip: req.socket.remoteAddress ?? null, port: req.socket.remotePort ?? null });

  function errorFor(status: number, message: string, req: FastifyRequest, startedAt: number, request?: RequestHead<SynapseSpec>, synapseName?: string | null): Outcome {
    return encodeErrorResponse(status, message, {
      request,
      requestHeaders: request ? undefined : req.headers,
      synapseName: synapseName ?? null,
      axon: axonIdentity,
      client: clientOf(req),
      processTimeSec: (performance.now() - startedAt) / 1000,
    });
  }

  /** Python's `default_verify`: nonce, then signature, in its order and words; the nonce is recorded once verified. */
  async function verify(head: RequestHead<SynapseSpec>, caller: string, priority: number, deadline: number): Promise<Refusal | null> {
    if (head.nonce === null) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(VERIFY_ERRORS.missingNonce), head);
    const uuid = head.uuid ?? 'None';
    const nonceParams = { hotkey: caller, uuid, nonce: head.nonce, version: head.version, timeoutSec: head.timeoutSec };
    const fresh = nonces.check(nonceParams);
    if (!fresh.ok) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(fresh.message), head);
    if (head.signature === null) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(VERIFY_ERRORS.missingSignature), head);
    const message = requestSigningMessage(head, hotkey.address);
    const signature = readSignatureText(head.signature);
    if (!signature.ok) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(signature.error), head);
    let publicKey: Uint8Array;
    try {
      publicKey = ss58ToPublicKey(caller);
    } catch {
      return mismatchRefusal(head, message);
    }
    const slot = await verifyGate.admit(priority, deadline - performance.now());
    if (!slot.ok) return slot.reason === 'overloaded' ? new Refusal(STATUS.UNAVAILABLE, OVERLOADED_MESSAGE, head) : timeoutRefusal(head);
    let valid: boolean;
    try {
      valid = await verifier!.verify(message, signature.bytes, publicKey);
    } catch (err) {
      if (warnThrottle('verify-failed')) logger.error({ err: String(err) }, 'signature verification failed to run');
      return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', head);
    } finally {
      slot.release();
    }
    if (!valid) return mismatchRefusal(head, message);
    // Checked again: another request with this key may have been verified meanwhile.
    const still = nonces.check(nonceParams);
    if (!still.ok) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(still.message), head);
    nonces.commit(caller, uuid, head.nonce);
    return null;
  }

  /** The body, decoded for the synapse (fastify reads none for GET; Starlette does, so a Python axon accepts one). */
  async function readBody(req: FastifyRequest, head: RequestHead<SynapseSpec>): Promise<DecodedRequest<SynapseSpec> | Refusal> {
    try {
      let raw: Uint8Array;
      if (req.body instanceof Uint8Array) raw = req.body;
      else if (req.method === 'GET') {
        const read = await readRawBody(req.raw, limits.maxBodyBytes);
        if (read === 'too-large') return new Refusal(413, `Request body larger than ${limits.maxBodyBytes} bytes`, head);
        raw = read;
      } else raw = new Uint8Array(0);
      return decodeRequestBody(head, raw, { maxBodyBytes: limits.maxBodyBytes });
    } catch (err) {
      if (isProtocolError(err)) return new Refusal(err.status, err.shortMessage, head);
      return new Refusal(STATUS.BAD_REQUEST, 'request could not be parsed', head);
    }
  }

  /** The whole pipeline for one request to a served synapse's path (`exact`: nothing after the name); never throws. */
  async function pipeline(name: SynapseName, exact: boolean, req: FastifyRequest, startedAt: number): Promise<Outcome | Refusal> {
    // 1. headers (Python's `Synapse.from_headers`; the body is read only after verification)
    let head: RequestHead<SynapseSpec>;
    try {
      head = decodeRequestHead(name, req.raw.headersDistinct);
    } catch (err) {
      if (isProtocolError(err)) return new Refusal(err.status, err.shortMessage);
      return new Refusal(STATUS.BAD_REQUEST, 'request could not be parsed');
    }

    // 2. blacklist
    const caller = head.dendriteHotkey;
    let verdict: { blacklisted: boolean; reason: string };
    try {
      verdict = blacklist(caller, name);
    } catch (err) {
      logger.error({ err: String(err) }, 'blacklist function failed');
      return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', head);
    }
    if (verdict.blacklisted) return new Refusal(STATUS.FORBIDDEN, blacklistedMessage(verdict.reason), head);
    if (caller === null) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage('Missing dendrite hotkey'), head);

    const deadline = startedAt + budgetSeconds(head.timeoutSec, limits.maxTimeoutSec) * 1000;
    let priority = 0;
    try {
      priority = priorityFn(caller);
    } catch {
      priority = 0;
    }

    // 3. verify (Python's default_verify, same order and messages)
    const unverified = await verify(head, caller, priority, deadline);
    if (unverified) return unverified;

    // Then Starlette routes: only the synapse's own path, with GET or POST, reaches a handler.
    if (!exact) return new Refusal(STATUS.NOT_FOUND, 'Not Found', head);
    if (req.method !== 'GET' && req.method !== 'POST') return new Refusal(STATUS.METHOD_NOT_ALLOWED, 'Method Not Allowed', head);

    // Then FastAPI reads the body.
    const request = await readBody(req, head);
    if (request instanceof Refusal) return request;

    // 4. priority
    const turn = await handlerGate.admit(priority, deadline - performance.now());
    if (!turn.ok) return turn.reason === 'overloaded' ? new Refusal(STATUS.UNAVAILABLE, OVERLOADED_MESSAGE, request) : timeoutRefusal(request);
    try {
      // 5. body hash
      const hashError = checkBodyHash(request);
      if (hashError) return new Refusal(hashError.status, hashError.shortMessage, request);

      // 6. handler
      const handler = handlers[name] as SynapseHandler<SynapseName> | undefined;
      if (!handler) return new Refusal(STATUS.NOT_FOUND, unknownSynapseMessage(name, served), request);
      // The handler's signal aborts at the synapse deadline or when the axon closes (a handler then
      // answers with what it has); a handler still running at the deadline is left behind, its slot freed: 408.
      const expiry = startDeadline(Math.max(1, Math.ceil(deadline - performance.now())), { label: `${name} handler` });
      let linked: ReturnType<typeof linkSignals> | null = null;
      const ctx: HandlerContext = {
        callerHotkey: caller,
        get signal() {
          linked ??= linkSignals([expiry.signal, closing.signal]);
          return linked.signal;
        },
      };
      let filled: Record<string, unknown>;
      try {
        const out = handler(request as never, ctx);
        filled = (out instanceof Promise ? await raceSignal(out, expiry.signal) : out) as Record<string, unknown>;
      } catch (err) {
        if (expiry.expired) return timeoutRefusal(request);
        if (warnThrottle(`handler-${name}`)) logger.error({ synapse: name, err: String(err) }, 'synapse handler failed');
        return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', request);
      } finally {
        expiry.clear();
        (linked as ReturnType<typeof linkSignals> | null)?.clear();
      }
      try {
        return encodeResponse(request, filled as never, { processTimeSec: (performance.now() - startedAt) / 1000 });
      } catch (err) {
        if (warnThrottle(`encode-${name}`)) logger.error({ synapse: name, err: String(err) }, 'synapse handler returned values the wire cannot carry');
        return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', request);
      }
    } finally {
      turn.release();
    }
  }

  /**
   * Every method and path comes here, as every request goes through a Python axon's middleware:
   * the first path segment (percent-decoded, as uvicorn does) names the synapse; an unknown one
   * is 404 at once, a served one goes through the whole pipeline, its routing included.
   */
  async function serve(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const startedAt = performance.now();
    const path = pyUnquote(req.url.split('?')[0] ?? '');
    const name = path.split('/')[1] ?? '';
    if (!served.includes(name as SynapseName)) {
      return send(reply, errorFor(STATUS.NOT_FOUND, unknownSynapseMessage(name, served), req, startedAt, undefined, null), 'unknown', startedAt);
    }
    let out: Outcome;
    try {
      const result = await pipeline(name as SynapseName, path === `/${name}`, req, startedAt);
      out = result instanceof Refusal ? errorFor(result.status, result.message, req, startedAt, result.request, name) : result;
    } catch (err) {
      logger.error({ synapse: name, err: String(err) }, 'axon pipeline failed');
      out = errorFor(STATUS.INTERNAL_ERROR, 'Internal Server Error', req, startedAt, undefined, name);
    }
    if (out.status !== STATUS.SUCCESS) logger.debug({ synapse: name, status: out.status, caller: req.headers['bt_header_dendrite_hotkey'] }, 'axon refused a request');
    return send(reply, out, name, startedAt);
  }
  app.all('*', serve);
  app.setNotFoundHandler(serve); // methods `all` leaves out (PROPFIND, …)

  // Framework-level refusals (body too large, bad content-length, aborted uploads): 4xx with a message.
  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const startedAt = performance.now();
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : STATUS.INTERNAL_ERROR;
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `Request body larger than ${limits.maxBodyBytes} bytes` : status === STATUS.INTERNAL_ERROR ? 'Internal Server Error' : err.message.slice(0, 200);
    if (status === STATUS.INTERNAL_ERROR && warnThrottle('framework-error')) logger.error({ err: String(err) }, 'axon framework error');
    const path = (req.url.split('?')[0] ?? '').split('/')[1] ?? '';
    const synapse = isKnownSynapse(path) ? path : 'unknown';
    return send(reply, errorFor(status, message, req, startedAt, undefined, isKnownSynapse(path) ? path : null), synapse, startedAt);
  });

  return {
    async listen({ host, port }) {
      if (state !== 'idle') throw new Error(`axon server cannot listen: it is ${state}`);
      verifier ??= await createInlineVerifier();
      await app.listen({ host, port });
      state = 'listening';
      const addr = app.server.address() as AddressInfo;
      bound = { host: addr.address, port: addr.port };
      logger.info({ host: bound.host, port: bound.port, synapses: served, verifyThreads, maxQueue: limits.maxQueue }, 'axon listening');
      return bound;
    },
    close() {
      if (closed) return closed;
      state = 'closing';
      closing.abort(new Error('axon closing'));
      closed = app.close().then(() => {
        state = 'closed';
        bound = null;
      });
      return closed;
    },
    address: () => bound,
    stats: () => ({
      listening: state === 'listening',
      queued: verifyGate.queued + handlerGate.queued,
      active: handlerGate.active,
      verifyThreads,
      answered,
    }),
  };
}

const UTF8_REPLACING = new TextDecoder('utf-8', { ignoreBOM: true });

/** Python's `urllib.parse.unquote` (what uvicorn does to the path): %XX runs are UTF-8, bad bytes become U+FFFD, a lone `%` stays. */
function pyUnquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => UTF8_REPLACING.decode(Buffer.from(run.replace(/%/g, ''), 'hex')));
}

/** The body of a request fastify did not parse (GET), up to `limit` bytes. */
function readRawBody(stream: http.IncomingMessage, limit: number): Promise<Uint8Array | 'too-large'> {
  return new Promise((resolve, reject) => {
    if (stream.readableEnded) return resolve(new Uint8Array(0));
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stream.off('data', onData);
        stream.resume(); // drain and drop the rest
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    };
    stream.on('data', onData);
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}
