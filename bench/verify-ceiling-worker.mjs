// bench:axon's ceiling: one thread doing nothing but wasm sr25519 verification of bittensor
// signing messages for `ms` milliseconds. Plain JavaScript: a worker runs without the TS loader.
import { parentPort, workerData } from 'node:worker_threads';
import { sr25519Verify, waitReady } from '@polkadot/wasm-crypto';

await waitReady();
const { jobs, ms } = workerData;
const encoder = new TextEncoder();
const prepared = jobs.map((j) => ({ message: encoder.encode(j.message), signature: j.signature, publicKey: j.publicKey }));
parentPort.postMessage({ started: true });
const start = performance.now();
let count = 0;
let invalid = 0;
while (performance.now() - start < ms) {
  for (const j of prepared) {
    if (!sr25519Verify(j.signature, j.message, j.publicKey)) invalid++;
    count++;
  }
}
parentPort.postMessage({ count, invalid, seconds: (performance.now() - start) / 1000 });
