/**
 * Latency proxies for `bench/scan.ts`, in their own process so that the "remote" endpoints do not
 * share an event loop with the scanner being measured. Usage: scan-proxies.ts UPSTREAM N MIN MAX;
 * prints the proxy URLs as one JSON line, then serves until killed.
 */
import { startFaultProxy } from '../test/support/faultProxy.js';

const [upstream, n, min, max] = process.argv.slice(2);
const proxies = await Promise.all(
  Array.from({ length: Number(n) }, (_, i) => startFaultProxy({ upstream: upstream!, latencyMs: [Number(min), Number(max)], seed: 100 + i })),
);
process.stdout.write(`${JSON.stringify(proxies.map((p) => p.url))}\n`);
process.on('SIGTERM', () => void Promise.all(proxies.map((p) => p.close())).then(() => process.exit(0)));
