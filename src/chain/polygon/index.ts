import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import type { ClaimsStateJSON } from './claimsStore.js';
import { EndpointPool, type RpcMetricsSink } from './endpointPool.js';
import { ClaimsScanner, windowBlocksFor, type ScanProgress } from './scanner.js';
import type { StateStore } from '../../store/jsonFile.js';

export { ClaimsStore, formatUsdc, totalsToJSON, type ClaimsStateJSON, type ProviderClaims, type ProviderClaimsJSON } from './claimsStore.js';
export { EndpointPool, type EndpointPoolOptions, type EndpointStats, type RpcMetricsSink } from './endpointPool.js';
export { classifyRpcError, parseQuantity, type RpcAnswerClass, type RpcFailureKind } from './rpcTransport.js';
export { PolygonError, type PolygonErrorCode } from './errors.js';
export { CHANNEL_CLAIMED_TOPIC, getChannelClaims, normalizeAddress, type ChannelClaim } from './getLogs.js';
export { formatRanges, type BlockRange } from './ranges.js';
export {
  ClaimsScanner,
  windowBlocksFor,
  type ClaimsCompleteness,
  type ClaimsScannerOptions,
  type ClaimsSource,
  type MissingRange,
  type RunRoundOptions,
  type ScanProgress,
  type ScanRoundResult,
} from './scanner.js';
export { createFileStateStore, createMemoryStateStore, type StateStore } from '../../store/jsonFile.js';

/** File name of the scanner state inside --neuron.state_path. */
export const CLAIMS_STATE_FILE = 'drain-claims.json';

export type PolygonScanConfig = Pick<
  Config,
  | 'polygon.rpc_url'
  | 'polygon.contracts'
  | 'polygon.log_chunk_size'
  | 'polygon.confirmations'
  | 'polygon.window_days'
  | 'polygon.blocks_per_day'
  | 'polygon.concurrency'
>;

export interface CreateClaimsScannerDeps {
  logger?: Logger | null;
  metrics?: RpcMetricsSink | null;
  store?: StateStore<ClaimsStateJSON> | null;
  /** eth_chainId every endpoint must answer (137 on Polygon); null skips the check. */
  chainId?: number | null;
  /** Used only while the configured endpoints cannot serve (e.g. DEFAULT_POLYGON_RPCS behind a private RPC). */
  fallbackUrls?: readonly string[];
  /** Per-request time limit and cool-down; defaults suit public RPCs. */
  timeoutMs?: number;
  cooldownMs?: number;
  onProgress?: (progress: ScanProgress) => void;
}

/** The endpoint pool and scanner from the `polygon.*` options. */
export function createClaimsScanner(config: PolygonScanConfig, deps: CreateClaimsScannerDeps = {}): { scanner: ClaimsScanner; pool: EndpointPool } {
  const chainId = deps.chainId === undefined ? 137 : deps.chainId;
  const pool = new EndpointPool({
    urls: config['polygon.rpc_url'],
    fallbackUrls: deps.fallbackUrls,
    concurrencyPerEndpoint: config['polygon.concurrency'],
    expectedChainId: chainId,
    timeoutMs: deps.timeoutMs,
    cooldownMs: deps.cooldownMs,
    metrics: deps.metrics ?? null,
    logger: deps.logger ?? null,
  });
  const scanner = new ClaimsScanner({
    pool,
    contracts: config['polygon.contracts'],
    chainId,
    chunkSize: config['polygon.log_chunk_size'],
    confirmations: config['polygon.confirmations'],
    windowBlocks: windowBlocksFor(config['polygon.window_days'], config['polygon.blocks_per_day']),
    store: deps.store ?? null,
    logger: deps.logger ?? null,
    onProgress: deps.onProgress,
  });
  return { scanner, pool };
}
