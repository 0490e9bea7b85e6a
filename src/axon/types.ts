/**
 * What the axon is given: a handler per synapse, Python's blacklist and priority functions, and
 * its limits. (The server's own interface is in server.ts.)
 */
import { MAX_REQUEST_BODY_BYTES, type DecodedRequest, type ResponseFields, type SpecOf, type SynapseName } from '../protocol/index.js';

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
