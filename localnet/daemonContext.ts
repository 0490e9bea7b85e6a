import os from 'node:os';
import type { CommandContext } from '../src/cli/context.js';

/**
 * The CommandContext of a daemon the local network runs in its own process: its own argv and
 * environment, the network's signal; what it prints goes to `out`, or nowhere.
 */
export function daemonContext(argv: string[], env: Record<string, string>, signal: AbortSignal, out?: (text: string) => void): CommandContext {
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const write = (chunk: string | Uint8Array) => {
    out?.(chunk.toString());
    return true;
  };
  const stdout = out ? ({ write } as unknown as NodeJS.WritableStream) : sink;
  return { argv, env, cwd: process.cwd(), homeDir: os.homedir(), stdout, stderr: sink, signal };
}
