import { spawnSync } from 'node:child_process';
import { mulberry32 } from './rng.js';

/**
 * Runs a Python oracle script once with every case as JSON on stdin and returns its
 * parsed JSON stdout: one interpreter start (and one slow `import bittensor`) for
 * thousands of cases.
 */
export function runPythonOracle<T>(python: string, script: string, request: unknown, env: Record<string, string> = {}): T {
  const run = spawnSync(python, [script], {
    input: JSON.stringify(request),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, PYTHONIOENCODING: 'utf-8', ...env },
  });
  if (run.error) throw run.error;
  if (run.status !== 0) {
    throw new Error(`${script} exited with ${run.status}: ${run.stderr.slice(-4000)}`);
  }
  return JSON.parse(run.stdout) as T;
}

/** A small seeded PRNG (mulberry32) to generate test inputs reproducibly; independent of the code under test. */
export function testRng(seed: number): {
  next: () => number;
  int: (lo: number, hi: number) => number;
  hex: (bytes: number) => string;
  pick: <T>(xs: readonly T[]) => T;
} {
  const next = mulberry32(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  const hex = (bytes: number): string => Array.from({ length: bytes }, () => int(0, 255).toString(16).padStart(2, '0')).join('');
  const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
  return { next, int, hex, pick };
}

/** Where a test's random inputs come from: HS58_TEST_SEED to reproduce a failure, else a fixed default. */
export function testSeed(fallback: number): number {
  const fromEnv = process.env.HS58_TEST_SEED;
  return fromEnv !== undefined && /^\d+$/.test(fromEnv) ? Number(fromEnv) : fallback;
}
