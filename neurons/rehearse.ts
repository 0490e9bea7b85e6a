/**
 * `hs58 rehearse`: one validator round against a Chopsticks fork of the chain, with the
 * operator's own hotkey and settings: miners queried for real (their axons from the forked
 * metagraph), Polygon scanned for real (the operator's RPCs), the weights sent to the fork and
 * never to the real chain. Then a verdict read back from the fork: the preset and version key,
 * the weight table, the extrinsic, what the fork's runtime said of it, the fee, and what would
 * have failed.
 *
 * The validator is handed the fork's loopback endpoint and nothing else; its state lives in a
 * scratch folder (the operator's state files are never written); its /metrics port is off and
 * its jobs run in this process (a live validator's port and Redis queue are left alone).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command, CommandContext } from '../src/cli/context.js';
import { createSubtensor, type SubtensorClient } from '../src/chain/subtensor/index.js';
import { intFlag } from '../src/cli/daemonConfig.js';
import { EXIT, exitOnError } from '../src/cli/exitCodes.js';
import { ConfigError, subtensorEndpoint } from '../src/config/load.js';
import { createLogger, type Logger } from '../src/observability/logger.js';
import { redactUrl } from '../src/observability/redact.js';
import { FORK_HOST, ForkError, loadChopsticks, startFork, type Fork } from '../src/rehearse/fork.js';
import { readSignedExtrinsics } from '../src/rehearse/readBack.js';
import { buildVerdict, formatVerdict, verdictJson, type RehearsalFacts } from '../src/rehearse/verdict.js';
import { createCloseStack } from '../src/util/closeStack.js';
import { startDeadline, withDeadline } from '../src/util/deadline.js';
import { roundBudgetMs, stepBudgets } from '../src/validator/budgets.js';
import type { RoundReport } from '../src/validator/report.js';
import { summarizeScoring } from '../src/validator/scoringChoice.js';
import { loadWallet, walletParameters } from '../src/wallet/hotkey.js';
import { loadValidatorConfig, startValidator, type ValidatorConfig } from './validator.js';

/** Chopsticks has no block timer: the fork builds a block this often so the validator sees heads. */
const BLOCK_INTERVAL_MS = 1_000;
/** Beyond the round's own budget: connecting, the first head, saving the scratch state. */
const RUN_SLACK_MS = 150_000;

export interface RehearseHooks {
  /** Where the validator logs (default: warnings and errors to stderr). */
  logger?: Logger;
}

interface RehearsalSettings {
  validator: ValidatorConfig;
  upstream: string;
  network: string;
  block: number | undefined;
  port: number;
  json: boolean;
}

export const runRehearse: Command = (ctx) => startRehearsal(ctx, {});

export async function startRehearsal(ctx: CommandContext, hooks: RehearseHooks): Promise<number> {
  let settings: RehearsalSettings;
  try {
    settings = parseSettings(ctx);
    // Chopsticks logs to stdout at the LOG_LEVEL it finds when first imported: errors only, fatal ones only under --json.
    process.env.LOG_LEVEL ??= settings.json ? 'fatal' : 'error';
    await loadChopsticks();
  } catch (err) {
    return exitOnError(ctx, 'rehearse', err, { stoppedCode: EXIT.interrupted });
  }
  const { config } = settings.validator;
  const logger = hooks.logger ?? createLogger({ level: config['logging.debug'] ? 'debug' : 'warn', name: 'hs58-rehearse', destination: ctx.stderr });
  const closers = createCloseStack(logger);
  const say = (text: string) => ctx.stderr.write(`hs58 rehearse: ${text}\n`);
  try {
    const { hotkey } = await loadWallet(walletParameters(config));
    say(`forking ${redactUrl(settings.upstream)} at ${settings.block === undefined ? 'its finalized head' : `block ${settings.block}`}…`);
    const fork = await startFork({ upstream: settings.upstream, block: settings.block, port: settings.port, signal: ctx.signal });
    closers.push({ name: 'fork', close: () => fork.close() });
    const scratch = await mkdtemp(path.join(os.tmpdir(), 'hs58-rehearse-'));
    closers.push({ name: 'scratch state', close: () => rm(scratch, { recursive: true, force: true }) });
    const { validator, notes } = pointAtFork(settings.validator, fork.endpoint, scratch);
    const stopBlocks = fork.produceBlocks(BLOCK_INTERVAL_MS);
    closers.push({ name: 'block production', close: stopBlocks });

    const budgetMs = roundBudgetMs(stepBudgets({ timeoutSec: config['neuron.timeout'], probesPerRound: config['scoring.probes_per_round'] })) + RUN_SLACK_MS;
    say(
      `fork of block ${fork.forkedAt.number} on ${fork.endpoint}; one round of ${validator.scoring.preset.name} as ${hotkey.address} (up to ${Math.round(budgetMs / 60_000)} min)…`,
    );
    const run = await runOneRound(ctx, validator, budgetMs, logger);
    if (ctx.signal.aborted) {
      say('interrupted');
      return EXIT.interrupted;
    }
    stopBlocks();

    const reader = await createSubtensor({ endpoint: fork.endpoint, logger });
    closers.push({ name: 'fork reader', close: () => reader.close() });
    const { extrinsics, storedRow } = await withDeadline(120_000, () => readOutcome(reader, fork, hotkey.address, config.netuid, run.report), {
      parent: ctx.signal,
      label: 'reading the outcome back from the fork',
    });
    const facts: RehearsalFacts = {
      network: settings.network,
      upstream: redactUrl(settings.upstream),
      forkedAt: fork.forkedAt,
      forkEndpoint: fork.endpoint,
      netuid: config.netuid,
      hotkey: hotkey.address,
      scoring: summarizeScoring(validator.scoring),
      report: run.report,
      runError: run.error,
      extrinsics,
      storedRow,
      settingsNotes: notes,
    };
    const verdict = buildVerdict(facts);
    ctx.stdout.write(settings.json ? verdictJson(verdict) : formatVerdict(verdict));
    return verdict.accepted ? EXIT.ok : EXIT.failed;
  } catch (err) {
    return exitOnError(ctx, 'rehearse', err, { stoppedCode: EXIT.interrupted });
  } finally {
    await closers.closeAll();
  }
}

function parseSettings(ctx: CommandContext): RehearsalSettings {
  const validator = loadValidatorConfig(ctx, ['rehearse.block', 'rehearse.port', 'json']);
  const { config, extra, positional } = validator;
  if (positional.length > 0) throw new ConfigError('CONFIG_INVALID', `unexpected argument ${JSON.stringify(positional[0])}; see \`hs58 rehearse --help\`.`);
  if (config['neuron.worker'])
    throw new ConfigError('CONFIG_INVALID', 'a rehearsal runs the validator itself, not a worker: leave out --neuron.worker (HS58_WORKER).');
  const explicit = config['subtensor.chain_endpoint'];
  const json = extra.json;
  if (json !== undefined && json !== true && !/^(true|false)$/i.test(json))
    throw new ConfigError('CONFIG_INVALID', `--json: expected true or false, got ${JSON.stringify(json.slice(0, 32))}.`);
  return {
    validator,
    upstream: subtensorEndpoint(config),
    network: explicit ? '--subtensor.chain_endpoint' : config['subtensor.network'],
    block: intFlag(extra, 'rehearse.block', 0, Number.MAX_SAFE_INTEGER),
    port: intFlag(extra, 'rehearse.port', 0, 65535) ?? 0,
    json: json === true || /^true$/i.test(json ?? ''),
  };
}

/**
 * The operator's settings pointed at the fork: its endpoint, a scratch state folder, no ops
 * server, jobs in this process, weights sent. Throws unless the validator's endpoint is the fork's.
 */
export function pointAtFork(operator: ValidatorConfig, forkEndpoint: string, scratchDir: string): { validator: ValidatorConfig; notes: string[] } {
  const c = operator.config;
  const notes = [
    "the round ran as a first start, in a scratch state folder deleted afterwards (your state files were not written): EMA scores from zero, or from a Python validator's state.npz where the validator found one",
  ];
  if (c['neuron.dry_run'] || c['neuron.disable_set_weights']) {
    notes.push(
      'your settings turn weight submission off (--neuron.dry_run or --neuron.disable_set_weights): your validator would send no weights; the rehearsal sent them to the fork anyway',
    );
  }
  if (c['redis.url']) notes.push('REDIS_URL is set: the rehearsal ran its queries in this process, leaving your Redis queue and its workers alone');
  const config = {
    ...c,
    'subtensor.chain_endpoint': forkEndpoint,
    'neuron.state_path': scratchDir,
    'metrics.port': 0,
    'redis.url': null,
    'neuron.dry_run': false,
    'neuron.disable_set_weights': false,
  };
  const endpoint = subtensorEndpoint(config);
  if (endpoint !== forkEndpoint || new URL(endpoint).hostname !== FORK_HOST) {
    throw new ForkError('NOT_A_FORK', `refusing to run: the validator would connect to ${redactUrl(endpoint)}, not to the fork on ${FORK_HOST}.`);
  }
  return { validator: { ...operator, config }, notes };
}

/** From the fork itself: the hotkey's extrinsics since the fork began, and its stored weight row. */
async function readOutcome(reader: SubtensorClient, fork: Fork, hotkey: string, netuid: number, report: RoundReport | null) {
  const uid = report?.metagraph?.hotkeys.indexOf(hotkey) ?? -1;
  const [{ extrinsics }, storedRow] = await Promise.all([
    readSignedExtrinsics(await reader.api(), hotkey, fork.forkedAt.number),
    uid >= 0 ? reader.getWeights(netuid, uid).then((row) => new Map(row)) : null,
  ]);
  return { extrinsics, storedRow };
}

/** Runs the validator until its first round ends (or the budget does); its error text, if any, is kept for the verdict. */
async function runOneRound(ctx: CommandContext, validator: ValidatorConfig, budgetMs: number, logger: Logger) {
  const deadline = startDeadline(budgetMs, { parent: ctx.signal, label: 'the rehearsal round' });
  const said: string[] = [];
  const stderr = {
    write: (chunk: string | Uint8Array) => {
      said.push(chunk.toString());
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  let report: RoundReport | null = null;
  try {
    const code = await startValidator({ ...ctx, signal: deadline.signal, stderr }, { config: validator, maxRounds: 1, logger, onRound: (r) => (report = r) });
    const text = said
      .join('')
      .replace(/^hs58 validator: /gm, '')
      .trim();
    const error =
      code !== 0 ? text || `exit code ${code}` : report === null && deadline.expired ? `no round finished within ${Math.round(budgetMs / 1000)} s` : null;
    return { report: report as RoundReport | null, error };
  } finally {
    deadline.clear();
  }
}
