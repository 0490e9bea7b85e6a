#!/usr/bin/env node
// Runs a command under Node 24 LTS, whatever `node` this machine has.
//
//   node scripts/node24.mjs <command> [args…]
//
// With Node 24 or newer it runs the command as it is. With an older node (Debian's Node 20, which
// reached end of life in April 2026), it takes the official Node 24 binary from the npm registry's
// `node-linux-<arch>` package once (`npm pack`, about 30 MB, kept in ~/.cache/hs58/ or
// $HS58_NODE24_DIR) and runs the command with that binary first on PATH, so `node`, `npm` and the
// tools in node_modules/.bin all run on it. Written for old Node versions: no dependency, no
// TypeScript. `.ci/run` uses the same download.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const NODE24_VERSION = '24.22.3';
const MIN_MAJOR = 24;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The folder holding a Node 24 `bin/node`, fetched once. */
export function node24Bin() {
  const arch = { x64: 'x64', arm64: 'arm64' }[process.arch];
  if (process.platform !== 'linux' || !arch) {
    throw new Error(`Node ${MIN_MAJOR}+ is needed (this is ${process.version}); install it from https://nodejs.org for ${process.platform}/${process.arch}.`);
  }
  const dir = process.env.HS58_NODE24_DIR ?? path.join(os.homedir(), '.cache', 'hs58', `node-v${NODE24_VERSION}-linux-${arch}`);
  const bin = path.join(dir, 'package', 'bin');
  if (existsSync(path.join(bin, 'node'))) return bin;
  mkdirSync(dir, { recursive: true });
  process.stderr.write(`hs58: this machine has Node ${process.version}; fetching Node ${NODE24_VERSION} (npm package node-linux-${arch}) into ${dir} once.\n`);
  execFileSync('npm', ['pack', '--silent', `node-linux-${arch}@${NODE24_VERSION}`], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error(`npm pack node-linux-${arch}@${NODE24_VERSION} left no tarball in ${dir}`);
  execFileSync('tar', ['xzf', tarball], { cwd: dir, stdio: 'inherit' });
  rmSync(path.join(dir, tarball));
  return bin;
}

export function nodeMajor(version = process.versions.node) {
  return Number(version.split('.')[0]);
}

/** Runs `argv` with Node 24 first on PATH; resolves with its exit code. */
export function runWithNode24(argv) {
  const env = { ...process.env };
  if (nodeMajor() < MIN_MAJOR) env.PATH = `${node24Bin()}${path.delimiter}${env.PATH ?? ''}`;
  // Tools installed by npm (vitest, tsc, tsx) are found as `npm run` would find them.
  env.PATH = `${path.join(repoRoot, 'node_modules', '.bin')}${path.delimiter}${env.PATH}`;
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit', env });
    // Ctrl-C reaches the child from the terminal itself; a SIGTERM sent to this process alone is passed on.
    const ignore = () => undefined;
    const forward = () => child.kill('SIGTERM');
    process.on('SIGINT', ignore);
    process.on('SIGTERM', forward);
    child.on('error', (err) => {
      process.stderr.write(`hs58: could not run ${argv[0]}: ${err.message}\n`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1));
    });
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  if (argv.length === 0) {
    process.stderr.write('usage: node scripts/node24.mjs <command> [args…]\n');
    process.exitCode = 2;
  } else {
    process.exitCode = await runWithNode24(argv);
  }
}
