/**
 * What a CLI subcommand gets from the process: passed in by bin/hs58 so that
 * nothing under src/ reads process.env, argv or exits. A command returns its exit code.
 */
export interface CommandContext {
  /** Arguments after the subcommand name. */
  argv: string[];
  env: Readonly<Record<string, string | undefined>>;
  /** Text of ./.env when present. */
  dotenv?: string;
  cwd: string;
  homeDir: string;
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /** Aborted on SIGINT/SIGTERM. */
  signal: AbortSignal;
  /** What this program is: its version, the git commit it was built from, the Node.js running it. */
  build?: BuildInfo;
}

export interface BuildInfo {
  version: string;
  commit: string;
  node: string;
}

export type Command = (ctx: CommandContext) => Promise<number>;
