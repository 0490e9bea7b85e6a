/**
 * `hs58 localnet --epochs 2` as a user runs it: a real process (bin/hs58.js) that starts anvil,
 * Chopsticks with the real runtime, 4 miners, providers, consumers and a validator, prints a
 * table per round whose weights it read back from the chain, and exits 0. While it runs, the
 * validator's /status is polled; the page captured from it is then rendered by headless
 * Chromium (DOM and screenshot checked: the miners table, the EMA chart, the claims window, each
 * probed provider's consensus and each miner's answer, the last weight transaction, the links). The ready time and the process's peak RSS are printed
 * (the speed goal is bench/localnet.ts's). Without the harness's devDependencies, as in a
 * production install, the command says in one line what to install and exits 2.
 *
 * The scenario (localnet/run.ts DEFAULT_LOCALNET): miners' wallets claimed 30, 10, 0 and
 * 5 USDC; the fourth miner runs without a Polygon key (no wallet proof). So on chain:
 * 30 USDC > 10 USDC > 0 USDC with a proof > 0, and the miner without a proof gets nothing.
 */
import { execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { mnemonicToAccount } from 'viem/accounts';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CHART_MAX_SERIES, type statusToJson } from '../../src/validator/statusPage.js';
import { chainSpecPath } from '../support/localChain.js';
import { freePort } from '../support/net.js';
import { countColours, decodePng } from '../support/png.js';
import { missingProgram, REPO_ROOT, which } from '../support/programs.js';

const HS58 = path.join(REPO_ROOT, 'bin', 'hs58.js');
/** The whole run must end within this; it takes about 40 s on an idle 2-core machine. */
const RUN_DEADLINE_MS = 200_000;
const EXPECTED_MINERS = 4;
const PALETTE = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
const run = promisify(execFile);
/** The screenshot's size: the whole page down to the chart and the first rows of the miners table. */
const SHOT = [1000, 1800];

interface Row {
  uid: number;
  hotkey: string;
  claims: string;
  proof: 'yes' | 'no' | '-';
  probe: number | null;
  score: number;
  chainWeight: number;
}
interface Round {
  round: number;
  block: number;
  degraded: string;
  rows: Row[];
}
type StatusJson = ReturnType<typeof statusToJson>;

/** The tables `hs58 localnet` prints (localnet/run.ts renderRound). */
function parseRounds(stdout: string): Round[] {
  const rounds: Round[] = [];
  for (const line of stdout.split('\n')) {
    const head = /^round (\d+) · block (\d+)(.*)$/.exec(line);
    if (head) {
      rounds.push({ round: Number(head[1]), block: Number(head[2]), degraded: head[3]!.trim(), rows: [] });
      continue;
    }
    const row = /^(\d+)\s+(\S+)\s+(\d+\.\d{6})\s+(yes|no|-)\s+(-|\d\.\d{3})\s+(\d+\.\d{6})\s+(\d+)\s*$/.exec(line);
    if (row && rounds.length > 0) {
      rounds.at(-1)!.rows.push({
        uid: Number(row[1]),
        hotkey: row[2]!,
        claims: row[3]!,
        proof: row[4] as Row['proof'],
        probe: row[5] === '-' ? null : Number(row[5]),
        score: Number(row[6]),
        chainWeight: Number(row[7]),
      });
    }
  }
  return rounds;
}

/** VmHWM / VmRSS of a process in MB (Linux), or null. */
async function procMemory(pid: number): Promise<{ hwmMb: number; rssMb: number } | null> {
  const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  const hwm = text && /VmHWM:\s+(\d+) kB/.exec(text);
  const rss = text && /VmRSS:\s+(\d+) kB/.exec(text);
  return hwm && rss ? { hwmMb: Number(hwm[1]) / 1024, rssMb: Number(rss[1]) / 1024 } : null;
}

/** CPU seconds (user + system) a process used so far (Linux), or null. */
async function procCpuSeconds(pid: number): Promise<number | null> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  if (!text) return null;
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15 of stat)
  return ticks / 100; // USER_HZ is 100 on Linux
}

const result = {
  skipReason: null as string | null,
  code: null as number | null,
  signal: null as string | null,
  stdout: '',
  stderr: '',
  runMs: 0,
  /** Spawn to the "ready" line, and what the command itself reports (after module loading). */
  readyWallMs: null as number | null,
  readyReportedS: null as number | null,
  statusUrl: '',
  statusContentType: null as string | null,
  statusHtml: null as string | null,
  statusJson: null as StatusJson | null,
  peakRssMb: null as number | null,
  cpuSeconds: null as number | null,
};
let workDir: string;

beforeAll(async () => {
  const spec = chainSpecPath();
  result.skipReason = missingProgram(() => (existsSync(spec) ? null : `the subtensor chain spec at ${spec} (set SUBTENSOR_CHAIN_SPEC)`));
  if (result.skipReason) return;
  workDir = await mkdtemp(path.join(os.tmpdir(), 'hs58-localnet-test-'));
  const port = await freePort();
  result.statusUrl = `http://127.0.0.1:${port}/status`;
  // A proxy that refuses everything, as on a machine behind a corporate proxy: Chopsticks' global
  // proxy agent must leave the local network's own traffic alone.
  const env: NodeJS.ProcessEnv = { ...process.env, HS58_ENV_FILE: path.join(workDir, 'no.env'), HTTPS_PROXY: 'http://127.0.0.1:9' };
  delete env.LOG_LEVEL; // the command picks Chopsticks' level itself
  const started = Date.now();
  const child = spawn(process.execPath, [HS58, 'localnet', '--epochs', '2', '--status-port', String(port), '--chain-spec', spec], {
    cwd: REPO_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout.on('data', (d: Buffer) => {
    result.stdout += d.toString();
    if (result.readyWallMs === null && /local network ready in/.test(result.stdout)) result.readyWallMs = Date.now() - started;
  });
  child.stderr.on('data', (d: Buffer) => (result.stderr += d.toString()));
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      result.code = code;
      result.signal = signal;
      resolve();
    }),
  );
  const deadline = setTimeout(() => child.kill('SIGKILL'), RUN_DEADLINE_MS);
  let running = true;
  void exited.then(() => (running = false));

  // While it runs: the process's memory and CPU, and the validator's /status once a round is done.
  const poll = async () => {
    while (running) {
      const mem = await procMemory(child.pid!);
      if (mem) result.peakRssMb = Math.max(result.peakRssMb ?? 0, mem.hwmMb);
      const cpu = await procCpuSeconds(child.pid!);
      if (cpu !== null) result.cpuSeconds = cpu;
      if (result.statusHtml === null && result.readyWallMs !== null) {
        try {
          const json = (await (await fetch(`${result.statusUrl}.json`)).json()) as StatusJson;
          if (json.rounds >= 1) {
            const page = await fetch(result.statusUrl, { headers: { accept: 'text/html' } });
            result.statusContentType = page.headers.get('content-type');
            result.statusHtml = await page.text();
            result.statusJson = json;
          }
        } catch {
          // not listening yet, or already closed
        }
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await Promise.all([exited, poll()]);
  clearTimeout(deadline);
  result.runMs = Date.now() - started;
  const ready = /local network ready in ([\d.]+) s/.exec(result.stdout);
  result.readyReportedS = ready ? Number(ready[1]) : null;
  console.info(
    `hs58 localnet --epochs 2: exit ${result.code} after ${(result.runMs / 1000).toFixed(1)} s; ` +
      `ready ${result.readyWallMs === null ? '?' : (result.readyWallMs / 1000).toFixed(1)} s after spawn ` +
      `(${result.readyReportedS ?? '?'} s as reported, without Node start-up and module loading); ` +
      `peak RSS ${result.peakRssMb?.toFixed(0) ?? '?'} MB, CPU ${result.cpuSeconds?.toFixed(1) ?? '?'} s ` +
      `(one process: Chopsticks, 4 miners, providers, validator; anvil is a child of its own)`,
  );
}, RUN_DEADLINE_MS + 20_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

/** What the operator asks the page, in the DOM Chromium built and in the JSON of the same round. */
function operatorSections(dom: string, status: StatusJson): void {
  const minerUids = status.miners.filter((m) => m.answered !== null).map((m) => m.uid);
  expect(minerUids).toHaveLength(EXPECTED_MINERS);
  // Links to the machine-readable views.
  const links = /<p id="links">([\s\S]*?)<\/p>/.exec(dom);
  expect(links, dom.slice(0, 2000)).not.toBeNull();
  expect([...links![1]!.matchAll(/href="([^"]+)"/g)].map((m) => m[1])).toEqual(['status.json', 'metrics', 'health']);
  expect(dom).not.toMatch(/<script/i);

  // The claims window: scanned completely in the first round (a small local chain), no backfill left.
  const claims = status.claims!;
  expect(claims.backfill).toBeNull();
  expect(claims.lastCompleteWindow).not.toBeNull();
  expect(claims.coveredBlocks).toBe(claims.windowBlocks);
  const claimsHtml = /<div id="claims">([\s\S]*?)<\/div>/.exec(dom)![1]!;
  expect(claimsHtml).toContain(`last complete window: blocks <b>${claims.lastCompleteWindow!.from}–${claims.lastCompleteWindow!.to}</b>`);
  expect(claimsHtml).not.toContain('First backfill');

  // Each probed provider: the miners' consensus and every miner's answer.
  const providers = status.lastRound!.providers;
  expect(providers.map((p) => p.id)).toEqual(status.lastRound!.sampledProviders.map((p) => p.id));
  expect(providers.length).toBeGreaterThan(0);
  expect(providers.some((p) => p.consensus !== null)).toBe(true);
  for (const p of providers) {
    expect(p.answers.map((a) => a.uid)).toEqual(minerUids);
    if (p.consensus) expect(p.consensus.voters).toBe(p.answers.filter((a) => a.reachable !== null).length);
    for (const a of p.answers) expect(a.accuracy === null).toBe(p.consensus === null);
  }
  const probes = /<table id="probes">([\s\S]*?)<\/table>/.exec(dom)![1]!;
  const consensusRow = /<tr class="consensus">([\s\S]*?)<\/tr>/.exec(probes)![1]!;
  expect(consensusRow.match(/<td/g)).toHaveLength(providers.length);
  const probeRows = [.../<tbody>([\s\S]*?)<\/tbody>/.exec(probes)![1]!.matchAll(/<tr>\s*<td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
  expect(probeRows).toEqual(minerUids);

  // The last weight transaction: set directly (commit-reveal is off on the local subnet), none pending.
  const tx = status.lastWeightTx!;
  expect(tx).toMatchObject({ kind: 'set', outcome: 'set', roundBlock: status.lastRound!.block });
  expect(tx.txHash).toMatch(/^0x[0-9a-f]{64}$/);
  expect(tx.blockNumber).toBeGreaterThan(status.lastRound!.block - 1);
  const txHtml = /<p id="weight-tx">([\s\S]*?)<\/p>/.exec(dom)![1]!;
  expect(txHtml).toContain(`<b>weights set</b> in block <b title="${tx.blockHash}">${tx.blockNumber}</b>`);
  expect(txHtml).toContain(tx.txHash!);
  expect(status.pendingCommits).toEqual({ commits: [], error: null });
  expect(dom).toContain('No weight commit waiting for its reveal.');
}

describe('hs58 localnet --epochs 2', () => {
  test('exits 0 in bounded time after two rounds whose on-chain weights follow the scenario', (ctx) => {
    if (result.skipReason) return ctx.skip(result.skipReason);
    const tail = `\nstdout:\n${result.stdout.slice(-3000)}\nstderr:\n${result.stderr.slice(-3000)}`;
    expect(result.signal, `killed after ${RUN_DEADLINE_MS} ms${tail}`).toBeNull();
    expect(result.code, tail).toBe(0);
    expect(result.runMs).toBeLessThan(RUN_DEADLINE_MS);
    // It says when it is ready; how fast is a benchmark's business (npm run bench:localnet).
    expect(result.readyReportedS, tail).not.toBeNull();
    expect(result.stdout).toContain(`${EXPECTED_MINERS} miners`);
    expect(result.stdout).toContain(`status ${result.statusUrl}`);

    const rounds = parseRounds(result.stdout);
    expect(
      rounds.map((r) => r.round),
      tail,
    ).toEqual([1, 2]);
    expect(rounds[1]!.block).toBeGreaterThan(rounds[0]!.block);
    for (const round of rounds) {
      const where = `round ${round.round}${tail}`;
      expect(round.degraded, where).toBe('');
      // Subnet owner, validator and the miners: one row per uid.
      expect(
        round.rows.map((r) => r.uid),
        where,
      ).toEqual(Array.from({ length: EXPECTED_MINERS + 2 }, (_, uid) => uid));
      const miners = round.rows.filter((r) => r.probe !== null);
      expect(miners, where).toHaveLength(EXPECTED_MINERS);
      for (const r of round.rows.filter((r) => r.probe === null)) expect(r.chainWeight, where).toBe(0);
      const one = (what: string, pick: (r: Row) => boolean) => {
        const found = miners.filter(pick);
        expect(found, `${what} in ${where}`).toHaveLength(1);
        return found[0]!;
      };
      const thirty = one('the 30 USDC miner', (r) => r.proof === 'yes' && r.claims === '30.000000');
      const ten = one('the 10 USDC miner', (r) => r.proof === 'yes' && r.claims === '10.000000');
      const proofOnly = one('the miner with a proof and no claims', (r) => r.proof === 'yes' && r.claims === '0.000000');
      const noWallet = one('the miner without a wallet', (r) => r.proof === 'no');
      expect(thirty.chainWeight, where).toBe(65535); // max-upscaled
      expect(thirty.chainWeight).toBeGreaterThan(ten.chainWeight);
      expect(ten.chainWeight).toBeGreaterThan(proofOnly.chainWeight);
      expect(proofOnly.chainWeight).toBeGreaterThan(0);
      expect(noWallet.chainWeight).toBe(0);
      // Its 5 USDC of claims are not credited without a proof.
      expect(noWallet.claims).toBe('0.000000');
      expect(thirty.score).toBeGreaterThan(ten.score);
      expect(ten.score).toBeGreaterThan(proofOnly.score);
      expect(noWallet.score).toBe(0);
    }
    // The EMA grows for the miners that earn.
    const byUid = (round: Round, uid: number) => round.rows.find((r) => r.uid === uid)!;
    for (const r of rounds[0]!.rows.filter((r) => r.score > 0)) expect(byUid(rounds[1]!, r.uid).score).toBeGreaterThan(r.score);

    // The miners' Polygon keys went to the miners through their environment; never to the output.
    for (let i = 1; i <= EXPECTED_MINERS; i++) {
      const key = Buffer.from(
        mnemonicToAccount('test test test test test test test test test test test junk', { addressIndex: i }).getHdKey().privateKey!,
      ).toString('hex');
      expect(result.stdout + result.stderr).not.toContain(key);
    }
  });

  test('its /status page, rendered by headless Chromium: claims window, probes, weight transaction, links, the miners table, the EMA chart, a real screenshot', async (ctx) => {
    if (result.skipReason) return ctx.skip(result.skipReason);
    const chromium = which('chromium');
    const missing = missingProgram(() => (chromium ? null : 'chromium on PATH (Debian: apt-get install chromium)'));
    if (missing) return ctx.skip(missing);
    expect(result.statusHtml, `no round seen on ${result.statusUrl} while the network ran`).not.toBeNull();
    expect(result.statusContentType).toMatch(/^text\/html/);
    const status = result.statusJson!;
    const uids = status.miners.map((m) => m.uid);
    expect(uids).toEqual(Array.from({ length: EXPECTED_MINERS + 2 }, (_, uid) => uid));

    // The page agrees with the table the command printed for the same round (weights read from the chain).
    const printed = parseRounds(result.stdout).find((r) => r.round === status.rounds);
    expect(printed).toBeDefined();
    for (const m of status.miners) {
      const row = printed!.rows.find((r) => r.uid === m.uid)!;
      expect({ uid: m.uid, weight: m.weight, claims: m.claimsUsdc }).toEqual({ uid: row.uid, weight: row.chainWeight, claims: row.claims });
    }

    // Chromium renders the page as served (saved to a file: the network is gone by now).
    const page = path.join(workDir, 'status.html');
    await writeFile(page, result.statusHtml!);
    const url = `file://${page}`;
    const flags = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${path.join(workDir, 'chromium')}`,
    ];
    const { stdout: dom } = await run(chromium!, [...flags, '--dump-dom', url], { timeout: 60_000, maxBuffer: 16 << 20 });

    const table = /<table id="miners">([\s\S]*?)<\/table>/.exec(dom);
    expect(table, dom.slice(0, 2000)).not.toBeNull();
    const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(table![1]!)![1]!;
    const rowUids = [...body.matchAll(/<tr>\s*<td>(\d+)<\/td>/g)].map((m) => Number(m[1]));
    expect(rowUids).toEqual(uids);
    expect(body.match(/<tr>/g)).toHaveLength(uids.length);
    const svg = /<svg id="ema-chart"[\s\S]*?<\/svg>/.exec(dom);
    expect(svg).not.toBeNull();
    const lines = [...svg![0].matchAll(/<polyline [^>]*points="([^"]+)"[^>]*data-uid="(\d+)"/g)];
    expect(lines.map((l) => Number(l[2])).sort((a, b) => a - b)).toEqual(uids.slice(0, CHART_MAX_SERIES));
    // One point per round of history in each line.
    for (const l of lines) expect(l[1]!.trim().split(/\s+/)).toHaveLength(status.history.length);

    operatorSections(dom, status);

    const shot = path.join(workDir, 'status.png');
    await run(chromium!, [...flags, `--screenshot=${shot}`, `--window-size=${SHOT[0]},${SHOT[1]}`, url], { timeout: 60_000 });
    const png = decodePng(await readFile(shot));
    expect([png.width, png.height]).toEqual(SHOT);
    // Not blank: mostly background, but with text, rules, and the chart's and legend's colours.
    const colours = new Set<number>();
    let background = 0;
    for (let i = 0; i < png.pixels.length; i += png.channels) {
      const [r, g, b] = [png.pixels[i]!, png.pixels[i + 1]!, png.pixels[i + 2]!];
      colours.add((r << 16) | (g << 8) | b);
      if (r > 245 && g > 245 && b > 245) background += 1;
    }
    const share = background / (png.width * png.height);
    expect(colours.size).toBeGreaterThan(50);
    expect(share).toBeGreaterThan(0.5);
    expect(share).toBeLessThan(0.99);
    const seen = countColours(png, PALETTE.slice(0, Math.min(uids.length, CHART_MAX_SERIES)), 16);
    for (const [colour, n] of seen) expect(n, `pixels of the series colour ${colour}`).toBeGreaterThan(60);
    if (process.env.HS58_KEEP_SCREENSHOT) await writeFile(process.env.HS58_KEEP_SCREENSHOT, await readFile(shot));
  });
});

describe('hs58 localnet without the development packages (a production install)', () => {
  test('one line saying what to install, and exit 2', () => {
    for (const hidden of [['@acala-network/chopsticks', '@foundry-rs/anvil', 'solc'], ['solc']]) {
      const r = spawnSync(process.execPath, ['--import', './test/support/hide-packages.mjs', HS58, 'localnet', '--epochs', '1'], {
        cwd: REPO_ROOT,
        env: { ...process.env, HS58_HIDE_PACKAGES: hidden.join(','), HS58_ENV_FILE: path.join(os.tmpdir(), 'hs58-no.env') },
        encoding: 'utf8',
        timeout: 120_000,
      });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(
        `hs58 localnet: the local network is a development tool; it needs ${hidden.join(', ')} (devDependencies, left out of a production install): run \`npm ci\` in a checkout of the repository.\n`,
      );
    }
  });
});
