/**
 * The miner's axon: a fastify server that speaks the bittensor axon protocol (bittensor-wire.md §1)
 * so that Python dendrites and ours get the answers a Python axon would give.
 *
 * Every request, whatever its method and path, goes through the same checks in Python's order
 * (its middleware runs before its router), each one answering with Python's status and message:
 * first the synapse named by the path (404 unknown synapse; 413 body too large, 431 head too large,
 * answered here), then the stages of pipeline.ts (parse → blacklist → verify → body → admit →
 * handle, listed with their answers in stages.ts).
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
import type { AddressInfo } from 'node:net';
import type { Logger } from '../observability/logger.js';
import { createThrottle } from '../observability/logger.js';
import type { MinerMetrics } from '../observability/metrics.js';
import { isKnownSynapse, type SynapseName } from '../protocol/index.js';
import { createFastify } from './app.js';
import { NonceStore } from './nonces.js';
import { stageTimers } from './pipeline.js';
import { PriorityScheduler } from './priority.js';
import { createRoutes } from './routes.js';
import type { PipelineContext } from './stages.js';
import { DEFAULT_AXON_LIMITS, type AxonHandlers, type AxonLimits, type BlacklistFn, type PriorityFn } from './types.js';
import { createInlineVerifier, type SignatureVerifier } from './verifier.js';

export type { AxonHandlers, AxonLimits } from './types.js';

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

export function createAxonServer(params: CreateAxonServerParameters): AxonServer {
  const { hotkey, handlers, logger } = params;
  const metrics = params.metrics ?? null;
  const verifyThreads = params.verifier?.threads ?? 0;
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
  const ctx: PipelineContext = {
    hotkey: hotkey.address,
    handlers,
    served,
    blacklist: params.blacklist,
    priorityFn: params.priorityFn,
    limits,
    nonces: params.nonces ?? new NonceStore(),
    verifier: params.verifier ?? null,
    verifyGate,
    handlerGate,
    closing: closing.signal,
    logger,
    warnThrottle,
    timers: stageTimers(metrics),
  };
  const axonIdentity = { hotkey: hotkey.address, ip: params.external?.ip ?? null, port: params.external?.port ?? null };
  let bound: { host: string; port: number } | null = null;
  let state: 'idle' | 'listening' | 'closing' | 'closed' = 'idle';
  let closed: Promise<void> | null = null;

  const app = createFastify(limits);
  const routes = createRoutes(ctx, metrics, axonIdentity);
  app.all('*', routes.serve);
  app.setNotFoundHandler(routes.serve); // methods `all` leaves out (PROPFIND, …)
  app.setErrorHandler(routes.onError);

  return {
    async listen({ host, port }) {
      if (state !== 'idle') throw new Error(`axon server cannot listen: it is ${state}`);
      ctx.verifier ??= await createInlineVerifier();
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
      answered: routes.answered,
    }),
  };
}
