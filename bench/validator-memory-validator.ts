/**
 * The validator of the memory benchmark: the real composition root (`startValidator` of
 * neurons/validator.ts: config, wallet, subtensor adapter, claims scanner with its database,
 * HTTP registry, in-process queue, validator loop, /health /metrics /status), run for
 * `--rounds` rounds against bench/validator-memory-peers.ts. Only the miners are stand-ins: the
 * queue's handlers answer ProviderCheck with each synthetic miner's real signed wallet proof and
 * probes as its provider behaves, after 5–150 ms; the real miner's uid goes through the real
 * dendrite to the `hs58 miner` process.
 *
 * Prints one JSON line per round and a last one with process.resourceUsage().maxRSS, the peak V8
 * heap and CPU time. Started by bench/validator-memory.ts with the peers' JSON as argv[2].
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { startValidator } from '../neurons/validator.js';
import { createLogger } from '../src/observability/logger.js';
import { createValidatorJobHandlers, type ProbeJob, type ProviderCheckJob, type ValidatorJobHandlers } from '../src/validator/jobs.js';
import type { PeersInfo } from './validator-memory-peers.js';

const peers = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as PeersInfo & { minerPort: number; rounds: number; epochLength: number; statusPort: number };
const statePath = await mkdtemp(path.join(os.tmpdir(), 'hs58-bench-validator-'));
const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(signal.reason);
      },
      { once: true },
    );
  });
const latency = () => 5 + Math.random() * 145;

function handlersFor(real: ValidatorJobHandlers): ValidatorJobHandlers {
  return {
    providerCheck: async (job: ProviderCheckJob, signal: AbortSignal) => {
      if (job.axon.uid === peers.minerUid) return real.providerCheck(job, signal);
      await sleep(latency(), signal);
      const p = peers.proofs[job.axon.hotkey];
      return {
        uid: job.axon.uid,
        ok: p !== undefined,
        statusCode: p ? 200 : 503,
        polygonWallet: p?.wallet ?? null,
        walletProof: p?.proof ?? null,
        apiUrl: null,
      };
    },
    probe: async (job: ProbeJob, signal: AbortSignal) => {
      if (job.axon.uid === peers.minerUid) return real.probe(job, signal);
      const behaviour = peers.providers[job.targetUrl];
      const ms = behaviour === 'slow' ? 1_500 : latency();
      await sleep(ms, signal);
      const up = behaviour !== 'down';
      const status = !up ? null : behaviour === 'flaky' && Math.random() < 0.5 ? 503 : 200;
      return { uid: job.axon.uid, ok: true, statusCode: 200, reachable: up, status, latencyMs: up ? Math.round(ms) : null };
    },
  };
}

const mb = (bytes: number) => Math.round(bytes / 1048576);
let peakHeapUsed = 0;
let peakHeapTotal = 0;
let peakExternal = 0;
const sample = () => {
  const h = v8.getHeapStatistics();
  const m = process.memoryUsage();
  peakHeapUsed = Math.max(peakHeapUsed, h.used_heap_size);
  peakHeapTotal = Math.max(peakHeapTotal, h.total_heap_size);
  peakExternal = Math.max(peakExternal, m.external + m.arrayBuffers);
};
const sampler = setInterval(sample, 100);
// Diagnosis: HS58_BENCH_TRACE=file writes heap and RSS every 250 ms.
const trace = process.env.HS58_BENCH_TRACE;
const t0 = performance.now();
const tracer = trace
  ? setInterval(() => {
      const m = process.memoryUsage();
      appendFileSync(
        trace,
        `${((performance.now() - t0) / 1000).toFixed(2)} rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} ext ${mb(m.external + m.arrayBuffers)}\n`,
      );
    }, 250)
  : null;

const argv = [
  '--netuid',
  String(peers.netuid),
  '--subtensor.chain_endpoint',
  peers.subtensor,
  '--wallet.path',
  peers.walletPath,
  '--wallet.name',
  peers.walletName,
  '--wallet.hotkey',
  peers.validatorHotkey,
  '--polygon.rpc_url',
  peers.rpcUrl,
  '--polygon.contracts',
  peers.contract,
  '--polygon.chain_id',
  String(peers.chainId),
  '--registry.urls',
  peers.registryUrl,
  '--marketplace.url',
  peers.marketplaceUrl,
  '--neuron.epoch_length',
  String(peers.epochLength),
  '--neuron.timeout',
  '12',
  '--neuron.state_path',
  statePath,
  '--metrics.host',
  '127.0.0.1',
  '--metrics.port',
  String(peers.statusPort),
  // The heaviest preset (proofs, the claims window, probes), not the default oracle-v2.1 (probes only).
  '--scoring.preset',
  'hs58',
];
const controller = new AbortController();
process.once('SIGTERM', () => controller.abort(new Error('SIGTERM')));
const cpu0 = process.cpuUsage();
let round = 0;
const sink = { write: () => true } as unknown as NodeJS.WritableStream;
const code = await startValidator(
  { argv, env: {}, cwd: process.cwd(), homeDir: os.homedir(), stdout: sink, stderr: process.stderr, signal: controller.signal },
  {
    logger: createLogger({ level: 'warn', name: 'bench-validator', destination: process.stderr }),
    maxRounds: peers.rounds,
    jobHandlers: (dendrite) => handlersFor(createValidatorJobHandlers(dendrite)),
    resolveAddress: (ip, port) => (port === peers.minerPort ? { host: '127.0.0.1', port } : { host: ip, port }),
    onRound: (report) => {
      sample();
      round += 1;
      // Diagnosis only (`--node-flags --expose-gc`): the live heap after a full collection.
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) gc();
      if (trace) appendFileSync(trace, `${((performance.now() - t0) / 1000).toFixed(2)} round ${round} done (${Math.round(report.durationMs)} ms)\n`);
      const answered = report.rows.filter((r) => r.answered).length;
      process.stdout.write(
        `${JSON.stringify({
          round,
          block: report.block,
          ms: Math.round(report.durationMs),
          ok: report.ok,
          failed: report.failedSteps.map((f) => `${f.step}: ${f.error.slice(0, 200)}`),
          answered,
          proven: report.rows.filter((r) => r.proof).length,
          credited: report.rows.filter((r) => r.claims > 0n).length,
          weights: report.weights?.uids.length ?? 0,
          submitted: report.submitted?.kind ?? null,
          realMiner: report.rows[peers.minerUid] && { answered: report.rows[peers.minerUid]!.answered, proof: report.rows[peers.minerUid]!.proof },
          rssMb: mb(process.memoryUsage().rss),
          heapUsedMb: mb(v8.getHeapStatistics().used_heap_size),
          ...(gc ? { liveHeapMb: mb(v8.getHeapStatistics().used_heap_size), liveRssMb: mb(process.memoryUsage().rss) } : {}),
        })}\n`,
      );
    },
  },
);
clearInterval(sampler);
if (tracer) clearInterval(tracer);
sample();
const cpu = process.cpuUsage(cpu0);
const usage = process.resourceUsage();
// The claims database and its write-ahead log.
const claimsFile = path.join(statePath, `${peers.walletName}-${peers.validatorHotkey}`, `netuid${peers.netuid}`, 'drain-claims.sqlite');
const sizes = await Promise.all(
  ['', '-wal'].map((suffix) =>
    stat(claimsFile + suffix).then(
      (s) => s.size,
      () => 0,
    ),
  ),
);
const claimsFileMb = sizes[0] ? Math.round(((sizes[0] + sizes[1]!) / 1048576) * 10) / 10 : null;
process.stdout.write(
  `${JSON.stringify({
    done: true,
    code,
    rounds: round,
    maxRssMb: Math.round(usage.maxRSS / 1024),
    peakHeapUsedMb: mb(peakHeapUsed),
    peakHeapTotalMb: mb(peakHeapTotal),
    peakExternalMb: mb(peakExternal),
    cpuUserS: cpu.user / 1e6,
    cpuSystemS: cpu.system / 1e6,
    claimsFileMb,
  })}\n`,
);
await rm(statePath, { recursive: true, force: true });
process.exit(code);
