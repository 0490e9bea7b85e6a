import os from 'node:os';
import { Writable } from 'node:stream';
import type { Command, CommandContext } from '../../src/cli/context.js';

/** A stream that keeps what is written, synchronously. */
function buffer(): { stream: Writable; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { stream, text: () => chunks.join('') };
}

/** Runs an `hs58` subcommand in-process with a fake CommandContext; returns its exit code and output. */
export async function runCommand(
  command: Command,
  argv: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; dotenv?: string } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = buffer();
  const stderr = buffer();
  const ctx: CommandContext = {
    argv,
    env: options.env ?? {},
    dotenv: options.dotenv,
    cwd: options.cwd ?? process.cwd(),
    homeDir: os.tmpdir(),
    stdout: stdout.stream,
    stderr: stderr.stream,
    signal: new AbortController().signal,
  };
  const code = await command(ctx);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}
