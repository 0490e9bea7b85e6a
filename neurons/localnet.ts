/**
 * `hs58 localnet`: the whole subnet on this machine. anvil with the DRAIN contracts and a
 * USDC-like token; Chopsticks running the real subtensor runtime with a subnet, a validator
 * and K miners; K miner daemons; local providers (healthy, flaky, slow, down) behind a
 * registry; consumers that open channels which some miners' wallets claim from; one
 * validator. After each round it prints a table whose weights are read back from the chain.
 *
 * `startLocalNetwork` builds everything but the validator and hands back the parts, so that
 * the end-to-end tests run validators (several presets, restarts, Redis workers) against one
 * network; `runLocalNetwork` is that plus one validator, as the CLI runs it.
 */
// Chopsticks reads LOG_LEVEL once, when it is first imported (lazily, by startChopsticks).
process.env.LOG_LEVEL ??= 'error';

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { Address } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import type { Command, CommandContext } from '../src/cli/context.js';
import { createSubtensor, encodeIp, type SubtensorClient } from '../src/chain/subtensor/index.js';
import { AXON_PROTOCOL_HTTP, DEFAULT_AXON_VERSION } from '../src/chain/subtensor/serve.js';
import { signAndWatch } from '../src/chain/subtensor/tx.js';
import { formatUsdc } from '../src/chain/polygon/claimsStore.js';
import { loadDaemonConfig } from '../src/cli/daemonConfig.js';
import { exitOnError } from '../src/cli/exitCodes.js';
import { ConfigError } from '../src/config/load.js';
import { errorMessage } from '../src/errors.js';
import { startAnvil } from '../src/localnet/anvil.js';
import { resolveChainSpec } from '../src/localnet/chainSpec.js';
import { startChopsticks, type LocalChain } from '../src/localnet/chopsticks.js';
import {
  approveUsdc, claim, compileDrainContracts, createLocalChainClient, deployDrain, deployMockUsdc, mintUsdc, openChannel, signVoucher,
  type LocalChainClient,
} from '../src/localnet/contracts.js';
import { freeLoopbackPort } from '../src/localnet/ports.js';
import { startLocalProvider, startLocalRegistry, type LocalProvider, type ProviderBehaviour } from '../src/localnet/providers.js';
import { prepareLocalSubnet } from '../src/localnet/subnet.js';
import { createLogger, type Logger } from '../src/observability/logger.js';
import type { RoundReport } from '../src/validator/report.js';
import type { ValidatorState } from '../src/validator/state.js';
import { createWalletFiles } from '../src/wallet/files.js';
import { loadHotkey } from '../src/wallet/hotkey.js';
import { startMiner } from './miner.js';
import { startValidator, type ValidatorHooks } from './validator.js';
import { createCloseStack } from '../src/util/closeStack.js';
import { linkSignals } from '../src/util/deadline.js';

const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
const ANVIL_CHAIN_ID = 31337;
const WALLET_NAME = 'localnet';
/** Blocks mined after a payment so its claims are past the validator's `--polygon.confirmations 2`. */
const CONFIRMING_BLOCKS = 4;

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
  /** The validator's state as saved after this round. */
  state: ValidatorState;
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

export interface LocalProviderSpec {
  id: string;
  behaviour: ProviderBehaviour;
  /** `slow` answers after this (default 1.5 s). */
  delayMs?: number;
}

export const DEFAULT_LOCAL_PROVIDERS: readonly LocalProviderSpec[] = [
  { id: 'alpha', behaviour: 'healthy' },
  { id: 'beta', behaviour: 'healthy' },
  { id: 'gamma', behaviour: 'flaky' },
  { id: 'delta', behaviour: 'slow' },
  { id: 'omega', behaviour: 'down' },
];

export interface StartLocalNetworkOptions {
  chainSpecPath: string;
  /** TypeScript miner daemons (hotkeys `miner1`…`minerK`). */
  miners: number;
  /** USDC each miner's wallet claims (index = miner); miners past the list claim 0. */
  claimsUsdc: readonly number[];
  /** Miners (index) that run without a Polygon key: no wallet proof. */
  withoutWallet: readonly number[];
  /** Local providers behind the registry (default: healthy, healthy, flaky, slow, down). */
  providers?: readonly LocalProviderSpec[];
  /** More hotkeys registered on the subnet (wallet files in `walletPath`) for axons the caller runs itself. */
  extraHotkeys?: readonly string[];
  /**
   * Where axons are on chain. 'mapped' (default): 10.0.0.N, listening on 127.0.0.1; only an
   * in-process validator reaches them, through `resolveAddress`. 'loopback': 127.0.0.N, where
   * they listen (the runtime accepts any loopback address but 127.0.0.1; the miner daemon
   * refuses loopback, so the network serves them again itself): validator worker processes,
   * which have no address mapping, reach them too. Linux only (127.0.0.0/8 is all local there).
   */
  axonAddressing?: 'mapped' | 'loopback';
  /** Chopsticks builds a block this often (it has no timer of its own). */
  blockIntervalMs: number;
  logger: Logger;
  signal: AbortSignal;
}

export interface ServedAxon {
  /** Address on chain. */
  ip: string;
  port: number;
  /** Where it listens. */
  host: string;
}

export interface ValidatorArgvOptions {
  /** `--scoring.preset`; undefined: not passed (the validator's own default). */
  preset: string | undefined;
  /** `--neuron.state_path`. */
  statePath: string;
  epochLength: number;
  /** `--neuron.timeout` seconds (default 6). */
  timeoutSec?: number;
  probesPerRound?: number;
  /** 0: no /health, /metrics, /status server (default). */
  statusPort?: number;
  /** Polygon RPC endpoint (default: anvil itself). */
  polygonRpcUrl?: string;
}

export interface RunLocalValidatorOptions {
  argv: string[];
  env?: Record<string, string>;
  maxRounds?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Receives what the validator prints (the `--neuron.dry_run` table). */
  stdout?: (text: string) => void;
  statusUrl?: string | null;
  onRound?: (round: LocalRound) => void;
  /** Replaces the validator's job handlers (a test records what the miners answered). */
  jobHandlers?: ValidatorHooks['jobHandlers'];
  /** The validator's home folder (where it looks for a Python validator's state); default: the user's. */
  homeDir?: string;
}

export interface LocalNetwork {
  netuid: number;
  chain: LocalChain;
  anvilUrl: string;
  drain: Address;
  usdc: Address;
  /** Wallet files of every hotkey (wallet name `localnet`). */
  walletPath: string;
  walletName: string;
  /** A scratch folder removed by `close()`. */
  workDir: string;
  /** Hotkey name → SS58 (`validator`, `miner1`…, the extra hotkeys). */
  hotkeys: Record<string, string>;
  /** Hotkey name → uid. */
  uids: Record<string, number>;
  /** The Polygon account of each TS miner (index = miner), whether it runs with the key or not. */
  minerWallets: HDAccount[];
  providers: LocalProvider[];
  registry: { url: string; requests: () => number };
  /** Reads the chain as a third party. */
  reader: SubtensorClient;
  /** What was claimed per lowercase provider address, by this network's own bookkeeping. */
  claimed: Map<string, bigint>;
  /** Number of successful claim transactions. */
  claimCount: () => number;
  /** A funded Polygon account of this network's mnemonic that is nobody's yet (index ≥ 0). */
  polygonAccount(index: number): Promise<HDAccount>;
  /** A new consumer opens a channel to `provider`, who claims `usdc` in two vouchers; blocks are mined past the confirmations. */
  pay(provider: HDAccount, usdc: number): Promise<void>;
  /**
   * An address for an axon the caller runs with a hotkey of `extraHotkeys`: listen on `host`,
   * then `serve(port)` puts `ip:port` on chain (signed by that hotkey) and maps it for `resolveAddress`.
   */
  axonAddress(hotkeyName: string): { ip: string; host: string; serve: (port: number) => Promise<ServedAxon> };
  resolveAddress(ip: string, port: number): { host: string; port: number };
  validatorArgv(o: ValidatorArgvOptions): string[];
  /** The validator's stored weight row, uid → u16. */
  weightsOnChain(): Promise<Map<number, number>>;
  /** Runs `startValidator` in this process; resolves when it returned, with the rounds it made (weights read back from chain). */
  runValidator(o: RunLocalValidatorOptions): Promise<{ code: number; rounds: LocalRound[] }>;
  close(): Promise<void>;
}

export async function startLocalNetwork(opts: StartLocalNetworkOptions): Promise<LocalNetwork> {
  const log = opts.logger.child({ module: 'localnet' });
  const closers = createCloseStack(log);
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal.reason);
  if (opts.signal.aborted) onAbort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const loopback = opts.axonAddressing === 'loopback';
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      opts.signal.removeEventListener('abort', onAbort);
      stop.abort(new Error('local network stopping'));
      await closers.closeAll();
    })());

  try {
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'hs58-localnet-'));
    closers.push({ name: 'work dir', close: () => rm(workDir, { recursive: true, force: true }) });

    // Polygon: anvil, token, the DRAIN contract.
    const anvil = await startAnvil({ chainId: ANVIL_CHAIN_ID });
    closers.push({ name: 'anvil', close: () => anvil.stop() });
    const deployer = createLocalChainClient({ url: anvil.url, account: mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 0 }), chainId: ANVIL_CHAIN_ID });
    const artifacts = await compileDrainContracts();
    const usdc = await deployMockUsdc(deployer, artifacts);
    const drain = await deployDrain(deployer, { usdc, artifacts });
    log.info({ anvil: anvil.url, usdc, drain }, 'anvil ready with DrainChannel and USDC');

    // Bittensor: Chopsticks with the real runtime.
    const chain = await startChopsticks({ chainSpecPath: opts.chainSpecPath });
    closers.push({ name: 'chopsticks', close: () => chain.close() });
    const walletPath = path.join(workDir, 'wallets');
    const minerNames = Array.from({ length: opts.miners }, (_, i) => `miner${i + 1}`);
    const hotkeyNames = ['validator', ...minerNames, ...(opts.extraHotkeys ?? [])];
    const hotkeys: Record<string, string> = {};
    for (const name of hotkeyNames) hotkeys[name] = (await createWalletFiles({ walletPath, name: WALLET_NAME, hotkey: name })).hotkeyAddress;
    const api = await ApiPromise.create({ provider: new WsProvider(chain.endpoint), noInitWarn: true });
    closers.push({ name: 'setup api', close: () => api.disconnect() });
    await cryptoWaitReady();
    const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const subnet = await prepareLocalSubnet(api, {
      sudoKey: alice,
      tempo: 10,
      weightsRateLimit: 0,
      servingRateLimit: 0,
      register: hotkeyNames.map((name) => ({ hotkey: hotkeys[name]!, coldkey: alice })),
    });
    const netuid = subnet.netuid;
    const uids = Object.fromEntries(hotkeyNames.map((name) => [name, subnet.uids[hotkeys[name]!]!]));
    log.info({ endpoint: chain.endpoint, netuid, uids }, 'subnet ready');

    // Providers behind a registry.
    const providers: LocalProvider[] = [];
    for (const spec of opts.providers ?? DEFAULT_LOCAL_PROVIDERS) {
      const p = await startLocalProvider({ id: spec.id, behaviour: spec.behaviour, delayMs: spec.delayMs ?? 1_500 });
      providers.push(p);
      closers.push({ name: `provider ${spec.id}`, close: () => p.close() });
    }
    let registryRequests = 0;
    const registryServer = await startLocalRegistry(() => {
      registryRequests += 1;
      return providers;
    });
    closers.push({ name: 'registry', close: () => registryServer.close() });

    // Polygon bookkeeping: every account gets gas money; every claim is counted here, never from a scan.
    const claimed = new Map<string, bigint>();
    let claims = 0;
    let consumers = 0;
    const funded = new Set<string>();
    const fund = async (address: Address) => {
      if (funded.has(address)) return;
      await deployer.request({ method: 'anvil_setBalance' as never, params: [address, '0x56BC75E2D63100000'] as never });
      funded.add(address);
    };
    const pay = async (provider: HDAccount, usdcAmount: number) => {
      const amount = BigInt(Math.round(usdcAmount * 1e6));
      if (amount <= 0n) return;
      const consumerAccount = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 10_000 + consumers++ });
      await Promise.all([fund(consumerAccount.address), fund(provider.address)]);
      const consumer: LocalChainClient = createLocalChainClient({ url: anvil.url, account: consumerAccount, chainId: ANVIL_CHAIN_ID });
      const providerClient = createLocalChainClient({ url: anvil.url, account: provider, chainId: ANVIL_CHAIN_ID });
      await mintUsdc(deployer, { usdc, to: consumerAccount.address, amount: amount * 2n });
      await approveUsdc(consumer, { usdc, spender: drain, amount: amount * 2n });
      const ch = await openChannel(consumer, { contract: drain, provider: provider.address, amount: amount * 2n, duration: 86_400n });
      // Two claims per channel: the voucher total grows, each claim pays the increase.
      for (const [nonce, total] of [[1n, amount / 2n], [2n, amount]] as const) {
        const signature = await signVoucher(consumerAccount, { contract: drain, chainId: ANVIL_CHAIN_ID, channelId: ch.channelId, amount: total, nonce });
        await claim(providerClient, { contract: drain, channelId: ch.channelId, amount: total, nonce, signature });
        claims += 1;
      }
      const key = provider.address.toLowerCase();
      claimed.set(key, (claimed.get(key) ?? 0n) + amount);
      await deployer.request({ method: 'anvil_mine' as never, params: [`0x${CONFIRMING_BLOCKS.toString(16)}`] as never });
    };

    // Consumers open channels to the miners' wallets; the miners' wallets claim.
    const minerWallets = Array.from({ length: opts.miners }, (_, i) => mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1 + i }));
    for (let i = 0; i < opts.miners; i++) await pay(minerWallets[i]!, opts.claimsUsdc[i] ?? 0);
    log.info({ claims: opts.claimsUsdc.slice(0, opts.miners) }, 'consumers paid, providers claimed');

    // Where axons are: on chain → where they listen.
    const listenOf = new Map<string, string>();
    let nextHost = 2;
    const allocate = (): { ip: string; host: string } => {
      const n = nextHost++;
      if (n > 254) throw new Error('the local network has addresses for 253 axons');
      return loopback ? { ip: `127.0.0.${n}`, host: `127.0.0.${n}` } : { ip: `10.0.0.${n}`, host: '127.0.0.1' };
    };
    const resolveAddress = (ip: string, port: number) => {
      const host = listenOf.get(`${ip}:${port}`);
      return host ? { host, port } : { host: ip, port };
    };
    /** serve_axon signed by a hotkey of the wallet, without the daemon's refusal of loopback addresses. */
    const serveOnChain = async (hotkeyName: string, ip: string, port: number) => {
      const { pair } = await loadHotkey({ walletPath, name: WALLET_NAME, hotkey: hotkeyName });
      const fn = api.tx.subtensorModule!.serveAxon!;
      const { ip: ipValue, ipType } = encodeIp(ip);
      await signAndWatch(api, fn(netuid, DEFAULT_AXON_VERSION, ipValue, port, ipType, AXON_PROTOCOL_HTTP, 0, 0), pair, { label: 'serveAxon' });
    };

    // Miners: in this process, each its own axon.
    const minersReady: Promise<void>[] = [];
    const minerAxons: ServedAxon[] = [];
    for (let i = 0; i < opts.miners; i++) {
      const port = await freeLoopbackPort();
      const at = { ...allocate(), port };
      minerAxons.push(at);
      // The daemon serves a private address (it refuses loopback); in loopback mode it is replaced below.
      const daemonIp = loopback ? `10.0.0.${at.ip.split('.')[3]}` : at.ip;
      listenOf.set(`${daemonIp}:${port}`, at.host);
      listenOf.set(`${at.ip}:${port}`, at.host);
      const env: Record<string, string> = { API_URL: providers[i % providers.length]!.probeUrl.replace('/health', '') };
      if (!opts.withoutWallet.includes(i)) {
        const hex = (minerWallets[i]!.getHdKey().privateKey as Uint8Array | null)!;
        env.POLYGON_PRIVATE_KEY = `0x${Buffer.from(hex).toString('hex')}`;
        env.POLYGON_WALLET = minerWallets[i]!.address;
      }
      const argv = [
        '--netuid', String(netuid), '--subtensor.chain_endpoint', chain.endpoint, '--wallet.path', walletPath, '--wallet.name', WALLET_NAME,
        '--wallet.hotkey', minerNames[i]!, '--axon.ip', at.host, '--axon.port', String(port), '--axon.external_ip', daemonIp,
        '--axon.external_port', String(port), '--metrics.port', '0', '--marketplace.register', 'false', '--probe.allow', '127.0.0.1',
        '--probe.timeout_ms', '3000', '--axon.verify_threads', '1',
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

    const reader = await createSubtensor({ endpoint: chain.endpoint, logger: opts.logger.child({ module: 'reader' }) });
    closers.push({ name: 'reader', close: () => reader.close() });
    const minerUids = minerNames.map((name) => uids[name]!);
    for (let i = 0; ; i++) {
      const mg = await reader.getMetagraph(netuid);
      if (minerUids.every((uid) => mg.axons[uid]?.ip.startsWith('10.0.0.'))) break;
      if (i > 120 || stop.signal.aborted) throw new Error('miners did not serve their axons on chain within 60 s');
      await new Promise((r) => setTimeout(r, 500));
    }
    if (loopback) {
      for (let i = 0; i < opts.miners; i++) await serveOnChain(minerNames[i]!, minerAxons[i]!.ip, minerAxons[i]!.port);
    }
    log.info('miners serving on chain');

    const validatorUid = uids.validator!;
    const validatorArgv = (o: ValidatorArgvOptions): string[] => [
      '--netuid', String(netuid), '--subtensor.chain_endpoint', chain.endpoint, '--wallet.path', walletPath, '--wallet.name', WALLET_NAME,
      '--wallet.hotkey', 'validator', '--polygon.rpc_url', o.polygonRpcUrl ?? anvil.url, '--polygon.contracts', drain, '--polygon.chain_id', String(ANVIL_CHAIN_ID),
      '--polygon.confirmations', '2', '--registry.urls', registryServer.url, '--neuron.epoch_length', String(o.epochLength),
      '--neuron.timeout', String(o.timeoutSec ?? 6), '--neuron.state_path', o.statePath, '--metrics.host', '127.0.0.1',
      '--metrics.port', String(o.statusPort ?? 0), ...(o.preset !== undefined ? ['--scoring.preset', o.preset] : []), '--marketplace.url', registryServer.url.replace(/\/api\/.*$/, ''),
      ...(o.probesPerRound !== undefined ? ['--scoring.probes_per_round', String(o.probesPerRound)] : []),
    ];
    const weightsOnChain = async () => new Map(await reader.getWeights(netuid, validatorUid));

    const runValidator = async (o: RunLocalValidatorOptions): Promise<{ code: number; rounds: LocalRound[] }> => {
      const rounds: LocalRound[] = [];
      let reading = Promise.resolve();
      const signal = o.signal ? linkSignals([o.signal, stop.signal]).signal : stop.signal;
      const code = await startValidator({ ...subContext(o.argv, o.env ?? {}, signal, o.stdout), ...(o.homeDir ? { homeDir: o.homeDir } : {}) }, {
        logger: o.logger ?? opts.logger.child({ module: 'validator' }),
        resolveAddress,
        jobHandlers: o.jobHandlers,
        maxRounds: o.maxRounds,
        onRound: (report: RoundReport, state: ValidatorState) => {
          // Read the weights now, in order: the next round is at least an epoch away.
          reading = reading.then(async () => {
            let onChain = new Map<number, number>();
            try {
              onChain = await weightsOnChain();
            } catch (err) {
              log.warn({ err: errorMessage(err) }, 'weights not read back');
            }
            const rows: LocalRoundRow[] = report.rows.map((r) => ({
              uid: r.uid,
              hotkey: r.hotkey,
              claimsUsdc: formatUsdc(r.claims),
              proof: r.proof,
              probeAccuracy: r.probeAccuracy,
              score: r.score,
              chainWeight: onChain.get(r.uid) ?? 0,
            }));
            const round: LocalRound = { round: rounds.length + 1, report, state, rows, statusUrl: o.statusUrl ?? null };
            rounds.push(round);
            o.onRound?.(round);
          });
        },
      });
      await reading;
      return { code, rounds };
    };

    return {
      netuid,
      chain,
      anvilUrl: anvil.url,
      drain,
      usdc,
      walletPath,
      walletName: WALLET_NAME,
      workDir,
      hotkeys,
      uids,
      minerWallets,
      providers,
      registry: { url: registryServer.url, requests: () => registryRequests },
      reader,
      claimed,
      claimCount: () => claims,
      async polygonAccount(index) {
        const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 1_000 + index });
        await fund(account.address);
        return account;
      },
      pay,
      axonAddress(hotkeyName) {
        if (!(hotkeyName in hotkeys)) throw new Error(`no hotkey ${hotkeyName} in this local network`);
        const at = allocate();
        return {
          ...at,
          serve: async (port: number) => {
            listenOf.set(`${at.ip}:${port}`, at.host);
            await serveOnChain(hotkeyName, at.ip, port);
            return { ...at, port };
          },
        };
      },
      resolveAddress,
      validatorArgv,
      weightsOnChain,
      runValidator,
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

export async function runLocalNetwork(opts: LocalNetworkOptions): Promise<LocalRound[]> {
  const started = Date.now();
  const net = await startLocalNetwork({
    chainSpecPath: opts.chainSpecPath,
    miners: opts.miners,
    claimsUsdc: opts.claimsUsdc,
    withoutWallet: opts.withoutWallet,
    blockIntervalMs: opts.blockIntervalMs,
    logger: opts.logger,
    signal: opts.signal,
  });
  try {
    const statusUrl = opts.statusPort > 0 ? `http://127.0.0.1:${opts.statusPort}/status` : null;
    opts.out(
      `local network ready in ${((Date.now() - started) / 1000).toFixed(1)} s · netuid ${net.netuid} · ${opts.miners} miners · preset ${opts.preset}${statusUrl ? ` · status ${statusUrl}` : ''}\n`,
    );
    const { code, rounds } = await net.runValidator({
      argv: net.validatorArgv({ preset: opts.preset, statePath: path.join(net.workDir, 'state'), epochLength: opts.epochLength, statusPort: opts.statusPort }),
      maxRounds: opts.epochs,
      signal: opts.signal,
      statusUrl,
      onRound: (round) => {
        opts.out(renderRound(round));
        opts.onRound?.(round);
      },
    });
    if (code !== 0 && !opts.signal.aborted) throw new Error(`validator exited with code ${code}`);
    return rounds;
  } finally {
    await net.close();
  }
}

function subContext(argv: string[], env: Record<string, string>, signal: AbortSignal, out?: (text: string) => void): CommandContext {
  const sink = { write: () => true } as unknown as NodeJS.WritableStream;
  const stdout = out ? ({ write: (chunk: string | Uint8Array) => (out(chunk.toString()), true) } as unknown as NodeJS.WritableStream) : sink;
  return { argv, env, cwd: process.cwd(), homeDir: os.homedir(), stdout, stderr: sink, signal };
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
    parsed = loadDaemonConfig(ctx, { extraFlags: ['epochs', 'miners', 'chain-spec', 'status-port'] });
  } catch (err) {
    return exitOnError(ctx, 'localnet', err);
  }
  const { config, extra } = parsed;
  const intFlag = (name: string, def: number | undefined, min: number): number | undefined => {
    const v = extra[name];
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
    const chainSpecFlag = typeof extra['chain-spec'] === 'string' ? extra['chain-spec'] : null;
    chainSpecPath = await resolveChainSpec({ explicit: chainSpecFlag ?? config['subtensor.chain_spec'], cwd: ctx.cwd, homeDir: ctx.homeDir, log: (m) => ctx.stderr.write(`${m}\n`) });
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
