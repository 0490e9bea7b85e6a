/**
 * The stages of the axon's request pipeline, in Python's order, each a function that returns its
 * value or a `Refusal` with Python's status and message (pipeline.ts runs them in sequence):
 *
 *   parse      the headers as `Synapse.from_headers` reads them (400 where Python cannot; Python answers 500)
 *   blacklist  403 `Forbidden. Key is blacklisted: …`; 401 when the caller named no hotkey
 *   verify     401 `Not Verified with error: …`: nonce, then signature; ALWAYS required
 *   body       Starlette's routing (404 `/ProviderCheck/x`, 405 a method other than GET/POST, HEAD
 *              included), then FastAPI reads the body (422 not JSON, 415 not application/json,
 *              400 not what the synapse holds)
 *   admit      a handler slot in stake order (503 overloaded, 408 waited past the synapse timeout)
 *   handle     body hash (500), the handler under the synapse deadline (408 when it passes, 500 if it
 *              throws), the answer encoded
 *
 * Verification is admitted in stake order too (503/408 before the signature is checked).
 */
import type http from 'node:http';
import type { Logger } from '../observability/logger.js';
import {
  blacklistedMessage,
  checkBodyHash,
  decodeRequestBody,
  decodeRequestHead,
  encodeResponse,
  isProtocolError,
  notVerifiedMessage,
  OVERLOADED_MESSAGE,
  readSignatureText,
  requestSigningMessage,
  STATUS,
  unknownSynapseMessage,
  VERIFY_ERRORS,
  type DecodedRequest,
  type EncodedResponse,
  type HeaderInput,
  type RequestHead,
  type SynapseName,
  type SynapseSpec,
} from '../protocol/index.js';
import { linkSignals, raceSignal, startDeadline } from '../util/deadline.js';
import { ss58ToPublicKey } from '../wallet/sr25519.js';
import type { NonceStore } from './nonces.js';
import type { PriorityScheduler } from './priority.js';
import { mismatchRefusal, Refusal, timeoutRefusal } from './refusal.js';
import type { AxonHandlers, AxonLimits, BlacklistFn, HandlerContext, PriorityFn, SynapseHandler } from './types.js';
import type { SignatureVerifier } from './verifier.js';

/** The stages, in their order: the values of `hs58_axon_stage_seconds{stage}`. */
export const STAGES = ['parse', 'blacklist', 'verify', 'body', 'admit', 'handle'] as const;
export type Stage = (typeof STAGES)[number];

/** A histogram child per stage, bound once (no label lookup per request). */
export type StageTimers = Readonly<Record<Stage, { observe(seconds: number): void }>>;

/** What the stages share: one per server, built when it is created. */
export interface PipelineContext {
  /** The miner's hotkey: the axon hotkey every signature must name (Python's `default_verify`). */
  readonly hotkey: string;
  readonly handlers: AxonHandlers;
  readonly served: readonly SynapseName[];
  readonly blacklist: BlacklistFn;
  readonly priorityFn: PriorityFn;
  readonly limits: AxonLimits;
  readonly nonces: NonceStore;
  /** Set by the time the server listens (inline verification when none was given). */
  verifier: SignatureVerifier | null;
  readonly verifyGate: PriorityScheduler;
  readonly handlerGate: PriorityScheduler;
  /** Aborts when the server closes (handlers' signals follow it). */
  readonly closing: AbortSignal;
  readonly logger: Logger;
  readonly warnThrottle: (key: string) => boolean;
  /** Null without metrics. */
  readonly timers: StageTimers | null;
}

/** What the stages read of the HTTP request (a fastify request fits). */
export interface IncomingRequest {
  readonly method: string;
  /** The body as the server read it: bytes, or nothing (fastify reads none for GET). */
  readonly body: unknown;
  readonly raw: http.IncomingMessage;
}

/** parse: the request's headers for the synapse of its path (the body is read only after verification). */
export function parse(name: SynapseName, headers: HeaderInput): RequestHead<SynapseSpec> | Refusal {
  try {
    return decodeRequestHead(name, headers);
  } catch (err) {
    if (isProtocolError(err)) return new Refusal(err.status, err.shortMessage);
    return new Refusal(STATUS.BAD_REQUEST, 'request could not be parsed');
  }
}

/** blacklist: Python's blacklist function on the caller's hotkey; the caller's hotkey when it may go on. */
export function blacklist(ctx: PipelineContext, head: RequestHead<SynapseSpec>, name: SynapseName): string | Refusal {
  const caller = head.dendriteHotkey;
  let verdict: { blacklisted: boolean; reason: string };
  try {
    verdict = ctx.blacklist(caller, name);
  } catch (err) {
    ctx.logger.error({ err: String(err) }, 'blacklist function failed');
    return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', head);
  }
  if (verdict.blacklisted) return new Refusal(STATUS.FORBIDDEN, blacklistedMessage(verdict.reason), head);
  if (caller === null) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage('Missing dendrite hotkey'), head);
  return caller;
}

/** The caller's priority (Python's priority function, its stake); 0 when the function fails. */
export function priorityOf(ctx: PipelineContext, caller: string): number {
  try {
    return ctx.priorityFn(caller);
  } catch {
    return 0;
  }
}

/** verify: Python's `default_verify`, nonce then signature, in its order and words; the nonce is recorded once verified. */
export async function verify(
  ctx: PipelineContext,
  head: RequestHead<SynapseSpec>,
  caller: string,
  priority: number,
  deadline: number,
): Promise<Refusal | null> {
  if (head.nonce === null) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(VERIFY_ERRORS.missingNonce), head);
  const uuid = head.uuid ?? 'None';
  const nonceParams = { hotkey: caller, uuid, nonce: head.nonce, version: head.version, timeoutSec: head.timeoutSec };
  const fresh = ctx.nonces.check(nonceParams);
  if (!fresh.ok) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(fresh.message), head);
  if (head.signature === null) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(VERIFY_ERRORS.missingSignature), head);
  const message = requestSigningMessage(head, ctx.hotkey);
  const signature = readSignatureText(head.signature);
  if (!signature.ok) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(signature.error), head);
  let publicKey: Uint8Array;
  try {
    publicKey = ss58ToPublicKey(caller);
  } catch {
    return mismatchRefusal(head, message);
  }
  const slot = await ctx.verifyGate.admit(priority, deadline - performance.now());
  if (!slot.ok) return slot.reason === 'overloaded' ? new Refusal(STATUS.UNAVAILABLE, OVERLOADED_MESSAGE, head) : timeoutRefusal(head);
  let valid: boolean;
  try {
    valid = await ctx.verifier!.verify(message, signature.bytes, publicKey);
  } catch (err) {
    if (ctx.warnThrottle('verify-failed')) ctx.logger.error({ err: String(err) }, 'signature verification failed to run');
    return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', head);
  } finally {
    slot.release();
  }
  if (!valid) return mismatchRefusal(head, message);
  // Checked again: another request with this key may have been verified meanwhile.
  const still = ctx.nonces.check(nonceParams);
  if (!still.ok) return new Refusal(STATUS.UNAUTHORIZED, notVerifiedMessage(still.message), head);
  ctx.nonces.commit(caller, uuid, head.nonce);
  return null;
}

/**
 * body: Starlette routes (only the synapse's own path, `exact`, with GET or POST reaches a handler), then the
 * body is decoded for the synapse (fastify reads none for GET; Starlette does, so a Python axon accepts one).
 */
export async function body(
  ctx: PipelineContext,
  req: IncomingRequest,
  head: RequestHead<SynapseSpec>,
  exact: boolean,
): Promise<DecodedRequest<SynapseSpec> | Refusal> {
  if (!exact) return new Refusal(STATUS.NOT_FOUND, 'Not Found', head);
  if (req.method !== 'GET' && req.method !== 'POST') return new Refusal(STATUS.METHOD_NOT_ALLOWED, 'Method Not Allowed', head);
  const maxBodyBytes = ctx.limits.maxBodyBytes;
  try {
    let raw: Uint8Array;
    if (req.body instanceof Uint8Array) raw = req.body;
    else if (req.method === 'GET') {
      const read = await readRawBody(req.raw, maxBodyBytes);
      if (read === 'too-large') return new Refusal(413, `Request body larger than ${maxBodyBytes} bytes`, head);
      raw = read;
    } else raw = new Uint8Array(0);
    return decodeRequestBody(head, raw, { maxBodyBytes });
  } catch (err) {
    if (isProtocolError(err)) return new Refusal(err.status, err.shortMessage, head);
    return new Refusal(STATUS.BAD_REQUEST, 'request could not be parsed', head);
  }
}

/** admit: a handler slot, in stake order; the caller releases it when the handler is done. */
export async function admit(
  ctx: PipelineContext,
  request: DecodedRequest<SynapseSpec>,
  priority: number,
  deadline: number,
): Promise<{ release: () => void } | Refusal> {
  const turn = await ctx.handlerGate.admit(priority, deadline - performance.now());
  if (!turn.ok) return turn.reason === 'overloaded' ? new Refusal(STATUS.UNAVAILABLE, OVERLOADED_MESSAGE, request) : timeoutRefusal(request);
  return turn;
}

/**
 * handle: the body hash, then the handler, whose signal aborts at the synapse deadline or when the axon
 * closes (a handler then answers with what it has); a handler still running at the deadline is left
 * behind: 408. Then the answer, encoded as a Python axon's.
 */
export async function handle(
  ctx: PipelineContext,
  name: SynapseName,
  request: DecodedRequest<SynapseSpec>,
  caller: string,
  deadline: number,
  startedAt: number,
): Promise<EncodedResponse | Refusal> {
  const hashError = checkBodyHash(request);
  if (hashError) return new Refusal(hashError.status, hashError.shortMessage, request);
  const handler = ctx.handlers[name] as SynapseHandler<SynapseName> | undefined;
  if (!handler) return new Refusal(STATUS.NOT_FOUND, unknownSynapseMessage(name, ctx.served), request);
  const expiry = startDeadline(Math.max(1, Math.ceil(deadline - performance.now())), { label: `${name} handler` });
  let linked: ReturnType<typeof linkSignals> | null = null;
  const handlerCtx: HandlerContext = {
    callerHotkey: caller,
    get signal() {
      linked ??= linkSignals([expiry.signal, ctx.closing]);
      return linked.signal;
    },
  };
  let filled: Record<string, unknown>;
  try {
    const out = handler(request as never, handlerCtx);
    filled = (out instanceof Promise ? await raceSignal(out, expiry.signal) : out) as Record<string, unknown>;
  } catch (err) {
    if (expiry.expired) return timeoutRefusal(request);
    if (ctx.warnThrottle(`handler-${name}`)) ctx.logger.error({ synapse: name, err: String(err) }, 'synapse handler failed');
    return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', request);
  } finally {
    expiry.clear();
    (linked as ReturnType<typeof linkSignals> | null)?.clear();
  }
  try {
    return encodeResponse(request, filled as never, { processTimeSec: (performance.now() - startedAt) / 1000 });
  } catch (err) {
    if (ctx.warnThrottle(`encode-${name}`)) ctx.logger.error({ synapse: name, err: String(err) }, 'synapse handler returned values the wire cannot carry');
    return new Refusal(STATUS.INTERNAL_ERROR, 'Internal Server Error', request);
  }
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
