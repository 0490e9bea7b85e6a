/** What the verify workers (verify-worker.mjs) are handed at start: the compiled wasm and known answers to check it against. */
import { initCrypto, signSr25519, sr25519KeypairFromSeed } from '../wallet/sr25519.js';

/** `WebAssembly` is a runtime global that the Node typings used here only declare as a namespace. */
const wasmRuntime = (globalThis as unknown as { WebAssembly: { compile(bytes: Uint8Array): Promise<object> } }).WebAssembly;

export interface LeanWorkerData {
  /** A compiled `WebAssembly.Module` (cloned to each worker without recompiling). */
  module: object;
  selfTest: Array<{ signature: Uint8Array; message: Uint8Array; publicKey: Uint8Array; valid: boolean }>;
}

/**
 * The compiled schnorrkel wasm that @polkadot/wasm-crypto runs (its dependency, already loaded
 * on this thread) and known answers the workers check it against; undefined when it cannot be
 * had, and the workers then load the package themselves.
 */
export async function leanWorkerData(): Promise<LeanWorkerData | undefined> {
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
