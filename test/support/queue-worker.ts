// A worker process for the BullMQ test: squares numbers, tagging results with its pid.
import { createLogger } from '../../src/observability/logger.js';
import { startRedisWorker } from '../../src/queue/bullmq.js';

const [redisUrl, name] = process.argv.slice(2) as [string, string];
const worker = await startRedisWorker({
  redisUrl,
  name,
  logger: createLogger({ level: 'warn', destination: process.stderr }),
  concurrency: 2,
  jobTimeoutMs: 5_000,
  handlers: {
    // Ignores its signal: the worker's own deadline must free the slot.
    hang: () => new Promise(() => undefined),
    square: async (p: { x: number; delayMs: number }) => {
      await new Promise((r) => setTimeout(r, p.delayMs));
      if (p.x < 0) throw new Error(`negative ${p.x}`);
      return { y: p.x * p.x, pid: process.pid };
    },
  },
});
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
