/**
 * Where the axon checks sr25519 signatures. Verification (≈ 370 µs on the wasm path) is the
 * cost that bounds an authenticated axon; on one thread it also blocks the event loop that
 * parses, answers and runs probes. The pool moves it to worker threads, one per core by
 * default, so every core verifies while the main thread keeps serving HTTP.
 *
 * Jobs are batched per event-loop turn into one transferred buffer per worker (no per-job
 * structured clone), spread over the least loaded workers. A worker that dies has its jobs
 * failed with `VerifyPoolError` (the axon answers 500 for them) and is replaced.
 *
 * Elastic when `minThreads` < `threads` (the miner's way): each worker costs 10–20 MB of
 * resident memory, and a miner's usual load (a few validator requests a minute) needs none.
 * While no worker runs, jobs are verified on the calling thread; a burst (`BURST_JOBS` in one
 * turn or `BURST_JOBS_PER_SECOND`) starts the workers, and a worker without work for
 * `idleMs` stops again.
 *
 * Why threads and not several axon processes (cluster / SO_REUSEPORT): replay protection
 * needs one nonce table and stake-ordered admission one queue; with threads both stay in one
 * place and only the stateless, CPU-bound step is spread out.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../observability/logger.js';
import { initCrypto, verifySr25519 } from '../wallet/sr25519.js';
import { type SignatureVerifier, VerifyPoolError } from './verifier.js';
import { type LeanWorkerData, leanWorkerData } from './verifyWorkerData.js';

export { createInlineVerifier, type SignatureVerifier, VerifyPoolError, type VerifyPoolErrorCode } from './verifier.js';

export interface VerifyPoolOptions {
  /** Most worker threads; default: the machine's available parallelism, at most 8. */
  threads?: number;
  /** Workers that run even without work; default `threads` (all, started before the pool is returned). */
  minThreads?: number;
  /** How long a worker above `minThreads` may go without work before it stops; default 60 s. */
  idleMs?: number;
  /** Most jobs sent to one worker in one message. */
  maxBatch?: number;
  logger?: Logger;
  /** How long a worker may take to load the wasm at start. */
  startTimeoutMs?: number;
}

interface Job {
  message: string;
  signature: Uint8Array;
  publicKey: Uint8Array;
  resolve: (ok: boolean) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** Jobs sent and not answered yet. */
  inflight: number;
  batches: Map<number, Job[]>;
  /** performance.now() of the last batch sent or answered. */
  lastActive: number;
}

/** Jobs in one event-loop turn that start the workers of an elastic pool. */
export const BURST_JOBS = 8;
/** Jobs within one second that start them (≈ 5 % of a core spent verifying on the calling thread). */
export const BURST_JOBS_PER_SECOND = 128;
/** After a worker failed to start, on-demand starts pause this long (jobs are verified inline meanwhile). */
const SPAWN_RETRY_MS = 30_000;

const WORKER_URL = new URL('./verify-worker.mjs', import.meta.url);

export function defaultVerifyThreads(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

/** Starts the workers and waits until each has loaded the wasm. */
export async function createVerifyPool(options: VerifyPoolOptions = {}): Promise<SignatureVerifier> {
  const threads = options.threads ?? defaultVerifyThreads();
  if (!Number.isInteger(threads) || threads < 1)
    throw new VerifyPoolError('VERIFY_POOL_START_FAILED', `verify threads must be a positive integer, got ${threads}`);
  const minThreads = options.minThreads ?? threads;
  if (!Number.isInteger(minThreads) || minThreads < 0 || minThreads > threads)
    throw new VerifyPoolError('VERIFY_POOL_START_FAILED', `minThreads must be an integer from 0 to threads (${threads}), got ${minThreads}`);
  const pool = new VerifyPool({
    threads,
    minThreads,
    idleMs: options.idleMs ?? 60_000,
    maxBatch: options.maxBatch ?? 64,
    startTimeoutMs: options.startTimeoutMs ?? 20_000,
    logger: options.logger,
    // Compiled when the first worker starts: an elastic pool at rest holds no second copy of the wasm.
    lean: once(leanWorkerData),
  });
  await initCrypto(); // an elastic pool verifies here while no worker runs
  await pool.start();
  return pool;
}

interface WorkerMessage {
  ready?: true;
  mode?: 'lean' | 'package';
  batch?: number;
  results?: Uint8Array;
  wasmMemoryBytes?: number;
}

const ENCODER = new TextEncoder();

/** The workers, the jobs waiting for the next batch, and the batches each worker has not answered yet. */
class VerifyPool implements SignatureVerifier {
  readonly threads: number;
  private currentMode: 'lean' | 'package' = 'lean';
  private largestWasmMemory = 0;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextBatch = 1;
  private jobsPending = 0;
  private closing = false;
  private flushScheduled = false;
  private readonly flushNow = () => this.flush();
  /** Workers being started. */
  private starting = 0;
  private spawnRetryAt = 0;
  private windowStart = 0;
  private windowJobs = 0;
  private inlineJobs = 0;
  private reaper: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: {
      threads: number;
      minThreads: number;
      idleMs: number;
      maxBatch: number;
      startTimeoutMs: number;
      logger: Logger | undefined;
      lean: () => Promise<LeanWorkerData | undefined>;
    },
  ) {
    this.threads = options.threads;
  }

  get pending(): number {
    return this.jobsPending;
  }

  /** Workers running now (elastic pools: between `minThreads` and `threads`). */
  get running(): number {
    return this.slots.length;
  }

  /** Jobs verified on the calling thread because no worker was running. */
  get verifiedInline(): number {
    return this.inlineJobs;
  }

  get mode(): 'lean' | 'package' {
    return this.currentMode;
  }

  get wasmMemoryBytes(): number {
    return this.largestWasmMemory;
  }

  async start(): Promise<void> {
    try {
      for (let i = 0; i < this.options.minThreads; i++) this.slots.push(await this.spawn());
    } catch (err) {
      this.closing = true;
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
      throw err;
    }
    if (this.options.minThreads < this.threads) {
      this.reaper = setInterval(() => this.reapIdle(), Math.max(25, Math.floor(this.options.idleMs / 4)));
      this.reaper.unref();
    }
  }

  verify(message: string, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
    if (this.closing) return Promise.reject(new VerifyPoolError('VERIFY_POOL_CLOSED', 'verify pool closed'));
    // Wrong lengths never reach a worker: they cannot be valid.
    if (signature.length !== 64 || publicKey.length !== 32) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ message, signature, publicKey, resolve, reject });
      this.jobsPending += 1;
      this.scheduleFlush();
    });
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.reaper) clearInterval(this.reaper);
    for (const job of this.queue.splice(0)) job.reject(new VerifyPoolError('VERIFY_POOL_CLOSED', 'verify pool closed'));
    const all = this.slots.splice(0);
    for (const slot of all) {
      for (const jobs of slot.batches.values()) for (const job of jobs) job.reject(new VerifyPoolError('VERIFY_POOL_CLOSED', 'verify pool closed'));
      slot.batches.clear();
    }
    this.jobsPending = 0;
    await Promise.all(all.map((s) => s.worker.terminate()));
  }

  /** One worker, resolved once it has loaded the wasm. */
  private async spawn(): Promise<Slot> {
    const { startTimeoutMs } = this.options;
    const lean = await this.options.lean();
    return new Promise((resolve, reject) => {
      // Small heaps: a verify worker holds a few KiB of jobs at a time; this keeps the miner's RSS low.
      // execArgv: [] keeps the parent's loader flags (tsx) out of the worker: it is plain JavaScript.
      const worker = new Worker(WORKER_URL, {
        execArgv: [],
        workerData: lean,
        resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
      });
      const slot: Slot = { worker, inflight: 0, batches: new Map(), lastActive: performance.now() };
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new VerifyPoolError('VERIFY_POOL_START_FAILED', `a verify worker did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      let started = false;
      worker.on('message', (msg: WorkerMessage) => {
        if (!msg.ready) return this.answered(slot, msg);
        if (msg.mode === 'package') this.currentMode = 'package';
        started = true;
        clearTimeout(timer);
        resolve(slot);
      });
      const fail = (why: string) => {
        clearTimeout(timer);
        if (started) this.stopped(slot, why);
        else reject(new VerifyPoolError('VERIFY_POOL_START_FAILED', `a verify worker failed to start: ${why}`));
      };
      worker.on('error', (err) => fail(err.message));
      worker.on('exit', (code) => fail(`exit code ${code}`));
    });
  }

  /** A worker's answers to one batch. */
  private answered(slot: Slot, msg: WorkerMessage): void {
    const jobs = slot.batches.get(msg.batch!);
    if (!jobs) return;
    slot.batches.delete(msg.batch!);
    slot.inflight -= jobs.length;
    slot.lastActive = performance.now();
    this.jobsPending -= jobs.length;
    const results = msg.results!;
    if ((msg.wasmMemoryBytes ?? 0) > this.largestWasmMemory) this.largestWasmMemory = msg.wasmMemoryBytes!;
    for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(results[i] === 1);
    if (this.queue.length > 0) this.scheduleFlush();
  }

  /** A started worker stopped: its jobs fail, and a new one takes its place. */
  private stopped(slot: Slot, why: string): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return; // already handled (error then exit)
    this.slots.splice(index, 1);
    for (const jobs of slot.batches.values()) {
      this.jobsPending -= jobs.length;
      for (const job of jobs) job.reject(new VerifyPoolError('VERIFY_WORKER_FAILED', 'the verify worker stopped'));
    }
    slot.batches.clear();
    if (this.closing) return;
    const replace = this.slots.length + this.starting < this.options.minThreads;
    this.options.logger?.error({ reason: why }, replace ? 'a verify worker stopped; starting a new one' : 'a verify worker stopped');
    if (replace) this.spawnInBackground();
  }

  /** One more worker, joining the pool once it has loaded the wasm; a failure pauses on-demand starts. */
  private spawnInBackground(): void {
    this.starting += 1;
    this.spawn().then(
      (fresh) => {
        this.starting -= 1;
        if (this.closing) void fresh.worker.terminate();
        else {
          this.slots.push(fresh);
          this.scheduleFlush();
        }
      },
      (err: unknown) => {
        this.starting -= 1;
        this.spawnRetryAt = performance.now() + SPAWN_RETRY_MS;
        this.options.logger?.error({ err: String(err) }, 'could not start a verify worker; verifying on the main thread meanwhile');
        if (this.queue.length > 0) this.scheduleFlush();
      },
    );
  }

  /** Elastic pools: a burst starts every missing worker. */
  private noteDemand(jobs: number): void {
    if (this.options.minThreads >= this.threads) return;
    const now = performance.now();
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.windowJobs = 0;
    }
    this.windowJobs += jobs;
    if (jobs < BURST_JOBS && this.windowJobs < BURST_JOBS_PER_SECOND) return;
    if (this.closing || now < this.spawnRetryAt) return;
    while (this.slots.length + this.starting < this.threads) this.spawnInBackground();
  }

  /** Elastic pools: workers above `minThreads` without work for `idleMs` stop. */
  private reapIdle(): void {
    const now = performance.now();
    for (const slot of [...this.slots]) {
      if (this.slots.length <= this.options.minThreads) return;
      if (slot.inflight > 0 || now - slot.lastActive < this.options.idleMs) continue;
      this.slots.splice(this.slots.indexOf(slot), 1);
      void slot.worker.terminate();
    }
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // setImmediate: every request that arrived in this I/O turn joins the same batch.
    setImmediate(this.flushNow);
  }

  /** The waiting jobs, in batches of at most `maxBatch`, each to the least loaded worker, as one transferred buffer. */
  private flush(): void {
    this.flushScheduled = false;
    const { slots, queue } = this;
    this.noteDemand(queue.length);
    if (slots.length === 0) {
      // No worker running (an elastic pool at rest, or one being replaced): verify here.
      for (const job of queue.splice(0)) {
        this.jobsPending -= 1;
        this.inlineJobs += 1;
        try {
          job.resolve(verifySr25519(job.message, job.signature, job.publicKey));
        } catch (err) {
          job.reject(new VerifyPoolError('VERIFY_WORKER_FAILED', `verifying on the main thread failed: ${String(err)}`));
        }
      }
      return;
    }
    while (queue.length > 0) {
      let slot = slots[0]!;
      for (const s of slots) if (s.inflight < slot.inflight) slot = s;
      const take = Math.min(this.options.maxBatch, Math.ceil(queue.length / slots.length));
      const jobs = queue.splice(0, take);
      let size = 0;
      for (const job of jobs) size += 100 + Buffer.byteLength(job.message, 'utf8');
      const buf = new ArrayBuffer(size);
      const bytes = new Uint8Array(buf);
      const view = new DataView(buf);
      let at = 0;
      for (const job of jobs) {
        bytes.set(job.publicKey, at);
        bytes.set(job.signature, at + 32);
        const written = ENCODER.encodeInto(job.message, bytes.subarray(at + 100)).written;
        view.setUint32(at + 96, written, true);
        at += 100 + written;
      }
      const batch = this.nextBatch++;
      slot.batches.set(batch, jobs);
      slot.inflight += jobs.length;
      slot.lastActive = performance.now();
      slot.worker.postMessage({ batch, buf }, [buf]);
    }
  }
}

/** `fn`'s promise, made on the first call and shared by the later ones. */
function once<T>(fn: () => Promise<T>): () => Promise<T> {
  let made: Promise<T> | null = null;
  return () => (made ??= fn());
}
