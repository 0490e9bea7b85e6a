import type { Command, CommandContext } from './context.js';
import type { Role } from '../config/schema.js';
import { flagLines, renderOptionGroups } from './help.js';
import { EXIT, exitCodeFor } from './exitCodes.js';
import { errorMessage, Hs58Error } from '../errors.js';
import { redactText } from '../observability/redact.js';

/**
 * The `hs58` command's dispatcher. Daemons (`miner`, `validator`) live in neurons/
 * and are passed in by bin/hs58.js so that nothing under src/ imports its caller.
 */
export interface CliDeps {
  daemons: Partial<Record<'miner' | 'validator' | 'localnet' | 'rehearse', () => Promise<Command>>>;
}

const TOOLS: Record<string, { about: string; load: () => Promise<Command> }> = {
  wallet: { about: 'import | encode | create wallet files', load: async () => (await import('./commands/wallet.js')).walletCommand },
  sample: { about: 'CPython-exact provider sample for a block hash', load: async () => (await import('./commands/sample.js')).sampleCommand },
  weights: { about: 'float scores → u16 uids/weights like the Python SDK', load: async () => (await import('./commands/weights.js')).weightsCommand },
  scan: { about: 'scan DRAIN ChannelClaimed totals per provider', load: async () => (await import('./commands/scan.js')).scanCommand },
};

interface DaemonHelp {
  about: string;
  /** The config flags it reads, by role. */
  roles: readonly Role[];
  /** Its own flags beyond the config options: [flag, what it does]. */
  flags?: readonly (readonly [string, string])[];
  notes?: readonly string[];
}

const DAEMONS: Record<string, DaemonHelp> = {
  miner: { about: 'run the miner daemon (axon)', roles: ['common', 'miner'] },
  validator: {
    about: 'run the validator daemon (or --worker for a BullMQ worker)',
    roles: ['common', 'validator'],
    flags: [
      ['--dry-run', 'everything but the submission; prints the weight table (--neuron.dry_run)'],
      ['--worker', 'take proof and probe jobs from Redis instead of running rounds (--neuron.worker; needs REDIS_URL)'],
    ],
  },
  localnet: {
    about: 'the whole subnet on this machine: anvil, Chopsticks, miners, validator',
    roles: ['common', 'tools'],
    flags: [
      ['--epochs N', 'stop after N validator rounds (default: run until Ctrl-C)'],
      ['--miners K', 'miner daemons to start (default 4)'],
      ['--status-port P', "port of the validator's /status page"],
      ['--chain-spec FILE', 'the subtensor runtime chain spec (also SUBTENSOR_CHAIN_SPEC)'],
    ],
    notes: ['A development tool: needs the devDependencies (npm ci), which a production install leaves out.'],
  },
  rehearse: {
    about: 'one validator round against a Chopsticks fork of the chain, then a verdict (weights go to the fork only)',
    roles: ['common', 'validator'],
    flags: [
      ['--rehearse.block N', 'fork at block N (default: the finalized head of --subtensor.network / --subtensor.chain_endpoint)'],
      ['--rehearse.port P', 'loopback port of the fork (default: a free one)'],
      ['--json', 'print the verdict as JSON'],
    ],
    notes: [
      'Every validator flag and env var applies, as `hs58 validator` reads them. Needs network access and Chopsticks',
      '(npm install @acala-network/chopsticks@1.5). Exit 0: the fork accepted the weights; 1: it did not; 2: bad flags.',
    ],
  },
};

function daemonUsage(name: string): string {
  const d = DAEMONS[name]!;
  const lines = [`Usage: hs58 ${name} [flags]`, '', `${d.about[0]!.toUpperCase()}${d.about.slice(1)}.`, ''];
  if (d.flags) lines.push('Flags of this command:', ...d.flags.flatMap(([flag, text]) => flagLines(flag, text)), '');
  if (d.notes) lines.push(...d.notes, '');
  lines.push('Settings (flag > env > .env > default; the README has the full table):', '', renderOptionGroups(d.roles));
  return lines.join('\n');
}

export function usage(): string {
  const lines = ['Usage: hs58 <command> [flags]', '', 'Commands:'];
  for (const [name, d] of Object.entries(DAEMONS)) lines.push(`  ${name.padEnd(10)} ${d.about}`);
  for (const [name, t] of Object.entries(TOOLS)) lines.push(`  ${name.padEnd(10)} ${t.about}`);
  lines.push('', '`hs58 <command> --help` shows the flags of a command; `hs58 --version` the version and commit.', '');
  lines.push('Settings every daemon reads (flag > env > .env > default):', '', renderOptionGroups(['common']));
  return lines.join('\n');
}

/** `hs58 --version`: the version, the git commit it was built from, and the Node.js running it. */
export function versionLine(build: CommandContext['build']): string {
  return `hs58 ${build?.version ?? 'unknown'} (commit ${build?.commit ?? 'unknown'}, node ${build?.node ?? 'unknown'})\n`;
}

export async function runCli(ctx: CommandContext, deps: CliDeps): Promise<number> {
  const [name, ...rest] = ctx.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(usage());
    return name === undefined ? EXIT.config : EXIT.ok;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    ctx.stdout.write(versionLine(ctx.build));
    return EXIT.ok;
  }
  const sub: CommandContext = { ...ctx, argv: rest };
  try {
    const daemon = deps.daemons[name as keyof CliDeps['daemons']];
    if (daemon && (rest.includes('--help') || rest.includes('-h'))) {
      ctx.stdout.write(daemonUsage(name));
      return EXIT.ok;
    }
    if (daemon) return await (await daemon())(sub);
    const tool = TOOLS[name];
    if (tool) return await (await tool.load())(sub);
    ctx.stderr.write(`hs58: unknown command ${JSON.stringify(name)}; run \`hs58 --help\`.\n`);
    return EXIT.config;
  } catch (err) {
    // Coded errors carry a message written for the user; anything else is a bug worth a stack.
    const text = err instanceof Hs58Error ? errorMessage(err) : err instanceof Error ? (err.stack ?? err.message) : String(err);
    ctx.stderr.write(`hs58 ${name}: ${redactText(text)}\n`);
    return exitCodeFor(err);
  }
}
