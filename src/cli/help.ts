import { OPTIONS, type OptionName, type OptionSpec, type Role } from '../config/schema.js';

/**
 * `hs58 <command> --help`: the command's own flags, then the config flags it reads (its role's and
 * the common ones), grouped by what they configure and wrapped to fit a terminal (100 columns).
 * Each flag says what it takes, its env vars and its default; secrets are listed by env var only.
 */
export const HELP_WIDTH = 100;

/** The groups, in order: a flag goes to the first whose prefix it has. */
const GROUPS: readonly { title: string; prefixes: readonly string[] }[] = [
  { title: 'Subnet, chain and wallet', prefixes: ['netuid', 'subtensor.', 'wallet.'] },
  { title: 'Axon (what validators call)', prefixes: ['axon.', 'blacklist.'] },
  { title: 'Provider probes', prefixes: ['probe.'] },
  { title: 'Miner identity and marketplace', prefixes: ['polygon.wallet', 'polygon.private_key', 'miner.', 'marketplace.'] },
  { title: 'Scoring and weights', prefixes: ['scoring.', 'neuron.moving_average_alpha', 'neuron.weights_version', 'neuron.import_state'] },
  { title: 'Rounds', prefixes: ['neuron.'] },
  { title: 'DRAIN claims on Polygon', prefixes: ['polygon.'] },
  { title: 'Providers and scale-out', prefixes: ['registry.', 'validator.', 'redis.'] },
  { title: 'Logs, health and metrics', prefixes: ['logging.', 'metrics.'] },
];

/** A `--flag <what>   description` block, the description wrapped in its own column. */
export function flagLines(flag: string, text: string, width = HELP_WIDTH): string[] {
  const col = 34;
  const head = `    ${flag}`;
  // A path longer than the column may break after its slashes (its pieces join without a space).
  const pieces = text
    .split(/\s+/)
    .filter(Boolean)
    .flatMap((w) => (w.length > width - col ? w.split(/(?<=\/)/).map((p, i) => ({ p, glued: i > 0 })) : [{ p: w, glued: false }]));
  const wrapped: string[] = [];
  let cur = '';
  for (const { p, glued } of pieces) {
    const next = cur === '' ? p : glued ? `${cur}${p}` : `${cur} ${p}`;
    if (cur !== '' && next.length > width - col) {
      wrapped.push(cur);
      cur = p;
    } else cur = next;
  }
  if (cur !== '') wrapped.push(cur);
  const first = head.length + 2 <= col ? [head.padEnd(col) + (wrapped.shift() ?? '')] : [head];
  return [...first, ...wrapped.map((l) => ' '.repeat(col) + l)].map((l) => l.trimEnd());
}

function valueHint(spec: OptionSpec): string {
  switch (spec.kind) {
    case 'bool':
      return '';
    case 'int':
      return ' N';
    case 'number':
      return ' X';
    case 'list':
      return ' A,B';
    default:
      return spec.choices && spec.choices.length <= 3 ? ` ${spec.choices.join('|')}` : ' TEXT';
  }
}

function defaultText(spec: OptionSpec): string | null {
  if (spec.default === null) return null;
  if (Array.isArray(spec.default)) return spec.default.length ? spec.default.join(', ') : null;
  return String(spec.default);
}

function optionBlock(name: OptionName): string[] {
  const spec: OptionSpec = OPTIONS[name];
  const env = (spec.env ?? []).join(', ');
  const def = defaultText(spec);
  const tail = [
    spec.envOnly ? (spec.secret ? 'environment or .env only: a secret' : 'environment or .env only') : env && `env ${env}`,
    def !== null && `default ${def}`,
  ]
    .filter(Boolean)
    .join('; ');
  const listed = spec.choices === undefined || spec.choices.length <= 3 || spec.description.includes(spec.choices[0]!);
  const choices = listed ? '' : ` One of ${spec.choices!.join(', ')}.`;
  const text = `${spec.description}${choices}${tail ? ` (${tail})` : ''}`;
  return flagLines(spec.envOnly ? (spec.env?.[0] ?? name) : `--${name}${valueHint(spec)}`, text);
}

/** The config flags a command reads (its roles), grouped. */
export function renderOptionGroups(roles: readonly Role[]): string {
  const names = (Object.keys(OPTIONS) as OptionName[]).filter((n) => roles.includes(OPTIONS[n].role));
  const placed = new Set<OptionName>();
  const out: string[] = [];
  for (const g of GROUPS) {
    const inGroup = names.filter((n) => !placed.has(n) && g.prefixes.some((p) => n === p || n.startsWith(p)));
    if (inGroup.length === 0) continue;
    out.push(`  ${g.title}:`);
    for (const n of inGroup) {
      placed.add(n);
      out.push(...optionBlock(n));
    }
    out.push('');
  }
  const rest = names.filter((n) => !placed.has(n));
  if (rest.length) out.push('  Other:', ...rest.flatMap(optionBlock), '');
  return out.join('\n');
}
