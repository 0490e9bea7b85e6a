/**
 * `npm run bench:localnet`: how soon `hs58 localnet` is ready, run as a user runs it (bin/hs58.js,
 * a process of its own): from spawn to its "local network ready" line, and the time it reports
 * itself (from the command's start, without Node's start-up and module loading), over `--runs`
 * runs of `hs58 localnet --epochs 1`. Target: ready within 60 s on a 2-core machine; exit status 1
 * when the median misses it. test/e2e/localnet.test.ts checks what the network does, not how fast.
 *
 * Options: --runs N (default 3), --miners K (4), --chain-spec FILE (default: as the command finds it).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    miners: { type: 'string', default: '4' },
    'chain-spec': { type: 'string' },
  },
});
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const TARGET_S = 60;
/** A run that is not over by then is killed and counted as missing the target. */
const RUN_DEADLINE_MS = 300_000;

interface Run {
  code: number | null;
  /** Spawn to the "ready" line, in seconds; null: never printed. */
  readyWallS: number | null;
  /** What the command printed ("local network ready in X s"). */
  readyReportedS: number | null;
  /** Spawn to exit (one validator round), in seconds. */
  totalS: number;
}

function runOnce(): Promise<Run> {
  const argv = [path.join(ROOT, 'bin/hs58.js'), 'localnet', '--epochs', '1', '--status-port', '0', '--miners', values.miners];
  if (values['chain-spec']) argv.push('--chain-spec', values['chain-spec']);
  const started = performance.now();
  const child = spawn(process.execPath, argv, {
    cwd: ROOT,
    env: { ...process.env, HS58_ENV_FILE: path.join(os.tmpdir(), 'hs58-bench-no.env') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let readyWallS: number | null = null;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (readyWallS === null && stdout.includes('local network ready in')) readyWallS = (performance.now() - started) / 1000;
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const deadline = setTimeout(() => child.kill('SIGKILL'), RUN_DEADLINE_MS);
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      clearTimeout(deadline);
      if (code !== 0) process.stderr.write(`run failed (exit ${code}):\n${stderr.slice(-2000)}\n`);
      const reported = /local network ready in ([\d.]+) s/.exec(stdout);
      resolve({ code, readyWallS, readyReportedS: reported ? Number(reported[1]) : null, totalS: (performance.now() - started) / 1000 });
    }),
  );
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const fmt = (s: number | null) => (s === null ? '—' : `${s.toFixed(1)} s`);

const runs: Run[] = [];
for (let i = 0; i < Number(values.runs); i++) {
  const load = os.loadavg()[0]!.toFixed(2);
  const r = await runOnce();
  runs.push(r);
  process.stdout.write(
    `run ${i + 1}: exit ${r.code}, ready ${fmt(r.readyWallS)} after spawn (${fmt(r.readyReportedS)} reported), one round done after ${fmt(r.totalS)}; load average before ${load}\n`,
  );
}
const ready = runs.map((r) => (r.code === 0 && r.readyWallS !== null ? r.readyWallS : Number.POSITIVE_INFINITY));
const reported = runs.flatMap((r) => (r.readyReportedS === null ? [] : [r.readyReportedS]));
const m = median(ready);
process.stdout.write(
  `\nhs58 localnet, ${values.miners} miners, ${os.cpus().length} cores: ready after spawn median ${fmt(Number.isFinite(m) ? m : null)} ` +
    `(range ${fmt(Math.min(...ready))}–${fmt(Math.max(...ready))}), as reported median ${fmt(reported.length ? median(reported) : null)}; target < ${TARGET_S} s: ${m < TARGET_S ? 'met' : 'MISSED'}\n`,
);
process.exitCode = m < TARGET_S ? 0 : 1;
