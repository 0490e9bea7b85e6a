/**
 * The whole subnet on this machine, but its validator: anvil with the DRAIN contracts and a
 * USDC-like token; Chopsticks running the real subtensor runtime with a subnet, a validator
 * and K miners; K miner daemons; local providers (healthy, flaky, slow, down) behind a
 * registry; consumers that open channels which some miners' wallets claim from.
 *
 * `startLocalNetwork` hands back the parts, so that the end-to-end tests run validators
 * (several presets, restarts, Redis workers) against one network; `runLocalNetwork` (run.ts)
 * is that plus one validator, as `hs58 localnet` runs it.
 */
// Chopsticks reads LOG_LEVEL once, when it is first imported (lazily, by startChopsticks).
process.env.LOG_LEVEL ??= 'error';

import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Address } from 'viem';
import type { HDAccount } from 'viem/accounts';
import { createSubtensor, type SubtensorClient } from '../src/chain/subtensor/index.js';
import type { Logger } from '../src/observability/logger.js';
import { createCloseStack, type CloseStack } from '../src/util/closeStack.js';
import { raceSignal } from '../src/util/deadline.js';
import { createAxonAddressBook, serveOnChain, type AxonAddressBook, type AxonAddressing, type ServedAxon } from './axons.js';
import { serveLoopbackAxons, startMinerDaemons, waitForMinerAxons } from './miners.js';
import { ANVIL_CHAIN_ID, anvilAccount, startLocalPolygon, type LocalPolygon } from './polygon.js';
import { DEFAULT_LOCAL_PROVIDERS, startLocalMarketplace, type LocalMarketplace, type LocalProvider, type LocalProviderSpec } from './providers.js';
import { startLocalSubtensor, WALLET_NAME, type LocalSubtensor } from './subtensor.js';
import {
  localValidatorArgv,
  runLocalValidator,
  weightsReader,
  type LocalRound,
  type RunLocalValidatorOptions,
  type ValidatorArgvOptions,
} from './validator.js';

export type { ServedAxon } from './axons.js';

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
   * Where axons are on chain (axons.ts). 'mapped' (default): 10.0.0.N, listening on 127.0.0.1;
   * only an in-process validator reaches them. 'loopback': 127.0.0.N, where they listen (the
   * miner daemon refuses loopback, so the network serves them again itself): validator worker
   * processes reach them too. Linux only.
   */
  axonAddressing?: AxonAddressing;
  /** Chopsticks builds a block this often (it has no timer of its own). */
  blockIntervalMs: number;
  logger: Logger;
  signal: AbortSignal;
}

/** The subnet's side (subtensor.ts): `netuid`, `chain`, `walletPath`, `hotkeys` (`validator`, `miner1`…, the extra hotkeys), `uids`. */
export interface LocalNetwork extends Pick<LocalSubtensor, 'netuid' | 'chain' | 'walletPath' | 'hotkeys' | 'uids'> {
  anvilUrl: string;
  drain: Address;
  usdc: Address;
  walletName: string;
  /** A scratch folder removed by `close()`. */
  workDir: string;
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

/** What a network being assembled owns: its log, what to close, its own signal. */
interface Assembly {
  log: Logger;
  closers: CloseStack;
  signal: AbortSignal;
  close: () => Promise<void>;
}

export async function startLocalNetwork(opts: StartLocalNetworkOptions): Promise<LocalNetwork> {
  const log = opts.logger.child({ module: 'localnet' });
  const closers = createCloseStack(log);
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal.reason);
  if (opts.signal.aborted) onAbort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  let closed: Promise<void> | null = null;
  const close = () =>
    (closed ??= (async () => {
      opts.signal.removeEventListener('abort', onAbort);
      stop.abort(new Error('local network stopping'));
      await closers.closeAll();
    })());
  try {
    return await assemble(opts, { log, closers, signal: stop.signal, close });
  } catch (err) {
    await close();
    throw err;
  }
}

async function assemble(opts: StartLocalNetworkOptions, a: Assembly): Promise<LocalNetwork> {
  const { log, closers, signal } = a;
  const workDir = await mkdtemp(path.join(os.tmpdir(), 'hs58-localnet-'));
  closers.push({ name: 'work dir', close: () => rm(workDir, { recursive: true, force: true }) });
  const polygon = await startLocalPolygon(closers, log);
  const minerNames = Array.from({ length: opts.miners }, (_, i) => `miner${i + 1}`);
  const hotkeyNames = ['validator', ...minerNames, ...(opts.extraHotkeys ?? [])];
  const subtensor = await startLocalSubtensor(closers, { chainSpecPath: opts.chainSpecPath, workDir, hotkeyNames, log });
  const market = await startLocalMarketplace(closers, opts.providers ?? DEFAULT_LOCAL_PROVIDERS);

  // Consumers open channels to the miners' wallets; the miners' wallets claim.
  const minerWallets = Array.from({ length: opts.miners }, (_, i) => anvilAccount(1 + i));
  for (let i = 0; i < opts.miners; i++) await polygon.pay(minerWallets[i]!, opts.claimsUsdc[i] ?? 0);
  log.info({ claims: opts.claimsUsdc.slice(0, opts.miners) }, 'consumers paid, providers claimed');

  const addressing = opts.axonAddressing ?? 'mapped';
  const addresses = createAxonAddressBook(addressing);
  const miners = await startMinerDaemons({
    subtensor,
    names: minerNames,
    wallets: minerWallets,
    withoutWallet: opts.withoutWallet,
    providers: market.providers,
    addresses,
    addressing,
    logger: opts.logger,
    log,
    closers,
    signal,
  });
  const ticking = subtensor.chain.produceBlocks(opts.blockIntervalMs);
  closers.push({ name: 'block production', close: () => ticking() });
  await raceSignal(miners.ready, signal);

  const reader = await createSubtensor({ endpoint: subtensor.chain.endpoint, logger: opts.logger.child({ module: 'reader' }) });
  closers.push({ name: 'reader', close: () => reader.close() });
  await waitForMinerAxons(
    reader,
    subtensor.netuid,
    minerNames.map((name) => subtensor.uids[name]!),
    signal,
  );
  if (addressing === 'loopback') await serveLoopbackAxons(subtensor, minerNames, miners.axons);
  log.info('miners serving on chain');
  return networkOf({ opts, assembly: a, workDir, polygon, subtensor, market, minerWallets, addresses, reader });
}

interface NetworkParts {
  opts: StartLocalNetworkOptions;
  assembly: Assembly;
  workDir: string;
  polygon: LocalPolygon;
  subtensor: LocalSubtensor;
  market: LocalMarketplace;
  minerWallets: HDAccount[];
  addresses: AxonAddressBook;
  reader: SubtensorClient;
}

function networkOf(p: NetworkParts): LocalNetwork {
  const { polygon, subtensor, addresses } = p;
  const { netuid, walletPath, hotkeys } = subtensor;
  const weightsOnChain = weightsReader(p.reader, netuid, subtensor.uids.validator!);
  const targets = {
    netuid,
    endpoint: subtensor.chain.endpoint,
    walletPath,
    walletName: WALLET_NAME,
    anvilUrl: polygon.url,
    drain: polygon.drain,
    chainId: ANVIL_CHAIN_ID,
    registryUrl: p.market.registry.url,
  };
  return {
    netuid,
    chain: subtensor.chain,
    anvilUrl: polygon.url,
    drain: polygon.drain,
    usdc: polygon.usdc,
    walletPath,
    walletName: WALLET_NAME,
    workDir: p.workDir,
    hotkeys,
    uids: subtensor.uids,
    minerWallets: p.minerWallets,
    providers: p.market.providers,
    registry: p.market.registry,
    reader: p.reader,
    claimed: polygon.claimed,
    claimCount: polygon.claimCount,
    async polygonAccount(index) {
      const account = anvilAccount(1_000 + index);
      await polygon.fund(account.address);
      return account;
    },
    pay: polygon.pay,
    axonAddress(hotkeyName) {
      if (!(hotkeyName in hotkeys)) throw new Error(`no hotkey ${hotkeyName} in this local network`);
      const at = addresses.allocate();
      const serve = async (port: number) => {
        addresses.record(at.ip, port, at.host);
        await serveOnChain(subtensor.api, { walletPath, walletName: WALLET_NAME, hotkeyName, netuid, ip: at.ip, port });
        return { ...at, port };
      };
      return { ...at, serve };
    },
    resolveAddress: addresses.resolveAddress,
    validatorArgv: (o) => localValidatorArgv(targets, o),
    weightsOnChain,
    runValidator: (o) => runLocalValidator({ weightsOnChain, resolveAddress: addresses.resolveAddress, logger: p.opts.logger, signal: p.assembly.signal }, o),
    close: p.assembly.close,
  };
}
