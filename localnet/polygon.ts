/**
 * The local network's Polygon: anvil with a USDC-like token and the DRAIN contract, and the
 * network's own bookkeeping of what was paid. Every claim is counted here when it is made, never
 * read back from a scan: the validator's scan is what gets checked against it.
 */
import type { Address } from 'viem';
import { mnemonicToAccount, type HDAccount } from 'viem/accounts';
import type { Logger } from '../src/observability/logger.js';
import type { CloseStack } from '../src/util/closeStack.js';
import { startAnvil } from './anvil.js';
import {
  approveUsdc,
  claim,
  compileDrainContracts,
  createLocalChainClient,
  deployDrain,
  deployMockUsdc,
  mintUsdc,
  openChannel,
  signVoucher,
  type LocalChainClient,
} from './contracts.js';

export const ANVIL_MNEMONIC = 'test test test test test test test test test test test junk';
export const ANVIL_CHAIN_ID = 31337;
/** Blocks mined after a payment so its claims are past the validator's `--polygon.confirmations 2`. */
const CONFIRMING_BLOCKS = 4;

/** Account `index` of anvil's mnemonic (0 deploys; 1… the miners' wallets; 1,000… `polygonAccount`; 10,000… consumers). */
export function anvilAccount(index: number): HDAccount {
  return mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
}

export interface LocalPolygon {
  url: string;
  usdc: Address;
  drain: Address;
  /** What was claimed per lowercase provider address. */
  claimed: Map<string, bigint>;
  /** Number of successful claim transactions. */
  claimCount(): number;
  /** Gives `address` gas money (once). */
  fund(address: Address): Promise<void>;
  /** A new consumer opens a channel to `provider`, who claims `usdc` in two vouchers; blocks are mined past the confirmations. */
  pay(provider: HDAccount, usdc: number): Promise<void>;
}

/** Starts anvil (closed by `closers`), deploys the token and DrainChannel. */
export async function startLocalPolygon(closers: CloseStack, log: Logger): Promise<LocalPolygon> {
  const anvil = await startAnvil({ chainId: ANVIL_CHAIN_ID });
  closers.push({ name: 'anvil', close: () => anvil.stop() });
  const deployer = createLocalChainClient({ url: anvil.url, account: anvilAccount(0), chainId: ANVIL_CHAIN_ID });
  const artifacts = await compileDrainContracts();
  const usdc = await deployMockUsdc(deployer, artifacts);
  const drain = await deployDrain(deployer, { usdc, artifacts });
  log.info({ anvil: anvil.url, usdc, drain }, 'anvil ready with DrainChannel and USDC');

  const claimed = new Map<string, bigint>();
  let claims = 0;
  let consumers = 0;
  const funded = new Set<string>();
  const fund = async (address: Address) => {
    if (funded.has(address)) return;
    await deployer.request({ method: 'anvil_setBalance' as never, params: [address, '0x56BC75E2D63100000'] as never });
    funded.add(address);
  };
  const client = (account: HDAccount): LocalChainClient => createLocalChainClient({ url: anvil.url, account, chainId: ANVIL_CHAIN_ID });
  const pay = async (provider: HDAccount, usdcAmount: number) => {
    const amount = BigInt(Math.round(usdcAmount * 1e6));
    if (amount <= 0n) return;
    const consumerAccount = anvilAccount(10_000 + consumers++);
    await Promise.all([fund(consumerAccount.address), fund(provider.address)]);
    const consumer = client(consumerAccount);
    const providerClient = client(provider);
    await mintUsdc(deployer, { usdc, to: consumerAccount.address, amount: amount * 2n });
    await approveUsdc(consumer, { usdc, spender: drain, amount: amount * 2n });
    const ch = await openChannel(consumer, { contract: drain, provider: provider.address, amount: amount * 2n, duration: 86_400n });
    // Two claims per channel: the voucher total grows, each claim pays the increase.
    for (const [nonce, total] of [
      [1n, amount / 2n],
      [2n, amount],
    ] as const) {
      const signature = await signVoucher(consumerAccount, { contract: drain, chainId: ANVIL_CHAIN_ID, channelId: ch.channelId, amount: total, nonce });
      await claim(providerClient, { contract: drain, channelId: ch.channelId, amount: total, nonce, signature });
      claims += 1;
    }
    const key = provider.address.toLowerCase();
    claimed.set(key, (claimed.get(key) ?? 0n) + amount);
    await deployer.request({ method: 'anvil_mine' as never, params: [`0x${CONFIRMING_BLOCKS.toString(16)}`] as never });
  };
  return { url: anvil.url, usdc, drain, claimed, claimCount: () => claims, fund, pay };
}
