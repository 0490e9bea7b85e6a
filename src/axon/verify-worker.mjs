// sr25519 verification on a worker thread for the axon's verify pool (src/axon/verifyPool.ts).
// Plain JavaScript on purpose: a worker is a fresh Node isolate without the TypeScript loader
// the main process runs under (tsx, vitest), so it must be loadable by Node as is.
//
// Lean by default: the main thread hands over the compiled schnorrkel wasm module of
// @polkadot/wasm-crypto (workerData.module) and this worker calls its `ext_sr_verify` export
// directly, the way @polkadot/wasm-crypto's own bridge does, without loading @polkadot/util and
// friends (about 15 MB less per worker). A self-test on known answers guards that binary
// interface; if it fails (another wasm-crypto version), the worker loads the package instead.
//
// In:  { batch, buf } with buf a transferred ArrayBuffer of jobs, each
//      [32 bytes public key][64 bytes signature][u32 LE message length][message bytes].
// Out: { batch, results } with results a transferred Uint8Array: 1 valid, 0 invalid, per job in order.
import { parentPort, workerData } from 'node:worker_threads';

function leanVerifier(module) {
  const wbg = {};
  for (const entry of WebAssembly.Module.imports(module)) {
    // Verification needs none of the host functions (they serve key generation's randomness).
    wbg[entry.name] = () => {
      throw new Error(`${entry.name} is not available in the verify worker`);
    };
  }
  const { memory, ext_sr_verify: verify, __wbindgen_malloc: malloc } = new WebAssembly.Instance(module, { wbg }).exports;
  // The wasm side takes ownership of each argument buffer, as with @polkadot/wasm-crypto's bridge.
  const put = (bytes) => {
    const ptr = malloc(bytes.length);
    new Uint8Array(memory.buffer).set(bytes, ptr);
    return ptr;
  };
  return {
    verify: (signature, message, publicKey) => {
      const s = put(signature);
      const m = put(message);
      const p = put(publicKey);
      return verify(s, signature.length, m, message.length, p, publicKey.length) !== 0;
    },
    memoryBytes: () => memory.buffer.byteLength,
  };
}

async function packageVerifier() {
  const crypto = await import('@polkadot/wasm-crypto');
  if (!(await crypto.waitReady())) throw new Error('could not load the sr25519 wasm (@polkadot/wasm-crypto)');
  return { verify: (signature, message, publicKey) => crypto.sr25519Verify(signature, message, publicKey), memoryBytes: () => 0 };
}

function passes(verifier, selfTest) {
  try {
    return selfTest.every((t) => verifier.verify(t.signature, t.message, t.publicKey) === t.valid);
  } catch {
    return false;
  }
}

let verifier = null;
let mode = 'package';
if (workerData?.module) {
  try {
    const lean = leanVerifier(workerData.module);
    if (passes(lean, workerData.selfTest ?? [])) {
      verifier = lean;
      mode = 'lean';
    }
  } catch {
    verifier = null;
  }
}
verifier ??= await packageVerifier();

parentPort.on('message', ({ batch, buf }) => {
  const bytes = new Uint8Array(buf);
  const view = new DataView(buf);
  const results = [];
  let at = 0;
  while (at < bytes.length) {
    const publicKey = bytes.subarray(at, at + 32);
    const signature = bytes.subarray(at + 32, at + 96);
    const length = view.getUint32(at + 96, true);
    const message = bytes.subarray(at + 100, at + 100 + length);
    at += 100 + length;
    let ok = false;
    try {
      ok = verifier.verify(signature, message, publicKey);
    } catch {
      ok = false;
    }
    results.push(ok ? 1 : 0);
  }
  const out = Uint8Array.from(results);
  parentPort.postMessage({ batch, results: out, wasmMemoryBytes: verifier.memoryBytes() }, [out.buffer]);
});
parentPort.postMessage({ ready: true, mode });
