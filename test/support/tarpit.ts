import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * Peers that never finish an answer, as a hostile or broken miner would:
 * - `silent`: accepts the connection, reads the request, never answers;
 * - `headers-then-stall`: sends a 200 status line and headers, then never the body;
 * - `trickle`: sends headers, then one byte of body a second, forever.
 * Real sockets on 127.0.0.1; `close()` destroys every connection.
 */
export type TarpitKind = 'silent' | 'headers-then-stall' | 'trickle';

export interface Tarpit {
  kind: TarpitKind;
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

export async function startTarpit(kind: TarpitKind): Promise<Tarpit> {
  const sockets = new Set<net.Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let accepted = 0;
  const server = net.createServer((socket) => {
    accepted += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let answered = false;
    socket.on('data', () => {
      if (answered || kind === 'silent') return;
      answered = true;
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n');
      if (kind === 'trickle') {
        const t = setInterval(() => socket.write('1\r\n{\r\n'), 1_000);
        timers.add(t);
        socket.on('close', () => {
          clearInterval(t);
          timers.delete(t);
        });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    kind,
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: async () => {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** An HTTP server that takes every request and never answers (the plain tarpit, through node:http). */
export async function startSilentHttpServer(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Calls `global.gc()` every `everyMs` until stopped (tests run with --expose-gc). */
export function collectGarbageEvery(everyMs: number): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('global.gc is not exposed: run the tests with node --expose-gc (vitest.config.ts execArgv)');
  gc();
  const t = setInterval(() => gc(), everyMs);
  return () => clearInterval(t);
}

/** `p`, or an error naming `what` after `ms`: a test's liveness bound (a generous one, not a speed goal). */
export async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        t = setTimeout(() => reject(new Error(`${what} still waiting after ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(t);
  }
}
