import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createRedisQueue } from '../../src/queue/bullmq.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import { REPO_ROOT } from '../support/programs.js';
import { startRedis, type RedisServer } from '../support/redis.js';

const handlers = {
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
    const q = await createRedisQueue<typeof handlers>({ redisUrl: redis.url, name });
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
});
