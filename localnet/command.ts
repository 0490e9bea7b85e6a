/** `hs58 localnet [--epochs N] [--miners K] [--status-port P] [--chain-spec FILE]`: flags → run.ts. */
import type { Command } from '../src/cli/context.js';
import { loadDaemonConfig, type DaemonConfig } from '../src/cli/daemonConfig.js';
import { exitOnError } from '../src/cli/exitCodes.js';
import { ConfigError } from '../src/config/load.js';
import { createLogger } from '../src/observability/logger.js';
import { resolveChainSpec } from './chainSpec.js';
import { DEFAULT_LOCALNET, runLocalNetwork } from './run.js';

export const runLocalnet: Command = async (ctx) => {
  let parsed: DaemonConfig;
  try {
    parsed = loadDaemonConfig(ctx, { extraFlags: ['epochs', 'miners', 'chain-spec', 'status-port'] });
  } catch (err) {
    return exitOnError(ctx, 'localnet', err);
  }
  const { config, extra } = parsed;
  const intFlag = (name: string, def: number | undefined, min: number): number | undefined => {
    const v = extra[name];
    if (v === undefined) return def;
    if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min)
      throw new ConfigError('CONFIG_INVALID', `--${name}: expected an integer of at least ${min}.`);
    return Number(v);
  };
  let chainSpecPath: string;
  let miners: number;
  let epochs: number | undefined;
  let statusPort: number;
  try {
    miners = intFlag('miners', DEFAULT_LOCALNET.miners, 1)!;
    epochs = intFlag('epochs', undefined, 1);
    statusPort = intFlag('status-port', DEFAULT_LOCALNET.statusPort, 0)!;
    const chainSpecFlag = typeof extra['chain-spec'] === 'string' ? extra['chain-spec'] : null;
    chainSpecPath = await resolveChainSpec({
      explicit: chainSpecFlag ?? config['subtensor.chain_spec'],
      cwd: ctx.cwd,
      homeDir: ctx.homeDir,
      log: (m) => ctx.stderr.write(`${m}\n`),
    });
  } catch (err) {
    return exitOnError(ctx, 'localnet', err);
  }
  const logger = createLogger({ level: config['logging.debug'] ? 'debug' : 'warn', name: 'hs58-localnet', destination: ctx.stderr });
  try {
    await runLocalNetwork({
      ...DEFAULT_LOCALNET,
      chainSpecPath,
      miners,
      epochs,
      statusPort,
      // The local network demonstrates this project's hybrid unless told otherwise.
      preset: config['scoring.preset'] ?? DEFAULT_LOCALNET.preset,
      logger,
      out: (s) => ctx.stdout.write(s),
      signal: ctx.signal,
    });
    return 0;
  } catch (err) {
    return exitOnError(ctx, 'localnet', err);
  }
};
