/** `hs58 localnet [--epochs N] [--miners K] [--status-port P] [--chain-spec FILE]`: flags → run.ts. */
import type { Command } from '../src/cli/context.js';
import { loadConfig, ConfigError } from '../src/config/load.js';
import { errorMessage } from '../src/errors.js';
import { createLogger } from '../src/observability/logger.js';
import { resolveChainSpec } from './chainSpec.js';
import { DEFAULT_LOCALNET, runLocalNetwork } from './run.js';

export const runLocalnet: Command = async (ctx) => {
  let parsed: ReturnType<typeof loadConfig>;
  try {
    parsed = loadConfig({ argv: ctx.argv, env: ctx.env, dotenv: ctx.dotenv, homeDir: ctx.homeDir, extraFlags: ['epochs', 'miners', 'chain-spec', 'status-port'] });
  } catch (err) {
    if (err instanceof ConfigError) {
      ctx.stderr.write(`hs58 localnet: ${err.shortMessage}\n`);
      return 2;
    }
    throw err;
  }
  const { config, rest } = parsed;
  const intFlag = (name: string, def: number | undefined, min: number): number | undefined => {
    const v = rest.extra[name];
    if (v === undefined) return def;
    if (typeof v !== 'string' || !/^\d+$/.test(v) || Number(v) < min) throw new ConfigError('CONFIG_INVALID', `--${name}: expected an integer of at least ${min}.`);
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
    const chainSpecFlag = typeof rest.extra['chain-spec'] === 'string' ? rest.extra['chain-spec'] : null;
    chainSpecPath = await resolveChainSpec({ explicit: chainSpecFlag ?? config['subtensor.chain_spec'], cwd: ctx.cwd, homeDir: ctx.homeDir, log: (m) => ctx.stderr.write(`${m}\n`) });
  } catch (err) {
    ctx.stderr.write(`hs58 localnet: ${err instanceof ConfigError ? err.shortMessage : errorMessage(err)}\n`);
    return 2;
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
    if (ctx.signal.aborted) return 0;
    ctx.stderr.write(`hs58 localnet: ${errorMessage(err)}\n`);
    return 1;
  }
};
