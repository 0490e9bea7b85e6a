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
  if (!Number.isInteger(threads) || threads < 1) throw new VerifyPoolError('VERIFY_POOL_START_FAILED', `verify threads must be a positive integer, got ${threads}`);
  const maxBatch = options.maxBatch ?? 64;
  const startTimeoutMs = options.startTimeoutMs ?? 20_000;
  const logger = options.logger;

  const lean = await leanWorkerData();
  let mode: 'lean' | 'package' = 'lean';
  let wasmMemoryBytes = 0;
  const slots: Slot[] = [];
  const queue: Job[] = [];
  let nextBatch = 1;
  let pending = 0;
  let closing = false;
  let flushScheduled = false;

  const spawn = (): Promise<Slot> =>
    new Promise((resolve, reject) => {
      // Small heaps: a verify worker holds a few KiB of jobs at a time; this keeps the miner's RSS low.
      // execArgv: [] keeps the parent's loader flags (tsx) out of the worker: it is plain JavaScript.
      const worker = new Worker(WORKER_URL, { execArgv: [], workerData: lean, resourceLimits: { maxOldGenerationSizeMb: 24, maxYoungGenerationSizeMb: 4 } });
      const slot: Slot = { worker, inflight: 0, batches: new Map() };
      const timer = setTimeout(() => {
        void worker.terminate();
        reject(new VerifyPoolError('VERIFY_POOL_START_FAILED', `a verify worker did not start within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      let started = false;
      worker.on('message', (msg: { ready?: true; mode?: 'lean' | 'package'; batch?: number; results?: Uint8Array; wasmMemoryBytes?: number }) => {
        if (msg.ready) {
          if (msg.mode === 'package') mode = 'package';
          started = true;
          clearTimeout(timer);
          resolve(slot);
          return;
        }
        const jobs = slot.batches.get(msg.batch!);
        if (!jobs) return;
        slot.batches.delete(msg.batch!);
        slot.inflight -= jobs.length;
        pending -= jobs.length;
        const results = msg.results!;
        if ((msg.wasmMemoryBytes ?? 0) > wasmMemoryBytes) wasmMemoryBytes = msg.wasmMemoryBytes!;
        for (let i = 0; i < jobs.length; i++) jobs[i]!.resolve(results[i] === 1);
        if (queue.length > 0) scheduleFlush();
      });
      const fail = (why: string) => {
        clearTimeout(timer);
        if (!started) {
          reject(new VerifyPoolError('VERIFY_POOL_START_FAILED', `a verify worker failed to start: ${why}`));
          return;
        }
        const index = slots.indexOf(slot);
        if (index < 0) return; // already handled (error then exit)
        slots.splice(index, 1);
        for (const jobs of slot.batches.values()) {
          pending -= jobs.length;
          for (const job of jobs) job.reject(new VerifyPoolError('VERIFY_WORKER_FAILED', 'the verify worker stopped'));
        }
        slot.batches.clear();
        if (closing) return;
        logger?.error({ reason: why }, 'a verify worker stopped; starting a new one');
        spawn().then(
          (fresh) => {
            if (closing) void fresh.worker.terminate();
            else {
              slots.push(fresh);
              scheduleFlush();
            }
          },
          (err: unknown) => logger?.error({ err: String(err) }, 'could not replace a verify worker'),
        );
      };
      worker.on('error', (err) => fail(err.message));
      worker.on('exit', (code) => fail(`exit code ${code}`));
    });

  const scheduleFlush = () => {
    if (flushScheduled) return;
    flushScheduled = true;
    // setImmediate: every request that arrived in this I/O turn joins the same batch.
    setImmediate(flush);
  };

  const encoder = new TextEncoder();
  function flush(): void {
    flushScheduled = false;
    if (slots.length === 0) return; // a replacement is starting; it flushes when ready
    while (queue.length > 0) {
      let slot = slots[0]!;
      for (const s of slots) if (s.inflight < slot.inflight) slot = s;
      const take = Math.min(maxBatch, Math.ceil(queue.length / slots.length));
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
        const written = encoder.encodeInto(job.message, bytes.subarray(at + 100)).written;
        view.setUint32(at + 96, written, true);
        at += 100 + written;
      }
      const batch = nextBatch++;
      slot.batches.set(batch, jobs);
      slot.inflight += jobs.length;
      slot.worker.postMessage({ batch, buf }, [buf]);
    }
  }

  try {
    for (let i = 0; i < threads; i++) slots.push(await spawn());
  } catch (err) {
    closing = true;
    await Promise.all(slots.map((s) => s.worker.terminate()));
    throw err;
  }

  return {
    verify(message, signature, publicKey) {
      if (closing) return Promise.reject(new VerifyPoolError('VERIFY_POOL_CLOSED', 'verify pool closed'));
      // Wrong lengths never reach a worker: they cannot be valid.
      if (signature.length !== 64 || publicKey.length !== 32) return Promise.resolve(false);
      return new Promise<boolean>((resolve, reject) => {
        queue.push({ message, signature, publicKey, resolve, reject });
        pending += 1;
        scheduleFlush();
      });
    },
    threads,
    get pending() {
      return pending;
    },
    get mode() {
      return mode;
    },
    get wasmMemoryBytes() {
      return wasmMemoryBytes;
    },
    async close() {
      if (closing) return;
      closing = true;
      for (const job of queue.splice(0)) job.reject(new VerifyPoolError('VERIFY_POOL_CLOSED', 'verify pool closed'));
      const all = slots.splice(0);
      for (const slot of all) {
        for (const jobs of slot.batches.values()) for (const job of jobs) job.reject(new VerifyPoolError('VERIFY_POOL_CLOSED', 'verify pool closed'));
        slot.batches.clear();
      }
      pending = 0;
      await Promise.all(all.map((s) => s.worker.terminate()));
    },
  };
}
