import pLimit from 'p-limit';
import { errorMessage } from '../errors.js';
import type { JobHandlers, JobQueue, RunAllOptions, Settled } from './types.js';

/** Runs jobs in this process with a concurrency limit. */
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
            const signal = runOptions.signal
              ? AbortSignal.any([runOptions.signal, AbortSignal.timeout(runOptions.timeoutMs)])
              : AbortSignal.timeout(runOptions.timeoutMs);
            try {
              return { ok: true, value: await withAbort(handler(payload, signal), signal) };
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

function withAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
