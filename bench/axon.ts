/**
 * `npm run bench:axon`: ProviderCheck requests per second through the TypeScript axon (signature
 * verification, nonce, blacklist, priority, handler, response), compared with
 *   (a) the ceiling: the fastest sr25519 verification on this machine and nothing else
 *       (the wasm path), on one thread and on one thread per core;
 *   (b) the REAL Python bittensor axon (the SDK in .venv-interop) serving the same synapse with
 *       the Python Subnet 58 miner's blacklist and priority, on the same machine.
 *
 * Both axons get the same load: `--concurrency` keep-alive connections, each sending its next
 * request when the previous answer is complete. Requests are signed before the timed part (one
 * dendrite uuid per connection, increasing nonces) so that the client's own signing does not
 * compete with the axon for the CPU; the client only writes bytes and reads answers.
 * Rounds interleave the ceiling and the axons; the best round of each is compared (on a shared
 * machine, the least disturbed one), and every round is printed.
 *
 * Flags: --concurrency 64  --seconds 8  --rounds 3  --threads <cores>  --ts-requests 40000
 *        --python-requests 8000  --skip-python  --skip-ceiling  --overhead (also run the axon
 *        with verification skipped, to show what everything but sr25519 costs)
 *        --node-flags="…"  (V8 flags for the TypeScript axon's process; default the miner's flags in
 *                      entrypoint.sh, "--max-semi-space-size=2 --max-old-space-size=96 --v8-pool-size=1";
 *                      --node-flags="" for Node's defaults; MALLOC_ARENA_MAX=2 unless set, as there)
 *        --compiled   (run the axon as plain JavaScript bundled by esbuild, without the tsx loader,
 *                      as a production build would; by default it runs under tsx like `hs58`)
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { createInterface } from 'node:readline';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { sr25519Verify as jsVerify } from '@polkadot/util-crypto';
import { encodeRequest } from '../src/protocol/index.js';
import { timeNs } from '../src/util/timeNs.js';
import { initCrypto, publicKeyToSs58, signSr25519, sr25519KeypairFromSeed, ss58ToPublicKey, verifySr25519 } from '../src/wallet/sr25519.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = Number(process.argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a number`);
  return v;
}
const CONCURRENCY = flag('concurrency', 64);
const SECONDS = flag('seconds', 8);
const ROUNDS = Math.max(1, Math.round(flag('rounds', 3)));
const THREADS = flag('threads', os.availableParallelism());
const TS_REQUESTS = flag('ts-requests', 40_000);
const PY_REQUESTS = flag('python-requests', 8_000);
const SKIP_PYTHON = process.argv.includes('--skip-python');
const SKIP_CEILING = process.argv.includes('--skip-ceiling');
/** Also measure the axon with verification skipped: what everything but sr25519 costs. */
const OVERHEAD = process.argv.includes('--overhead');
const COMPILED = process.argv.includes('--compiled');
/** The miner's Node flags in entrypoint.sh (the Docker image), the default here. */
const MINER_NODE_FLAGS = '--max-semi-space-size=2 --max-old-space-size=96 --v8-pool-size=1';
const NODE_FLAGS = (() => {
  // --node-flags="…" (one argument) or --node-flags "…" (two).
  const joined = process.argv.find((a) => a.startsWith('--node-flags='));
  const i = process.argv.indexOf('--node-flags');
  const value = joined !== undefined ? joined.slice('--node-flags='.length) : i < 0 ? MINER_NODE_FLAGS : (process.argv[i + 1] ?? '');
  return value.split(' ').filter(Boolean);
})();
const CORES = os.availableParallelism();

await initCrypto();
const validator = sr25519KeypairFromSeed(new Uint8Array(32).fill(42));
const validatorAddress = publicKeyToSs58(validator.publicKey);

// --- (a) the ceiling --------------------------------------------------------------------------

function sampleJobs(axonHotkey: string, n = 64) {
  return Array.from({ length: n }, (_, i) => {
    const message = `${1_763_000_000_000_000_000n + BigInt(i)}.${validatorAddress}.${axonHotkey}.bench-ceiling.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a`;
    return { message, signature: signSr25519(validator, message), publicKey: validator.publicKey };
  });
}

async function ceilingThreads(threads: number, ms: number, axonHotkey: string): Promise<number> {
  const jobs = sampleJobs(axonHotkey);
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./verify-ceiling-worker.mjs', import.meta.url), { workerData: { jobs, ms } }));
  const results = await Promise.all(
    workers.map(
      (w) =>
        new Promise<{ count: number; invalid: number; seconds: number }>((resolve, reject) => {
          w.on('message', (m: { started?: boolean; count?: number; invalid?: number; seconds?: number }) => {
            if (m.count !== undefined) resolve(m as { count: number; invalid: number; seconds: number });
          });
          w.on('error', reject);
        }),
    ),
  );
  await Promise.all(workers.map((w) => w.terminate()));
  if (results.some((r) => r.invalid > 0)) throw new Error('ceiling: a signature did not verify');
  return results.reduce((sum, r) => sum + r.count / r.seconds, 0);
}

function ceilingMainThread(ms: number, axonHotkey: string, verify: (m: string, s: Uint8Array, pk: Uint8Array) => boolean): number {
  const jobs = sampleJobs(axonHotkey, 16);
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < ms) {
    for (const j of jobs) {
      if (!verify(j.message, j.signature, j.publicKey)) throw new Error('ceiling: a signature did not verify');
      count++;
    }
  }
  return count / ((performance.now() - start) / 1000);
}

// --- the load ---------------------------------------------------------------------------------

/** Requests per connection, signed ahead; each connection is one dendrite (its own uuid). */
function signRequests(axonHotkey: string, port: number, total: number, label: string): Buffer[][] {
  const lanes: Buffer[][] = Array.from({ length: CONCURRENCY }, () => []);
  const perLane = Math.ceil(total / CONCURRENCY);
  const base = timeNs();
  const started = performance.now();
  for (let lane = 0; lane < CONCURRENCY; lane++) {
    const uuid = `${label}-${lane}-${process.pid}`;
    for (let k = 0; k < perLane; k++) {
      const req = encodeRequest({
        synapse: 'ProviderCheck',
        fields: {},
        timeoutSec: 60,
        nonce: base + BigInt(k) * 1000n + BigInt(lane),
        dendrite: { hotkey: validatorAddress, uuid, ip: '127.0.0.1' },
        axon: { hotkey: axonHotkey, ip: '127.0.0.1', port },
        sign: (m) => signSr25519(validator, m),
      });
      let head = `POST ${req.path} HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`;
      for (const [k2, v] of Object.entries(req.headers)) head += `${k2}: ${v}\r\n`;
      const body = Buffer.from(req.body, 'utf8');
      head += `content-length: ${body.length}\r\n\r\n`;
      lanes[lane]!.push(Buffer.concat([Buffer.from(head, 'latin1'), body]) as Buffer);
    }
  }
  process.stderr.write(`  signed ${perLane * CONCURRENCY} ${label} requests in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  return lanes;
}

interface LoadResult {
  ok: number;
  errors: Record<string, number>;
  seconds: number;
  latenciesMs: number[];
  clientCpuSec: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = Buffer.from('\r\ncontent-length: ');

/** The Content-Length of the answer whose head ends at `headEnd` (both servers write the name in lowercase); -1 if absent. */
function contentLength(buf: Buffer, headEnd: number): number {
  let at = buf.indexOf(CONTENT_LENGTH);
  if (at < 0 || at > headEnd) {
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(buf.subarray(0, headEnd).toString('latin1'));
    return m ? Number(m[1]) : -1;
  }
  at += CONTENT_LENGTH.length;
  let n = 0;
  for (let c = buf[at]!; c >= 0x30 && c <= 0x39; c = buf[++at]!) n = n * 10 + (c - 0x30);
  return n;
}

/** Sends each lane's requests one after the other on its own keep-alive connection until time or requests run out. */
async function runLoad(port: number, lanes: Buffer[][], seconds: number, record: boolean): Promise<LoadResult> {
  const errors: Record<string, number> = {};
  const latenciesMs: number[] = [];
  let ok = 0;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    lanes.map(
      (requests) =>
        new Promise<void>((resolve, reject) => {
          const socket = net.connect(port, '127.0.0.1');
          socket.setNoDelay(true);
          let next = 0;
          let sentAt = 0;
          let pending: Buffer = Buffer.alloc(0);
          const send = () => {
            if (next >= requests.length || performance.now() >= deadline) {
              socket.end();
              resolve();
              return;
            }
            sentAt = performance.now();
            socket.write(requests[next++]!);
          };
          socket.on('connect', send);
          socket.on('error', reject);
          socket.on('data', (chunk: Buffer) => {
            pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
            for (;;) {
              const headEnd = pending.indexOf(HEAD_END);
              if (headEnd < 0) return;
              const length = contentLength(pending, headEnd);
              if (length < 0) return reject(new Error(`answer without content-length: ${pending.subarray(0, Math.min(headEnd, 200)).toString('latin1')}`));
              if (pending.length < headEnd + 4 + length) return;
              if (record) {
                // "HTTP/1.1 200 …": the status code is bytes 9–11.
                if (pending[9] === 0x32 && pending[10] === 0x30 && pending[11] === 0x30) ok++;
                else {
                  const status = pending.subarray(9, 12).toString('latin1');
                  errors[status] = (errors[status] ?? 0) + 1;
                }
                latenciesMs.push(performance.now() - sentAt);
              }
              pending = pending.subarray(headEnd + 4 + length);
              send();
            }
          });
        }),
    ),
  );
  const cpu = process.cpuUsage(cpu0);
  return { ok, errors, seconds: (performance.now() - started) / 1000, latenciesMs, clientCpuSec: (cpu.user + cpu.system) / 1e6 };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface AxonFigures {
  rps: number;
  /** CPU time of the axon's process per answered request (main thread and workers), µs; null when unknown. */
  cpuUsPerRequest: number | null;
  p50: number;
  p99: number;
  errors: Record<string, number>;
  peakRssMb: number | null;
  requests: number;
  clientCpuPct: number;
}

async function measure(
  port: number,
  axonHotkey: string,
  total: number,
  label: string,
  mark?: () => Promise<void>,
): Promise<AxonFigures & { answered: number }> {
  const warm = signRequests(axonHotkey, port, Math.min(4000, Math.ceil(total / 10)), `${label}-warmup`);
  const lanes = signRequests(axonHotkey, port, total, label);
  await runLoad(port, warm, 30, false);
  await mark?.();
  const r = await runLoad(port, lanes, SECONDS, true);
  const sorted = r.latenciesMs.sort((a, b) => a - b);
  return {
    answered: r.ok + Object.values(r.errors).reduce((a, b) => a + b, 0),
    cpuUsPerRequest: null,
    rps: r.ok / r.seconds,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    errors: r.errors,
    peakRssMb: null,
    requests: r.ok + Object.values(r.errors).reduce((a, b) => a + b, 0),
    clientCpuPct: (100 * r.clientCpuSec) / r.seconds,
  };
}

// --- (b) the Python axon ----------------------------------------------------------------------

function interopPython(): string | null {
  const fromEnv = process.env.HS58_PYTHON;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const local = path.join(ROOT, '.venv-interop', 'bin', 'python');
  return existsSync(local) ? local : null;
}

interface PythonAxon {
  port: number;
  hotkey: string;
  stop(): Promise<number | null>;
}

async function startPythonAxon(python: string): Promise<PythonAxon> {
  const child = spawn(python, [path.join(ROOT, 'test/interop/axon_bench_server.py'), validatorAddress], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const lines = createInterface({ input: child.stdout });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onLine = (line: string) => {
        if (!line.startsWith('@@BENCH ')) return;
        lines.off('line', onLine);
        resolve(JSON.parse(line.slice(8)) as Record<string, unknown>);
      };
      lines.on('line', onLine);
      child.once('exit', (code) => reject(new Error(`python axon exited ${code}: ${stderr}`)));
    });
  const ready = await next();
  return {
    port: ready.port as number,
    hotkey: ready.hotkey as string,
    async stop() {
      const done = next();
      child.stdin.write('stop\n');
      const r = await done.catch(() => ({ max_rss_mb: null }));
      child.kill();
      return (r.max_rss_mb as number | null) ?? null;
    },
  };
}

// --- (c) the TypeScript axon ------------------------------------------------------------------

interface TsAxon {
  port: number;
  /** CPU seconds the axon's process has used so far (main thread and workers). */
  cpu(): Promise<{ sec: number }>;
  stop(): Promise<{ maxRssMb: number | null }>;
}

/** bench/axon-server.ts as one plain-JavaScript file bundled as production bundles hs58, the verify worker beside it. */
async function compileAxonServer(): Promise<string> {
  const { build } = await import('esbuild');
  // Inside the repository so that the bundle's bare imports find node_modules; .cache is ignored by git.
  mkdirSync(path.join(ROOT, 'node_modules', '.cache'), { recursive: true });
  const dir = mkdtempSync(path.join(ROOT, 'node_modules', '.cache', 'hs58-bench-axon-'));
  const outfile = path.join(dir, 'axon-server.mjs');
  // As scripts/build.mjs bundles hs58 (scripts/bundleOptions.mjs).
  const { BUNDLE_OPTIONS } = await import('../scripts/bundleOptions.mjs');
  await build({ ...BUNDLE_OPTIONS, entryPoints: [path.join(ROOT, 'bench/axon-server.ts')], outfile, logLevel: 'error' });
  copyFileSync(path.join(ROOT, 'src/axon/verify-worker.mjs'), path.join(dir, 'verify-worker.mjs'));
  return outfile;
}

async function startTsAxon(minerHotkey: string, threads: number, skipVerify = false): Promise<TsAxon> {
  const compiled = COMPILED ? await compileAxonServer() : null;
  const child: ChildProcess = fork(
    compiled ?? path.join(ROOT, 'bench/axon-server.ts'),
    [JSON.stringify({ minerHotkey, validatorHotkey: validatorAddress, threads, skipVerify })],
    {
      execArgv: compiled ? NODE_FLAGS : ['--import', 'tsx', ...NODE_FLAGS],
      // MALLOC_ARENA_MAX=2 unless set, as entrypoint.sh runs the miner.
      env: { MALLOC_ARENA_MAX: '2', ...process.env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      if (compiled) rmSync(path.dirname(compiled), { recursive: true, force: true });
      resolve();
    }),
  );
  const message = <T>(pred: (m: Record<string, unknown>) => boolean) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (m: Record<string, unknown>) => {
        if (!pred(m)) return;
        child.off('message', onMessage);
        resolve(m as T);
      };
      child.on('message', onMessage);
      child.once('exit', (code) => reject(new Error(`TypeScript axon exited ${code}`)));
    });
  const ready = await message<{ port: number }>((m) => m.ready === true);
  return {
    port: ready.port,
    async cpu() {
      const answer = message<{ cpuSec: number }>((m) => typeof m.cpuSec === 'number' && m.done !== true);
      child.send('cpu');
      return { sec: (await answer).cpuSec };
    },
    async stop() {
      const done = message<{ maxRssMb: number }>((m) => m.done === true);
      child.send('stop');
      const r = await done.catch(() => ({ maxRssMb: null }));
      await exited;
      return r;
    },
  };
}

// --- run --------------------------------------------------------------------------------------

const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
process.stderr.write(`bench:axon on ${CORES} cores (${cpuModel}), Node ${process.version}, concurrency ${CONCURRENCY}, ${SECONDS} s per axon\n`);
const loadAvg = os.loadavg()[0]!;

const python = SKIP_PYTHON ? null : interopPython();
if (!SKIP_PYTHON && python === null)
  process.stderr.write(
    '  no .venv-interop python: the Python axon is skipped (python3 -m venv .venv-interop && .venv-interop/bin/pip install bittensor==10.5.0)\n',
  );
let pyAxon: PythonAxon | null = null;
if (python) {
  process.stderr.write('  starting the Python axon…\n');
  pyAxon = await startPythonAxon(python);
}
const minerHotkey = pyAxon?.hotkey ?? publicKeyToSs58(new Uint8Array(32).fill(7));
ss58ToPublicKey(minerHotkey);

// Rounds interleave the ceiling and the axons, so that a neighbour's load on a shared machine hits
// both alike; the best round of each is reported (the least disturbed one), with every round listed.
const wasmOne = SKIP_CEILING ? NaN : ceilingMainThread(3000, minerHotkey, (m, s, pk) => verifySr25519(m, s, pk));
const jsOne = SKIP_CEILING ? NaN : ceilingMainThread(1500, minerHotkey, (m, s, pk) => jsVerify(new TextEncoder().encode(m), s, pk));
process.stderr.write(`  TypeScript axon (${THREADS} verify threads)…\n`);
const tsAxon = await startTsAxon(minerHotkey, THREADS);
const ceilings: number[] = [];
const tsRounds: AxonFigures[] = [];
const pyRounds: AxonFigures[] = [];
for (let round = 1; round <= ROUNDS; round++) {
  process.stderr.write(`  round ${round}/${ROUNDS}\n`);
  if (!SKIP_CEILING) ceilings.push(await ceilingThreads(CORES, 3000, minerHotkey));
  const cpu0 = await tsAxon.cpu();
  const r = await measure(tsAxon.port, minerHotkey, TS_REQUESTS, `ts${round}`, async () => {
    cpu0.sec = (await tsAxon.cpu()).sec;
  });
  r.cpuUsPerRequest = (((await tsAxon.cpu()).sec - cpu0.sec) * 1e6) / r.answered;
  tsRounds.push(r);
  if (pyAxon) pyRounds.push(await measure(pyAxon.port, minerHotkey, PY_REQUESTS, `py${round}`));
}
const wasmAll = ceilings.length ? Math.max(...ceilings) : NaN;
let overhead: AxonFigures | null = null;
if (OVERHEAD) {
  process.stderr.write('  TypeScript axon without verification (overhead only)…\n');
  const bare = await startTsAxon(minerHotkey, 0, true);
  const cpu0 = await bare.cpu();
  overhead = await measure(bare.port, minerHotkey, TS_REQUESTS, 'bare', async () => {
    cpu0.sec = (await bare.cpu()).sec;
  });
  overhead.cpuUsPerRequest = (((await bare.cpu()).sec - cpu0.sec) * 1e6) / (overhead as AxonFigures & { answered: number }).answered;
  overhead.peakRssMb = (await bare.stop()).maxRssMb;
}
const best = (rounds: AxonFigures[]) => rounds.reduce((a, b) => (b.rps > a.rps ? b : a));
const ts = best(tsRounds);
ts.peakRssMb = (await tsAxon.stop()).maxRssMb;
let py: AxonFigures | null = null;
if (pyAxon) {
  py = best(pyRounds);
  py.peakRssMb = await pyAxon.stop();
}

const fmt = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const errs = (e: Record<string, number>) =>
  Object.keys(e).length === 0
    ? 'none'
    : Object.entries(e)
        .map(([k, v]) => `${v}× ${k}`)
        .join(', ');
const lines = [
  `bench:axon — ${new Date().toISOString().slice(0, 10)}, ${CORES} cores (${cpuModel}), Node ${process.version}, load average before the run ${loadAvg.toFixed(2)}`,
  '',
  '| what | requests/s | p50 ms | p99 ms | peak RSS MB | non-200 |',
  '|---|---|---|---|---|---|',
  `| ceiling: wasm sr25519 verify only, 1 thread | ${fmt(wasmOne)} | | | | |`,
  `| ceiling: wasm sr25519 verify only, ${CORES} threads (best of ${ceilings.length}) | ${fmt(wasmAll)} | | | | |`,
  `| (default @polkadot/util-crypto verify, 1 thread) | ${fmt(jsOne)} | | | | |`,
  `| TypeScript axon, ${THREADS} verify threads, ${COMPILED ? 'compiled JS' : 'tsx'}${NODE_FLAGS.length ? `, ${NODE_FLAGS.join(' ')}` : ''} (best of ${tsRounds.length}) | ${fmt(ts.rps)} | ${fmt(ts.p50, 1)} | ${fmt(ts.p99, 1)} | ${ts.peakRssMb === null ? '?' : fmt(ts.peakRssMb)} | ${errs(ts.errors)} |`,
  overhead === null
    ? null
    : `| (TypeScript axon with verification skipped: the rest of the work; ${fmt(overhead.cpuUsPerRequest ?? NaN)} µs CPU per request) | ${fmt(overhead.rps)} | ${fmt(overhead.p50, 1)} | ${fmt(overhead.p99, 1)} | ${overhead.peakRssMb === null ? '?' : fmt(overhead.peakRssMb)} | ${errs(overhead.errors)} |`,
  py
    ? `| Python bittensor 10.5 axon (best of ${pyRounds.length}) | ${fmt(py.rps)} | ${fmt(py.p50, 1)} | ${fmt(py.p99, 1)} | ${py.peakRssMb === null ? '?' : fmt(py.peakRssMb)} | ${errs(py.errors)} |`
    : '| Python axon | skipped | | | | |',
  '',
  `TypeScript axon = ${fmt((100 * ts.rps) / wasmAll)} % of the ${CORES}-thread ceiling (target ≥ 60 %): ${ts.rps >= 0.6 * wasmAll ? 'PASS' : 'FAIL'}`,
  py ? `TypeScript axon = ${fmt(ts.rps / py.rps, 1)}× the Python axon (target ≥ 3×): ${ts.rps >= 3 * py.rps ? 'PASS' : 'FAIL'}` : 'Python axon skipped',
  `TypeScript axon peak RSS ${ts.peakRssMb === null ? '?' : fmt(ts.peakRssMb)} MB (target < 150 MB): ${ts.peakRssMb !== null && ts.peakRssMb < 150 ? 'PASS' : 'FAIL'}`,
  `TypeScript axon CPU time per request (main thread + verify workers): ${ts.cpuUsPerRequest === null ? '?' : fmt(ts.cpuUsPerRequest)} µs; one wasm verify alone: ${fmt(1e6 / wasmOne)} µs`,
  `client (this process) used ${fmt(ts.clientCpuPct)} % of one core during the TypeScript run, ${py ? fmt(py.clientCpuPct) : '-'} % during the Python run`,
  `rounds (requests/s): ceiling ${ceilings.map((x) => fmt(x)).join(' / ')}; TypeScript ${tsRounds.map((x) => fmt(x.rps)).join(' / ')}; Python ${pyRounds.map((x) => fmt(x.rps)).join(' / ') || '-'}`,
];
process.stdout.write(`${lines.filter((l) => l !== null).join('\n')}\n`);
process.exit(0);
