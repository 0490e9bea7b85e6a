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
 * Why threads and not several axon processes (cluster / SO_REUSEPORT): replay protection
 * needs one nonce table and stake-ordered admission one queue; with threads both stay in one
 * place and only the stateless, CPU-bound step is spread out.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Hs58Error } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { initCrypto, signSr25519, sr25519KeypairFromSeed, verifySr25519 } from '../wallet/sr25519.js';

export type VerifyPoolErrorCode = 'VERIFY_POOL_CLOSED' | 'VERIFY_WORKER_FAILED' | 'VERIFY_POOL_START_FAILED';

export class VerifyPoolError extends Hs58Error<VerifyPoolErrorCode> {
  override name = 'VerifyPoolError';
}

export interface SignatureVerifier {
  /**
   * True iff `signature` (64 bytes) is a valid substrate-context sr25519 signature of the
   * UTF-8 `message` by `publicKey` (32 bytes). Rejects only with `VerifyPoolError`.
   */
  verify(message: string, signature: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  /** Worker threads verifying (0: on the calling thread). */
  readonly threads: number;
  /** Jobs queued or being verified. */
  readonly pending: number;
  /** `inline` (calling thread), `lean` (workers calling the wasm directly) or `package` (workers loading @polkadot/wasm-crypto). */
  readonly mode: 'inline' | 'lean' | 'package';
  /** Largest wasm memory a worker reported (0 inline): stays flat unless verification leaks. */
  readonly wasmMemoryBytes: number;
  close(): Promise<void>;
}

/** Verification on the calling thread (the wasm path). For tests, tools and `--axon.verify_threads 0`. */
export async function createInlineVerifier(): Promise<SignatureVerifier> {
  await initCrypto();
  let closed = false;
  return {
    verify: async (message, signature, publicKey) => {
      if (closed) throw new VerifyPoolError('VERIFY_POOL_CLOSED', 'verifier closed');
      return verifySr25519(message, signature, publicKey);
    },
    threads: 0,
    pending: 0,
    mode: 'inline',
    wasmMemoryBytes: 0,
    close: async () => {
      closed = true;
    },
  };
}

export interface VerifyPoolOptions {
  /** Worker threads; default: the machine's available parallelism, at most 8. */
  threads?: number;
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
}

const WORKER_URL = new URL('./verify-worker.mjs', import.meta.url);

/** `WebAssembly` is a runtime global that the Node typings used here only declare as a namespace. */
const wasmRuntime = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;

interface LeanWorkerData {
  /** A compiled `WebAssembly.Module` (cloned to each worker without recompiling). */
  module: object;
  selfTest: Array<{ signature: Uint8Array; message: Uint8Array; publicKey: Uint8Array; valid: boolean }>;
}

/**
 * The compiled schnorrkel wasm that @polkadot/wasm-crypto runs (its dependency, already loaded
 * on this thread) and known answers the workers check it against; undefined when it cannot be
 * had, and the workers then load the package themselves.
 */
async function leanWorkerData(): Promise<LeanWorkerData | undefined> {
  try {
    const { wasmBytes } = (await import('@polkadot/wasm-crypto-wasm')) as { wasmBytes: Uint8Array };
    const module = await wasmRuntime.compile(wasmBytes);
    await initCrypto();
    const kp = sr25519KeypairFromSeed(new Uint8Array(32).fill(58));
    const message = new TextEncoder().encode('hs58 verify worker self-test');
    const signature = signSr25519(kp, message);
    const flipped = signature.slice();
    flipped[10]! ^= 1;
    return {
      module,
      selfTest: [
        { signature, message, publicKey: kp.publicKey, valid: true },
        { signature: flipped, message, publicKey: kp.publicKey, valid: false },
        { signature, message: message.subarray(1), publicKey: kp.publicKey, valid: false },
      ],
    };
  } catch {
    return undefined;
  }
}

export function defaultVerifyThreads(): number {
  return Math.max(1, Math.min(8, os.availableParallelism()));
}

/** Starts the workers and waits until each has loaded the wasm. */
export async function createVerifyPool(options: VerifyPoolOptions = {}): Promise<SignatureVerifier> {
  const threads = options.threads ?? defaultVerifyThreads();
  if (!Number.isInteger(threads) || threads < 1)
    throw new VerifyPoolError('VERIFY_POOL_START_FAILED', `verify threads must be a positive integer, got ${threads}`);
  const pool = new VerifyPool({
    threads,
    maxBatch: options.maxBatch ?? 64,
    startTimeoutMs: options.startTimeoutMs ?? 20_000,
    logger: options.logger,
    lean: await leanWorkerData(),
  });
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

  constructor(
    private readonly options: { threads: number; maxBatch: number; startTimeoutMs: number; logger: Logger | undefined; lean: LeanWorkerData | undefined },
  ) {
    this.threads = options.threads;
  }

  get pending(): number {
    return this.jobsPending;
  }

  get mode(): 'lean' | 'package' {
    return this.currentMode;
  }

  get wasmMemoryBytes(): number {
    return this.largestWasmMemory;
  }

  async start(): Promise<void> {
    try {
      for (let i = 0; i < this.threads; i++) this.slots.push(await this.spawn());
    } catch (err) {
      this.closing = true;
      await Promise.all(this.slots.map((s) => s.worker.terminate()));
      throw err;
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
  private spawn(): Promise<Slot> {
    const { startTimeoutMs } = this.options;
    return new Promise((resolve, reject) => {
      // Small heaps: a verify worker holds a few KiB of jobs at a time; this keeps the miner's RSS low.
      // execArgv: [] keeps the parent's loader flags (tsx) out of the worker: it is plain JavaScript.
      const worker = new Worker(WORKER_URL, {
        execArgv: [],
        workerData: this.options.lean,
        resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 },
      });
      const slot: Slot = { worker, inflight: 0, batches: new Map() };
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
    const logger = this.options.logger;
    logger?.error({ reason: why }, 'a verify worker stopped; starting a new one');
    this.spawn().then(
      (fresh) => {
        if (this.closing) void fresh.worker.terminate();
        else {
          this.slots.push(fresh);
          this.scheduleFlush();
        }
      },
      (err: unknown) => logger?.error({ err: String(err) }, 'could not replace a verify worker'),
    );
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
    if (slots.length === 0) return; // a replacement is starting; it flushes when ready
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
      slot.worker.postMessage({ batch, buf }, [buf]);
    }
  }
}
