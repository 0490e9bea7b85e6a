import { parseEnv } from 'node:util';
import { Hs58Error } from '../errors.js';
import { NETWORK_ENDPOINTS } from './options/common.js';
import { OPTIONS, type Config, type OptionName, type OptionSpec } from './schema.js';

export type ConfigErrorCode = 'CONFIG_INVALID' | 'CONFIG_UNKNOWN_FLAG' | 'CONFIG_MISSING_VALUE';
export class ConfigError extends Hs58Error<ConfigErrorCode> {
  override name = 'ConfigError';
}

export type Source = 'flag' | 'env' | '.env' | 'default';

export interface LoadConfigParameters {
  /** Arguments after the subcommand, e.g. ['--netuid', '58']. */
  argv?: readonly string[];
  /** The process environment, passed in by a composition root. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Text of a .env file, if one was found. */
  dotenv?: string;
  /** For `~` in paths. */
  homeDir?: string;
  /** Flags that are not config options but that the caller accepts (e.g. a subcommand's own). */
  extraFlags?: readonly string[];
}

export interface LoadConfigReturnType {
  config: Config;
  sources: Record<OptionName, Source>;
  /** Positional arguments, the values of extraFlags, and the Python daemons' flags that were ignored. */
  rest: { positional: string[]; extra: Record<string, string | true>; ignored: string[] };
}

const NAMES = Object.keys(OPTIONS) as OptionName[];

function describeAccepted(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'int':
      return `an integer${range(spec)}`;
    case 'number':
      return `a number${range(spec)}`;
    case 'bool':
      return 'true or false';
    case 'list':
      return 'a comma-separated list';
    case 'enum':
      return `one of ${spec.choices?.join(', ')}`;
    default:
      return spec.choices ? `one of ${spec.choices.join(', ')}${spec.orWebSocketUrl ? ', or a ws:// or wss:// URL' : ''}` : 'a string';
  }
}

function range(spec: OptionSpec): string {
  if (spec.min !== undefined && spec.max !== undefined) return ` from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined) return ` of at least ${spec.min}`;
  if (spec.max !== undefined) return ` of at most ${spec.max}`;
  return '';
}

function where(name: OptionName, source: Source, envName?: string): string {
  if (source === 'flag') return `--${name}`;
  if (source === 'env') return `${envName} (environment)`;
  if (source === '.env') return `${envName} (.env file)`;
  return `the default of --${name}`;
}

/** Where a value came from, for logs and status pages: `--flag`, `ENV (environment)`, `ENV (.env file)` or `default`. */
export function describeSource(name: OptionName, source: Source): string {
  const envName = OPTIONS[name].env?.[0] ?? name;
  return source === 'default' ? 'default' : where(name, source, envName);
}

/** Parses one raw string for an option; throws a ConfigError that names where it came from. */
export function parseOptionValue(name: OptionName, raw: string | string[], label: string): unknown {
  const spec: OptionSpec = OPTIONS[name];
  const fail = (): never => {
    const shown = spec.secret ? '<hidden>' : JSON.stringify(Array.isArray(raw) ? raw.join(',') : raw);
    throw new ConfigError('CONFIG_INVALID', `${label}: ${shown} is not valid; expected ${describeAccepted(spec)}.`, {
      details: { option: name },
    });
  };
  if (spec.kind === 'list') {
    const parts = (Array.isArray(raw) ? raw : [raw])
      .flatMap((r) => r.split(','))
      .map((s) => s.trim())
      .filter((s) => s !== '');
    return parts;
  }
  const text = (Array.isArray(raw) ? (raw[raw.length - 1] ?? '') : raw).trim();
  switch (spec.kind) {
    case 'int': {
      if (!/^-?\d+$/.test(text)) return fail();
      const n = Number(text);
      if (!Number.isSafeInteger(n) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return fail();
      return n;
    }
    case 'number': {
      if (text === '' || !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return fail();
      const n = Number(text);
      if (!Number.isFinite(n) || (spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max)) return fail();
      return n;
    }
    case 'bool': {
      if (text === '') return true;
      return boolWord(text) ?? fail();
    }
    case 'enum':
      if (!spec.choices?.includes(text)) return fail();
      return text;
    default:
      if (spec.choices && !spec.choices.includes(text) && !(spec.orWebSocketUrl && /^wss?:\/\/\S+$/.test(text))) return fail();
      return text;
  }
}

function closest(flag: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = levenshtein(flag, c);
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return bestD <= Math.max(2, Math.floor(flag.length / 4)) ? best : undefined;
}

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

interface ParsedArgv {
  flags: Map<OptionName, string[]>;
  extra: Record<string, string | true>;
  positional: string[];
  /** Flags of the Python daemons that mean nothing here, as given (`--neuron.device cuda`). */
  ignored: string[];
}

/**
 * Flags the Python daemons accept (the bittensor SDK's own, the subnet template's, HS58-subnet's)
 * that mean nothing here: accepted so that an operator's command line from the Python miner or
 * validator starts, and named in one notice line. `value`: the flag takes a value; `bool`: it may
 * be followed by true/false. A truly unknown flag is still an error with a suggestion.
 */
export const PYTHON_ONLY_FLAGS: Readonly<Record<string, 'bool' | 'value'>> = {
  config: 'value',
  strict: 'bool',
  no_prompt: 'bool',
  no_version_checking: 'bool',
  mock: 'bool',
  'neuron.device': 'value',
  'neuron.name': 'value',
  'neuron.events_retention_size': 'value',
  'neuron.dont_save_events': 'bool',
  'neuron.num_concurrent_forwards': 'value',
  'neuron.sample_size': 'value',
  'neuron.vpermit_tao_limit': 'value',
  'blacklist.allow_non_registered': 'bool',
  'wandb.off': 'bool',
  'wandb.offline': 'bool',
  'wandb.notes': 'value',
  'wandb.project_name': 'value',
  'wandb.entity': 'value',
  'logging.record_log': 'bool',
  'logging.logging_dir': 'value',
  'logging.enable_third_party_loggers': 'bool',
  'axon.max_workers': 'value',
  'priority.max_workers': 'value',
  'priority.maxsize': 'value',
  'subtensor._mock': 'bool',
};

/**
 * `--a.b value`, `--a.b=value`, a bare boolean `--a.b`, `--no-a.b`; list flags may repeat.
 * Underscores and dashes in a flag name are the same (`--neuron.axon-off`).
 */
export function parseArgv(argv: readonly string[], extraFlags: readonly string[] = []): ParsedArgv {
  const flags = new Map<OptionName, string[]>();
  const extra: Record<string, string | true> = {};
  const positional: string[] = [];
  const ignored: string[] = [];
  const normalize = (s: string) => s.replace(/-/g, '_');
  const pythonOnly = new Map(Object.entries(PYTHON_ONLY_FLAGS).map(([n, kind]) => [normalize(n), kind]));
  const byNorm = new Map<string, OptionName>(NAMES.map((n) => [normalize(n), n]));
  const extraByNorm = new Map<string, string>(extraFlags.map((n) => [normalize(n), n]));
  for (let i = 0; i < argv.length; i++) {
    const tok = argv[i]!;
    if (tok === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!tok.startsWith('--')) {
      positional.push(tok);
      continue;
    }
    const body = tok.slice(2);
    const eq = body.indexOf('=');
    let key = eq >= 0 ? body.slice(0, eq) : body;
    let inline: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    let negated = false;
    if (!byNorm.has(normalize(key)) && key.startsWith('no-') && byNorm.has(normalize(key.slice(3)))) {
      key = key.slice(3);
      negated = true;
    }
    const name = byNorm.get(normalize(key));
    const extraName = extraByNorm.get(normalize(key));
    const ignoredKind = name === undefined && extraName === undefined ? pythonOnly.get(normalize(key)) : undefined;
    if (ignoredKind !== undefined) {
      const next = argv[i + 1];
      const takesNext = inline === undefined && next !== undefined && !next.startsWith('--') && (ignoredKind === 'value' || boolWord(next) !== null);
      ignored.push(takesNext ? `${tok} ${next}` : tok);
      if (takesNext) i++;
      continue;
    }
    if (name === undefined && extraName === undefined) {
      const hint = closest(key, [...NAMES, ...extraFlags]);
      throw new ConfigError('CONFIG_UNKNOWN_FLAG', `unknown flag --${key}${hint ? `; did you mean --${hint}?` : ''} (\`hs58 --help\` lists the flags)`);
    }
    if (name !== undefined && (OPTIONS[name] as OptionSpec).envOnly) {
      const envName = OPTIONS[name].env?.[0];
      throw new ConfigError(
        'CONFIG_INVALID',
        `--${name} is a secret and is not accepted on the command line; set ${envName} in the environment or .env instead.`,
      );
    }
    const isBool = name !== undefined && OPTIONS[name].kind === 'bool';
    if (negated) {
      if (!isBool) throw new ConfigError('CONFIG_INVALID', `--no-${key}: only boolean flags can be negated.`);
      inline = 'false';
    }
    if (inline === undefined) {
      const next = argv[i + 1];
      if (isBool) {
        if (next !== undefined && boolWord(next) !== null) {
          inline = next;
          i++;
        } else inline = 'true';
      } else if (next !== undefined && !next.startsWith('--')) {
        inline = next;
        i++;
      } else if (extraName !== undefined) {
        extra[extraName] = true;
        continue;
      } else {
        throw new ConfigError('CONFIG_MISSING_VALUE', `--${name} needs a value: ${describeAccepted(OPTIONS[name!])}.`);
      }
    }
    if (name !== undefined) {
      const list = flags.get(name) ?? [];
      list.push(inline);
      flags.set(name, list);
    } else extra[extraName!] = inline;
  }
  return { flags, extra, positional, ignored };
}

/** Precedence: flag > env > .env > default. */
export function loadConfig(params: LoadConfigParameters = {}): LoadConfigReturnType {
  const { flags, extra, positional, ignored } = parseArgv(params.argv ?? [], params.extraFlags);
  const env = params.env ?? {};
  const dotenv = params.dotenv !== undefined ? (parseEnv(params.dotenv) as Record<string, string>) : {};
  const config = {} as Record<string, unknown>;
  const sources = {} as Record<OptionName, Source>;
  for (const name of NAMES) {
    const spec: OptionSpec = OPTIONS[name];
    const fromFlag = flags.get(name);
    if (fromFlag !== undefined) {
      config[name] = parseOptionValue(name, fromFlag, where(name, 'flag'));
      sources[name] = 'flag';
      continue;
    }
    let found = false;
    for (const [bag, source] of [
      [env, 'env'],
      [dotenv, '.env'],
    ] as const) {
      for (const e of spec.env ?? []) {
        const v = bag[e];
        if (v !== undefined && v !== '') {
          config[name] = parseOptionValue(name, v, where(name, source, e));
          sources[name] = source;
          found = true;
          break;
        }
      }
      if (found) break;
    }
    if (found) continue;
    config[name] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
    sources[name] = 'default';
  }
  if (params.homeDir !== undefined) {
    for (const name of ['wallet.path', 'neuron.state_path', 'subtensor.chain_spec', 'neuron.import_state'] as const) {
      const v = config[name];
      if (typeof v === 'string' && (v === '~' || v.startsWith('~/'))) config[name] = params.homeDir + v.slice(1);
    }
  }
  return { config: config as Config, sources, rest: { positional, extra, ignored } };
}

export { NETWORK_ENDPOINTS } from './options/common.js';

/** A word a boolean flag takes: true, 1, yes, on / false, 0, no, off (any case); null for anything else. */
export function boolWord(text: string): boolean | null {
  const t = text.toLowerCase();
  if (t === 'true' || t === '1' || t === 'yes' || t === 'on') return true;
  if (t === 'false' || t === '0' || t === 'no' || t === 'off') return false;
  return null;
}

/** The WebSocket endpoint: --subtensor.chain_endpoint, else the one of --subtensor.network (a name, or a URL as the SDK takes it). */
export function subtensorEndpoint(config: Pick<Config, 'subtensor.network' | 'subtensor.chain_endpoint'>): string {
  const explicit = config['subtensor.chain_endpoint'];
  if (explicit) {
    if (!/^wss?:\/\//.test(explicit)) {
      throw new ConfigError('CONFIG_INVALID', `--subtensor.chain_endpoint: ${JSON.stringify(explicit)} must start with ws:// or wss://.`);
    }
    return explicit;
  }
  const network = config['subtensor.network'];
  const known = NETWORK_ENDPOINTS[network];
  if (known !== undefined) return known;
  if (/^wss?:\/\//.test(network)) return network;
  throw new ConfigError(
    'CONFIG_INVALID',
    `--subtensor.network: ${JSON.stringify(network)} is not a known network; expected ${Object.keys(NETWORK_ENDPOINTS).join(', ')} or a ws(s):// URL.`,
  );
}

/** The text of `.env.example`, generated from the schema (a test keeps the file in step). */
export function renderEnvExample(role?: 'miner' | 'validator'): string {
  const lines = [
    role
      ? `# The environment variables of the ${role} (common ones included), with defaults. Generated from src/config/schema.ts;`
      : '# Every environment variable hs58 reads, with its default. Generated from src/config/schema.ts;',
    '# `npm test` fails when this file and the schema disagree. Precedence: flag > env > .env > default.',
    '',
  ];
  for (const name of NAMES) {
    const spec: OptionSpec = OPTIONS[name];
    if (role && spec.role !== 'common' && spec.role !== role) continue;
    for (const e of spec.env ?? []) {
      const def = spec.default === null ? '' : Array.isArray(spec.default) ? spec.default.join(',') : String(spec.default);
      lines.push(`# ${spec.description}${spec.envOnly ? '' : ` (flag --${name})`}${spec.secret ? ' SECRET.' : ''}`);
      lines.push(`# ${e}=${def}`);
      lines.push('');
    }
  }
  return lines.join('\n');
}

/** Markdown table of all options for the README. */
export function renderConfigTable(): string {
  const rows = ['| flag | env | default | meaning |', '|---|---|---|---|'];
  for (const name of NAMES) {
    const spec: OptionSpec = OPTIONS[name];
    const def = spec.default === null ? '—' : Array.isArray(spec.default) ? (spec.default.length ? spec.default.join(', ') : '—') : String(spec.default);
    rows.push(`| ${spec.envOnly ? '(env only)' : `\`--${name}\``} | ${(spec.env ?? []).map((e) => `\`${e}\``).join(', ')} | ${def} | ${spec.description} |`);
  }
  return rows.join('\n');
}
