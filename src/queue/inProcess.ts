import pLimit from 'p-limit';
import { errorMessage } from '../errors.js';
import { withDeadline } from '../util/deadline.js';
import type { JobHandlers, JobQueue, RunAllOptions, Settled } from './types.js';

/**
 * Runs jobs in this process with a concurrency limit. Each job has its own deadline from when it
 * starts: a handler still running then is reported as failed and its slot is freed, even if the
 * handler ignores its signal.
 */
export function createInProcessQueue<H extends JobHandlers>(handlers: H, options: { concurrency: number }): JobQueue<H> {
  const limit = pLimit(options.concurrency);
  return {
    mode: 'in-process',
    async runAll(kind, payloads, runOptions: RunAllOptions) {
      const handler = handlers[kind];
      if (!handler) throw new Error(`no handler for job kind ${kind}`);
      return Promise.all(
        payloads.map((payload) =>
          limit(async (): Promise<Settled<any>> => {
            try {
              const value = await withDeadline(runOptions.timeoutMs, (signal) => handler(payload, signal), { parent: runOptions.signal, label: `${kind} job` });
              return { ok: true, value };
            } catch (err) {
              return { ok: false, error: errorMessage(err) };
            }
          }),
        ),
      );
    },
    async close() {
      limit.clearQueue();
    },
  };
}
