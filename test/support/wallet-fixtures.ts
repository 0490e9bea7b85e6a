import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import type { CommandContext } from '../../src/cli/context.js';

/** A CommandContext whose stdout/stderr are captured, for running `hs58` subcommands in-process. */
export function captureContext(argv: string[], env: Record<string, string | undefined> = {}, homeDir = os.tmpdir()) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  stdout.on('data', (d: Buffer) => out.push(d.toString()));
  stderr.on('data', (d: Buffer) => err.push(d.toString()));
  const ctx: CommandContext = { argv, env, cwd: process.cwd(), homeDir, stdout, stderr, signal: new AbortController().signal };
  return { ctx, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** A fresh temp dir and its cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** ed25519-form (key·8 ‖ nonce) → schnorrkel form (key ‖ nonce), by integer division, independent of src/. */
export function schnorrkelFromPolkadotSecret(secretKey: Uint8Array): Uint8Array {
  let scalar = 0n;
  for (let i = 31; i >= 0; i--) scalar = (scalar << 8n) | BigInt(secretKey[i]!);
  if (scalar % 8n !== 0n) throw new Error('not a multiple of 8');
  scalar /= 8n;
  const out = new Uint8Array(64);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(scalar & 0xffn);
    scalar >>= 8n;
  }
  out.set(secretKey.subarray(32, 64), 32);
  return out;
}

export const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;
