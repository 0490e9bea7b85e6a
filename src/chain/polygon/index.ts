import type { Config } from '../../config/schema.js';
import type { Logger } from '../../observability/logger.js';
import { ClaimsDatabase } from './claimsDatabase.js';
import { importLegacyClaims, type LegacyClaimsFile } from './claimsImport.js';
import { claimsIdentity, ClaimsStore, type ClaimsWindow } from './claimsStore.js';
import { EndpointPool, type RpcMetricsSink } from './endpointPool.js';
import { ClaimsScanner, windowBlocksFor, type ScanProgress } from './scanner.js';

export { CLAIMS_DATABASE_FILE, ClaimsDatabase, type OpenClaimsDatabaseOptions } from './claimsDatabase.js';
export { importLegacyClaims, legacyClaimsFileInPlace, type LegacyClaimsFile, type LegacyImport } from './claimsImport.js';
export {
  claimsIdentity,
  ClaimsStore,
  formatUsdc,
  totalsToJSON,
  type ClaimsStateJSON,
  type ClaimsWindow,
  type ProviderClaims,
  type ProviderClaimsJSON,
} from './claimsStore.js';
export { EndpointPool, type EndpointPoolOptions, type EndpointStats, type RpcMetricsSink } from './endpointPool.js';
export { PolygonError, type PolygonErrorCode } from './errors.js';
export { CHANNEL_CLAIMED_TOPIC, getChannelClaims, normalizeAddress, type ChannelClaim } from './getLogs.js';
export { formatRanges, type BlockRange } from './ranges.js';
export { classifyRpcError, parseQuantity, type RpcAnswerClass, type RpcFailureKind } from './rpcTransport.js';
export {
  ClaimsScanner,
  windowBlocksFor,
  type ClaimsCompleteness,
  type ClaimsScannerOptions,
  type ClaimsScanStatus,
  type ClaimsSource,
  type MissingRange,
  type RunRoundOptions,
  type ScanProgress,
  type ScanRoundResult,
} from './scanner.js';

/** File name of the JSON scanner state of earlier versions, imported once into CLAIMS_DATABASE_FILE. */
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
  /** The claims database (CLAIMS_DATABASE_FILE in the state folder); without it the claims are kept in memory. */
  databasePath?: string | null;
  /** A JSON state of an earlier version, imported once into the database and then moved away. */
  legacyState?: LegacyClaimsFile | null;
  /** eth_chainId every endpoint must answer (137 on Polygon); null skips the check. */
  chainId?: number | null;
  /** Used only while the configured endpoints cannot serve (e.g. DEFAULT_POLYGON_RPCS behind a private RPC). */
  fallbackUrls?: readonly string[];
  /** Per-request time limit and cool-down; defaults suit public RPCs. */
  timeoutMs?: number;
  cooldownMs?: number;
  onProgress?: (progress: ScanProgress) => void;
}

/** The endpoint pool, the claims store (in the database when a path is given) and the scanner, from the `polygon.*` options. */
export function createClaimsScanner(
  config: PolygonScanConfig,
  deps: CreateClaimsScannerDeps = {},
): { scanner: ClaimsScanner; pool: EndpointPool; store: ClaimsWindow; close: () => void } {
  const chainId = deps.chainId === undefined ? 137 : deps.chainId;
  const logger = deps.logger ?? null;
  const identity = claimsIdentity(config['polygon.contracts'], chainId);
  const pool = new EndpointPool({
    urls: config['polygon.rpc_url'],
    fallbackUrls: deps.fallbackUrls,
    concurrencyPerEndpoint: config['polygon.concurrency'],
    expectedChainId: chainId,
    timeoutMs: deps.timeoutMs,
    cooldownMs: deps.cooldownMs,
    metrics: deps.metrics ?? null,
    logger,
  });
  const database = deps.databasePath ? ClaimsDatabase.open({ path: deps.databasePath, identity, logger }) : null;
  try {
    if (database && deps.legacyState) importLegacyClaims(database, deps.legacyState, logger);
  } catch (err) {
    database?.close();
    throw err;
  }
  const store = database ?? new ClaimsStore(identity);
  const scanner = new ClaimsScanner({
    pool,
    contracts: identity.contracts,
    chainId,
    chunkSize: config['polygon.log_chunk_size'],
    confirmations: config['polygon.confirmations'],
    windowBlocks: windowBlocksFor(config['polygon.window_days'], config['polygon.blocks_per_day']),
    store,
    logger,
    onProgress: deps.onProgress,
  });
  const close = () => {
    pool.close();
    database?.close();
  };
  return { scanner, pool, store, close };
}
