import { Queue, QueueEvents, Worker, type Job } from 'bullmq';
import os from 'node:os';
import { Redis } from 'ioredis';
import { errorMessage } from '../errors.js';
import type { JobHandlers, JobQueue, Settled } from './types.js';

/**
 * BullMQ on Redis: the validator enqueues, any number of `hs58 validator --worker`
 * processes (this machine or others) take the jobs. Results come back through
 * QueueEvents; a job not finished within its timeout counts as failed, like in-process.
 */
export interface RedisQueueParameters {
  redisUrl: string;
  /** Queue name; one per validator hotkey and netuid so validators sharing a Redis never mix. */
  name: string;
}

function connection(url: string): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false });
}

export async function createRedisQueue<H extends JobHandlers>(params: RedisQueueParameters): Promise<JobQueue<H>> {
  const conn = connection(params.redisUrl);
  const eventsConn = connection(params.redisUrl);
  const queue = new Queue(params.name, { connection: conn });
  const events = new QueueEvents(params.name, { connection: eventsConn });
  await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
  // Every job being waited for holds one 'closing' listener on the queue and two on the events,
  // removed when it settles: a round over 256 miners has 256 in flight, which is not a leak.
  queue.setMaxListeners(0);
  events.setMaxListeners(0);
  return {
    mode: 'redis',
    async runAll(kind, payloads, options) {
      const jobs = await queue.addBulk(
        payloads.map((data) => ({ name: kind, data, opts: { removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 }, attempts: 1 } })),
      );
      return Promise.all(
        jobs.map(async (job: Job): Promise<Settled<any>> => {
          try {
            const value = await job.waitUntilFinished(events, options.timeoutMs);
            return { ok: true, value };
          } catch (err) {
            return { ok: false, error: errorMessage(err) };
          }
        }),
      );
    },
    async close() {
      await events.close();
      await queue.close();
      eventsConn.disconnect();
      conn.disconnect();
    },
  };
}

export interface RedisWorkerParameters<H extends JobHandlers> extends RedisQueueParameters {
  handlers: H;
  concurrency: number;
  /** Per job, so one hanging probe cannot hold a worker slot forever. */
  jobTimeoutMs: number;
  /** Stored on every job it processes (BullMQ `processedBy`); default `host:pid`. */
  workerName?: string;
}

export async function startRedisWorker<H extends JobHandlers>(params: RedisWorkerParameters<H>): Promise<{ close: () => Promise<void>; processed: () => number }> {
  const conn = connection(params.redisUrl);
  let processed = 0;
  const worker = new Worker(
    params.name,
    async (job: Job) => {
      const handler = params.handlers[job.name];
      if (!handler) throw new Error(`no handler for job kind ${job.name}`);
      const signal = AbortSignal.timeout(params.jobTimeoutMs);
      const result = await handler(job.data, signal);
      processed += 1;
      return result;
    },
    { connection: conn, concurrency: params.concurrency, name: params.workerName ?? `${os.hostname()}:${process.pid}` },
  );
  await worker.waitUntilReady();
  return {
    processed: () => processed,
    async close() {
      await worker.close();
      conn.disconnect();
    },
  };
}
