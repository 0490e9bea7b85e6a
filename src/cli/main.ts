import type { Command, CommandContext } from './context.js';
import { renderConfigTable } from '../config/load.js';
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

const DAEMONS: Record<string, string> = {
  miner: 'run the miner daemon (axon)',
  validator: 'run the validator daemon (or --worker for a BullMQ worker)',
  localnet: 'the whole subnet on this machine: anvil, Chopsticks, miners, validator',
  rehearse: 'one validator round against a Chopsticks fork of the chain, then a verdict (weights go to the fork only)',
};

/** Flags of a daemon command beyond the config options. */
const DAEMON_FLAGS: Record<string, string[]> = {
  localnet: [
    '--epochs N         stop after N validator rounds (default: run until Ctrl-C)',
    '--miners K         miner daemons to start (default 4)',
    '--status-port P    port of the validator\'s /status page',
    '--chain-spec FILE  the subtensor runtime chain spec (also SUBTENSOR_CHAIN_SPEC)',
    'A development tool: needs the devDependencies (npm ci), which a production install leaves out.',
  ],
  rehearse: [
    '--rehearse.block N  fork at block N (default: the finalized head of --subtensor.network / --subtensor.chain_endpoint)',
    '--rehearse.port P   loopback port of the fork (default: a free one)',
    '--json              print the verdict as JSON',
    'Every validator flag and env var applies, as `hs58 validator` reads them. Needs network access and',
    'Chopsticks (npm install @acala-network/chopsticks@1.5). Exit 0: the fork accepted the weights; 1: it did not; 2: bad flags.',
  ],
};

function daemonUsage(name: string): string {
  const lines = [`Usage: hs58 ${name} [flags]`, '', `${DAEMONS[name]}.`, ''];
  const own = DAEMON_FLAGS[name];
  if (own) lines.push('Flags of this command:', ...own.map((l) => `  ${l}`), '');
  lines.push('Config flags (flag > env > .env > default):', '', renderConfigTable(), '');
  return lines.join('\n');
}

export function usage(): string {
  const lines = ['Usage: hs58 <command> [flags]', '', 'Commands:'];
  for (const [name, about] of Object.entries(DAEMONS)) lines.push(`  ${name.padEnd(10)} ${about}`);
  for (const [name, t] of Object.entries(TOOLS)) lines.push(`  ${name.padEnd(10)} ${t.about}`);
  lines.push('', 'Flags (flag > env > .env > default):', '', renderConfigTable(), '');
  return lines.join('\n');
}

export async function runCli(ctx: CommandContext, deps: CliDeps): Promise<number> {
  const [name, ...rest] = ctx.argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    ctx.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const sub: CommandContext = { ...ctx, argv: rest };
  try {
    const daemon = deps.daemons[name as keyof CliDeps['daemons']];
    if (daemon && (rest.includes('--help') || rest.includes('-h'))) {
      ctx.stdout.write(daemonUsage(name));
      return 0;
    }
    if (daemon) return await (await daemon())(sub);
    const tool = TOOLS[name];
    if (tool) return await (await tool.load())(sub);
    ctx.stderr.write(`hs58: unknown command ${JSON.stringify(name)}; run \`hs58 --help\`.\n`);
    return 2;
  } catch (err) {
    // Coded errors carry a message written for the user; anything else is a bug worth a stack.
    const text = err instanceof Hs58Error ? errorMessage(err) : err instanceof Error ? (err.stack ?? err.message) : String(err);
    ctx.stderr.write(`hs58 ${name}: ${redactText(text)}\n`);
    return err instanceof Hs58Error && err.code.startsWith('CONFIG_') ? 2 : 1;
  }
}
