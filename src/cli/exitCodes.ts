/**
 * The one place that maps an error to the exit code of an `hs58` command: 0 done (and a daemon
 * stopped by SIGINT/SIGTERM), 1 failed, 2 fix the configuration (a message that names the
 * setting, no stack), 130 a one-shot command interrupted. Commands return their code; only
 * neurons/main.ts sets it on the process.
 */
import { errorMessage, Hs58Error } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { redactText } from '../observability/redact.js';
import type { CommandContext } from './context.js';

export const EXIT = { ok: 0, failed: 1, config: 2, interrupted: 130 } as const;

/**
 * Hs58Error codes that mean "fix the configuration and start again" (a name ending in `_` is a
 * prefix): bad flags and env, wallet files and keys, `--probe.allow`, `--registry.urls`, a
 * missing Chopsticks, the local network's chain spec.
 */
const CONFIG_CODES = [
  'CONFIG_',
  'WALLET_',
  'POLYGON_KEY_INVALID',
  'POLYGON_WALLET_INVALID',
  'POLYGON_WALLET_MISMATCH',
  'ADDRESS_GUARD_BAD_ALLOW_ENTRY',
  'REGISTRY_BAD_URL',
  'CHOPSTICKS_MISSING',
  'CHAIN_SPEC_NOT_FOUND',
  'CHAIN_SPEC_BAD_HASH',
] as const;
/** ...except these: the process, not its configuration, is at fault. */
const NOT_CONFIG_CODES: readonly string[] = ['WALLET_CRYPTO_NOT_READY'];

/** An error whose message tells the user which setting to fix. */
export function isConfigProblem(err: unknown): err is Hs58Error {
  if (!(err instanceof Hs58Error) || NOT_CONFIG_CODES.includes(err.code)) return false;
  return CONFIG_CODES.some((c) => (c.endsWith('_') ? err.code.startsWith(c) : err.code === c));
}

export interface StopRule {
  /** The process's signal (SIGINT/SIGTERM). */
  signal: AbortSignal;
  /** The code when it stopped the command: 0 for a daemon (stopping is how it ends), 130 for a one-shot command. */
  code: typeof EXIT.ok | typeof EXIT.interrupted;
}

/** The exit code for `err`; with `stopped`, any error once the signal has aborted is that stop. */
export function exitCodeFor(err: unknown, stopped?: StopRule): number {
  if (isConfigProblem(err)) return EXIT.config;
  if (stopped?.signal.aborted) return stopped.code;
  return EXIT.failed;
}

export interface ExitOnErrorOptions {
  /** The daemon's logger: a failure (not a configuration problem) is logged as `<command> stopped`, a stop by signal as `stoppedMessage`. */
  logger?: Logger;
  stoppedMessage?: string;
  /** The code when the signal stopped the command (default 0). */
  stoppedCode?: StopRule['code'];
}

/**
 * What a daemon does with the error that ended it: says so on stderr as `hs58 <command>: …`
 * (a configuration problem by its message alone, anything else with its code), logs it, and
 * returns the exit code.
 */
export function exitOnError(ctx: Pick<CommandContext, 'stderr' | 'signal'>, command: string, err: unknown, options: ExitOnErrorOptions = {}): number {
  const code = exitCodeFor(err, { signal: ctx.signal, code: options.stoppedCode ?? EXIT.ok });
  // Redacted as runCli redacts: an error may quote an endpoint with its credentials.
  if (code === EXIT.config) {
    ctx.stderr.write(`hs58 ${command}: ${redactText((err as Hs58Error).shortMessage)}\n`);
  } else if (code === EXIT.failed) {
    const text = redactText(errorMessage(err));
    options.logger?.error({ err: text }, `${command} stopped`);
    ctx.stderr.write(`hs58 ${command}: ${text}\n`);
  } else if (options.stoppedMessage) {
    options.logger?.info(options.stoppedMessage);
  }
  return code;
}
