/**
 * A daemon's settings from its flags, the environment and `.env` (flag > env > .env > default),
 * as every `hs58` daemon reads them: bittensor's dotted flags, the original's env vars, and the
 * command's own flags (short forms of options such as `--dry-run`, and flags that are not
 * options such as `--epochs`). A bad value is a ConfigError that names the flag.
 */
import { boolWord, ConfigError, loadConfig, type Source } from '../config/load.js';
import type { Config, OptionName } from '../config/schema.js';
import { createLogger, type Logger } from '../observability/logger.js';
import type { CommandContext } from './context.js';

/** The options that are true or false. */
export type BoolOptionName = { [K in OptionName]: Config[K] extends boolean ? K : never }[OptionName];

export interface DaemonConfig {
  config: Config;
  sources: Record<OptionName, Source>;
  /** Values of the command's own flags (`extraFlags`, short flags included). */
  extra: Record<string, string | true>;
  /** The arguments that are not flags. */
  positional: string[];
  /** Lines to log once the logger exists (e.g. the Python daemons' flags accepted and ignored). */
  notices: string[];
}

export interface LoadDaemonConfigOptions {
  /** Short flags and the boolean option each sets, e.g. `{ 'dry-run': 'neuron.dry_run' }`. */
  shortFlags?: Readonly<Record<string, BoolOptionName>>;
  /** The command's own flags that are not options, returned in `extra`. */
  extraFlags?: readonly string[];
}

export function loadDaemonConfig(ctx: Pick<CommandContext, 'argv' | 'env' | 'dotenv' | 'homeDir'>, options: LoadDaemonConfigOptions = {}): DaemonConfig {
  const shortFlags = options.shortFlags ?? {};
  const loaded = loadConfig({
    argv: ctx.argv,
    env: ctx.env,
    dotenv: ctx.dotenv,
    homeDir: ctx.homeDir,
    extraFlags: [...Object.keys(shortFlags), ...(options.extraFlags ?? [])],
  });
  const config = { ...loaded.config };
  for (const [flag, option] of Object.entries(shortFlags)) {
    const value = loaded.rest.extra[flag];
    if (value === undefined) continue;
    const on = value === true ? true : boolWord(value);
    if (on === null) throw new ConfigError('CONFIG_INVALID', `--${flag}: expected true or false, got ${JSON.stringify(String(value).slice(0, 32))}.`);
    config[option] = on;
  }
  const notices = loaded.rest.ignored.length
    ? [`accepted for compatibility with the Python daemons and ignored (no meaning here): ${loaded.rest.ignored.join(', ')}`]
    : [];
  return { config, sources: loaded.sources, extra: loaded.rest.extra, positional: loaded.rest.positional, notices };
}

/** An integer value of the command's own flag `name`, from `min` to `max`; undefined when it was not given. */
export function intFlag(extra: DaemonConfig['extra'], name: string, min: number, max: number): number | undefined {
  const v = extra[name];
  if (v === undefined) return undefined;
  if (v === true || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `--${name}: ${v === true ? 'needs a value' : `${JSON.stringify(v.slice(0, 32))} is not valid`}; expected an integer from ${min} to ${max}.`,
    );
  }
  return Number(v);
}

/**
 * The log level: the `--logging.trace/debug/info` flags (or their env vars, bittensor's
 * `BT_LOGGING_*` among them), else `LOG_LEVEL`, else info.
 */
export function logLevel(
  config: Pick<Config, 'logging.trace' | 'logging.debug' | 'logging.info' | 'logging.level'>,
): 'trace' | 'debug' | 'info' | 'warn' | 'error' {
  if (config['logging.trace']) return 'trace';
  if (config['logging.debug']) return 'debug';
  if (config['logging.info']) return 'info';
  return config['logging.level'] ?? 'info';
}

/**
 * How a daemon writes its log: readable lines with colours on a terminal, JSON lines elsewhere
 * (Railway, Docker, systemd read JSON), unless `--logging.format` / `LOG_FORMAT` says which.
 * Colours follow the NO_COLOR convention.
 */
export function logFormat(
  config: Pick<Config, 'logging.format'>,
  ctx: { stdout: NodeJS.WritableStream; env: Readonly<Record<string, string | undefined>> },
): { format: 'json' | 'pretty'; colors: boolean } {
  const tty = (ctx.stdout as { isTTY?: boolean }).isTTY === true;
  const format = config['logging.format'] === 'auto' ? (tty ? 'pretty' : 'json') : config['logging.format'];
  return { format, colors: format === 'pretty' && tty && !ctx.env.NO_COLOR };
}

/** A daemon's logger as its settings ask (level, format), with the notices of its config logged once. */
export function daemonLogger(name: string, parsed: Pick<DaemonConfig, 'config' | 'notices'>, ctx: Pick<CommandContext, 'stdout' | 'env'>): Logger {
  const logger = createLogger({ level: logLevel(parsed.config), name, destination: ctx.stdout, ...logFormat(parsed.config, ctx) });
  for (const n of parsed.notices) logger.info(n);
  return logger;
}
