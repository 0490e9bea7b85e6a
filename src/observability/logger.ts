import { pino, type Logger, type LoggerOptions } from 'pino';
import { prettyStream } from './prettyLog.js';

export type { Logger };

export interface LoggerConfig {
  level?: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /** Where to write; defaults to stdout. */
  destination?: NodeJS.WritableStream;
  name?: string;
  /** `json` (default): one JSON object per line. `pretty`: one readable line per event, for a terminal. */
  format?: 'json' | 'pretty';
  /** Colours in the pretty format. */
  colors?: boolean;
}

/** Field paths that may hold secrets in any object we log. */
export const REDACT_PATHS = [
  'privateKey',
  '*.privateKey',
  'secretPhrase',
  '*.secretPhrase',
  'secretSeed',
  '*.secretSeed',
  'mnemonic',
  '*.mnemonic',
  'polygonPrivateKey',
  '*.polygonPrivateKey',
  'validatorSecret',
  '*.validatorSecret',
  'headers["x-validator-secret"]',
  '*.headers["x-validator-secret"]',
];

export function createLogger(config: LoggerConfig = {}): Logger {
  const options: LoggerOptions = {
    name: config.name ?? 'hs58',
    level: config.level ?? 'info',
    redact: { paths: REDACT_PATHS, censor: '<redacted>' },
    base: undefined,
  };
  if (config.format === 'pretty') {
    return pino(options, prettyStream(config.destination ?? process.stdout, { colors: config.colors ?? false }) as unknown as pino.DestinationStream);
  }
  return config.destination ? pino(options, config.destination as pino.DestinationStream) : pino(options);
}

/**
 * Throttles a repetitive warning: `throttled(key)` is true at most once per `intervalMs`
 * for each key, so a failing endpoint logs once a minute, not once a request.
 */
export function createThrottle(intervalMs: number, now: () => number = Date.now): (key: string) => boolean {
  const last = new Map<string, number>();
  return (key) => {
    const t = now();
    const prev = last.get(key);
    if (prev !== undefined && t - prev < intervalMs) return false;
    last.set(key, t);
    return true;
  };
}
