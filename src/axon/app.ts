/** The axon's HTTP server: fastify on a Node server with the axon's limits, reading every body as raw bytes. */
import http from 'node:http';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AxonLimits } from './types.js';

export function createFastify(limits: AxonLimits): FastifyInstance {
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
  return app;
}
