/**
 * The TypeScript axon as `bench:axon` measures it, in its own process (so its peak RSS is its
 * own): the real server, verify pool, nonce store and metagraph blacklist (fed a synthetic
 * 256-neuron metagraph instead of a chain), answering ProviderCheck like the miner does.
 *
 * Started by bench/axon.ts with `fork`; argv[2] is JSON
 * `{ minerHotkey, validatorHotkey, threads }`. Sends `{ ready, port }` when listening, `{ cpuSec }`
 * (CPU time used so far by this process, workers included) after `cpu`, and `{ done, maxRssMb }`
 * after `stop`.
 */
import { readFileSync } from 'node:fs';
import { createMetagraphBlacklist } from '../src/axon/blacklist.js';
import { createAxonServer } from '../src/axon/server.js';
import { createInlineVerifier, createVerifyPool, type SignatureVerifier } from '../src/axon/verifyPool.js';
import type { MetagraphSnapshot } from '../src/chain/subtensor/types.js';
import { createLogger } from '../src/observability/logger.js';
import { createMinerMetrics } from '../src/observability/metrics.js';
import { initCrypto, publicKeyToSs58 } from '../src/wallet/sr25519.js';

interface ServerArgs {
  minerHotkey: string;
  validatorHotkey: string;
  threads: number;
  /** Skip the signature check (answers as if valid): measures everything but verification. Bench only. */
  skipVerify?: boolean;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ServerArgs;
await initCrypto();

// 256 neurons; the bench caller is uid 7, a validator with stake.
const hotkeys = Array.from({ length: 256 }, (_, i) => publicKeyToSs58(new Uint8Array(32).fill(i === 0 ? 255 : i)));
hotkeys[7] = args.validatorHotkey;
const snapshot = {
  block: 1,
  hotkeys,
  uids: hotkeys.map((_, i) => i),
  stake: hotkeys.map((_, i) => BigInt(i) * 1_000_000_000n),
  validatorPermit: hotkeys.map((_, i) => i < 64),
} as unknown as MetagraphSnapshot;

const logger = createLogger({ level: 'warn', name: 'bench-axon' });
const blacklist = createMetagraphBlacklist({
  subtensor: { getMetagraph: async () => snapshot },
  netuid: 58,
  forceValidatorPermit: true,
  minStakeRao: 0n,
  refreshMs: 3_600_000,
  logger,
});
await blacklist.refresh();
const verifier: SignatureVerifier = args.skipVerify
  ? { verify: async () => true, threads: 0, running: 0, pending: 0, mode: 'inline', wasmMemoryBytes: 0, close: async () => {} }
  : args.threads > 0
    ? await createVerifyPool({ threads: args.threads, minThreads: 0, logger }) // as the miner runs it: workers start on the load
    : await createInlineVerifier();
const identity = { polygon_wallet: `0x${'ab'.repeat(20)}`, wallet_proof: `0x${'cd'.repeat(65)}`, api_url: 'https://provider.example/v1' };
const axon = createAxonServer({
  hotkey: { address: args.minerHotkey },
  handlers: { ProviderCheck: () => identity },
  blacklist: blacklist.blacklist,
  priorityFn: blacklist.priority,
  verifier,
  limits: { maxQueue: 4096 },
  metrics: createMinerMetrics(),
  logger,
});
const { port } = await axon.listen({ host: '127.0.0.1', port: 0 });
process.send?.({ ready: true, port });

function peakRssMb(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}

process.on('message', async (msg) => {
  if (msg === 'cpu') {
    const cpu = process.cpuUsage();
    process.send?.({ cpuSec: (cpu.user + cpu.system) / 1e6 });
    return;
  }
  if (msg !== 'stop') return;
  const maxRssMb = peakRssMb();
  await axon.close();
  await verifier.close();
  process.send?.({ done: true, maxRssMb }, () => process.exit(0));
});
