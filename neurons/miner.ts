/**
 * The miner's composition root: config → wallet → Polygon proof → prober → /health + /metrics →
 * subtensor → wait for registration → metagraph blacklist → verify workers → axon → serve_axon
 * (and again when the external host name moves) → marketplace registration; runs until the
 * signal, then closes in reverse order.
 */
import type { Command, CommandContext } from '../src/cli/context.js';
import { createMetagraphBlacklist, taoToRao } from '../src/axon/blacklist.js';
import { NonceStore } from '../src/axon/nonces.js';
import { createAxonServer } from '../src/axon/server.js';
import { createInlineVerifier, createVerifyPool, defaultVerifyThreads } from '../src/axon/verifyPool.js';
import { createSubtensor } from '../src/chain/subtensor/index.js';
import { DEFAULT_AXON_VERSION } from '../src/chain/subtensor/serve.js';
import { daemonLogger, loadDaemonConfig, type DaemonConfig } from '../src/cli/daemonConfig.js';
import { exitOnError } from '../src/cli/exitCodes.js';
import { ConfigError, subtensorEndpoint } from '../src/config/load.js';
import type { Config } from '../src/config/schema.js';
import { registerOnMarketplace, type HotkeySigner } from '../src/marketplace/registration.js';
import { createProber, type HostResolver } from '../src/miner/probe.js';
import { createAxonServing, publicInterfaceIpv4, waitForRegistration, type Ipv4Resolver } from '../src/miner/serving.js';
import { createMinerService } from '../src/miner/service.js';
import type { Logger } from '../src/observability/logger.js';
import { createMinerMetrics, type MinerMetrics } from '../src/observability/metrics.js';
import { redactUrl } from '../src/observability/redact.js';
import { startOpsServer } from '../src/observability/server.js';
import { minerHealth, type MinerHealthParts } from '../src/miner/health.js';
import { loadWallet, walletParameters } from '../src/wallet/hotkey.js';
import { loadPolygonAccount } from '../src/wallet/polygon.js';
import { initCrypto } from '../src/wallet/sr25519.js';
import { createCloseStack, type CloseStack } from '../src/util/closeStack.js';

/** Seams for the local network and tests; the CLI passes none. */
export interface MinerHooks {
  logger?: Logger;
  /** Resolves `--axon.external_ip` host names (tests simulate a name that moves). */
  resolveIpv4?: Ipv4Resolver;
  /** DNS for probe targets (tests simulate names resolving to private addresses). */
  probeLookup?: HostResolver;
  /** Between two registration checks (default 60 s). */
  registrationRetryMs?: number;
  /** Between two resolutions of a host-name external IP (default 5 min). */
  externalRecheckMs?: number;
  /** An unknown caller re-reads the metagraph at most this often (default 60 s). */
  unknownCallerRefreshMs?: number;
  /** Called once the axon listens and is being served. */
  onReady?: (info: MinerReadyInfo) => void;
}

export interface MinerReadyInfo {
  uid: number;
  hotkey: string;
  axon: { host: string; port: number };
  /** `http://host:port` of /health and /metrics, or null when --metrics.port is 0. */
  opsUrl: string | null;
}

export const runMiner: Command = (ctx) => startMiner(ctx, {});

export async function startMiner(ctx: CommandContext, hooks: MinerHooks): Promise<number> {
  let parsed: DaemonConfig;
  try {
    parsed = loadDaemonConfig(ctx);
  } catch (err) {
    return exitOnError(ctx, 'miner', err);
  }
  const { config } = parsed;
  const logger = hooks.logger ?? daemonLogger('hs58-miner', parsed, ctx);
  const closers = createCloseStack(logger);
  // Background loops stop with this; it follows the process signal.
  const running = new AbortController();
  const stopRunning = () => running.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', stopRunning, { once: true });
  closers.push({ name: 'background loops', close: () => running.abort(new Error('miner closing')) });
  const parts: MinerHealthParts = { axon: null, blacklist: null, serving: null, subtensor: null, phase: 'starting' };
  // Process metrics (a GC observer and an event-loop monitor, never stopped) only where /metrics is served.
  const metrics = createMinerMetrics({ build: ctx.build, processMetrics: config['metrics.port'] > 0 });
  const run: MinerRun = { config, hooks, logger, closers, signal: running.signal, metrics, parts };

  try {
    const settings = await checkSettings(run);
    let opsUrl: string | null = null;
    if (config['metrics.port'] > 0) {
      const ops = await startOpsServer({
        host: config['metrics.host'],
        port: config['metrics.port'],
        registry: run.metrics.registry,
        health: () => minerHealth(parts),
      });
      closers.push({ name: 'ops server', close: () => ops.close() });
      opsUrl = ops.url;
      logger.info({ url: ops.url }, '/health and /metrics listening');
    }
    const chain = await joinChain(run, settings);
    const { bound, service } = await startAxon(run, settings, chain);
    const external = announce(run, settings, chain, service.identity.polygonWallet);

    parts.phase = 'serving';
    logger.info({ netuid: config.netuid, uid: chain.uid, axon: bound, external, endpoint: redactUrl(chain.endpoint) }, 'miner running');
    hooks.onReady?.({ uid: chain.uid, hotkey: settings.hotkey.address, axon: bound, opsUrl });
    await new Promise<void>((resolve) => {
      if (running.signal.aborted) resolve();
      else running.signal.addEventListener('abort', () => resolve(), { once: true });
    });
    logger.info('miner stopping');
    return 0;
  } catch (err) {
    return exitOnError(ctx, 'miner', err, { logger, stoppedMessage: 'miner stopped before it was serving' });
  } finally {
    ctx.signal.removeEventListener('abort', stopRunning);
    await closers.closeAll();
  }
}

/** What the phases of a miner's start share. */
interface MinerRun {
  config: Config;
  hooks: MinerHooks;
  logger: Logger;
  closers: CloseStack;
  /** Background loops stop with this. */
  signal: AbortSignal;
  metrics: MinerMetrics;
  /** What /health reports, filled in as the start goes. */
  parts: MinerHealthParts;
}

type MinerSettings = Awaited<ReturnType<typeof checkSettings>>;
type MinerChain = Awaited<ReturnType<typeof joinChain>>;

/** Everything that can be wrong with the configuration fails here, before any network. */
async function checkSettings({ config, hooks, logger }: MinerRun) {
  const wallet = await loadWallet(walletParameters(config));
  for (const n of wallet.notices) logger.info(n);
  const hotkey = wallet.hotkey;
  await initCrypto();
  logger.info({ hotkey: hotkey.address, source: hotkey.source }, 'hotkey loaded');

  const polygonKey = config['polygon.private_key'];
  const polygonAccount = polygonKey ? loadPolygonAccount({ privateKey: polygonKey, expectedWallet: config['polygon.wallet'] }) : null;
  const polygonWallet = config['polygon.wallet'];
  if (polygonWallet && !/^0x[0-9a-fA-F]{40}$/.test(polygonWallet.trim())) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `POLYGON_WALLET (--polygon.wallet) ${JSON.stringify(polygonWallet.slice(0, 64))} is not a 0x-prefixed 20-byte address.`,
    );
  }
  const prober = createProber({
    timeoutMs: config['probe.timeout_ms'],
    maxRedirects: config['probe.max_redirects'],
    maxBodyBytes: config['probe.max_body_bytes'],
    concurrency: config['probe.concurrency'],
    allow: config['probe.allow'],
    lookup: hooks.probeLookup,
  });
  if (config['probe.allow'].length > 0) logger.warn({ allow: config['probe.allow'] }, 'probes may reach these private addresses (--probe.allow)');
  const minStakeRao = taoToRao(config['blacklist.min_stake']);
  if (!config['blacklist.force_validator_permit'])
    logger.warn(
      'callers without a validator permit are served (--blacklist.force_validator_permit false); any registered hotkey can make this miner probe URLs',
    );
  const externalPort = config['axon.external_port'] ?? config['axon.port'];
  return { hotkey, polygonAccount, polygonWallet: polygonWallet?.trim() || null, prober, minStakeRao, externalPort };
}

/** The chain: connected, the hotkey registered (waiting for it), the metagraph blacklist loaded and kept fresh. */
async function joinChain({ config, hooks, logger, closers, signal, metrics, parts }: MinerRun, settings: MinerSettings) {
  const endpoint = subtensorEndpoint(config);
  const subtensor = await createSubtensor({ endpoint, hotkey: settings.hotkey.pair, logger, autoReveal: false, signal });
  closers.push({ name: 'subtensor', close: () => subtensor.close() });
  parts.subtensor = subtensor;
  parts.phase = 'waiting for registration';
  const uid = await waitForRegistration({
    subtensor,
    netuid: config.netuid,
    hotkey: settings.hotkey.address,
    retryMs: hooks.registrationRetryMs,
    walletName: config['wallet.name'],
    walletHotkey: config['wallet.hotkey'],
    logger,
    signal,
  });

  const blacklist = createMetagraphBlacklist({
    subtensor,
    netuid: config.netuid,
    forceValidatorPermit: config['blacklist.force_validator_permit'],
    minStakeRao: settings.minStakeRao,
    // The Python miner re-syncs every max(epoch_length · 12 s, 120 s).
    refreshMs: Math.max(config['neuron.epoch_length'] * 12, 120) * 1000,
    unknownRefreshMs: hooks.unknownCallerRefreshMs,
    logger,
    metrics,
  });
  parts.blacklist = blacklist;
  await blacklist.refresh(signal);
  void blacklist.run(signal);
  return { endpoint, subtensor, uid, blacklist };
}

/** The axon: the synapse handlers, the verify workers, listening. */
async function startAxon({ config, logger, closers, metrics, parts }: MinerRun, settings: MinerSettings, chain: MinerChain) {
  const service = await createMinerService({
    hotkeyAddress: settings.hotkey.address,
    polygonAccount: settings.polygonAccount,
    polygonWallet: settings.polygonWallet,
    apiUrl: config['miner.api_url'],
    prober: settings.prober,
    logger,
    metrics,
  });
  const threads = config['axon.verify_threads'] ?? defaultVerifyThreads();
  // Elastic: a miner's usual load is verified on the main thread, a burst starts the workers (10–20 MB each), idle ones stop.
  const verifier = threads > 0 ? await createVerifyPool({ threads, minThreads: 0, logger }) : await createInlineVerifier();
  closers.push({ name: 'verify workers', close: () => verifier.close() });
  const axon = createAxonServer({
    hotkey: settings.hotkey,
    handlers: service.handlers,
    blacklist: chain.blacklist.blacklist,
    priorityFn: chain.blacklist.priority,
    verifier,
    nonces: new NonceStore(),
    limits: { maxQueue: config['axon.max_queue'], handlerConcurrency: Math.max(16, config['probe.concurrency'] * 2) },
    metrics,
    logger: logger.child({ module: 'axon' }),
  });
  const bound = await axon.listen({ host: config['axon.ip'], port: config['axon.port'] });
  closers.push({ name: 'axon', close: () => axon.close() });
  parts.axon = axon;
  return { bound, service };
}

/** On chain (served again when the external host name moves), and on the marketplace; the external address, or null when not served. */
function announce({ config, hooks, logger, signal, parts }: MinerRun, settings: MinerSettings, chain: MinerChain, polygonWallet: string | null): string | null {
  const externalHost = config['axon.external_ip'] ?? publicInterfaceIpv4();
  if (externalHost === null) {
    logger.warn('no --axon.external_ip (AXON_EXTERNAL_IP) and no public IPv4 on this machine: the axon is NOT served on chain and validators cannot reach it');
  } else {
    const serving = createAxonServing({
      subtensor: chain.subtensor,
      netuid: config.netuid,
      externalHost,
      externalPort: settings.externalPort,
      version: DEFAULT_AXON_VERSION,
      resolveIpv4: hooks.resolveIpv4,
      recheckMs: hooks.externalRecheckMs,
      logger,
    });
    parts.serving = serving;
    void serving.run(signal);
  }
  if (!config['marketplace.register']) logger.info('marketplace registration turned off (--marketplace.register false)');
  else void registerMarketplace(config, settings.hotkey, chain.uid, polygonWallet, logger, signal);
  return externalHost === null ? null : `${externalHost}:${settings.externalPort}`;
}

async function registerMarketplace(config: Config, hotkey: HotkeySigner, uid: number, polygonWallet: string | null, logger: Logger, signal: AbortSignal) {
  const apiUrl = config['miner.api_url'];
  if (!apiUrl || !polygonWallet) {
    logger.info({ reason: !apiUrl ? 'no API_URL' : 'no POLYGON_WALLET' }, 'marketplace registration skipped');
    return;
  }
  const result = await registerOnMarketplace({ marketplaceUrl: config['marketplace.url'], hotkey, apiUrl, providerAddress: polygonWallet, uid, signal });
  if (result.ok) logger.info({ marketplace: redactUrl(config['marketplace.url']), status: result.status }, 'registered on the marketplace');
  else if (!signal.aborted)
    logger.warn(
      { marketplace: redactUrl(config['marketplace.url']), reason: result.reason },
      'marketplace registration failed (not fatal; retried at the next start)',
    );
}
