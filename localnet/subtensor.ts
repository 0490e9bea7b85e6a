/**
 * The local network's Bittensor chain: Chopsticks running the real subtensor runtime, a wallet
 * file per hotkey, and a subnet on which every hotkey is registered (paid by //Alice, who also
 * becomes the sudo key).
 */
import path from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import type { Logger } from '../src/observability/logger.js';
import type { CloseStack } from '../src/util/closeStack.js';
import { createWalletFiles } from '../src/wallet/files.js';
import { startChopsticks, type LocalChain } from './chopsticks.js';
import { prepareLocalSubnet } from './subnet.js';

export const WALLET_NAME = 'localnet';

export interface LocalSubtensor {
  chain: LocalChain;
  /** Connected to the chain for setup and for `serve_axon` on behalf of a hotkey. */
  api: ApiPromise;
  netuid: number;
  /** Wallet files of every hotkey (wallet name {@link WALLET_NAME}). */
  walletPath: string;
  /** Hotkey name → SS58. */
  hotkeys: Record<string, string>;
  /** Hotkey name → uid. */
  uids: Record<string, number>;
}

export interface StartLocalSubtensorParameters {
  chainSpecPath: string;
  /** Where the wallet files go. */
  workDir: string;
  /** Hotkeys to create and register, in this order. */
  hotkeyNames: readonly string[];
  log: Logger;
}

/** Starts Chopsticks and prepares the subnet; what it opens is closed by `closers`. */
export async function startLocalSubtensor(closers: CloseStack, p: StartLocalSubtensorParameters): Promise<LocalSubtensor> {
  const chain = await startChopsticks({ chainSpecPath: p.chainSpecPath });
  closers.push({ name: 'chopsticks', close: () => chain.close() });
  const walletPath = path.join(p.workDir, 'wallets');
  const hotkeys: Record<string, string> = {};
  for (const name of p.hotkeyNames) hotkeys[name] = (await createWalletFiles({ walletPath, name: WALLET_NAME, hotkey: name })).hotkeyAddress;
  const api = await ApiPromise.create({ provider: new WsProvider(chain.endpoint), noInitWarn: true });
  closers.push({ name: 'setup api', close: () => api.disconnect() });
  await cryptoWaitReady();
  const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
  const subnet = await prepareLocalSubnet(api, {
    sudoKey: alice,
    tempo: 10,
    weightsRateLimit: 0,
    servingRateLimit: 0,
    register: p.hotkeyNames.map((name) => ({ hotkey: hotkeys[name]!, coldkey: alice })),
  });
  const netuid = subnet.netuid;
  const uids = Object.fromEntries(p.hotkeyNames.map((name) => [name, subnet.uids[hotkeys[name]!]!]));
  p.log.info({ endpoint: chain.endpoint, netuid, uids }, 'subnet ready');
  return { chain, api, netuid, walletPath, hotkeys, uids };
}
