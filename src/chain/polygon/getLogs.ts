import type { EndpointPool } from './endpointPool.js';
import { parseQuantity } from './rpcTransport.js';
import { PolygonError } from './errors.js';
import { rangeSize, type BlockRange } from './ranges.js';

/** keccak256("ChannelClaimed(bytes32,address,uint256)"), see drain.md. */
export const CHANNEL_CLAIMED_TOPIC = '0xf52962519ffeefc816f3b8d3e9498fd9fd014f35c0b6aeead0118577a42bb324';

/** One ChannelClaimed log: `amount` is the payout of this claim (before any V2 fee), USDC base units. */
export interface ChannelClaim {
  contract: string;
  channelId: string;
  provider: string;
  amount: bigint;
  blockNumber: number;
  txHash: string;
  logIndex: number;
}

const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const WORD = /^0x[0-9a-fA-F]{64}$/;

/** Checks and lowercases an address; POLYGON_INVALID_INPUT names what was wrong. */
export function normalizeAddress(value: string, what = 'address'): string {
  const v = value.trim();
  if (!ADDRESS.test(v)) throw new PolygonError('POLYGON_INVALID_INPUT', `${what} ${JSON.stringify(value)} is not a 0x-prefixed 20-byte hex address`);
  return v.toLowerCase();
}

const hex = (n: number) => `0x${n.toString(16)}`;

function bad(message: string): never {
  throw new PolygonError('POLYGON_BAD_RESPONSE', `eth_getLogs answer rejected: ${message}`);
}

/**
 * Decodes an eth_getLogs result into claims, rejecting anything a correct node would not send
 * (a log outside the range or from another contract, a malformed word). A rejected answer is
 * retried on another endpoint instead of being half-trusted.
 */
export function decodeClaimLogs(result: unknown, expected: { contracts: ReadonlySet<string>; range: BlockRange }): ChannelClaim[] {
  if (!Array.isArray(result)) bad('not an array');
  const claims: ChannelClaim[] = [];
  for (const raw of result) {
    if (typeof raw !== 'object' || raw === null) bad('a log is not an object');
    const log = raw as Record<string, unknown>;
    if (log.removed === true) continue; // reorged away; confirmed ranges should never carry one
    const contract = typeof log.address === 'string' ? log.address.toLowerCase() : '';
    if (!expected.contracts.has(contract)) bad(`log from unrequested contract ${String(log.address).slice(0, 42)}`);
    const topics = log.topics;
    if (!Array.isArray(topics) || topics.length !== 3 || !topics.every((t) => typeof t === 'string' && WORD.test(t)))
      bad('topics are not [topic0, channelId, provider]');
    const [topic0, channelId, providerWord] = (topics as string[]).map((t) => t.toLowerCase()) as [string, string, string];
    if (topic0 !== CHANNEL_CLAIMED_TOPIC) bad(`unexpected topic0 ${topic0}`);
    if (!providerWord.startsWith('0x000000000000000000000000')) bad('provider topic is not a left-padded address');
    if (typeof log.data !== 'string' || !WORD.test(log.data)) bad('data is not one uint256');
    const blockNumber = parseQuantity(log.blockNumber, 'log block number');
    if (blockNumber < expected.range.from || blockNumber > expected.range.to) {
      bad(`log at block ${blockNumber} outside the requested ${expected.range.from}-${expected.range.to}`);
    }
    if (typeof log.transactionHash !== 'string' || !WORD.test(log.transactionHash)) bad('bad transactionHash');
    claims.push({
      contract,
      channelId,
      provider: `0x${providerWord.slice(26)}`,
      amount: BigInt(log.data),
      blockNumber,
      txHash: log.transactionHash.toLowerCase(),
      logIndex: parseQuantity(log.logIndex, 'log index'),
    });
  }
  return claims;
}

export interface GetChannelClaimsParameters {
  /** Lowercase contract addresses. */
  contracts: readonly string[];
  range: BlockRange;
  signal?: AbortSignal;
}

/**
 * ChannelClaimed logs of the contracts in one block range, in one request. Throws
 * POLYGON_RANGE_TOO_LARGE when an endpoint refuses the range (the caller splits it; a
 * single block is never "too large" here: it is retried on other endpoints instead).
 */
export async function getChannelClaims(pool: EndpointPool, params: GetChannelClaimsParameters): Promise<ChannelClaim[]> {
  const { range } = params;
  const contracts = new Set(params.contracts);
  return pool.request('eth_getLogs', [{ address: [...contracts], topics: [CHANNEL_CLAIMED_TOPIC], fromBlock: hex(range.from), toBlock: hex(range.to) }], {
    signal: params.signal,
    minBlock: range.to,
    splittable: rangeSize(range) > 1,
    parse: (result) => decodeClaimLogs(result, { contracts, range }),
  });
}

/** The two halves of a range that an endpoint refused. */
export function splitRange(r: BlockRange): [BlockRange, BlockRange] {
  const mid = r.from + Math.floor((r.to - r.from) / 2);
  return [
    { from: r.from, to: mid },
    { from: mid + 1, to: r.to },
  ];
}

/**
 * The block span of the next eth_getLogs. Starts at LOG_CHUNK_SIZE; a refusal drops it to half
 * of the refused span so later chunks do not hit the same limit; after a run of successes it
 * doubles again, never above `max` (by default the starting size).
 */
export class ChunkSizer {
  private current: number;
  private successes = 0;

  constructor(
    start: number,
    private readonly max = start,
    private readonly growAfter = 8,
  ) {
    if (!Number.isSafeInteger(start) || start < 1) throw new PolygonError('POLYGON_INVALID_INPUT', `chunk size ${start} must be a positive integer`);
    this.current = start;
  }

  get size(): number {
    return this.current;
  }

  onRangeTooLarge(refusedSize: number): void {
    this.current = Math.max(1, Math.min(this.current, Math.floor(refusedSize / 2)));
    this.successes = 0;
  }

  onSuccess(): void {
    this.successes += 1;
    if (this.successes >= this.growAfter && this.current < this.max) {
      this.current = Math.min(this.max, this.current * 2);
      this.successes = 0;
    }
  }
}
