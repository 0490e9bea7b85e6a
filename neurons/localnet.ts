/**
 * `hs58 localnet`: the whole subnet on this machine. anvil with the DRAIN contracts and a
 * USDC-like token; Chopsticks running the real subtensor runtime with a subnet, a validator
 * and K miners; K miner daemons; local providers (healthy, flaky, slow, down) behind a
 * registry; consumers that open channels which some miners' wallets claim from; one
 * validator. After each round it prints a table whose weights are read back from the chain.
 */
// Chopsticks reads LOG_LEVEL once, when it is first imported (lazily, by startChopsticks).
process.env.LOG_LEVEL ??= 'error';

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { mnemonicToAccount } from 'viem/accounts';
import type { Command, CommandContext } from '../src/cli/context.js';
import { createSubtensor } from '../src/chain/subtensor/index.js';
import { formatUsdc } from '../src/chain/polygon/claimsStore.js';
import { loadConfig, ConfigError } from '../src/config/load.js';
import { errorMessage } from '../src/errors.js';
import { startAnvil } from '../src/localnet/anvil.js';
import { resolveChainSpec } from '../src/localnet/chainSpec.js';
import { startChopsticks } from '../src/localnet/chopsticks.js';
import {
  approveUsdc, claim, compileDrainContracts, createLocalChainClient, deployDrain, deployMockUsdc, mintUsdc, openChannel, signVoucher,
} from '../src/localnet/contracts.js';
import { freeLoopbackPort } from '../src/localnet/ports.js';
import { startLocalProvider, startLocalRegistry, type LocalProvider } from '../src/localnet/providers.js';
import { prepareLocalSubnet } from '../src/localnet/subnet.js';
import { createLogger, type Logger } from '../src/observability/logger.js';
import type { RoundReport } from '../src/validator/round.js';
import type { ValidatorState } from '../src/validator/state.js';
import { createWalletFiles } from '../src/wallet/files.js';
import { startMiner } from './miner.js';
import { startValidator } from './validator.js';

const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
const USDC = 1_000_000n;

export interface LocalNetworkOptions {
  chainSpecPath: string;
  miners: number;
  /** Stop after this many validator rounds; undefined: until the signal. */
  epochs?: number;
  preset: string;
  /** Validator round every this many blocks. */
  epochLength: number;
  /** Chopsticks builds a block this often (it has no timer of its own). */
  blockIntervalMs: number;
  /** USDC each miner's wallet claims (index = miner); miners past the list claim 0. */
  claimsUsdc: number[];
  /** Miners (index) that run without a Polygon key: no wallet proof. */
  withoutWallet: number[];
  statusPort: number;
  logger: Logger;
  out: (line: string) => void;
  signal: AbortSignal;
  onRound?: (row: LocalRound) => void;
}

export interface LocalRoundRow {
  uid: number;
  hotkey: string;
  claimsUsdc: string;
  proof: boolean | null;
  probeAccuracy: number | null;
  score: number;
  /** u16 weight stored on chain for this uid by the validator (0 when absent). */
  chainWeight: number;
}

export interface LocalRound {
  round: number;
  report: RoundReport;
  rows: LocalRoundRow[];
  statusUrl: string | null;
}

export const DEFAULT_LOCALNET: Omit<LocalNetworkOptions, 'chainSpecPath' | 'logger' | 'out' | 'signal'> = {
  miners: 4,
  preset: 'hs58',
  epochLength: 5,
  blockIntervalMs: 1000,
  claimsUsdc: [30, 10, 0, 5],
  withoutWallet: [3],
  statusPort: 9180,
};

export async function runLocalNetwork(opts: LocalNetworkOptions): Promise<LocalRound[]> {
  const log = opts.logger.child({ module: 'localnet' });
  const closers: { name: string; close: () => Promise<void> | void }[] = [];
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const rounds: LocalRound[] = [];
  const started = Date.now();
  try {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'hs58-localnet-'));
    closers.push({ name: 'work dir', close: () => rm(workDir, { recursive: true, force: true }) });

    // Polygon: anvil, token, the DRAIN contract.
    const anvil = await startAnvil({ chainId: 31337 });
    closers.push({ name: 'anvil', close: () => anvil.stop() });
    const deployer = createLocalChainClient({ url: anvil.url, account: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 }), chainId: 31337 });
    const artifacts = await compileDrainContracts();
    const usdc = await deployMockUsdc(deployer, artifacts);
    const drain = await deployDrain(deployer, { usdc, artifacts });
    log.info({ anvil: anvil.url, usdc, drain }, 'anvil ready with DrainChannel and USDC');

    // Bittensor: Chopsticks with the real runtime.
    const chain = await startChopsticks({ chainSpecPath: opts.chainSpecPath });
    closers.push({ name: 'chopsticks', close: () => chain.close() });
    const walletPath = path.join(workDir, 'wallets');
    const hotkeyNames = ['validator', ...Array.from({ length: opts.miners }, (_, i) => `miner${i + 1}`)];
    const hotkeys: string[] = [];
    for (const hotkey of hotkeyNames) hotkeys.push((await createWalletFiles({ walletPath, name: 'localnet', hotkey })).hotkeyAddress);
    const api = await ApiPromise.create({ provider: new WsProvider(chain.endpoint), noInitWarn: true });
    closers.push({ name: 'setup api', close: () => api.disconnect() });
    await cryptoWaitReady();
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const subnet = await prepareLocalSubnet(api, {
      sudoKey: alice,
      tempo: 10,
      weightsRateLimit: 0,
      servingRateLimit: 0,
      register: hotkeys.map((hotkey) => ({ hotkey, coldkey: alice })),
    });
    const netuid = subnet.netuid;
    log.info({ endpoint: chain.endpoint, netuid, uids: subnet.uids }, 'subnet ready');

    // Providers behind a registry, and a marketplace sink for alerts.
    const providers: LocalProvider[] = [];
    for (const [id, behaviour] of [['alpha', 'healthy'], ['beta', 'healthy'], ['gamma', 'flaky'], ['delta', 'slow'], ['omega', 'down']] as const) {
      const p = await startLocalProvider({ id, behaviour, delayMs: 1_500 });
      providers.push(p);
      closers.push({ name: `provider ${id}`, close: () => p.close() });
    }
    const registry = await startLocalRegistry(() => providers);
    closers.push({ name: 'registry', close: () => registry.close() });

    // Consumers open channels to the miners' wallets; the providers claim.
    const minerWallets = Array.from({ length: opts.miners }, (_, i) => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 + i }));
    for (let i = 0; i < opts.miners; i++) {
      const amount = BigInt(Math.round((opts.claimsUsdc[i] ?? 0) * 1e6));
      if (amount === 0n) continue;
      const consumerAccount = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 + opts.miners + i });
      const consumer = createLocalChainClient({ url: anvil.url, account: consumerAccount, chainId: 31337 });
      const provider = createLocalChainClient({ url: anvil.url, account: minerWallets[i]!, chainId: 31337 });
      await mintUsdc(deployer, { usdc, to: consumerAccount.address, amount: amount * 2n });
      await approveUsdc(consumer, { usdc, spender: drain, amount: amount * 2n });
      const ch = await openChannel(consumer, { contract: drain, provider: minerWallets[i]!.address, amount: amount * 2n, duration: 86_400n });
      // Two claims per channel: the voucher total grows, each claim pays the increase.
      for (const [nonce, total] of [[1n, amount / 2n], [2n, amount]] as const) {
        const signature = await signVoucher(consumerAccount, { contract: drain, chainId: 31337, channelId: ch.channelId, amount: total, nonce });
        await claim(provider, { contract: drain, channelId: ch.channelId, amount: total, nonce, signature });
      }
    }
    await deployer.request({ method: 'anvil_mine' as never, params: ['0x40'] as never });
    log.info({ claims: opts.claimsUsdc.slice(0, opts.miners) }, 'consumers paid, providers claimed');

    // Miners: in this process, each its own axon on loopback, served on chain as 10.0.0.x.
    const portOf = new Map<string, number>();
    const minersReady: Promise<void>[] = [];
    for (let i = 0; i < opts.miners; i++) {
      const port = await freeLoopbackPort();
      const onChainIp = `10.0.0.${i + 2}`;
      portOf.set(`${onChainIp}:${port}`, port);
      const env: Record<string, string> = { API_URL: providers[i % 2]!.probeUrl.replace('/health', '') };
      if (!opts.withoutWallet.includes(i)) {
        const hex = (minerWallets[i]!.getHdKey().privateKey as Uint8Array | null)!;
        env.POLYGON_PRIVATE_KEY = `0x${Buffer.from(hex).toString('hex')}`;
        env.POLYGON_WALLET = minerWallets[i]!.address;
      }
      const argv = [
        '--netuid', String(netuid), '--subtensor.chain_endpoint', chain.endpoint, '--wallet.path', walletPath, '--wallet.name', 'localnet',
        '--wallet.hotkey', `miner${i + 1}`, '--axon.ip', '127.0.0.1', '--axon.port', String(port), '--axon.external_ip', onChainIp,
        '--axon.external_port', String(port), '--metrics.port', '0', '--marketplace.register', 'false', '--probe.allow', '127.0.0.1',
        '--probe.timeout_ms', '3000',
      ];
      let ready!: () => void;
      minersReady.push(new Promise<void>((r) => (ready = r)));
      const done = startMiner(subContext(argv, env, stop.signal), { logger: opts.logger.child({ miner: i + 1 }), onReady: () => ready(), registrationRetryMs: 1_000 });
      closers.push({ name: `miner ${i + 1}`, close: async () => void (await done) });
      void done.then((code) => code !== 0 && !stop.signal.aborted && log.error({ miner: i + 1, code }, 'miner exited'));
    }
    const ticking = chain.produceBlocks(opts.blockIntervalMs);
    closers.push({ name: 'block production', close: () => ticking() });
    await Promise.race([Promise.all(minersReady), aborted(stop.signal)]);

    // Reads the chain as a third party: axons served, and later the weights the validator set.
    const reader = await createSubtensor({ endpoint: chain.endpoint, logger: opts.logger.child({ module: 'reader' }) });
    closers.push({ name: 'reader', close: () => reader.close() });
    const validatorUid = subnet.uids[hotkeys[0]!]!;
    const minerUids = hotkeys.slice(1).map((h) => subnet.uids[h]!);
    for (let i = 0; ; i++) {
      const mg = await reader.getMetagraph(netuid);
      if (minerUids.every((uid) => mg.axons[uid]?.ip.startsWith('10.0.0.'))) break;
      if (i > 120 || stop.signal.aborted) throw new Error('miners did not serve their axons on chain within 60 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    log.info('miners serving on chain');


    const argv = [
      '--netuid', String(netuid), '--subtensor.chain_endpoint', chain.endpoint, '--wallet.path', walletPath, '--wallet.name', 'localnet',
      '--wallet.hotkey', 'validator', '--polygon.rpc_url', anvil.url, '--polygon.contracts', drain, '--polygon.chain_id', '31337',
      '--polygon.confirmations', '2', '--registry.urls', registry.url, '--neuron.epoch_length', String(opts.epochLength),
      '--neuron.timeout', '6', '--neuron.state_path', path.join(workDir, 'state'), '--metrics.host', '127.0.0.1',
      '--metrics.port', String(opts.statusPort), '--scoring.preset', opts.preset, '--marketplace.url', registry.url.replace(/\/api\/.*$/, ''),
    ];
    const statusUrl = opts.statusPort > 0 ? `http://127.0.0.1:${opts.statusPort}/status` : null;
    opts.out(`local network ready in ${((Date.now() - started) / 1000).toFixed(1)} s · netuid ${netuid} · ${opts.miners} miners · preset ${opts.preset}${statusUrl ? ` · status ${statusUrl}` : ''}\n`);
    const code = await startValidator(subContext(argv, {}, stop.signal), {
      logger: opts.logger.child({ module: 'validator' }),
      resolveAddress: (ip, port) => (portOf.has(`${ip}:${port}`) ? { host: '127.0.0.1', port } : { host: ip, port }),
      maxRounds: opts.epochs,
      onRound: (report: RoundReport, _state: ValidatorState) => {
        void (async () => {
          let stored: [number, number][] = [];
          try {
            stored = await reader.getWeights(netuid, validatorUid);
          } catch (err) {
            log.warn({ err: errorMessage(err) }, 'weights not read back');
          }
          const onChain = new Map(stored);
          const rows: LocalRoundRow[] = report.rows.map((r) => ({
            uid: r.uid,
            hotkey: r.hotkey,
            claimsUsdc: formatUsdc(r.claims),
            proof: r.proof,
            probeAccuracy: r.probeAccuracy,
            score: r.score,
            chainWeight: onChain.get(r.uid) ?? 0,
          }));
          const round: LocalRound = { round: rounds.length + 1, report, rows, statusUrl };
          rounds.push(round);
          opts.out(renderRound(round));
          opts.onRound?.(round);
        })();
      },
    });
    if (code !== 0 && !stop.signal.aborted) throw new Error(`validator exited with code ${code}`);
    // Let the last table's chain read finish.
    await new Promise((r) => setTimeout(r, 500));
    return rounds;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    stop.abort(new Error('local network stopping'));
    for (const c of closers.reverse()) {
      try {
        log.debug({ part: c.name }, 'closing');
        await c.close();
      } catch (err) {
        log.warn({ part: c.name, err: errorMessage(err) }, 'close failed');
      }
    }
  }
}

function subContext(argv: string[], env: Record<string, string>, signal: AbortSignal): CommandContext {
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  return { argv, env, cwd: process.cwd(), homeDir: os.homedir(), stdout: sink, stderr: sink, signal };
}

function aborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

export function renderRound(r: LocalRound): string {
  const lines = [
    `\nround ${r.round} · block ${r.report.block}${r.report.ok ? '' : ` · degraded: ${r.report.failedSteps.map((f) => f.step).join(', ')}`}`,
    'uid  hotkey            claims USDC   proof  probe acc  EMA score   weight on chain',
  ];
  for (const row of r.rows) {
    lines.push(
      `${String(row.uid).padEnd(4)} ${row.hotkey.slice(0, 16).padEnd(17)} ${row.claimsUsdc.padStart(11)}   ${(row.proof === null ? '-' : row.proof ? 'yes' : 'no').padEnd(5)}  ${(row.probeAccuracy === null ? '-' : row.probeAccuracy.toFixed(3)).padStart(9)}  ${row.score.toFixed(6).padStart(9)}  ${String(row.chainWeight).padStart(15)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export const runLocalnet: Command = async (ctx) => {
  let parsed;
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
      preset: config['scoring.preset'],
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

