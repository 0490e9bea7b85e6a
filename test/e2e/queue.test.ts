import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createRedisQueue, startRedisWorker } from '../../src/queue/bullmq.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import { createLogger } from '../../src/observability/logger.js';
import { capturingLogger } from '../support/localChain.js';
import { freePort } from '../support/net.js';
import { REPO_ROOT } from '../support/programs.js';
import { startRedis, type RedisServer } from '../support/redis.js';
import { collectGarbageEvery, within } from '../support/tarpit.js';

const quiet = createLogger({ level: 'silent' });

const handlers = {
  // Ignores its signal, as a stuck peer call would: only the queue's own deadline ends it.
  hang: (_p: { x: number }) => new Promise<never>(() => undefined),
  square: async (p: { x: number; delayMs: number }) => {
    await new Promise((r) => setTimeout(r, p.delayMs));
    if (p.x < 0) throw new Error(`negative ${p.x}`);
    return { y: p.x * p.x, pid: process.pid };
  },
};
const payloads = Array.from({ length: 40 }, (_, i) => ({ x: i === 7 ? -7 : i, delayMs: i === 13 ? 3_000 : 20 }));

function spawnWorker(url: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'test/support/queue-worker.ts'), url, name], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('ready') && resolve(child));
    child.once('exit', (code) => reject(new Error(`worker exited ${code}`)));
  });
}

describe('job queues', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  test('in-process: one settled result per job, in order, failures and timeouts contained', async () => {
    const q = createInProcessQueue(handlers, { concurrency: 8 });
    const res = await q.runAll('square', payloads, { timeoutMs: 1_000 });
    expect(res).toHaveLength(40);
    expect(res[3]).toEqual({ ok: true, value: { y: 9, pid: process.pid } });
    expect(res[7]).toEqual({ ok: false, error: 'negative -7' });
    expect(res[13]!.ok).toBe(false);
  });

  test('Redis mode with 2 worker processes gives the same results as in-process', async (ctx) => {
    const redis = await startRedis();
    if ('skip' in redis) return ctx.skip(redis.skip);
    cleanups.push(() => (redis as RedisServer).stop());
    const name = `hs58-test-${process.pid}`;
    const workers = await Promise.all([spawnWorker(redis.url, name), spawnWorker(redis.url, name)]);
    cleanups.push(() => workers.forEach((w) => w.kill('SIGTERM')));
    const q = await createRedisQueue<typeof handlers>({ redisUrl: redis.url, name, logger: quiet });
    cleanups.push(() => q.close());
    // More jobs in flight than Node's default 10 listeners: no MaxListenersExceededWarning.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    const remote = await q.runAll('square', payloads, { timeoutMs: 1_500 }).finally(() => process.off('warning', onWarning));
    expect(payloads.length).toBeGreaterThan(10);
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    const local = await createInProcessQueue(handlers, { concurrency: 8 }).runAll('square', payloads, { timeoutMs: 1_000 });
    const strip = (r: (typeof remote)[number]) => (r.ok ? { ok: true, y: (r.value as { y: number }).y } : { ok: false });
    expect(remote.map(strip)).toEqual(local.map(strip));
    expect((remote[7] as { error: string }).error).toMatch(/negative -7/);
    const pids = new Set(remote.filter((r) => r.ok).map((r) => (r.value as { pid: number }).pid));
    expect(pids.size).toBe(2); // both workers took jobs
    expect(pids.has(process.pid)).toBe(false);
  });

  test('in-process: a job that ignores its signal is failed at its deadline, through forced garbage collections', async () => {
    const q = createInProcessQueue(handlers, { concurrency: 4 });
    const caller = new AbortController();
    const stopGc = collectGarbageEvery(100);
    try {
      const res = await within(
        15_000,
        'the in-process batch',
        q.runAll('hang', [{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }, { x: 5 }], { timeoutMs: 1_000, signal: caller.signal }),
      );
      expect(res).toHaveLength(5);
      for (const r of res) expect(r).toEqual({ ok: false, error: 'hang job timed out after 1000 ms' });
    } finally {
      stopGc();
    }
  });

  test('in-process: a batch with more jobs than slots ends at its deadline, not one deadline per wave', async () => {
    const q = createInProcessQueue(handlers, { concurrency: 2 });
    const started = Date.now();
    const res = await within(
      15_000,
      'the batch',
      q.runAll(
        'hang',
        Array.from({ length: 10 }, (_, x) => ({ x })),
        { timeoutMs: 1_000 },
      ),
    );
    expect(res.every((r) => !r.ok)).toBe(true);
    // Five waves of 1 s would be 5 s; a job still waiting for a slot fails with the batch.
    expect(Date.now() - started).toBeLessThan(4_000);
  });

  test('Redis unreachable at start: a bounded wait with a clear error, one log line per connection, ended at once by a signal', async () => {
    const port = await freePort();
    const cap = capturingLogger();
    const consoleErrors: unknown[] = [];
    const origError = console.error;
    console.error = (...a: unknown[]) => void consoleErrors.push(a);
    try {
      const started = Date.now();
      const err = await createRedisQueue({
        redisUrl: `redis://:hunter2@127.0.0.1:${port}`,
        name: 'hs58-down',
        logger: cap.logger,
        readyTimeoutMs: 2_500,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'REDIS_UNAVAILABLE' });
      expect(String((err as Error).message)).toMatch(/Redis at redis:\/\/127\.0\.0\.1:\d+\/… did not answer within 3 s .*unset it to run jobs in-process/);
      expect(Date.now() - started).toBeGreaterThanOrEqual(2_000);
      // ioredis retried many times meanwhile: one line per connection, not one per attempt, and nothing on the console.
      expect(cap.messages().filter((m) => m.startsWith('Redis unreachable'))).toHaveLength(2);
      expect(consoleErrors).toEqual([]);
      expect(JSON.stringify(cap.lines)).not.toContain('hunter2');

      const stop = new AbortController();
      setTimeout(() => stop.abort(new Error('received SIGTERM')), 200);
      const t0 = Date.now();
      await expect(
        startRedisWorker({
          redisUrl: `redis://127.0.0.1:${port}`,
          name: 'hs58-down',
          logger: quiet,
          signal: stop.signal,
          handlers,
          concurrency: 1,
          jobTimeoutMs: 1_000,
        }),
      ).rejects.toThrow('received SIGTERM');
      expect(Date.now() - t0).toBeLessThan(30_000);
    } finally {
      console.error = origError;
    }
  });

  test('Redis mode: a hanging job and a Redis that goes away settle as failures by the deadline; jobs run again when it is back', async (ctx) => {
    const redis = await startRedis();
    if ('skip' in redis) return ctx.skip(redis.skip);
    let current: RedisServer = redis;
    cleanups.push(() => current.stop());
    const name = `hs58-outage-${process.pid}`;
    const worker = await spawnWorker(redis.url, name);
    cleanups.push(() => void worker.kill('SIGTERM'));
    const cap = capturingLogger();
    const q = await createRedisQueue<typeof handlers>({ redisUrl: redis.url, name, logger: cap.logger });
    cleanups.push(() => q.close());

    const stopGc = collectGarbageEvery(100);
    try {
      const hung = await within(20_000, 'a hanging Redis job', q.runAll('hang', [{ x: 1 }], { timeoutMs: 1_500, signal: new AbortController().signal }));
      expect(hung[0]!.ok).toBe(false);

      await redis.stop();
      const down = await within(
        20_000,
        'a batch while Redis is down',
        q.runAll(
          'square',
          [
            { x: 2, delayMs: 1 },
            { x: 3, delayMs: 1 },
          ],
          { timeoutMs: 1_500 },
        ),
      );
      expect(down.map((r) => r.ok)).toEqual([false, false]);
      expect(cap.messages().filter((m) => m.startsWith('Redis unreachable')).length).toBeGreaterThanOrEqual(1);
      expect(cap.messages().filter((m) => m.startsWith('Redis unreachable')).length).toBeLessThanOrEqual(2);
    } finally {
      stopGc();
    }

    current = (await startRedis({ port: Number(new URL(redis.url).port) })) as RedisServer;
    await within(
      30_000,
      'Redis back',
      (async () => {
        while (!cap.messages().includes('Redis reachable again')) await new Promise((r) => setTimeout(r, 100));
      })(),
    );
    const back = await within(30_000, 'a batch after the outage', q.runAll('square', [{ x: 4, delayMs: 1 }], { timeoutMs: 10_000 }));
    expect(back[0]).toMatchObject({ ok: true, value: { y: 16 } });
  });
});
