import { readFile } from 'node:fs/promises';
import solc from 'solc';
import {
  createWalletClient,
  decodeEventLog,
  defineChain,
  http,
  parseAbi,
  publicActions,
  zeroAddress,
  type Abi,
  type Account,
  type Address,
  type Chain,
  type Hash,
  type Hex,
  type LocalAccount,
  type PublicActions,
  type Transport,
  type TransactionReceipt,
  type WalletClient,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { LocalChainError } from './errors.js';

/**
 * The DRAIN contracts of the local network and the tests: DrainChannel.sol (V1-like without a
 * fee, V2-like with one) and MockUSDC.sol, compiled with solc-js at run time, deployed and used
 * through viem. Consumers sign EIP-712 vouchers exactly as DRAIN clients do.
 */

export const drainChannelAbi = parseAbi([
  'constructor(address usdc_, uint256 feeBps_, address feeRecipient_)',
  'function open(address provider, uint256 amount, uint256 duration) returns (bytes32 channelId)',
  'function claim(bytes32 channelId, uint256 amount, uint256 nonce, bytes signature)',
  'function close(bytes32 channelId)',
  'function cooperativeClose(bytes32 channelId, uint256 finalAmount, bytes providerSignature)',
  'function channels(bytes32) view returns (address consumer, address provider, uint256 deposit, uint256 claimed, uint256 expiry)',
  'function nonces(address) view returns (uint256)',
  'function domainSeparator() view returns (bytes32)',
  'function usdc() view returns (address)',
  'function feeBps() view returns (uint256)',
  'function feeRecipient() view returns (address)',
  'event ChannelOpened(bytes32 indexed channelId, address indexed consumer, address indexed provider, uint256 deposit, uint256 expiry)',
  'event ChannelClaimed(bytes32 indexed channelId, address indexed provider, uint256 amount)',
  'event ChannelClosed(bytes32 indexed channelId, address indexed consumer, uint256 refund)',
  'event FeePaid(bytes32 indexed channelId, address indexed recipient, uint256 amount)',
  'error ChannelNotFound()',
  'error NotProvider()',
  'error NotConsumer()',
  'error NotExpired()',
  'error InvalidSignature()',
  'error InvalidAmount()',
  'error TransferFailed()',
  'error ChannelExists()',
  'error ZeroAddress()',
]);

export const mockUsdcAbi = parseAbi([
  'function name() view returns (string)',
  'function symbol() view returns (string)',
  'function decimals() view returns (uint8)',
  'function totalSupply() view returns (uint256)',
  'function balanceOf(address) view returns (uint256)',
  'function allowance(address, address) view returns (uint256)',
  'function mint(address to, uint256 amount)',
  'function approve(address spender, uint256 amount) returns (bool)',
  'function transfer(address to, uint256 amount) returns (bool)',
  'function transferFrom(address from, address to, uint256 amount) returns (bool)',
  'event Transfer(address indexed from, address indexed to, uint256 value)',
  'event Approval(address indexed owner, address indexed spender, uint256 value)',
  'error InsufficientBalance()',
  'error InsufficientAllowance()',
]);

export interface ContractArtifact {
  /** The ABI solc produced (the typed `drainChannelAbi` / `mockUsdcAbi` mirror it). */
  abi: Abi;
  bytecode: Hex;
}

export interface DrainArtifacts {
  DrainChannel: ContractArtifact;
  MockUSDC: ContractArtifact;
  solcVersion: string;
}

const SOURCES = ['DrainChannel.sol', 'MockUSDC.sol'] as const;
let compiled: Promise<DrainArtifacts> | null = null;

/** Compiles both contracts once per process (solc-js, evmVersion paris, optimizer on). */
export function compileDrainContracts(): Promise<DrainArtifacts> {
  compiled ??= compile().catch((err) => {
    compiled = null;
    throw err;
  });
  return compiled;
}

async function compile(): Promise<DrainArtifacts> {
  const sources: Record<string, { content: string }> = {};
  for (const name of SOURCES) sources[name] = { content: await readFile(new URL(`./contracts/${name}`, import.meta.url), 'utf8') };
  const input = {
    language: 'Solidity',
    sources,
    settings: {
      evmVersion: 'paris',
      optimizer: { enabled: true, runs: 200 },
      outputSelection: { '*': { '*': ['abi', 'evm.bytecode.object'] } },
    },
  };
  const output = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts?: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (output.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length > 0) throw new LocalChainError('LOCALCHAIN_COMPILE', `solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const artifact = (file: string, name: string): ContractArtifact => {
    const c = output.contracts?.[file]?.[name];
    if (!c) throw new LocalChainError('LOCALCHAIN_COMPILE', `solc produced no ${name}`);
    return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
  };
  return {
    DrainChannel: artifact('DrainChannel.sol', 'DrainChannel'),
    MockUSDC: artifact('MockUSDC.sol', 'MockUSDC'),
    solcVersion: String(solc.version()),
  };
}

export type LocalChainClient = WalletClient<Transport, Chain, Account> & PublicActions<Transport, Chain, Account>;

export interface CreateLocalChainClientParameters {
  url: string;
  /** An account object or a private key. */
  account: Account | Hex;
  chainId: number;
}

/** A wallet + public client for a local chain; no retries, long timeout (anvil_mine can take seconds). */
export function createLocalChainClient(params: CreateLocalChainClientParameters): LocalChainClient {
  const chain = defineChain({
    id: params.chainId,
    name: `local-${params.chainId}`,
    nativeCurrency: { name: 'POL', symbol: 'POL', decimals: 18 },
    rpcUrls: { default: { http: [params.url] } },
  });
  const account = typeof params.account === 'string' ? privateKeyToAccount(params.account) : params.account;
  return createWalletClient({ account, chain, transport: http(params.url, { timeout: 120_000, retryCount: 0 }), pollingInterval: 25 }).extend(
    publicActions,
  ) as LocalChainClient;
}

/** Explicit transaction fields for senders that batch (a known nonce and gas skip two round trips each). */
export interface TxOptions {
  nonce?: number;
  gas?: bigint;
  maxFeePerGas?: bigint;
  maxPriorityFeePerGas?: bigint;
  /** Wait for the receipt and check its status (default true). */
  wait?: boolean;
}

export interface TxResult {
  txHash: Hash;
  /** Present when waited for. */
  receipt?: TransactionReceipt;
}

async function settle(client: LocalChainClient, txHash: Hash, what: string, wait = true): Promise<TxResult> {
  if (!wait) return { txHash };
  const receipt = await client.waitForTransactionReceipt({ hash: txHash, pollingInterval: 25 });
  if (receipt.status !== 'success') throw new LocalChainError('LOCALCHAIN_TX_FAILED', `${what} reverted (tx ${txHash})`);
  return { txHash, receipt };
}

function txFields(tx: TxOptions) {
  return {
    ...(tx.nonce !== undefined ? { nonce: tx.nonce } : {}),
    ...(tx.gas !== undefined ? { gas: tx.gas } : {}),
    ...(tx.maxFeePerGas !== undefined ? { maxFeePerGas: tx.maxFeePerGas } : {}),
    ...(tx.maxPriorityFeePerGas !== undefined ? { maxPriorityFeePerGas: tx.maxPriorityFeePerGas } : {}),
  };
}

async function deploy(client: LocalChainClient, artifact: ContractArtifact, args: readonly unknown[], what: string): Promise<Address> {
  const txHash = await client.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args: args as unknown[] });
  const { receipt } = await settle(client, txHash, what);
  if (!receipt?.contractAddress) throw new LocalChainError('LOCALCHAIN_TX_FAILED', `${what}: no contract address in the receipt`);
  return receipt.contractAddress;
}

export async function deployMockUsdc(client: LocalChainClient, artifacts?: DrainArtifacts): Promise<Address> {
  const a = artifacts ?? (await compileDrainContracts());
  return deploy(client, a.MockUSDC, [], 'MockUSDC deployment');
}

export interface DeployDrainParameters {
  usdc: Address;
  /** 0 for a V1-like channel, 200 (2 %) for V2. */
  feeBps?: number;
  feeRecipient?: Address;
  artifacts?: DrainArtifacts;
}

export async function deployDrain(client: LocalChainClient, params: DeployDrainParameters): Promise<Address> {
  const a = params.artifacts ?? (await compileDrainContracts());
  const feeBps = params.feeBps ?? 0;
  const feeRecipient = params.feeRecipient ?? (feeBps > 0 ? client.account.address : zeroAddress);
  return deploy(client, a.DrainChannel, [params.usdc, BigInt(feeBps), feeRecipient], 'DrainChannel deployment');
}

export async function mintUsdc(client: LocalChainClient, params: { usdc: Address; to: Address; amount: bigint }, tx: TxOptions = {}): Promise<TxResult> {
  const txHash = await client.writeContract({
    address: params.usdc,
    abi: mockUsdcAbi,
    functionName: 'mint',
    args: [params.to, params.amount],
    ...txFields(tx),
  });
  return settle(client, txHash, 'USDC mint', tx.wait);
}

export async function approveUsdc(
  client: LocalChainClient,
  params: { usdc: Address; spender: Address; amount: bigint },
  tx: TxOptions = {},
): Promise<TxResult> {
  const txHash = await client.writeContract({
    address: params.usdc,
    abi: mockUsdcAbi,
    functionName: 'approve',
    args: [params.spender, params.amount],
    ...txFields(tx),
  });
  return settle(client, txHash, 'USDC approve', tx.wait);
}

export interface OpenChannelParameters {
  contract: Address;
  provider: Address;
  /** Deposit in USDC base units; the consumer must have approved the contract. */
  amount: bigint;
  /** Seconds until the consumer may close. */
  duration: bigint;
}

export interface OpenedChannel {
  channelId: Hex;
  txHash: Hash;
  blockNumber: bigint;
  expiry: bigint;
}

/** The channel id of a ChannelOpened log in a receipt. */
export function channelOpenedFromReceipt(receipt: TransactionReceipt, contract: Address): { channelId: Hex; expiry: bigint } {
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== contract.toLowerCase()) continue;
    try {
      const ev = decodeEventLog({ abi: drainChannelAbi, data: log.data, topics: log.topics });
      if (ev.eventName === 'ChannelOpened') return { channelId: ev.args.channelId, expiry: ev.args.expiry };
    } catch {
      // another event
    }
  }
  throw new LocalChainError('LOCALCHAIN_TX_FAILED', `no ChannelOpened log in tx ${receipt.transactionHash}`);
}

/** The consumer (client's account) opens a channel and waits for it. */
export async function openChannel(client: LocalChainClient, params: OpenChannelParameters, tx: Omit<TxOptions, 'wait'> = {}): Promise<OpenedChannel> {
  const txHash = await client.writeContract({
    address: params.contract,
    abi: drainChannelAbi,
    functionName: 'open',
    args: [params.provider, params.amount, params.duration],
    ...txFields(tx),
  });
  const { receipt } = await settle(client, txHash, 'channel open');
  const opened = channelOpenedFromReceipt(receipt!, params.contract);
  return { ...opened, txHash, blockNumber: receipt!.blockNumber };
}

export interface VoucherParameters {
  contract: Address;
  chainId: number;
  channelId: Hex;
  /** Cumulative amount the consumer authorizes, base units. */
  amount: bigint;
  nonce: bigint;
}

const domain = (contract: Address, chainId: number) => ({ name: 'DrainChannel', version: '1', chainId, verifyingContract: contract }) as const;

/** The consumer's EIP-712 voucher signature, as DRAIN clients send in X-DRAIN-Voucher. */
export function signVoucher(consumer: LocalAccount, params: VoucherParameters): Promise<Hex> {
  return consumer.signTypedData({
    domain: domain(params.contract, params.chainId),
    types: {
      Voucher: [
        { name: 'channelId', type: 'bytes32' },
        { name: 'amount', type: 'uint256' },
        { name: 'nonce', type: 'uint256' },
      ],
    },
    primaryType: 'Voucher',
    message: { channelId: params.channelId, amount: params.amount, nonce: params.nonce },
  });
}

export interface ClaimParameters {
  contract: Address;
  channelId: Hex;
  amount: bigint;
  nonce: bigint;
  signature: Hex;
}

/** The provider (client's account) cashes a voucher; emits ChannelClaimed(amount - claimed so far). */
export async function claim(client: LocalChainClient, params: ClaimParameters, tx: TxOptions = {}): Promise<TxResult> {
  const txHash = await client.writeContract({
    address: params.contract,
    abi: drainChannelAbi,
    functionName: 'claim',
    args: [params.channelId, params.amount, params.nonce, params.signature],
    ...txFields(tx),
  });
  return settle(client, txHash, 'claim', tx.wait);
}

/** The consumer closes an expired channel and takes back the unclaimed rest. */
export async function closeChannel(client: LocalChainClient, params: { contract: Address; channelId: Hex }, tx: TxOptions = {}): Promise<TxResult> {
  const txHash = await client.writeContract({
    address: params.contract,
    abi: drainChannelAbi,
    functionName: 'close',
    args: [params.channelId],
    ...txFields(tx),
  });
  return settle(client, txHash, 'close', tx.wait);
}

/** The provider's consent to a cooperative close at `finalAmount`. */
export function signCloseAuthorization(
  provider: LocalAccount,
  params: { contract: Address; chainId: number; channelId: Hex; finalAmount: bigint },
): Promise<Hex> {
  return provider.signTypedData({
    domain: domain(params.contract, params.chainId),
    types: {
      CloseAuthorization: [
        { name: 'channelId', type: 'bytes32' },
        { name: 'finalAmount', type: 'uint256' },
      ],
    },
    primaryType: 'CloseAuthorization',
    message: { channelId: params.channelId, finalAmount: params.finalAmount },
  });
}

/** The consumer closes at any time with the provider's signature; pays finalAmount - claimed to the provider. */
export async function cooperativeClose(
  client: LocalChainClient,
  params: { contract: Address; channelId: Hex; finalAmount: bigint; providerSignature: Hex },
  tx: TxOptions = {},
): Promise<TxResult> {
  const txHash = await client.writeContract({
    address: params.contract,
    abi: drainChannelAbi,
    functionName: 'cooperativeClose',
    args: [params.channelId, params.finalAmount, params.providerSignature],
    ...txFields(tx),
  });
  return settle(client, txHash, 'cooperative close', tx.wait);
}
