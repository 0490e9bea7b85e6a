/**
 * entrypoint.sh, run for real with /bin/sh: the real `hs58 wallet import` writes the wallet
 * files; only the daemon launch is replaced (HS58_BIN) by a script that records its arguments
 * and exits as told, and the backoff sleep (HS58_SLEEP) by one that records the seconds asked.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../support/programs.js';
import { tempDir } from '../support/wallet-fixtures.js';

const ENTRYPOINT = path.join(REPO_ROOT, 'entrypoint.sh');
const HS58 = path.join(REPO_ROOT, 'bin', 'hs58.js');
const run = promisify(execFile);

/**
 * The fake daemon. FAKE_PLAN is one word per run: a number exits with it at once, `slowN`
 * exits with N after FAKE_SLOW_SECONDS, `hang` runs until SIGTERM (and records it).
 */
const FAKE_DAEMON = `#!/bin/sh
dir=$FAKE_DIR
n=$(( $(cat "$dir/count" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$dir/count"
printf '%s\\n' "$@" > "$dir/run-$n.args"
printf '%s\\n' "BT_HOTKEY_B64=\${BT_HOTKEY_B64-unset}" "BT_COLDKEY_B64=\${BT_COLDKEY_B64-unset}" "BT_COLDKEYPUB_B64=\${BT_COLDKEYPUB_B64-unset}" "NODE_OPTIONS=\${NODE_OPTIONS-unset}" "MALLOC_ARENA_MAX=\${MALLOC_ARENA_MAX-unset}" > "$dir/run-$n.env"
step=$(echo "$FAKE_PLAN" | cut -d' ' -f"$n")
case $step in
  hang)
    trap 'echo TERM > "$dir/run-$n.signal"; exit 0' TERM
    echo "$$" > "$dir/ready"
    while :; do sleep 0.05; done ;;
  slow*) sleep "$FAKE_SLOW_SECONDS"; exit "\${step#slow}" ;;
  '') exit 0 ;;
  *) exit "$step" ;;
esac
`;

const FAKE_SLEEP = `#!/bin/sh
echo "$$" > "$FAKE_DIR/sleep.pid"
echo "$1" >> "$FAKE_DIR/sleeps"
exec sleep "\${FAKE_SLEEP_REAL:-0.01}"
`;

let root: string;
let cleanup: () => Promise<void>;
let fakeDaemon: string;
let fakeSleep: string;
/** The source wallet, as the B64 variables and its addresses. */
const wallet = { hotkeyB64: '', coldkeypubB64: '', coldkeyB64: '', hotkeyAddress: '', coldkeyAddress: '', files: {} as Record<string, Buffer> };
let caseNo = 0;
/** BT_WALLET_PATH holding wallet hs58/validator: the restart tests use it to skip the import (and its second of Node start-up). */
let mountedWallets: string;

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('hs58-entrypoint-'));
  fakeDaemon = path.join(root, 'fake-hs58');
  fakeSleep = path.join(root, 'fake-sleep');
  await writeFile(fakeDaemon, FAKE_DAEMON, { mode: 0o755 });
  await writeFile(fakeSleep, FAKE_SLEEP, { mode: 0o755 });
  // Made under the entrypoint's default names so that it also serves as a mounted wallet folder.
  mountedWallets = path.join(root, 'mounted-wallets');
  const src = mountedWallets;
  const { stdout } = await run(process.execPath, [HS58, 'wallet', 'create', '--wallet.path', src, '--wallet.name', 'hs58', '--wallet.hotkey', 'validator'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: root },
  });
  wallet.hotkeyAddress = /hotkey\s+(\w+)/.exec(stdout)![1]!;
  wallet.coldkeyAddress = /coldkey\s+(\w+)/.exec(stdout)![1]!;
  wallet.files.hotkey = await readFile(path.join(src, 'hs58', 'hotkeys', 'validator'));
  wallet.files.coldkeypub = await readFile(path.join(src, 'hs58', 'coldkeypub.txt'));
  wallet.files.coldkey = await readFile(path.join(src, 'hs58', 'coldkey'));
  wallet.hotkeyB64 = wallet.files.hotkey.toString('base64');
  wallet.coldkeypubB64 = wallet.files.coldkeypub.toString('base64');
  wallet.coldkeyB64 = wallet.files.coldkey.toString('base64');
}, 60_000);
afterAll(() => cleanup());

/** A fresh HOME and record folder for one run of the entrypoint. */
async function freshCase() {
  const dir = path.join(root, `case-${++caseNo}`);
  const home = path.join(dir, 'home');
  const record = path.join(dir, 'record');
  await mkdir(home, { recursive: true });
  await mkdir(record, { recursive: true });
  return { dir, home, record };
}

function baseEnv(c: { home: string; record: string }, extra: Record<string, string>): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: c.home,
    HS58_BIN: fakeDaemon,
    HS58_SLEEP: fakeSleep,
    FAKE_DIR: c.record,
    FAKE_PLAN: '0',
    ...extra,
  };
}

interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts entrypoint.sh; `done` resolves when it exits (never rejects on a non-zero status). */
function start(env: Record<string, string>, args: string[] = [], cwd = root) {
  const child = spawn('/bin/sh', [ENTRYPOINT, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Finished>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** No wallet variables: the entrypoint uses the wallet already in BT_WALLET_PATH. */
const mountedEnv = (c: { home: string; record: string }, extra: Record<string, string>) => baseEnv(c, { BT_WALLET_PATH: mountedWallets, ...extra });

const runEntrypoint = (env: Record<string, string>, args: string[] = []) => start(env, args).done;

const mode = async (p: string) => (await stat(p)).mode & 0o777;
const lines = async (file: string) => (await readFile(file, 'utf8')).trim().split('\n');
const runsIn = async (record: string) => (existsSync(path.join(record, 'count')) ? Number((await readFile(path.join(record, 'count'), 'utf8')).trim()) : 0);

/**
 * The entrypoint's exit, or a failure after `ms`: then it and the process whose pid is in
 * `pidFile` are killed, so that a broken signal path fails the test instead of hanging it.
 */
async function exitWithin(started: ReturnType<typeof start>, ms: number, pidFile: string): Promise<Finished> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      started.child.kill('SIGKILL');
      void readFile(pidFile, 'utf8')
        .then((pid) => process.kill(Number(pid.trim()), 'SIGKILL'))
        .catch(() => undefined);
      reject(new Error(`entrypoint.sh still running ${ms} ms after the signal`));
    }, ms);
  });
  try {
    return await Promise.race([started.done, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitForFile(file: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error(`${file} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('entrypoint.sh', () => {
  test('validator: the real import writes 0600 files in 0700 dirs, then the daemon starts with the validator flags and no secrets in its env', async () => {
    const c = await freshCase();
    const res = await runEntrypoint(
      baseEnv(c, {
        WALLET_NAME: 'mywallet',
        HOTKEY_NAME: 'myhot',
        BT_HOTKEY_B64: wallet.hotkeyB64,
        BT_COLDKEYPUB_B64: wallet.coldkeypubB64,
        BT_COLDKEY_B64: wallet.coldkeyB64,
      }),
      ['--neuron.dry_run'],
    );
    expect(res.stderr).not.toContain(wallet.hotkeyB64);
    expect(res.code).toBe(0);
    // the real `hs58 wallet import` ran: it prints the addresses it decoded
    expect(res.stdout).toContain(`hotkey  ${wallet.hotkeyAddress}`);
    expect(res.stdout).toContain(`coldkey ${wallet.coldkeyAddress}`);

    const dir = path.join(c.home, '.bittensor', 'wallets', 'mywallet');
    const files = {
      hotkey: path.join(dir, 'hotkeys', 'myhot'),
      hotkeyPub: path.join(dir, 'hotkeys', 'myhotpub.txt'),
      coldkeypubTxt: path.join(dir, 'coldkeypub.txt'),
      coldkeypub: path.join(dir, 'coldkeypub'),
      coldkey: path.join(dir, 'coldkey'),
    };
    for (const file of Object.values(files)) expect(await mode(file), file).toBe(0o600);
    for (const d of [dir, path.join(dir, 'hotkeys')]) expect(await mode(d), d).toBe(0o700);
    expect(await readFile(files.hotkey)).toEqual(wallet.files.hotkey);
    expect(await readFile(files.coldkeypubTxt)).toEqual(wallet.files.coldkeypub);
    expect(await readFile(files.coldkeypub)).toEqual(wallet.files.coldkeypub);
    expect(await readFile(files.coldkey)).toEqual(wallet.files.coldkey);
    expect(await readFile(files.hotkeyPub, 'utf8')).toContain(wallet.hotkeyAddress);

    expect(await runsIn(c.record)).toBe(1); // exit 0 stops: no restart
    expect(await lines(path.join(c.record, 'run-1.args'))).toEqual([
      'validator',
      '--netuid',
      '58',
      '--wallet.name',
      'mywallet',
      '--wallet.hotkey',
      'myhot',
      '--neuron.axon_off',
      '--neuron.dry_run',
    ]);
    expect(await lines(path.join(c.record, 'run-1.env'))).toEqual([
      'BT_HOTKEY_B64=unset',
      'BT_COLDKEY_B64=unset',
      'BT_COLDKEYPUB_B64=unset',
      // Each daemon's V8 sizes (bench/README.md: daemon memory): the validator's young generation.
      'NODE_OPTIONS=--max-semi-space-size=4 --max-old-space-size=192',
      'MALLOC_ARENA_MAX=2',
    ]);
    expect(existsSync(path.join(c.record, 'sleeps'))).toBe(false);
  });

  test('miner: default wallet names, netuid/axon variables become flags; a mounted wallet is used as is', async () => {
    const c = await freshCase();
    const proxied = await runEntrypoint(
      baseEnv(c, {
        NEURON_TYPE: 'miner',
        NETUID: '7',
        AXON_PORT: '9001',
        AXON_EXTERNAL_IP: 'abc.proxy.rlwy.net',
        AXON_EXTERNAL_PORT: '12345',
        BT_HOTKEY_B64: wallet.hotkeyB64,
        BT_COLDKEYPUB_B64: wallet.coldkeypubB64,
      }),
    );
    expect(proxied.code).toBe(0);
    const dir = path.join(c.home, '.bittensor', 'wallets', 'hs58');
    expect(await readFile(path.join(dir, 'hotkeys', 'validator'))).toEqual(wallet.files.hotkey);
    expect(existsSync(path.join(dir, 'coldkey'))).toBe(false); // BT_COLDKEY_B64 was not given
    expect(await lines(path.join(c.record, 'run-1.env'))).toContain('NODE_OPTIONS=--max-semi-space-size=2 --max-old-space-size=96 --v8-pool-size=1');
    expect(await lines(path.join(c.record, 'run-1.args'))).toEqual([
      'miner',
      '--netuid',
      '7',
      '--wallet.name',
      'hs58',
      '--wallet.hotkey',
      'validator',
      '--axon.port',
      '9001',
      '--axon.external_port',
      '12345',
      '--axon.external_ip',
      'abc.proxy.rlwy.net',
    ]);

    // Same HOME, no wallet variables: the files written above are used; the external port
    // defaults to AXON_PORT (itself 8091 by default) and no external IP flag is passed.
    // An operator's NODE_OPTIONS is kept as given.
    const plain = await runEntrypoint(baseEnv(c, { NEURON_TYPE: 'miner', NODE_OPTIONS: '--max-old-space-size=200' }));
    expect(plain.code).toBe(0);
    expect(await lines(path.join(c.record, 'run-2.env'))).toContain('NODE_OPTIONS=--max-old-space-size=200');
    expect(plain.stderr).toMatch(/using the wallet files in .*hs58/);
    expect(await lines(path.join(c.record, 'run-2.args'))).toEqual([
      'miner',
      '--netuid',
      '58',
      '--wallet.name',
      'hs58',
      '--wallet.hotkey',
      'validator',
      '--axon.port',
      '8091',
      '--axon.external_port',
      '8091',
    ]);

    // On Railway without AXON_EXTERNAL_IP: the TCP proxy Railway describes is served; an explicit AXON_EXTERNAL_IP wins.
    const railway = {
      NEURON_TYPE: 'miner',
      RAILWAY_TCP_PROXY_DOMAIN: 'shuttle.proxy.rlwy.net',
      RAILWAY_TCP_PROXY_PORT: '41234',
      RAILWAY_TCP_APPLICATION_PORT: '9002',
    };
    expect((await runEntrypoint(baseEnv(c, railway))).code).toBe(0);
    expect((await lines(path.join(c.record, 'run-3.args'))).slice(7)).toEqual([
      '--axon.port',
      '9002',
      '--axon.external_port',
      '41234',
      '--axon.external_ip',
      'shuttle.proxy.rlwy.net',
    ]);
    const explicit = await runEntrypoint(baseEnv(c, { ...railway, AXON_PORT: '8091', AXON_EXTERNAL_IP: '203.0.113.7' }));
    expect(explicit.stderr).toContain('TCP proxy forwards to port 9002 but the axon listens on 8091');
    expect((await lines(path.join(c.record, 'run-4.args'))).slice(7)).toEqual([
      '--axon.port',
      '8091',
      '--axon.external_port',
      '8091',
      '--axon.external_ip',
      '203.0.113.7',
    ]);
  });

  test('runs dist/hs58.mjs when built, the sources when the build is older than them, and says which', async () => {
    // An app folder of its own: this entrypoint, a recording stand-in for each form of hs58.
    const app = path.join(root, 'app-forms');
    for (const d of ['dist', 'bin', 'src', 'neurons']) await mkdir(path.join(app, d), { recursive: true });
    await copyFile(ENTRYPOINT, path.join(app, 'entrypoint.sh'));
    const recorder = (form: string) => `import { appendFileSync } from 'node:fs';\nappendFileSync(process.env.FAKE_DIR + '/forms', '${form}\\n');\n`;
    await writeFile(path.join(app, 'dist', 'hs58.mjs'), recorder('dist'));
    await writeFile(path.join(app, 'bin', 'hs58.js'), recorder('sources'));
    await writeFile(path.join(app, 'src', 'a.ts'), '');
    const c = await freshCase();
    const env = { ...mountedEnv(c, {}), HS58_BIN: '' };
    // Not `start`: that runs the repository's entrypoint, this case needs its own copy.
    const startApp = (e: Record<string, string>) => {
      const child = spawn('/bin/sh', [path.join(app, 'entrypoint.sh')], { env: e, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise<{ code: number | null; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stderr })));
    };
    const old = new Date(Date.now() - 60_000);
    const now = new Date();

    await utimes(path.join(app, 'src', 'a.ts'), old, old);
    await utimes(path.join(app, 'dist', 'hs58.mjs'), now, now);
    const built = await startApp(env);
    expect(built.code).toBe(0);
    expect(built.stderr).toContain(`(node ${path.join(app, 'dist', 'hs58.mjs')})`);

    await utimes(path.join(app, 'dist', 'hs58.mjs'), old, old);
    await utimes(path.join(app, 'src', 'a.ts'), now, now);
    const stale = await startApp(env);
    expect(stale.code).toBe(0);
    expect(stale.stderr).toContain('dist/hs58.mjs is older than the sources: running the sources');
    expect(stale.stderr).toContain(`(node ${path.join(app, 'bin', 'hs58.js')})`);
    expect(await lines(path.join(c.record, 'forms'))).toEqual(['dist', 'sources']);
  });

  test('missing wallet variables fail fast, naming each one and `hs58 wallet encode`', async () => {
    const c = await freshCase();
    const none = await runEntrypoint(baseEnv(c, {}));
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('BT_HOTKEY_B64 is not set');
    expect(none.stderr).toContain('BT_COLDKEYPUB_B64 is not set');
    expect(none.stderr).toContain('hs58 wallet encode --wallet.name hs58 --wallet.hotkey validator');

    const half = await runEntrypoint(baseEnv(c, { BT_HOTKEY_B64: wallet.hotkeyB64, WALLET_NAME: 'w1', HOTKEY_NAME: 'h1' }));
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('BT_COLDKEYPUB_B64 is not set');
    expect(half.stderr).not.toContain('BT_HOTKEY_B64 is not set');
    expect(half.stderr).toContain('hs58 wallet encode --wallet.name w1 --wallet.hotkey h1');
    expect(half.stderr).not.toContain(wallet.hotkeyB64);

    // Fast: no daemon started, no backoff asked for (the Python container slept forever).
    expect(await runsIn(c.record)).toBe(0);
    expect(existsSync(path.join(c.record, 'sleeps'))).toBe(false);
    expect(existsSync(path.join(c.home, '.bittensor'))).toBe(false);
  });

  test('a bad NEURON_TYPE or a bad base64 value stops before the daemon', async () => {
    const c = await freshCase();
    const bad = await runEntrypoint(baseEnv(c, { NEURON_TYPE: 'minr', BT_HOTKEY_B64: wallet.hotkeyB64, BT_COLDKEYPUB_B64: wallet.coldkeypubB64 }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/NEURON_TYPE="minr" is not valid; set it to miner or validator/);

    const junk = await runEntrypoint(baseEnv(c, { BT_HOTKEY_B64: 'not base64!', BT_COLDKEYPUB_B64: wallet.coldkeypubB64 }));
    expect(junk.code).not.toBe(0);
    expect(junk.stderr).toMatch(/BT_HOTKEY_B64 is not valid base64/);
    expect(junk.stderr).toMatch(/writing the wallet files failed/);
    expect(await runsIn(c.record)).toBe(0);
    expect(existsSync(path.join(c.record, 'sleeps'))).toBe(false);
  });

  test('a failing daemon is restarted after 5, 10, 20, 40, 80, 120, 120 s; exit 0 then stops', async () => {
    const c = await freshCase();
    const res = await runEntrypoint(mountedEnv(c, { FAKE_PLAN: '1 3 1 1 1 1 1 0' }));
    expect(res.code).toBe(0);
    expect(await lines(path.join(c.record, 'sleeps'))).toEqual(['5', '10', '20', '40', '80', '120', '120']);
    expect(await runsIn(c.record)).toBe(8);
    // The run's own duration (0 s or 1 s on a busy machine) is not what this checks.
    expect(res.stderr).toMatch(/exited with status 3 after \d+s; restarting in 10s\./);
    // every restart gets the same command
    expect(await readFile(path.join(c.record, 'run-8.args'), 'utf8')).toBe(await readFile(path.join(c.record, 'run-1.args'), 'utf8'));
  });

  test('exit 42 restarts at once and resets the backoff; a long run resets it too', async () => {
    const c = await freshCase();
    const env = mountedEnv(c, {});
    const selfUpdate = await runEntrypoint({ ...env, FAKE_PLAN: '1 1 42 1 0' });
    expect(selfUpdate.code).toBe(0);
    expect(await lines(path.join(c.record, 'sleeps'))).toEqual(['5', '10', '5']);
    expect(selfUpdate.stderr).toContain('status 42 (self-update); restarting now.');

    const c2 = await freshCase();
    const long = await runEntrypoint({
      ...mountedEnv(c2, {}),
      FAKE_PLAN: '1 1 slow1 1 0',
      FAKE_SLOW_SECONDS: '3.2',
      HS58_BACKOFF_RESET_AFTER: '3', // a quick run measures 0 or 1 s, the slow one at least 3
    });
    expect(long.code).toBe(0);
    expect(await lines(path.join(c2.record, 'sleeps'))).toEqual(['5', '10', '5', '10']);
  });

  for (const sig of ['SIGTERM', 'SIGINT'] as const) {
    test(`${sig} is passed to the running daemon and the entrypoint exits 0 without a restart`, async () => {
      const c = await freshCase();
      const started = start(mountedEnv(c, { FAKE_PLAN: 'hang 0' }));
      await waitForFile(path.join(c.record, 'ready'), 15_000);
      started.child.kill(sig);
      const res = await exitWithin(started, 3000, path.join(c.record, 'ready'));
      expect(res.code).toBe(0);
      expect(res.stderr).toContain(`received ${sig}; stopped.`);
      expect((await readFile(path.join(c.record, 'run-1.signal'), 'utf8')).trim()).toBe('TERM');
      expect(await runsIn(c.record)).toBe(1);
    });
  }

  test('SIGTERM during the backoff pause stops at once without another run', async () => {
    const c = await freshCase();
    const started = start({ ...mountedEnv(c, { FAKE_PLAN: '1 0' }), FAKE_SLEEP_REAL: '30' });
    await waitForFile(path.join(c.record, 'sleeps'), 15_000);
    started.child.kill('SIGTERM');
    const res = await exitWithin(started, 3000, path.join(c.record, 'sleep.pid'));
    expect(res.code).toBe(0);
    expect(await runsIn(c.record)).toBe(1);
  });
});
