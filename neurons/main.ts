/**
 * The `hs58` process, run on import: builds the CommandContext from argv, the environment,
 * `.env` and signals, runs the command and owns the exit code. `bin/hs58.js` runs it from the
 * TypeScript sources (through tsx); `npm run build` bundles it into `dist/hs58.mjs`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pkg from '../package.json' with { type: 'json' };
import { runCli } from '../src/cli/main.js';
import { redactConsole } from '../src/observability/console.js';

// Libraries' own console lines (@polkadot's socket messages carry the endpoint URL) are redacted too.
redactConsole();

const controller = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    signals += 1;
    if (signals > 1) process.exit(130); // a second Ctrl-C forces the exit
    controller.abort(new Error(`received ${sig}`));
  });
}

/** Set by scripts/build.mjs in the production bundle; from git when running the sources. */
declare const __HS58_COMMIT__: string | undefined;

function gitCommit(): string {
  try {
    const cwd = path.dirname(fileURLToPath(import.meta.url));
    return (
      execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5_000 }).trim() ||
      'unknown'
    );
  } catch {
    return 'unknown';
  }
}

// The commit is asked of git only when read (--version, the daemons' build info), not on every start.
let commit: string | undefined;
const build = {
  version: pkg.version,
  get commit(): string {
    commit ??= typeof __HS58_COMMIT__ === 'string' ? __HS58_COMMIT__ : gitCommit();
    return commit;
  },
  node: process.version,
};
const envFile = process.env.HS58_ENV_FILE ?? '.env';
const code = await runCli(
  {
    argv: process.argv.slice(2),
    env: process.env,
    dotenv: existsSync(envFile) ? readFileSync(envFile, 'utf8') : undefined,
    cwd: process.cwd(),
    homeDir: os.homedir(),
    stdout: process.stdout,
    stderr: process.stderr,
    signal: controller.signal,
    build,
  },
  {
    daemons: {
      miner: async () => (await import('./miner.js')).runMiner,
      validator: async () => (await import('./validator.js')).runValidator,
      localnet: async () => (await import('../localnet/main.js')).runLocalnet,
      rehearse: async () => (await import('./rehearse.js')).runRehearse,
    },
  },
);
process.exitCode = code;
// Everything was closed in order; a library handle that lingers (a reconnect timer, a worker)
// must not keep a finished command alive.
setTimeout(() => process.exit(code), 2_000).unref();
