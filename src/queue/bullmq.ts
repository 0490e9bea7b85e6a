import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import os from 'node:os';
import { Redis } from 'ioredis';
import { errorMessage, Hs58Error } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactUrl } from '../observability/redact.js';
import { raceSignal, startDeadline, withDeadline } from '../util/deadline.js';
import type { JobHandlers, JobQueue, RunAllOptions, Settled } from './types.js';

/**
 * BullMQ on Redis: the validator enqueues, any number of `hs58 validator --worker`
 * processes (this machine or others) take the jobs. Results come back through
 * QueueEvents; a job not finished within its timeout counts as failed, like in-process.
 *
 * Redis may be down at start or go away later. Every wait on it is bounded: the start waits at most
 * `readyTimeoutMs` (and ends at once on the caller's signal) with a clear `REDIS_UNAVAILABLE` error;
 * a batch whose jobs cannot be added or whose results do not come back in time settles as failed
 * jobs. An outage is logged once when it starts and once when Redis is back, not once per retry.
 */
export interface RedisQueueParameters {
  redisUrl: string;
  /** Queue name; one per validator hotkey and netuid so validators sharing a Redis never mix. */
  name: string;
  logger: Logger;
  /** How long the start waits for Redis (default 60 s). */
  readyTimeoutMs?: number;
  /** Ends the wait for Redis at once (shutdown). */
  signal?: AbortSignal;
}

export type RedisQueueErrorCode = 'REDIS_UNAVAILABLE';

export class RedisQueueError extends Hs58Error<RedisQueueErrorCode> {
  override name = 'RedisQueueError';
}

const DEFAULT_READY_TIMEOUT_MS = 60_000;
const CLOSE_TIMEOUT_MS = 5_000;

/**
 * One ioredis connection with a single 'error' listener that reports an outage once (ioredis emits
 * an error on every reconnect attempt and prints them all to the console when nobody listens).
 */
function connection(url: string, logger: Logger, role: string): Redis {
  const conn = new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
  const where = redactUrl(url);
  let down = false;
  conn.on('error', (err: Error) => {
    if (down) return;
    down = true;
    logger.warn({ redis: where, role, err: errorMessage(err) }, 'Redis unreachable; retrying in the background');
  });
  conn.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ redis: where, role }, 'Redis reachable again');
  });
  return conn;
}

/** Waits for `ready()` at most `ms`, or until `signal`; then a REDIS_UNAVAILABLE error naming the URL and the way out. */
async function waitForRedis(ready: () => Promise<unknown>, params: { redisUrl: string; readyTimeoutMs?: number; signal?: AbortSignal }): Promise<void> {
  const ms = params.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const deadline = startDeadline(ms, { parent: params.signal });
  try {
    await raceSignal(ready(), deadline.signal);
  } catch (err) {
    if (params.signal?.aborted) throw err;
    throw new RedisQueueError(
      'REDIS_UNAVAILABLE',
      `Redis at ${redactUrl(params.redisUrl)} did not answer within ${Math.round(ms / 1000)} s (${errorMessage(err)}); start it, fix REDIS_URL / --redis.url, or unset it to run jobs in-process.`,
    );
  } finally {
    deadline.clear();
  }
}

export async function createRedisQueue<H extends JobHandlers>(params: RedisQueueParameters): Promise<JobQueue<H>> {
  const log = params.logger.child({ module: 'queue' });
  const conn = connection(params.redisUrl, log, 'queue');
  const eventsConn = connection(params.redisUrl, log, 'events');
  const queue = new Queue(params.name, { connection: conn });
  const events = new QueueEvents(params.name, { connection: eventsConn });
  // Errors are reported once per outage by the connections; keep the BullMQ objects from rethrowing them.
  queue.on('error', () => undefined);
  events.on('error', () => undefined);
  const close = async () => {
    // BullMQ's close waits on Redis: bounded, skipped while Redis is away; the sockets are dropped anyway.
    if (conn.status === 'ready') await withDeadline(CLOSE_TIMEOUT_MS, () => Promise.allSettled([events.close(), queue.close()])).catch(() => undefined);
    eventsConn.disconnect();
    conn.disconnect();
  };
  try {
    await waitForRedis(() => Promise.all([queue.waitUntilReady(), events.waitUntilReady()]), params);
  } catch (err) {
    await close();
    throw err;
  }
  // Every job being waited for holds one 'closing' listener on the queue and two on the events,
  // removed when it settles: a round over 256 miners has 256 in flight, which is not a leak.
  queue.setMaxListeners(0);
  events.setMaxListeners(0);
  return {
    mode: 'redis',
    async runAll<K extends keyof H & string>(kind: K, payloads: Parameters<H[K]>[0][], options: RunAllOptions) {
      type Out = Settled<Awaited<ReturnType<H[K]>>>;
      const failAll = (why: string): Out[] => payloads.map(() => ({ ok: false, error: why }));
      let jobs: Job[];
      try {
        jobs = await withDeadline(
          options.timeoutMs,
          () =>
            queue.addBulk(payloads.map((data) => ({ name: kind, data, opts: { removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 }, attempts: 1 } }))),
          { parent: options.signal, label: `adding ${payloads.length} ${kind} jobs to Redis` },
        );
      } catch (err) {
        options.signal?.throwIfAborted();
        return failAll(errorMessage(err));
      }
      return Promise.all(
        jobs.map(async (job: Job): Promise<Out> => {
          try {
            // BullMQ's own ttl starts only once Redis answers: the deadline covers that wait too.
            const value = await withDeadline(options.timeoutMs, () => job.waitUntilFinished(events, options.timeoutMs), {
              parent: options.signal,
              label: `${kind} job ${job.id}`,
            });
            return { ok: true, value: value as Awaited<ReturnType<H[K]>> };
          } catch (err) {
            return { ok: false, error: errorMessage(err) };
          }
        }),
      );
    },
    close,
  };
}

export interface RedisWorkerParameters<H extends JobHandlers> extends RedisQueueParameters {
  handlers: H;
  concurrency: number;
  /** Per job, so one hanging probe cannot hold a worker slot forever (even a handler that ignores its signal). */
  jobTimeoutMs: number;
  /** Stored on every job it processes (BullMQ `processedBy`); default `host:pid`. */
  workerName?: string;
}

export async function startRedisWorker<H extends JobHandlers>(
  params: RedisWorkerParameters<H>,
): Promise<{ close: () => Promise<void>; processed: () => number }> {
  const log = params.logger.child({ module: 'worker' });
  const conn = connection(params.redisUrl, log, 'worker');
  let processed = 0;
  const worker = new Worker(
    params.name,
    async (job: Job) => {
      const handler = params.handlers[job.name];
      if (!handler) throw new Error(`no handler for job kind ${job.name}`);
      const result = await withDeadline(params.jobTimeoutMs, (signal) => handler(job.data, signal), { label: `${job.name} job ${job.id}` });
      processed += 1;
      return result;
    },
    { connection: conn, concurrency: params.concurrency, name: params.workerName ?? `${os.hostname()}:${process.pid}` },
  );
  worker.on('error', () => undefined);
  const close = async () => {
    if (conn.status === 'ready') await withDeadline(CLOSE_TIMEOUT_MS, () => worker.close()).catch(() => undefined);
    conn.disconnect();
  };
  try {
    await waitForRedis(() => worker.waitUntilReady(), params);
  } catch (err) {
    await close();
    throw err;
  }
  return { processed: () => processed, close };
}
