import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * A test that needs a program this machine lacks fails in CI and skips elsewhere
 * with a clear message. Call inside a test or hook with vitest's context `skip`.
 * Returns the reason it is missing, or null when present.
 */
export function missingProgram(check: () => string | null): string | null {
  const reason = check();
  if (reason === null) return null;
  if (IN_CI) throw new Error(`required for this test in CI: ${reason}`);
  return reason;
}

export function which(cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null;
  } catch {
    return null;
  }
}

/** The Python interpreter of the interop venv (bittensor SDK from PyPI), from HS58_PYTHON or .venv-interop. */
export function interopPython(): string | null {
  const fromEnv = process.env.HS58_PYTHON;
  if (fromEnv && existsSync(fromEnv)) return fromEnv;
  const local = path.join(REPO_ROOT, '.venv-interop', 'bin', 'python');
  return existsSync(local) ? local : null;
}

const INSTALL_VENV = 'run `python3 -m venv .venv-interop && .venv-interop/bin/pip install -r test/interop/requirements.txt`';
let venvChecked: string | null | undefined;

/** Whether the venv holds every module the interop scripts import (checked once per process). */
function venvProblem(python: string): string | null {
  if (venvChecked !== undefined) return venvChecked;
  try {
    execFileSync(python, ['-c', 'import bittensor.core.axon, bittensor.utils.weight_utils, eth_account, bittensor_drand'], {
      stdio: 'pipe',
      timeout: 120_000,
    });
    venvChecked = null;
  } catch (err) {
    const stderr =
      String((err as { stderr?: Buffer }).stderr ?? '')
        .trim()
        .split('\n')
        .pop() ?? '';
    venvChecked = `the Python venv ${python} lacks a module the interop tests need (${stderr}): ${INSTALL_VENV}`;
  }
  return venvChecked;
}

export function requireInteropPython(): { python: string | null; reason: string | null } {
  const python = interopPython();
  const reason = missingProgram(() => (python === null ? `the Python venv with bittensor and eth-account: ${INSTALL_VENV}` : venvProblem(python)));
  return { python, reason };
}

export function requirePython3(): string | null {
  return missingProgram(() => (which('python3') ? null : 'python3 on PATH'));
}
