/**
 * The local network's miners: `hs58 miner` daemons in this process, each with its own axon,
 * hotkey `minerN` and, unless told otherwise, the Polygon key of the wallet that claims for it.
 */
import type { HDAccount } from 'viem/accounts';
import type { SubtensorClient } from '../src/chain/subtensor/index.js';
import type { Logger } from '../src/observability/logger.js';
import type { CloseStack } from '../src/util/closeStack.js';
import { sleep } from '../src/util/deadline.js';
import { startMiner } from '../neurons/miner.js';
import { serveOnChain, type AxonAddressBook, type AxonAddressing, type ServedAxon } from './axons.js';
import { daemonContext } from './daemonContext.js';
import { freeLoopbackPort } from './ports.js';
import type { LocalProvider } from './providers.js';
import type { LocalSubtensor } from './subtensor.js';
import { WALLET_NAME } from './subtensor.js';

export interface StartMinerDaemonsParameters {
  subtensor: Pick<LocalSubtensor, 'chain' | 'netuid' | 'walletPath'>;
  /** Hotkey names, one miner each. */
  names: readonly string[];
  /** The Polygon account of each miner (index = miner). */
  wallets: readonly HDAccount[];
  /** Miners (index) that run without a Polygon key: no wallet proof. */
  withoutWallet: readonly number[];
  /** Miner i advertises provider i mod the count as its API_URL. */
  providers: readonly LocalProvider[];
  addresses: AxonAddressBook;
  addressing: AxonAddressing;
  /** Each miner logs to a child of it. */
  logger: Logger;
  /** The network's own log (a miner that exits early is reported there). */
  log: Logger;
  closers: CloseStack;
  signal: AbortSignal;
}

/** Starts the miners; `ready` resolves once every axon listens (each is closed by `closers`). */
export async function startMinerDaemons(p: StartMinerDaemonsParameters): Promise<{ axons: ServedAxon[]; ready: Promise<void> }> {
  const axons: ServedAxon[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < p.names.length; i++) {
    const port = await freeLoopbackPort();
    const at = { ...p.addresses.allocate(), port };
    axons.push(at);
    // The daemon serves a private address (it refuses loopback); in loopback mode it is replaced later.
    const daemonIp = p.addressing === 'loopback' ? `10.0.0.${at.ip.split('.')[3]}` : at.ip;
    p.addresses.record(daemonIp, port, at.host);
    p.addresses.record(at.ip, port, at.host);
    ready.push(startMinerDaemon(p, i, { ...at, ip: daemonIp }));
  }
  return { axons, ready: Promise.all(ready).then(() => undefined) };
}

/** Miner `i` serving `at`; resolves once its axon listens. */
function startMinerDaemon(p: StartMinerDaemonsParameters, i: number, at: ServedAxon): Promise<void> {
  const env: Record<string, string> = { API_URL: p.providers[i % p.providers.length]!.probeUrl.replace('/health', '') };
  if (!p.withoutWallet.includes(i)) {
    const hex = (p.wallets[i]!.getHdKey().privateKey as Uint8Array | null)!;
    env.POLYGON_PRIVATE_KEY = `0x${Buffer.from(hex).toString('hex')}`;
    env.POLYGON_WALLET = p.wallets[i]!.address;
  }
  const argv = [
    '--netuid',
    String(p.subtensor.netuid),
    '--subtensor.chain_endpoint',
    p.subtensor.chain.endpoint,
    '--wallet.path',
    p.subtensor.walletPath,
    '--wallet.name',
    WALLET_NAME,
    '--wallet.hotkey',
    p.names[i]!,
    '--axon.ip',
    at.host,
    '--axon.port',
    String(at.port),
    '--axon.external_ip',
    at.ip,
    '--axon.external_port',
    String(at.port),
    '--metrics.port',
    '0',
    '--marketplace.register',
    'false',
    '--probe.allow',
    '127.0.0.1',
    '--probe.timeout_ms',
    '3000',
    '--axon.verify_threads',
    '1',
  ];
  let ready!: () => void;
  const listening = new Promise<void>((r) => (ready = r));
  const done = startMiner(daemonContext(argv, env, p.signal), { logger: p.logger.child({ miner: i + 1 }), onReady: () => ready(), registrationRetryMs: 1_000 });
  p.closers.push({ name: `miner ${i + 1}`, close: async () => void (await done) });
  void done.then((code) => code !== 0 && !p.signal.aborted && p.log.error({ miner: i + 1, code }, 'miner exited'));
  // A miner that ends before it serves ends the wait too (its log says why), instead of leaving it pending.
  const endedFirst = done.then((code) => {
    throw new Error(`miner ${i + 1} exited with code ${code} before its axon was listening`);
  });
  return Promise.race([listening, endedFirst]);
}

/** Waits until every miner's axon is on chain (the daemons serve 10.0.0.N). */
export async function waitForMinerAxons(reader: SubtensorClient, netuid: number, minerUids: readonly number[], signal: AbortSignal): Promise<void> {
  for (let i = 0; ; i++) {
    const mg = await reader.getMetagraph(netuid);
    if (minerUids.every((uid) => mg.axons[uid]?.ip.startsWith('10.0.0.'))) return;
    if (i > 120 || signal.aborted) throw new Error('miners did not serve their axons on chain within 60 s');
    await sleep(500, signal);
  }
}

/** Loopback addressing: serves each miner's 127.0.0.N address in place of the one its daemon served. */
export async function serveLoopbackAxons(
  subtensor: Pick<LocalSubtensor, 'api' | 'netuid' | 'walletPath'>,
  names: readonly string[],
  axons: readonly ServedAxon[],
): Promise<void> {
  for (let i = 0; i < names.length; i++) {
    await serveOnChain(subtensor.api, {
      walletPath: subtensor.walletPath,
      walletName: WALLET_NAME,
      hotkeyName: names[i]!,
      netuid: subtensor.netuid,
      ip: axons[i]!.ip,
      port: axons[i]!.port,
    });
  }
}
