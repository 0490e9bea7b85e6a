import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface HealthReport {
  /** ok: all parts work; degraded: running with a part failing; down: not serving its purpose. */
  status: 'ok' | 'degraded' | 'down';
  parts: Record<string, { ok: boolean; detail?: string }>;
}

export interface OpsServerParameters {
  host: string;
  port: number;
  registry: Registry | null;
  health: () => HealthReport;
  /** Extra routes (the validator's /status). */
  routes?: (app: FastifyInstance) => void;
}

/** /health (503 when down) and Prometheus /metrics on their own port, apart from the axon. */
export async function startOpsServer(params: OpsServerParameters): Promise<{ url: string; close: () => Promise<void> }> {
  const app = Fastify({ logger: false });
  app.get('/health', async (_req, reply) => {
    const h = params.health();
    return reply.code(h.status === 'down' ? 503 : 200).send(h);
  });
  if (params.registry) {
    const registry = params.registry;
    app.get('/metrics', async (_req, reply) => reply.header('content-type', registry.contentType).send(await registry.metrics()));
  }
  params.routes?.(app);
  await app.listen({ host: params.host, port: params.port });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : params.port;
  const host = params.host === '0.0.0.0' ? '127.0.0.1' : params.host;
  return { url: `http://${host}:${port}`, close: () => app.close() };
}

/**
 * Health while a daemon is still starting: each thing it waits for (the chain, Redis) is a part
 * with what it is doing, and the daemon is 'down' until it runs (then its own health takes over).
 */
export function createStartupHealth() {
  const parts: HealthReport['parts'] = {};
  return {
    waiting(part: string, detail: string): void {
      parts[part] = { ok: false, detail };
    },
    ready(part: string, detail?: string): void {
      parts[part] = detail === undefined ? { ok: true } : { ok: true, detail };
    },
    health(): HealthReport {
      return { status: 'down', parts: { starting: { ok: false, detail: 'not running yet' }, ...parts } };
    },
  };
}
