/**
 * The validator's composition root: config → wallet → subtensor → scanner → registry →
 * dendrite → job queue → validator loop → /health, /metrics, /status; runs until the
 * signal, then closes in reverse order. `--neuron.worker` runs a BullMQ worker instead.
 */
import path from 'node:path';
import type { Command, CommandContext } from '../src/cli/context.js';
import { CLAIMS_DATABASE_FILE, CLAIMS_STATE_FILE, createClaimsScanner } from '../src/chain/polygon/index.js';
import { createSubtensor } from '../src/chain/subtensor/index.js';
import { daemonLogger, loadDaemonConfig, type DaemonConfig } from '../src/cli/daemonConfig.js';
import { exitOnError } from '../src/cli/exitCodes.js';
import { subtensorEndpoint, ConfigError } from '../src/config/load.js';
import { DEFAULT_POLYGON_RPCS } from '../src/config/schema.js';
import { createDendrite, type Dendrite } from '../src/dendrite/dendrite.js';
import type { Logger } from '../src/observability/logger.js';
import { createValidatorMetrics, polygonRpcRecorder, recordWeightsEvent, type ValidatorMetrics } from '../src/observability/metrics.js';
import { createStartupHealth, startOpsServer, type HealthReport } from '../src/observability/server.js';
import { redactUrl } from '../src/observability/redact.js';
import { createRedisQueue, startRedisWorker } from '../src/queue/bullmq.js';
import { createInProcessQueue } from '../src/queue/inProcess.js';
import type { JobQueue } from '../src/queue/types.js';
import { createValidatorJobHandlers, validatorQueueName, type ValidatorJobHandlers } from '../src/validator/jobs.js';
import { sendProbeAlert } from '../src/marketplace/probeAlert.js';
import { importPythonStateOnFirstStart, pythonStatePath } from '../src/validator/pythonState.js';
import { createHttpRegistry } from '../src/marketplace/registry.js';
import { createJsonFileCache } from '../src/marketplace/registryCache.js';
import type { RoundReport } from '../src/validator/report.js';
import { createFileStateStore, type StateStore } from '../src/store/jsonFile.js';
import type { ValidatorState } from '../src/validator/state.js';
import { chooseScoring, summarizeScoring, type ScoringChoice } from '../src/validator/scoringChoice.js';
import { statusRoutes } from '../src/validator/statusPage.js';
import { backfillProgressLog } from '../src/validator/backfill.js';
import { createValidator, type Validator, type ValidatorStatus } from '../src/validator/loop.js';
import { loadWallet, walletParameters, type Hotkey } from '../src/wallet/hotkey.js';
import { createCloseStack, type CloseStack } from '../src/util/closeStack.js';
import { linkSignals } from '../src/util/deadline.js';
import { queryTimeoutMs } from '../src/validator/budgets.js';

export interface ValidatorHooks {
  /** Called after each round (the local network prints its table from it). */
  onRound?: (report: RoundReport, state: ValidatorState) => void;
  /** Maps on-chain axon addresses to where to connect (local network: 10.x on chain → 127.0.0.1). */
  resolveAddress?: (ip: string, port: number) => { host: string; port: number };
  logger?: Logger;
  /** Stop after this many rounds (local network `--epochs N`). */
  maxRounds?: number;
  /** Replaces the dendrite-backed job handlers (bench/validator-memory.ts answers as 254 miners without 254 axons). */
  jobHandlers?: (dendrite: Dendrite) => ValidatorJobHandlers;
  /** Settings parsed by the caller (`hs58 rehearse`: the operator's, pointed at a fork); absent: parsed from `ctx`. */
  config?: ValidatorConfig;
}

/** Boolean short flags of `hs58 validator` and the option each sets: the short forms the README and `hs58 --help` use. */
const SHORT_FLAGS = { 'dry-run': 'neuron.dry_run', worker: 'neuron.worker' } as const;

export const runValidator: Command = (ctx) => startValidator(ctx, {});

/** The validator's settings as parsed from its flags and environment. */
export interface ValidatorConfig extends DaemonConfig {
  scoring: ScoringChoice;
  /** --polygon.rpc_url was left at its default (the public RPCs). */
  rpcFromDefault: boolean;
}

/** Parses `hs58 validator`'s flags, env and .env (a ConfigError on a bad value); `extraFlags` are a caller's own flags. */
export function loadValidatorConfig(ctx: Pick<CommandContext, 'argv' | 'env' | 'dotenv' | 'homeDir'>, extraFlags: readonly string[] = []): ValidatorConfig {
  const loaded = loadDaemonConfig(ctx, { shortFlags: SHORT_FLAGS, extraFlags });
  return { ...loaded, scoring: chooseScoring(loaded.config, loaded.sources), rpcFromDefault: loaded.sources['polygon.rpc_url'] === 'default' };
}

/** What every phase of a validator's start needs. */
interface ValidatorRun {
  ctx: CommandContext;
  hooks: ValidatorHooks;
  parsed: ValidatorConfig;
  config: ValidatorConfig['config'];
  logger: Logger;
  closers: CloseStack;
  metrics: ValidatorMetrics;
  hotkey: Hotkey;
  /** `<--neuron.state_path>/<wallet>-<hotkey>/netuid<N>/` */
  stateDir: string;
}

export async function startValidator(ctx: CommandContext, hooks: ValidatorHooks): Promise<number> {
  let parsed: ValidatorConfig;
  try {
    parsed = hooks.config ?? loadValidatorConfig(ctx);
  } catch (err) {
    return exitOnError(ctx, 'validator', err);
  }
  const { config } = parsed;
  const logger = hooks.logger ?? daemonLogger('hs58-validator', parsed, ctx);
  const closers = createCloseStack(logger);
  try {
    const wallet = await loadWallet(walletParameters(config));
    for (const n of wallet.notices) logger.info(n);
    logger.info({ hotkey: wallet.hotkey.address, source: wallet.hotkey.source }, 'hotkey loaded');
    const stateDir = path.join(config['neuron.state_path'], `${config['wallet.name']}-${config['wallet.hotkey']}`, `netuid${config.netuid}`);
    const metrics = createValidatorMetrics({ build: ctx.build, processMetrics: config['metrics.port'] > 0 });
    const run: ValidatorRun = { ctx, hooks, parsed, config, logger, closers, metrics, hotkey: wallet.hotkey, stateDir };
    // Read miners' answers as a Python dendrite would (pydantic lax mode), so scores agree with Python validators.
    // Every miner of a full subnet (256 uids) queried at once, as the Python dendrite does: a batch takes one timeout.
    const dendrite = createDendrite({ signer: run.hotkey, concurrency: 256, resolveAddress: hooks.resolveAddress, coercion: 'python' });
    closers.push({ name: 'dendrite', close: () => dendrite.close() });
    const handlers = hooks.jobHandlers?.(dendrite) ?? createValidatorJobHandlers(dendrite);
    if (config['neuron.worker']) return await runWorker(run, handlers);
    return await runRounds(run, handlers);
  } catch (err) {
    return exitOnError(ctx, 'validator', err, { logger, stoppedMessage: 'stopped by signal' });
  } finally {
    await closers.closeAll();
  }
}

/** `--neuron.worker`: take proof and probe jobs from Redis until the signal. */
async function runWorker(run: ValidatorRun, handlers: ValidatorJobHandlers): Promise<number> {
  const { config, logger, ctx } = run;
  if (!config['redis.url']) throw new ConfigError('CONFIG_INVALID', '--neuron.worker needs REDIS_URL (or --redis.url): workers take jobs from Redis.');
  const queueName = validatorQueueName(config.netuid, run.hotkey.address);
  logger.info({ queue: queueName, redis: redactUrl(config['redis.url']) }, 'worker waiting for Redis');
  const worker = await startRedisWorker({
    redisUrl: config['redis.url'],
    name: queueName,
    logger,
    signal: ctx.signal,
    handlers,
    concurrency: 32,
    jobTimeoutMs: queryTimeoutMs({ timeoutSec: config['neuron.timeout'] }),
  });
  run.closers.push({ name: 'worker', close: () => worker.close() });
  logger.info({ queue: queueName, redis: redactUrl(config['redis.url']) }, 'worker taking jobs');
  // Until the stop signal, also one that came while the worker started (its event has fired then).
  if (!ctx.signal.aborted) await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
  return 0;
}

/** The validator proper: ops server first, then the chain, the claims scanner, the queue, the state, the loop. */
async function runRounds(run: ValidatorRun, handlers: ValidatorJobHandlers): Promise<number> {
  const { config, logger, parsed, ctx, hooks } = run;
  const { scoring } = parsed;
  logScoring(logger, scoring);
  // The ops server comes up first, so /health says what the start waits for (the chain, Redis).
  const startup = createStartupHealth();
  let validator: Validator | null = null;
  await startOps(run, {
    health: () => validator?.health() ?? startup.health(),
    status: () => validator?.status() ?? null,
  });
  const endpoint = subtensorEndpoint(config);
  startup.waiting('chain', `connecting to ${redactUrl(endpoint)}`);
  const subtensor = await createSubtensor({
    endpoint,
    hotkey: run.hotkey.pair,
    logger,
    commitStorePath: path.join(run.stateDir, 'commit-reveal.json'),
    signal: ctx.signal,
    onWeights: (event) => recordWeightsEvent(run.metrics, event),
  });
  run.closers.push({ name: 'subtensor', close: () => subtensor.close() });
  startup.ready('chain', `connected to ${redactUrl(endpoint)}`);
  const queue = await openQueue(run, handlers, startup);
  const stateStore = createFileStateStore<ValidatorState>(path.join(run.stateDir, 'state.json'));
  await importPythonState(run, stateStore);
  validator = await createValidator(
    {
      chain: subtensor,
      claims: scoring.preset.uses.claims ? openClaims(run) : null,
      registry: createHttpRegistry({ urls: config['registry.urls'], cache: createJsonFileCache(path.join(run.stateDir, 'registry_cache.json')), logger }),
      queue,
      logger,
      metrics: run.metrics,
      heads: (signal) => subtensor.heads(signal),
      pendingCommits: () => subtensor.pendingCommits(),
      timelockedCommits: () => subtensor.pendingTimelockedCommits(config.netuid, run.hotkey.address),
      stateStore,
      alertUnreachable: (p) =>
        void sendProbeAlert({
          marketplaceUrl: config['marketplace.url'],
          providerId: p.id,
          probeUrl: p.probeUrl,
          secret: config['validator.secret'] ?? undefined,
          logger,
        }),
    },
    {
      netuid: config.netuid,
      hotkey: run.hotkey.address,
      preset: scoring.preset,
      probesPerRound: config['scoring.probes_per_round'],
      timeoutSec: config['neuron.timeout'],
      epochLength: config['neuron.epoch_length'],
      versionKey: scoring.versionKey,
      scoring: summarizeScoring(scoring),
      submit: !config['neuron.dry_run'] && !config['neuron.disable_set_weights'],
    },
  );
  const running = validator;
  // Linked, not listened to: a stop signal that came during start-up has already fired its event.
  const roundsDone = new AbortController();
  const runSignal = linkSignals([ctx.signal, roundsDone.signal]);
  let rounds = 0;
  running.onRound((report, state) => {
    rounds += 1;
    if (config['neuron.dry_run']) ctx.stdout.write(weightTable(report));
    hooks.onRound?.(report, state);
    if (hooks.maxRounds !== undefined && rounds >= hooks.maxRounds) roundsDone.abort(new Error('rounds done'));
  });
  const { preset } = scoring;
  logger.info(
    { netuid: config.netuid, preset: preset.name, formula: preset.formula, versionKey: scoring.versionKey.toString(), endpoint: redactUrl(endpoint) },
    'validator running',
  );
  try {
    await running.run(runSignal.signal);
  } finally {
    runSignal.clear();
  }
  return 0;
}

function logScoring(logger: Logger, scoring: ScoringChoice): void {
  const { preset } = scoring;
  logger.info(
    {
      preset: preset.name,
      why: scoring.presetReason,
      python: preset.pythonGeneration,
      alpha: preset.alpha,
      alphaFrom: scoring.alphaSource,
      versionKey: scoring.versionKey.toString(),
      versionKeyFrom: scoring.versionKeySource,
      sends: preset.synapses,
    },
    'scoring',
  );
}

/** /health, /metrics and /status on --metrics.port (0: none). */
async function startOps(run: ValidatorRun, sources: { health: () => HealthReport; status: () => ValidatorStatus | null }): Promise<void> {
  const { config } = run;
  if (config['metrics.port'] <= 0) return;
  const ops = await startOpsServer({
    host: config['metrics.host'],
    port: config['metrics.port'],
    registry: run.metrics.registry,
    health: sources.health,
    routes: statusRoutes(sources.status),
  });
  run.closers.push({ name: 'ops server', close: () => ops.close() });
  run.logger.info({ url: ops.url }, '/health, /metrics and /status listening');
}

/** The DRAIN claims scanner over the operator's RPCs (the public ones behind them on mainnet), its window in SQLite. */
function openClaims(run: ValidatorRun) {
  const { config, metrics, stateDir } = run;
  const { scanner, close } = createClaimsScanner(config, {
    logger: run.logger,
    chainId: config['polygon.chain_id'],
    // The public RPCs stand behind an operator's own endpoints on mainnet, used only while those cannot serve.
    fallbackUrls: !run.parsed.rpcFromDefault && config['polygon.chain_id'] === 137 ? DEFAULT_POLYGON_RPCS : [],
    databasePath: path.join(stateDir, CLAIMS_DATABASE_FILE),
    legacyState: { path: path.join(stateDir, CLAIMS_STATE_FILE), movedTo: path.join(stateDir, `${CLAIMS_STATE_FILE}.imported`) },
    // A first backfill (or one after a long stop) logs percent, blocks/s and time left every 5 s.
    onProgress: backfillProgressLog(run.logger),
    // Requests and latency per redacted endpoint, failures per host and kind (never a path, query or password).
    metrics: polygonRpcRecorder(metrics),
  });
  run.closers.push({ name: 'claims scanner', close });
  return scanner;
}

/** BullMQ on Redis when REDIS_URL is set (a bounded wait, shown on /health), else in-process. */
async function openQueue(
  run: ValidatorRun,
  handlers: ValidatorJobHandlers,
  startup: ReturnType<typeof createStartupHealth>,
): Promise<JobQueue<ValidatorJobHandlers>> {
  const { config, logger } = run;
  let queue: JobQueue<ValidatorJobHandlers>;
  if (config['redis.url']) {
    const redis = redactUrl(config['redis.url']);
    const queueName = validatorQueueName(config.netuid, run.hotkey.address);
    startup.waiting('redis', `waiting for Redis at ${redis} (up to 60 s)`);
    queue = await createRedisQueue<ValidatorJobHandlers>({ redisUrl: config['redis.url'], name: queueName, logger, signal: run.ctx.signal });
    startup.ready('redis', redis);
    logger.info({ queue: queueName, redis }, 'jobs go to Redis workers');
  } else {
    queue = createInProcessQueue(handlers, { concurrency: 256 });
  }
  run.closers.push({ name: 'queue', close: () => queue.close() });
  return queue;
}

/** On the first start (no state.json yet), the Python validator's state.npz: from the flag, else its default place. */
async function importPythonState(run: ValidatorRun, store: StateStore<ValidatorState>): Promise<void> {
  const { config, logger } = run;
  const imported = await importPythonStateOnFirstStart({
    store,
    netuid: config.netuid,
    hotkey: run.hotkey.address,
    explicitPath: config['neuron.import_state'],
    defaultPath: pythonStatePath({ homeDir: run.ctx.homeDir, walletName: config['wallet.name'], walletHotkey: config['wallet.hotkey'], netuid: config.netuid }),
  });
  if (imported.kind === 'imported') logger.info({ ...imported }, 'imported the Python validator state (EMA scores, hotkeys, step)');
  else if (config['neuron.import_state'] !== null) logger.info({ reason: imported.reason }, '--neuron.import_state: nothing imported');
  else logger.debug({ reason: imported.reason }, 'no Python validator state imported');
}

/** The `--dry-run` table: one line per uid with the weight that would be set. */
export function weightTable(report: RoundReport): string {
  const lines = [
    `round at block ${report.block}${report.ok ? '' : ` (degraded: ${report.failedSteps.map((f) => f.step).join(', ')})`}`,
    'uid  hotkey            proof  claims(USDC)  probe   score     weight',
  ];
  for (const r of report.rows) {
    lines.push(
      `${String(r.uid).padEnd(4)} ${r.hotkey.slice(0, 16).padEnd(17)} ${(r.proof === null ? '-' : r.proof ? 'yes' : 'no').padEnd(6)} ${(Number(r.claims) / 1e6).toFixed(6).padStart(12)}  ${r.probeAccuracy === null ? '  -   ' : r.probeAccuracy.toFixed(3).padStart(6)}  ${r.score.toFixed(6)}  ${String(r.weight).padStart(6)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
