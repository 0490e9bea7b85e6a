/**
 * The axon's one route: every method and path comes to `serve`, as every request goes through a
 * Python axon's middleware. The first path segment (percent-decoded, as uvicorn does) names the
 * synapse; an unknown one is 404 at once, a served one goes through the pipeline (its routing
 * included); a refusal becomes Python's error answer. `onError` answers what fastify itself refuses.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { MinerMetrics } from '../observability/metrics.js';
import {
  encodeErrorResponse,
  isKnownSynapse,
  STATUS,
  unknownSynapseMessage,
  type AxonIdentity,
  type EncodedResponse,
  type RequestHead,
  type SynapseName,
  type SynapseSpec,
} from '../protocol/index.js';
import { runPipeline } from './pipeline.js';
import { Refusal } from './refusal.js';
import type { PipelineContext } from './stages.js';

type Outcome = EncodedResponse;

export interface AxonRoutes {
  serve(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply>;
  onError(err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, reply: FastifyReply): FastifyReply;
  /** Answers sent so far. */
  readonly answered: number;
}

export function createRoutes(ctx: PipelineContext, metrics: MinerMetrics | null, axonIdentity: AxonIdentity): AxonRoutes {
  const { logger, served, limits, verifyGate, handlerGate } = ctx;
  let answered = 0;

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

  function errorFor(
    status: number,
    message: string,
    req: FastifyRequest,
    startedAt: number,
    request?: RequestHead<SynapseSpec>,
    synapseName?: string | null,
  ): Outcome {
    return encodeErrorResponse(status, message, {
      request,
      requestHeaders: request ? undefined : req.headers,
      synapseName: synapseName ?? null,
      axon: axonIdentity,
      client: clientOf(req),
      processTimeSec: (performance.now() - startedAt) / 1000,
    });
  }

  async function serve(req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const startedAt = performance.now();
    const path = pyUnquote(req.url.split('?')[0] ?? '');
    const name = path.split('/')[1] ?? '';
    if (!served.includes(name as SynapseName)) {
      return send(reply, errorFor(STATUS.NOT_FOUND, unknownSynapseMessage(name, served), req, startedAt, undefined, null), 'unknown', startedAt);
    }
    let out: Outcome;
    try {
      const result = await runPipeline(ctx, name as SynapseName, path === `/${name}`, req, startedAt);
      out = result instanceof Refusal ? errorFor(result.status, result.message, req, startedAt, result.request, name) : result;
    } catch (err) {
      logger.error({ synapse: name, err: String(err) }, 'axon pipeline failed');
      out = errorFor(STATUS.INTERNAL_ERROR, 'Internal Server Error', req, startedAt, undefined, name);
    }
    if (out.status !== STATUS.SUCCESS)
      logger.debug({ synapse: name, status: out.status, caller: req.headers.bt_header_dendrite_hotkey }, 'axon refused a request');
    return send(reply, out, name, startedAt);
  }

  // Framework-level refusals (body too large, bad content-length, aborted uploads): 4xx with a message.
  function onError(err: Error & { statusCode?: number; code?: string }, req: FastifyRequest, reply: FastifyReply): FastifyReply {
    const startedAt = performance.now();
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : STATUS.INTERNAL_ERROR;
    const message =
      err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? `Request body larger than ${limits.maxBodyBytes} bytes`
        : status === STATUS.INTERNAL_ERROR
          ? 'Internal Server Error'
          : err.message.slice(0, 200);
    if (status === STATUS.INTERNAL_ERROR && ctx.warnThrottle('framework-error')) logger.error({ err: String(err) }, 'axon framework error');
    const path = (req.url.split('?')[0] ?? '').split('/')[1] ?? '';
    const synapse = isKnownSynapse(path) ? path : 'unknown';
    return send(reply, errorFor(status, message, req, startedAt, undefined, isKnownSynapse(path) ? path : null), synapse, startedAt);
  }

  return {
    serve,
    onError,
    get answered() {
      return answered;
    },
  };
}

const UTF8_REPLACING = new TextDecoder('utf-8', { ignoreBOM: true });

/** Python's `urllib.parse.unquote` (what uvicorn does to the path): %XX runs are UTF-8, bad bytes become U+FFFD, a lone `%` stays. */
function pyUnquote(s: string): string {
  if (!s.includes('%')) return s;
  return s.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => UTF8_REPLACING.decode(Buffer.from(run.replace(/%/g, ''), 'hex')));
}
