/**
 * The validator's fan-out work (wallet-proof queries, provider probes) as named jobs.
 * `JobQueue` runs a batch of jobs of one kind and returns one settled result per job,
 * in order; the in-process runner and the BullMQ runner give the same results.
 * Job payloads and results are JSON: no bigint, no functions.
 */
// biome-ignore lint/suspicious/noExplicitAny: each handler declares its own payload type; a map of them needs this one.
export type JobHandlers = Record<string, (payload: any, signal: AbortSignal) => Promise<unknown>>;

export type Settled<R> = { ok: true; value: R } | { ok: false; error: string };

export interface RunAllOptions {
  signal?: AbortSignal;
  /** Per job: a job still running after this is reported as failed. */
  timeoutMs: number;
}

export interface JobQueue<H extends JobHandlers> {
  readonly mode: 'in-process' | 'redis';
  runAll<K extends keyof H & string>(kind: K, payloads: Parameters<H[K]>[0][], options: RunAllOptions): Promise<Settled<Awaited<ReturnType<H[K]>>>[]>;
  close(): Promise<void>;
}
