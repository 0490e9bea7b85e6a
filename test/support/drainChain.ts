import { encodeFunctionData, keccak256, toHex, type Address, type Hex } from 'viem';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import type { ProviderClaims } from '../../src/chain/polygon/claimsStore.js';
import type { BlockRange } from '../../src/chain/polygon/ranges.js';
import { startAnvil, type AnvilInstance } from '../../localnet/anvil.js';
import {
  approveUsdc,
  channelOpenedFromReceipt,
  compileDrainContracts,
  createLocalChainClient,
  deployDrain,
  deployMockUsdc,
  drainChannelAbi,
  mintUsdc,
  signCloseAuthorization,
  signVoucher,
  type LocalChainClient,
} from '../../localnet/contracts.js';
import { mulberry32 as rng } from './rng.js';

/**
 * A real anvil chain with DRAIN activity and its ground truth. Two scanned DrainChannel
 * deployments (V1-like, V2-like with a 2 % fee) and a third "decoy" deployment that is not
 * scanned; consumers open channels and sign vouchers, providers claim, some channels are closed
 * cooperatively with a final payout, some claims revert (bad signature). Activity comes in
 * batches mined into one block (several claims per block, some on chunk boundaries) separated
 * by long anvil_mine jumps. The truth is the builder's own bookkeeping of every successful
 * claim, checked against each receipt's status: it never comes from a log scan.
 */

export const CHAIN_ID = 137;

export interface TruthClaim {
  contract: Address;
  provider: Address;
  channelId: Hex;
  amount: bigint;
  block: number;
  txHash: Hex;
}

interface OpenChannel {
  contract: Address;
  channelId: Hex;
  consumer: PrivateKeyAccount;
  provider: PrivateKeyAccount;
  deposit: bigint;
  claimed: bigint;
  voucherNonce: bigint;
}

type PlannedTx =
  | { kind: 'open'; from: PrivateKeyAccount; contract: Address; provider: PrivateKeyAccount; deposit: bigint; data: Hex }
  | { kind: 'claim'; from: PrivateKeyAccount; channel: OpenChannel; amount: bigint; data: Hex; valid: boolean }
  | { kind: 'coopClose'; from: PrivateKeyAccount; channel: OpenChannel; finalAmount: bigint; data: Hex };

export interface DrainChainOptions {
  /** Stop after the chain has at least this many blocks. */
  minBlocks: number;
  providers?: number;
  consumers?: number;
  /** Mean blocks between activity batches. */
  meanGap?: number;
  /**
   * Channels opened over the whole run. anvil's cost per mined block grows with the contract
   * storage ever written (about 8 µs per channel per block here), so long chains keep this modest.
   */
  channels?: number;
  seed?: number;
}

export interface DrainChain {
  anvil: AnvilInstance;
  url: string;
  chainId: number;
  usdc: Address;
  v1: Address;
  v2: Address;
  decoy: Address;
  providers: Address[];
  /** Every successful ChannelClaimed, all three contracts, oldest first. */
  truth: TruthClaim[];
  /** Transactions that reverted on purpose (no event expected). */
  reverted: number;
  head(): Promise<number>;
  mine(blocks: number): Promise<void>;
  /** One more activity batch in the next block; returns its block number and the claims it added. */
  batch(options?: { claims?: number; opens?: number }): Promise<{ block: number; claims: TruthClaim[] }>;
  /** Ground-truth totals of claims of `contracts` inside `window`. */
  expected(contracts: readonly Address[], window?: BlockRange): Map<string, ProviderClaims>;
  stop(): Promise<void>;
}

export function totalsOf(claims: readonly TruthClaim[]): Map<string, ProviderClaims> {
  const acc = new Map<string, { amount: bigint; claims: number; channels: Set<string> }>();
  for (const c of claims) {
    const key = c.provider.toLowerCase();
    const t = acc.get(key) ?? { amount: 0n, claims: 0, channels: new Set<string>() };
    t.amount += c.amount;
    t.claims += 1;
    t.channels.add(`${c.contract.toLowerCase()}:${c.channelId}`);
    acc.set(key, t);
  }
  return new Map([...acc].map(([p, t]) => [p, { amount: t.amount, claims: t.claims, channels: t.channels.size }]));
}

export async function buildDrainChain(options: DrainChainOptions): Promise<DrainChain> {
  const random = rng(options.seed ?? 58);
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const anvil = await startAnvil({ chainId: CHAIN_ID });
  try {
    const artifacts = await compileDrainContracts();
    const key = (label: string) => keccak256(toHex(`hs58-drain-test-${options.seed ?? 58}-${label}`));
    const deployer = privateKeyToAccount(key('deployer'));
    const consumers = Array.from({ length: options.consumers ?? 4 }, (_, i) => privateKeyToAccount(key(`consumer-${i}`)));
    const providers = Array.from({ length: options.providers ?? 5 }, (_, i) => privateKeyToAccount(key(`provider-${i}`)));
    const admin = createLocalChainClient({ url: anvil.url, account: deployer, chainId: CHAIN_ID });
    const rpc = (method: string, params: unknown[] = []) => admin.request({ method: method as never, params: params as never }) as Promise<unknown>;
    for (const a of [deployer, ...consumers, ...providers]) await rpc('anvil_setBalance', [a.address, '0xd3c21bcecceda1000000']);

    const usdc = await deployMockUsdc(admin, artifacts);
    const v1 = await deployDrain(admin, { usdc, feeBps: 0, artifacts });
    const v2 = await deployDrain(admin, { usdc, feeBps: 200, feeRecipient: deployer.address, artifacts });
    const decoy = await deployDrain(admin, { usdc, feeBps: 0, artifacts });
    for (const c of consumers) {
      await mintUsdc(admin, { usdc, to: c.address, amount: 10n ** 15n });
      const client: LocalChainClient = createLocalChainClient({ url: anvil.url, account: c, chainId: CHAIN_ID });
      for (const spender of [v1, v2, decoy]) await approveUsdc(client, { usdc, spender, amount: 2n ** 256n - 1n });
    }

    const nonces = new Map<Address, number>();
    for (const a of [...consumers, ...providers]) nonces.set(a.address, await admin.getTransactionCount({ address: a.address }));
    await rpc('evm_setAutomine', [false]);

    const truth: TruthClaim[] = [];
    const open: OpenChannel[] = [];
    let reverted = 0;

    const send = async (from: PrivateKeyAccount, to: Address, data: Hex): Promise<Hex> => {
      const nonce = nonces.get(from.address)!;
      nonces.set(from.address, nonce + 1);
      const raw = await from.signTransaction({
        chainId: CHAIN_ID,
        type: 'eip1559',
        to,
        data,
        nonce,
        gas: 400_000n,
        maxFeePerGas: 50_000_000_000n,
        maxPriorityFeePerGas: 1_000_000_000n,
      });
      return (await rpc('eth_sendRawTransaction', [raw])) as Hex;
    };

    const planBatch = async (wantClaims: number, wantOpens: number, openOn?: readonly Address[]): Promise<PlannedTx[]> => {
      const txs: PlannedTx[] = [];
      for (let i = 0; i < wantOpens; i++) {
        const from = consumers[int(0, consumers.length - 1)]!;
        const provider = providers[int(0, providers.length - 1)]!;
        const contract = openOn?.[i % openOn.length] ?? (random() < 0.15 ? decoy : random() < 0.5 ? v1 : v2);
        const deposit = BigInt(int(5, 500)) * 1_000_000n;
        txs.push({
          kind: 'open',
          from,
          contract,
          provider,
          deposit,
          data: encodeFunctionData({ abi: drainChannelAbi, functionName: 'open', args: [provider.address, deposit, 86_400n] }),
        });
      }
      const usable = open.filter((c) => c.claimed < c.deposit);
      // Claims (by the provider) and a close (by the consumer) of one channel in the same block could
      // execute in either order: a channel closed in this batch gets no claim in it, and vice versa.
      const claimedHere = new Set<OpenChannel>();
      for (let i = 0; i < wantClaims && usable.length > 0; i++) {
        const ch = usable[int(0, usable.length - 1)]!;
        if (ch.claimed >= ch.deposit) continue;
        const roll = random();
        if (roll < 0.08 && !claimedHere.has(ch)) {
          // Cooperative close with a final payout above what was claimed: emits one more ChannelClaimed.
          const bumped = ch.claimed + BigInt(int(1, 1000)) * 1000n;
          const finalAmount = bumped > ch.deposit ? ch.deposit : bumped;
          const sig = await signCloseAuthorization(ch.provider, { contract: ch.contract, chainId: CHAIN_ID, channelId: ch.channelId, finalAmount });
          txs.push({
            kind: 'coopClose',
            from: ch.consumer,
            channel: ch,
            finalAmount,
            data: encodeFunctionData({ abi: drainChannelAbi, functionName: 'cooperativeClose', args: [ch.channelId, finalAmount, sig] }),
          });
          ch.claimed = ch.deposit; // nothing more on this channel
          usable.splice(usable.indexOf(ch), 1);
          continue;
        }
        claimedHere.add(ch);
        const valid = roll >= 0.13;
        const step = BigInt(int(1, 40_000)) * 100n;
        const amount = ch.claimed + step > ch.deposit ? ch.deposit : ch.claimed + step;
        ch.voucherNonce += 1n;
        // An invalid claim carries a voucher signed by the provider instead of the consumer: it reverts.
        const signer = valid ? ch.consumer : ch.provider;
        const signature = await signVoucher(signer, { contract: ch.contract, chainId: CHAIN_ID, channelId: ch.channelId, amount, nonce: ch.voucherNonce });
        txs.push({
          kind: 'claim',
          from: ch.provider,
          channel: ch,
          amount,
          valid,
          data: encodeFunctionData({ abi: drainChannelAbi, functionName: 'claim', args: [ch.channelId, amount, ch.voucherNonce, signature] }),
        });
        if (valid) ch.claimed = amount;
      }
      return txs;
    };

    const runBatch = async (wantClaims: number, wantOpens: number, openOn?: readonly Address[]) => {
      const snapshot = open.map((c) => c.claimed);
      const planned = await planBatch(wantClaims, wantOpens, openOn);
      const claimedBefore = new Map(open.map((c, i) => [c, snapshot[i]!]));
      const hashes: Hex[] = [];
      for (const tx of planned) {
        const to = tx.kind === 'open' ? tx.contract : tx.channel.contract;
        hashes.push(await send(tx.from, to, tx.data));
      }
      await rpc('evm_mine', []);
      const block = Number(await admin.getBlockNumber());
      const receipts = (await rpc('eth_getBlockReceipts', [toHex(block)])) as {
        transactionHash: Hex;
        status: Hex;
        logs: { address: Address; topics: Hex[]; data: Hex }[];
      }[];
      const byHash = new Map(receipts.map((r) => [r.transactionHash.toLowerCase(), r]));
      const added: TruthClaim[] = [];
      // Track the running claimed total per channel in transaction order to derive each payout.
      const running = new Map(claimedBefore);
      for (const [i, tx] of planned.entries()) {
        const receipt = byHash.get(hashes[i]!.toLowerCase());
        if (!receipt) throw new Error(`tx ${hashes[i]} not mined in block ${block}`);
        const ok = receipt.status === '0x1';
        if (tx.kind === 'open') {
          if (!ok) throw new Error('open reverted');
          const { channelId } = channelOpenedFromReceipt({ ...receipt, logs: receipt.logs } as never, tx.contract);
          open.push({ contract: tx.contract, channelId, consumer: tx.from, provider: tx.provider, deposit: tx.deposit, claimed: 0n, voucherNonce: 0n });
          continue;
        }
        const ch = tx.channel;
        const before = running.get(ch) ?? 0n;
        if (tx.kind === 'claim' && !tx.valid) {
          if (ok) throw new Error('an invalid claim succeeded');
          reverted += 1;
          continue;
        }
        if (!ok) throw new Error(`${tx.kind} reverted unexpectedly (tx ${hashes[i]})`);
        const target = tx.kind === 'claim' ? tx.amount : tx.finalAmount;
        running.set(ch, target);
        if (target > before) {
          const c: TruthClaim = {
            contract: ch.contract,
            provider: ch.provider.address,
            channelId: ch.channelId,
            amount: target - before,
            block,
            txHash: hashes[i]!,
          };
          truth.push(c);
          added.push(c);
        }
      }
      return { block, claims: added };
    };

    const mine = async (blocks: number) => {
      if (blocks > 0) await rpc('anvil_mine', [toHex(blocks)]);
    };
    const head = async () => Number(await admin.getBlockNumber());

    const meanGap = options.meanGap ?? 1_500;
    const channelBudget = options.channels ?? 20;
    const warmUp = Math.min(channelBudget, 6);
    // The first channels: both scanned contracts and the decoy are sure to see claims.
    await runBatch(0, warmUp, [v1, v2, decoy]);
    const batches = Math.max(1, Math.ceil(options.minBlocks / meanGap));
    const openEvery = Math.max(1, Math.floor(batches / Math.max(1, channelBudget - warmUp)));
    let boundaryTurn = 0;
    for (let turn = 1; (await head()) < options.minBlocks; turn++) {
      let gap = int(Math.floor(meanGap / 4), Math.floor((meanGap * 7) / 4));
      const next = (await head()) + gap + 1;
      // Every few batches, land exactly on a 2,000-block chunk edge (first or last block of a chunk).
      if (++boundaryTurn % 4 === 0) {
        const edge = Math.ceil(next / 2000) * 2000 + (boundaryTurn % 8 === 0 ? -1 : 0);
        gap = Math.max(0, edge - (await head()) - 1);
      }
      await mine(gap);
      await runBatch(int(2, 9), open.length < channelBudget && turn % openEvery === 0 ? 1 : 0);
    }

    return {
      anvil,
      url: anvil.url,
      chainId: CHAIN_ID,
      usdc,
      v1,
      v2,
      decoy,
      providers: providers.map((p) => p.address),
      truth,
      get reverted() {
        return reverted;
      },
      head,
      mine,
      batch: (o = {}) => runBatch(o.claims ?? 4, o.opens ?? 0),
      expected(contractsToCount, window) {
        const set = new Set(contractsToCount.map((c) => c.toLowerCase()));
        return totalsOf(truth.filter((c) => set.has(c.contract.toLowerCase()) && (!window || (c.block >= window.from && c.block <= window.to))));
      },
      stop: () => anvil.stop(),
    };
  } catch (err) {
    await anvil.stop();
    throw err;
  }
}
