/**
 * `npm run bench:validator`: memory and CPU of the validator with a full subnet (256 uids) and a
 * week of DRAIN claims, and of a real miner beside it. Three processes, each measured from
 * /proc (peak RSS = VmHWM, CPU = utime + stime):
 *
 * - peers (bench/validator-memory-peers.ts): Chopsticks with the real runtime and a 256-uid
 *   subnet, a Polygon JSON-RPC with `--claims` ChannelClaimed logs over the 7-day window
 *   (302,400 blocks), a registry of 20 local providers;
 * - the validator (bench/validator-memory-validator.ts): neurons/validator.ts's startValidator,
 *   whose first round backfills the whole window and later rounds scan the new blocks; the 253
 *   synthetic miners are answered in-process with real signed wallet proofs;
 * - `hs58 miner` (bin/hs58.js, the real CLI) on uid 2, queried by the validator over HTTP.
 *
 * By default both daemons run as production runs them: bundled by esbuild (the miner is
 * `npm run build`'s dist/hs58.mjs, the validator harness bundled the same way) with the Node
 * flags of the Docker image.
 *
 * Options: --claims N (default 150000), --rounds N (6), --epoch N (validator round every N
 * blocks, 10), --block-ms N (Chopsticks block interval, 1000), --uids N (256),
 * --validator-node-flags="…" (default "--max-semi-space-size=4 --max-old-space-size=192") and --miner-node-flags="…" (default
 * "--max-semi-space-size=2 --max-old-space-size=96 --v8-pool-size=1"): each daemon's Node flags, by
 * default those entrypoint.sh gives it (and MALLOC_ARENA_MAX=2 unless set, as it does);
 * --miner-args="…" (more `hs58 miner` flags, e.g. "--axon.verify_threads 1");
 * --sources (run both from the TypeScript sources through tsx instead, as `node bin/hs58.js` does).
 * Needs Linux (/proc) and the subtensor chain spec (see localnet/chainSpec.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freeLoopbackPort } from '../localnet/ports.js';
import type { PeersInfo } from './validator-memory-peers.js';
import { bundleFolder, productionBuild } from '../test/support/build.js';

const { values } = parseArgs({
  options: {
    claims: { type: 'string', default: '150000' },
    rounds: { type: 'string', default: '6' },
    epoch: { type: 'string', default: '10' },
    'block-ms': { type: 'string', default: '1000' },
    uids: { type: 'string', default: '256' },
    'validator-node-flags': { type: 'string', default: '--max-semi-space-size=4 --max-old-space-size=192' },
    'miner-node-flags': { type: 'string', default: '--max-semi-space-size=2 --max-old-space-size=96 --v8-pool-size=1' },
    'miner-args': { type: 'string', default: '' },
    sources: { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(values.rounds);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const t0 = performance.now();
const elapsed = () => ((performance.now() - t0) / 1000).toFixed(1);
const log = (s: string) => process.stderr.write(`[${elapsed()} s] ${s}\n`);

interface Measured {
  name: string;
  child: ChildProcess;
  peakMb: number;
  rssMb: number;
  cpuS: number;
  startedAt: number;
  output: string;
}
const measured: Measured[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Measured {
  // MALLOC_ARENA_MAX=2 unless set, as entrypoint.sh runs the daemons.
  const childEnv: NodeJS.ProcessEnv = { MALLOC_ARENA_MAX: '2', ...process.env, HS58_ENV_FILE: path.join(os.tmpdir(), 'hs58-bench-no.env'), ...env };
  delete childEnv.LOG_LEVEL;
  const child = spawn(process.execPath, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const m: Measured = { name, child, peakMb: 0, rssMb: 0, cpuS: 0, startedAt: performance.now(), output: '' };
  const keep = (d: Buffer) => (m.output = (m.output + d.toString()).slice(-20_000));
  child.stderr!.on('data', keep);
  measured.push(m);
  return m;
}

async function sampleProc(m: Measured): Promise<void> {
  const pid = m.child.pid;
  if (pid === undefined || m.child.exitCode !== null) return;
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  const hwm = status && /VmHWM:\s+(\d+) kB/.exec(status);
  const rss = status && /VmRSS:\s+(\d+) kB/.exec(status);
  if (hwm) m.peakMb = Math.max(m.peakMb, Number(hwm[1]) / 1024);
  if (rss) m.rssMb = Number(rss[1]) / 1024;
  if (stat) {
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    m.cpuS = (Number(f[11]) + Number(f[12])) / 100;
  }
}
let sampling = true;
const sampler = (async () => {
  while (sampling) {
    await Promise.all(measured.map(sampleProc));
    await new Promise((r) => setTimeout(r, 250));
  }
})();

function lines(child: ChildProcess, onLine: (line: string) => void) {
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

function exited(m: Measured): Promise<number | null> {
  if (m.child.exitCode !== null) return Promise.resolve(m.child.exitCode);
  return new Promise((resolve) => m.child.once('exit', (code) => resolve(code)));
}

async function stop(m: Measured) {
  if (m.child.exitCode !== null || m.child.signalCode !== null) return;
  m.child.kill('SIGTERM');
  const t = setTimeout(() => m.child.kill('SIGKILL'), 15_000);
  await exited(m);
  clearTimeout(t);
}

/** The validator harness bundled by esbuild as scripts/build.mjs bundles hs58 (scripts/bundleOptions.mjs). */
async function compileValidator(): Promise<string> {
  const { build } = await import('esbuild');
  const { BUNDLE_OPTIONS } = await import('../scripts/bundleOptions.mjs');
  const { dir, remove } = await bundleFolder('hs58-bench-validator-');
  cleanups.push(remove);
  const outfile = path.join(dir, 'validator.mjs');
  await build({ ...BUNDLE_OPTIONS, entryPoints: [path.join(ROOT, 'bench/validator-memory-validator.ts')], outfile, logLevel: 'error' });
  return outfile;
}

/** `npm run build` into a folder of its own: the production `hs58`. */
async function buildHs58(): Promise<string> {
  const { entry, remove } = await productionBuild();
  cleanups.push(remove);
  return entry;
}
const cleanups: (() => Promise<void>)[] = [];

const work = await mkdtemp(path.join(os.tmpdir(), 'hs58-bench-validator-memory-'));
let failed = false;
try {
  // 1. The world.
  log(`starting peers: Chopsticks with ${values.uids} uids, Polygon RPC with ${values.claims} claims, registry`);
  const peersProc = start('peers (Chopsticks, Polygon RPC, providers)', [
    '--import',
    'tsx',
    path.join(ROOT, 'bench/validator-memory-peers.ts'),
    '--claims',
    values.claims!,
    '--uids',
    values.uids!,
    '--block-ms',
    values['block-ms']!,
  ]);
  const peers = await new Promise<PeersInfo>((resolve, reject) => {
    lines(peersProc.child, (line) => {
      if (line.startsWith('{')) resolve(JSON.parse(line) as PeersInfo);
    });
    peersProc.child.once('exit', (code) => reject(new Error(`peers exited with ${code}:\n${peersProc.output}`)));
  });
  log(`peers ready in ${peers.setupSeconds.toFixed(1)} s: netuid ${peers.netuid}, ${peers.uids} uids, ${peers.claims.inWindowAtStart} claims in the window`);

  // 2. The real miner, on uid 2.
  const minerPort = await freeLoopbackPort();
  const minerOps = await freeLoopbackPort();
  const compiled = !values.sources;
  const flags = (v: string | undefined) => (v ?? '').split(/\s+/).filter(Boolean);
  const minerFlags = flags(values['miner-node-flags']);
  const validatorFlags = flags(values['validator-node-flags']);
  const hs58 = compiled ? await buildHs58() : path.join(ROOT, 'bin/hs58.js');
  const miner = start(
    `hs58 miner (uid 2${compiled ? '' : ', sources'})`,
    [
      ...minerFlags,
      hs58,
      'miner',
      '--netuid',
      String(peers.netuid),
      '--subtensor.chain_endpoint',
      peers.subtensor,
      '--wallet.path',
      peers.walletPath,
      '--wallet.name',
      peers.walletName,
      '--wallet.hotkey',
      peers.minerHotkey,
      '--axon.ip',
      '127.0.0.1',
      '--axon.port',
      String(minerPort),
      '--axon.external_ip',
      '10.0.0.2',
      '--axon.external_port',
      String(minerPort),
      '--metrics.host',
      '127.0.0.1',
      '--metrics.port',
      String(minerOps),
      '--marketplace.register',
      'false',
      '--probe.allow',
      '127.0.0.1',
      '--probe.timeout_ms',
      '3000',
      ...flags(values['miner-args']),
    ],
    { POLYGON_PRIVATE_KEY: peers.minerPolygonKey, POLYGON_WALLET: peers.minerPolygonWallet },
  );
  miner.child.stdout!.on('data', (d: Buffer) => (miner.output = (miner.output + d.toString()).slice(-20_000)));
  const minerStart = performance.now();
  for (;;) {
    if (miner.child.exitCode !== null) throw new Error(`hs58 miner exited ${miner.child.exitCode}:\n${miner.output}`);
    const h = await fetch(`http://127.0.0.1:${minerOps}/health`).catch(() => null);
    if (h?.status === 200 && ((await h.json()) as { parts: { serving?: { ok: boolean } } }).parts.serving?.ok) break;
    if (performance.now() - minerStart > 90_000) throw new Error(`hs58 miner not serving after 90 s:\n${miner.output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  log(`hs58 miner serving in ${((performance.now() - minerStart) / 1000).toFixed(1)} s`);

  // 3. The validator.
  const statusPort = await freeLoopbackPort();
  const config = path.join(work, 'peers.json');
  await writeFile(config, JSON.stringify({ ...peers, minerPort, rounds: ROUNDS, epochLength: Number(values.epoch), statusPort }));
  const entry = compiled ? await compileValidator() : path.join(ROOT, 'bench/validator-memory-validator.ts');
  const validator = start(`validator${compiled ? '' : ' (sources)'}`, [...validatorFlags, ...(compiled ? [] : ['--import', 'tsx']), entry, config]);
  const rounds: Record<string, unknown>[] = [];
  let final: Record<string, unknown> | null = null;
  let statusBytes = 0;
  lines(validator.child, (line) => {
    if (!line.startsWith('{')) return;
    const j = JSON.parse(line) as Record<string, unknown>;
    if (j.done) {
      final = j;
      return;
    }
    rounds.push(j);
    log(
      `round ${j.round}: block ${j.block}, ${j.ms} ms, ok ${j.ok}${(j.failed as string[]).length ? ` (${(j.failed as string[]).join('; ')})` : ''}, ` +
        `${j.answered} answered, ${j.proven} proven, ${j.credited} credited with claims, ${j.weights} weights ${j.submitted ?? 'not submitted'}, real miner ${JSON.stringify(j.realMiner)}; RSS ${j.rssMb} MB, heap ${j.heapUsedMb} MB`,
    );
    // What a person or a scraper asks for after a round: rendered by the validator.
    void Promise.all([
      fetch(`http://127.0.0.1:${statusPort}/status`).then((r) => r.text()),
      fetch(`http://127.0.0.1:${statusPort}/status.json`).then((r) => r.text()),
      fetch(`http://127.0.0.1:${statusPort}/metrics`).then((r) => r.text()),
    ]).then(
      ([html]) => (statusBytes = html.length),
      () => undefined,
    );
  });
  const code = await exited(validator);
  await Promise.all(measured.map(sampleProc));
  const minerMemory = await minerMemoryBreakdown(minerOps);
  if (code !== 0 || final === null) throw new Error(`validator exited ${code}:\n${validator.output}`);
  const f = final as Record<string, number | null>;
  const wall = (m: Measured) => (performance.now() - m.startedAt) / 1000;
  const okRounds = rounds.filter((r) => r.ok).length;
  const first = rounds[0] as { ms: number } | undefined;
  const later = rounds.slice(1).map((r) => r.ms as number);

  process.stdout.write(
    [
      '',
      `${peers.uids} uids, ${peers.claims.inWindowAtStart} claims in the 7-day window (${peers.claims.total} generated), ${rounds.length} rounds (${okRounds} ok), ` +
        `epoch ${values.epoch} blocks, Chopsticks block every ${values['block-ms']} ms; daemons ${compiled ? 'bundled (production build)' : 'from the sources (tsx)'}, Node flags: validator "${validatorFlags.join(' ')}", miner "${minerFlags.join(' ')}"`,
      `validator: first round (backfill of ${peers.claims.windowBlocks} blocks) ${first ? (first.ms / 1000).toFixed(1) : '?'} s, later rounds ${later.length ? `${Math.min(...later)}–${Math.max(...later)} ms` : '-'}; ` +
        `claims database ${f.claimsFileMb} MB; /status page ${Math.round(statusBytes / 1024)} KB`,
      `validator (in-process): maxRSS ${f.maxRssMb} MB, peak V8 heap used ${f.peakHeapUsedMb} MB (total ${f.peakHeapTotalMb} MB), peak external+arrayBuffers ${f.peakExternalMb} MB, CPU ${(Number(f.cpuUserS) + Number(f.cpuSystemS)).toFixed(1)} s`,
      `miner (its /metrics at the end): ${minerMemory}`,
      '',
      '| process | peak RSS MB | RSS at end MB | CPU s | wall s | mean CPU % of one core |',
      '|---|---|---|---|---|---|',
      ...measured.map(
        (m) =>
          `| ${m.name} | ${m.peakMb.toFixed(0)} | ${m.rssMb.toFixed(0)} | ${m.cpuS.toFixed(1)} | ${wall(m).toFixed(0)} | ${((100 * m.cpuS) / wall(m)).toFixed(0)} |`,
      ),
      '',
    ].join('\n'),
  );
  const peak = measured.find((m) => m.name.startsWith('validator'))!.peakMb;
  const minerPeak = miner.peakMb;
  process.stdout.write(`validator peak RSS ${peak.toFixed(0)} MB: ${peak < 300 ? 'under' : 'OVER'} the 300 MB target\n`);
  process.stdout.write(`miner peak RSS ${minerPeak.toFixed(0)} MB: ${minerPeak < 150 ? 'under' : 'OVER'} the 150 MB target\n`);
  if (peak >= 300 || minerPeak >= 150) process.exitCode = 1;
} catch (err) {
  failed = true;
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
} finally {
  sampling = false;
  await sampler;
  for (const m of [...measured].reverse()) await stop(m);
  await rm(work, { recursive: true, force: true });
  for (const c of cleanups) await c();
  if (failed) process.exitCode = 1;
}

/** Where the miner's memory sits at the end, from the default process metrics it exports. */
async function minerMemoryBreakdown(opsPort: number): Promise<string> {
  const text = await fetch(`http://127.0.0.1:${opsPort}/metrics`)
    .then((r) => r.text())
    .catch(() => '');
  const mb = (name: string) => {
    const m = new RegExp(`^${name} ([0-9.e+]+)$`, 'm').exec(text);
    return m ? `${(Number(m[1]) / 1048576).toFixed(0)} MB` : '?';
  };
  return (
    `RSS ${mb('process_resident_memory_bytes')}, V8 heap used ${mb('nodejs_heap_size_used_bytes')} of ${mb('nodejs_heap_size_total_bytes')}, ` +
    `external ${mb('nodejs_external_memory_bytes')}; V8 spaces used: ` +
    [...text.matchAll(/^nodejs_heap_space_size_used_bytes\{space="(\w+)"\} ([0-9.e+]+)$/gm)]
      .filter((m) => Number(m[2]) >= 1048576)
      .map((m) => `${m[1]} ${(Number(m[2]) / 1048576).toFixed(0)} MB`)
      .join(', ')
  );
}
