#!/usr/bin/env node
// The `hs58` process: builds the CommandContext from argv/env/signals and owns the exit code.
// TypeScript runs through tsx's loader so there is no build step to forget.
import { register } from 'tsx/esm/api';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';

register();
const { runCli } = await import('../src/cli/main.ts');

const controller = new AbortController();
let signals = 0;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    signals += 1;
    if (signals > 1) process.exit(130); // a second Ctrl-C forces the exit
    controller.abort(new Error(`received ${sig}`));
  });
}

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
  },
  {
    daemons: {
      miner: async () => (await import('../neurons/miner.ts')).runMiner,
      validator: async () => (await import('../neurons/validator.ts')).runValidator,
      localnet: async () => (await import('../neurons/localnet.ts')).runLocalnet,
    },
  },
);
process.exitCode = code;
// Everything was closed in order; a library handle that lingers (a reconnect timer, a worker)
// must not keep a finished command alive.
setTimeout(() => process.exit(code), 2_000).unref();
