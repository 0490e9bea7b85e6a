import pLimit from 'p-limit';
import { errorMessage } from '../errors.js';
import { raceSignal, startDeadline } from '../util/deadline.js';
import type { JobHandlers, JobQueue, RunAllOptions, Settled } from './types.js';

/**
 * Runs jobs in this process with a concurrency limit. A batch has one deadline from when it is
 * handed in, as on Redis (where the wait for results starts with the enqueue): a job still running
 * then, or still waiting for a slot, is reported as failed and its slot freed, even if its handler
 * ignores its signal. So a batch never takes longer than `timeoutMs`, however many jobs it holds.
 */
export function createInProcessQueue<H extends JobHandlers>(handlers: H, options: { concurrency: number }): JobQueue<H> {
  const limit = pLimit(options.concurrency);
  return {
    mode: 'in-process',
    async runAll<K extends keyof H & string>(kind: K, payloads: Parameters<H[K]>[0][], runOptions: RunAllOptions) {
      type Out = Settled<Awaited<ReturnType<H[K]>>>;
      const handler = handlers[kind];
      if (!handler) throw new Error(`no handler for job kind ${kind}`);
      const deadline = startDeadline(runOptions.timeoutMs, { parent: runOptions.signal, label: `${kind} job` });
      try {
        return await Promise.all(
          payloads.map(async (payload): Promise<Out> => {
            try {
              const value = await raceSignal(
                limit(() =>
                  deadline.signal.aborted ? Promise.reject(deadline.signal.reason) : raceSignal(handler(payload, deadline.signal), deadline.signal),
                ),
                deadline.signal,
              );
              return { ok: true, value: value as Awaited<ReturnType<H[K]>> };
            } catch (err) {
              return { ok: false, error: errorMessage(err) };
            }
          }),
        );
      } finally {
        deadline.clear();
      }
    },
    async close() {
      limit.clearQueue();
    },
  };
}
