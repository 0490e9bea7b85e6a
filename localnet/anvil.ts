import { freeLoopbackPort } from './ports.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { LocalChainError } from './errors.js';
import { withDeadline } from '../src/util/deadline.js';

export { LocalChainError, type LocalChainErrorCode } from './errors.js';

/**
 * anvil (Foundry) from the `@foundry-rs/anvil` npm package, run as a local Polygon stand-in.
 * Always started with `--hardfork cancun --prune-history`: without them mining cost grows with
 * chain length, and tests mine hundreds of thousands of blocks (see local-chains.md).
 */

const PLATFORM_ARCH: Record<string, Record<string, string>> = {
  linux: { x64: 'linux-amd64', arm64: 'linux-arm64' },
  darwin: { x64: 'darwin-amd64', arm64: 'darwin-arm64' },
  win32: { x64: 'win32-amd64' },
};

/**
 * The native anvil binary of this platform, resolved from the installed package (not from the
 * working directory). Spawning it directly, not the `bin.mjs` wrapper, means a kill reaches anvil.
 */
export function anvilBinaryPath(): string {
  const require = createRequire(import.meta.url);
  let wrapperPkg: string;
  try {
    wrapperPkg = require.resolve('@foundry-rs/anvil/package.json');
  } catch (err) {
    throw new LocalChainError('LOCALCHAIN_ANVIL_MISSING', 'the @foundry-rs/anvil package is not installed (npm ci)', { cause: err });
  }
  const suffix = PLATFORM_ARCH[process.platform]?.[process.arch];
  if (!suffix) throw new LocalChainError('LOCALCHAIN_ANVIL_MISSING', `anvil has no npm build for ${process.platform}/${process.arch}`);
  const exe = process.platform === 'win32' ? 'anvil.exe' : 'anvil';
  try {
    const platformPkg = createRequire(wrapperPkg).resolve(`@foundry-rs/anvil-${suffix}/package.json`);
    const candidate = path.join(path.dirname(platformPkg), 'bin', exe);
    if (existsSync(candidate)) return candidate;
  } catch {
    // fall through to the wrapper's dist folder
  }
  const dist = path.join(path.dirname(wrapperPkg), 'dist', exe);
  if (existsSync(dist)) return dist;
  throw new LocalChainError(
    'LOCALCHAIN_ANVIL_MISSING',
    `the anvil binary for ${suffix} is missing (optional package @foundry-rs/anvil-${suffix} not installed?)`,
  );
}

export interface StartAnvilOptions {
  /** Defaults to a free loopback port. */
  port?: number;
  /** Defaults to anvil's 31337; tests of the Polygon scanner use 137. */
  chainId?: number;
  /** Stops anvil when aborted. */
  signal?: AbortSignal;
  /** More anvil flags (e.g. ['--block-time', '2']). */
  extraArgs?: readonly string[];
  startTimeoutMs?: number;
}

export interface AnvilInstance {
  url: string;
  port: number;
  pid: number;
  /** Idempotent: SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  try {
    return await withDeadline(1_000, async (signal) => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
        signal,
      });
      return res.ok && ((await res.json()) as { result?: unknown }).result !== undefined;
    });
  } catch {
    return false;
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startOnce(binary: string, port: number, options: StartAnvilOptions): Promise<AnvilInstance> {
  const args = ['--port', String(port), '--host', '127.0.0.1', '--hardfork', 'cancun', '--prune-history', '--silent'];
  if (options.chainId !== undefined) args.push('--chain-id', String(options.chainId));
  args.push(...(options.extraArgs ?? []));
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2_000);
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
  for (;;) {
    const failed = await Promise.race([spawnError, new Promise<null>((r) => setTimeout(() => r(null), 0))]);
    if (failed) throw new LocalChainError('LOCALCHAIN_ANVIL_START', `could not run anvil: ${failed.message}`, { cause: failed });
    if (exited) throw new LocalChainError('LOCALCHAIN_ANVIL_START', `anvil exited at start: ${stderr.trim() || `code ${child.exitCode}`}`);
    if (await answers(url)) break;
    if (Date.now() > deadline) {
      await stopChild(child);
      throw new LocalChainError('LOCALCHAIN_ANVIL_START', `anvil did not answer on ${url} within ${options.startTimeoutMs ?? 20_000} ms`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  // A process that ends without calling stop() (process.exit, an uncaught error) takes anvil with it.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.removeListener('exit', killOnExit));
  let stopping: Promise<void> | null = null;
  const stop = () => (stopping ??= stopChild(child));
  options.signal?.addEventListener('abort', () => void stop(), { once: true });
  return { url, port, pid: child.pid!, stop };
}

/** Starts anvil and resolves once it answers JSON-RPC. */
export async function startAnvil(options: StartAnvilOptions = {}): Promise<AnvilInstance> {
  options.signal?.throwIfAborted();
  const binary = anvilBinaryPath();
  let lastError: unknown;
  // A free port found by listening and closing can be taken before anvil binds it: try again.
  for (let tries = 0; tries < (options.port === undefined ? 3 : 1); tries++) {
    const port = options.port ?? (await freeLoopbackPort());
    try {
      return await startOnce(binary, port, options);
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}
