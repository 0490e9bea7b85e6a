/** What the axon verifies signatures with: the interface, its error, and the calling-thread implementation. */
import { Hs58Error } from '../errors.js';
import { initCrypto, verifySr25519 } from '../wallet/sr25519.js';

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
  /** Most worker threads verifying (0: always on the calling thread). */
  readonly threads: number;
  /** Worker threads running now (an elastic pool starts them on bursts and stops them when idle). */
  readonly running: number;
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
    running: 0,
    pending: 0,
    mode: 'inline',
    wasmMemoryBytes: 0,
    close: async () => {
      closed = true;
    },
  };
}
