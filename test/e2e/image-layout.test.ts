/**
 * The Docker image without Docker (no engine on the development machines): the Dockerfile's
 * build and runtime stages replayed on this machine. The build context is exactly what
 * .dockerignore lets through; the build stage installs and runs scripts/build.mjs; the runtime
 * gets the production node_modules, package files, dist/ and entrypoint.sh, nothing else. Then
 * entrypoint.sh imports a wallet from base64 variables and starts `hs58 validator --help` from that
 * layout, and `dist/hs58.mjs miner --help` runs there without the sources.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { REPO_ROOT } from '../support/programs.js';

const run = promisify(execFile);
const work = await mkdtemp(path.join(os.tmpdir(), 'hs58-image-'));
afterAll(() => rm(work, { recursive: true, force: true }));

/** The files of the repository that .dockerignore lets into the build context ("*" then "!" entries). */
async function buildContext(into: string): Promise<string[]> {
  const rules = (await readFile(path.join(REPO_ROOT, '.dockerignore'), 'utf8')).split('\n').map((l) => l.trim());
  expect(rules).toContain('*');
  const allowed = rules.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  const excluded = (rel: string) => rel.endsWith('.test.ts') || /(^|\/)\.env(\.|$)/.test(path.basename(rel));
  for (const entry of allowed) {
    await cp(path.join(REPO_ROOT, entry), path.join(into, entry), { recursive: true, filter: (src) => !excluded(path.relative(REPO_ROOT, src)) });
  }
  return allowed;
}

const npm = (args: string[], cwd: string) => run('npm', args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' }, maxBuffer: 16 << 20 });

describe('the Docker image, stage by stage, on this machine', () => {
  test('build stage → runtime layout: the entrypoint writes the wallet and starts hs58 from dist/ with production modules only', async () => {
    const dockerfile = await readFile(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
    // The steps replayed here, as the Dockerfile has them.
    for (const line of [
      'RUN npm ci --ignore-scripts --no-audit --no-fund',
      'RUN node scripts/build.mjs',
      'COPY --from=deps /app/node_modules ./node_modules',
      'COPY package.json package-lock.json ./',
      'COPY --from=build /app/dist ./dist',
      'COPY entrypoint.sh ./entrypoint.sh',
      'ENTRYPOINT ["/app/entrypoint.sh"]',
    ]) {
      expect(dockerfile).toContain(line);
    }

    const context = path.join(work, 'context');
    await buildContext(context);
    // Stage "build": npm ci, then the sources, then the bundle.
    const build = path.join(work, 'build');
    await mkdir(build);
    for (const f of ['package.json', 'package-lock.json']) await cp(path.join(context, f), path.join(build, f));
    await npm(['ci', '--ignore-scripts', '--no-audit', '--no-fund'], build);
    for (const f of ['tsconfig.json', 'scripts', 'neurons', 'src', 'localnet']) await cp(path.join(context, f), path.join(build, f), { recursive: true });
    await run(process.execPath, ['scripts/build.mjs'], { cwd: build });
    // Stage "deps" is the same install pruned to production packages (moved here, not installed twice).
    await npm(['prune', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], build);

    // Stage "runtime".
    const app = path.join(work, 'app');
    await mkdir(app);
    await rename(path.join(build, 'node_modules'), path.join(app, 'node_modules'));
    for (const f of ['package.json', 'package-lock.json', 'entrypoint.sh']) await cp(path.join(context, f), path.join(app, f));
    await cp(path.join(build, 'dist'), path.join(app, 'dist'), { recursive: true });
    expect((await readdir(app)).sort()).toEqual(['dist', 'entrypoint.sh', 'node_modules', 'package-lock.json', 'package.json']);
    expect(await readdir(path.join(app, 'node_modules'))).not.toContain('vitest');
    expect(await readdir(path.join(app, 'dist'))).toEqual(expect.arrayContaining(['hs58.mjs', 'verify-worker.mjs', 'contracts']));

    // A wallet made with the real CLI, passed as the base64 variables an operator sets.
    const wallets = path.join(work, 'wallets');
    const created = await run(process.execPath, [path.join(app, 'dist/hs58.mjs'), 'wallet', 'create', '--wallet.path', wallets, '--wallet.name', 'w', '--wallet.hotkey', 'h'], {
      env: { PATH: process.env.PATH ?? '', HOME: work },
    });
    const hotkeyAddress = /hotkey\s+(\w+)/.exec(created.stdout)![1]!;
    const b64 = async (rel: string) => (await readFile(path.join(wallets, 'w', rel))).toString('base64');
    const home = path.join(work, 'home');
    await mkdir(home);
    const started = await run('/bin/sh', [path.join(app, 'entrypoint.sh'), '--help'], {
      cwd: app,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: home,
        NEURON_TYPE: 'validator',
        WALLET_NAME: 'mywallet',
        HOTKEY_NAME: 'myhot',
        BT_HOTKEY_B64: await b64('hotkeys/h'),
        BT_COLDKEYPUB_B64: await b64('coldkeypub.txt'),
        HS58_ENV_FILE: path.join(work, 'no.env'),
      },
    });
    expect(started.stdout).toContain(`hotkey  ${hotkeyAddress}`);
    expect(started.stdout).toContain('Usage: hs58 validator [flags]');
    expect(started.stderr).toContain('exited with status 0; stopped');
    expect((await stat(path.join(home, '.bittensor/wallets/mywallet/hotkeys/myhot'))).mode & 0o777).toBe(0o600);

    const miner = await run(process.execPath, [path.join(app, 'dist/hs58.mjs'), 'miner', '--help'], { cwd: app });
    expect(miner.stdout).toContain('Usage: hs58 miner [flags]');
  }, 240_000);
});
