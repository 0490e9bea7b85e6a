import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One typed factory per daemon on a private registry (no global default registry,
 * so tests and several daemons in one process never collide). Modules take
 * `Metrics | null` and do nothing when metrics are off.
 */

/** What `hs58_build_info` reports (the CLI's BuildInfo). */
export interface BuildLabels {
  version: string;
  commit: string;
  node: string;
}

export interface MetricsOptions {
  registry?: Registry;
  /** The labels of `hs58_build_info`; absent: version and commit "unknown", the Node.js running this. */
  build?: BuildLabels | null;
  /**
   * prom-client's default metrics on this registry: process memory and CPU (`process_*`), heap, event-loop
   * lag and GC durations (`nodejs_*`). The daemons turn them on; each call starts its own GC observer and
   * event-loop monitor, so tests that only count leave them off.
   */
  processMetrics?: boolean;
}

/** `hs58_build_info{version,commit,node} 1` and, when asked, the default process metrics. */
function registerCommon(registry: Registry, options: MetricsOptions): void {
  const build = new Gauge({
    name: 'hs58_build_info',
    help: 'The program running: its version, the git commit it was built from and the Node.js version (always 1)',
    labelNames: ['version', 'commit', 'node'] as const,
    registers: [registry],
  });
  build.set({ version: options.build?.version ?? 'unknown', commit: options.build?.commit ?? 'unknown', node: options.build?.node ?? process.version }, 1);
  if (options.processMetrics) collectDefaultMetrics({ register: registry });
}

export function createMinerMetrics(options: MetricsOptions = {}) {
  const registry = options.registry ?? new Registry();
  registerCommon(registry, options);
  return {
    registry,
    requests: new Counter({
      name: 'hs58_axon_requests_total',
      help: 'Axon requests by synapse and status code',
      labelNames: ['synapse', 'status'] as const,
      registers: [registry],
    }),
    requestSeconds: new Histogram({
      name: 'hs58_axon_request_seconds',
      help: 'Axon request handling time',
      labelNames: ['synapse'] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'hs58_axon_queue_depth', help: 'Requests waiting for a handler', registers: [registry] }),
    stageSeconds: new Histogram({
      name: 'hs58_axon_stage_seconds',
      help: 'Time in each stage of the axon request pipeline (parse, blacklist, verify, body, admit, handle)',
      labelNames: ['stage'] as const,
      buckets: [0.00005, 0.0002, 0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60],
      registers: [registry],
    }),
    probes: new Counter({ name: 'hs58_miner_probes_total', help: 'Provider probes by outcome', labelNames: ['outcome'] as const, registers: [registry] }),
    metagraphSyncs: new Counter({
      name: 'hs58_metagraph_syncs_total',
      help: 'Metagraph syncs by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
  };
}
export type MinerMetrics = ReturnType<typeof createMinerMetrics>;

export function createValidatorMetrics(options: MetricsOptions = {}) {
  const registry = options.registry ?? new Registry();
  registerCommon(registry, options);
  return {
    registry,
    roundSeconds: new Histogram({
      name: 'hs58_validator_round_seconds',
      help: 'Duration of a validator round',
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1800],
      registers: [registry],
    }),
    rounds: new Counter({ name: 'hs58_validator_rounds_total', help: 'Rounds by outcome', labelNames: ['outcome'] as const, registers: [registry] }),
    stepFailures: new Counter({ name: 'hs58_validator_step_failures_total', help: 'Failed round steps', labelNames: ['step'] as const, registers: [registry] }),
    stepOverruns: new Counter({
      name: 'hs58_validator_step_overruns_total',
      help: 'Round steps abandoned at their budget',
      labelNames: ['step'] as const,
      registers: [registry],
    }),
    stepSeconds: new Histogram({
      name: 'hs58_validator_step_seconds',
      help: 'Duration of each round step',
      labelNames: ['step'] as const,
      buckets: [0.1, 0.5, 1, 5, 10, 30, 60, 120, 300],
      registers: [registry],
    }),
    minersAnswering: new Gauge({ name: 'hs58_validator_miners_answering', help: 'Miners that answered the last ProviderCheck', registers: [registry] }),
    minersQueried: new Gauge({ name: 'hs58_validator_miners_queried', help: 'Miners queried in the last round', registers: [registry] }),
    claimsScanned: new Counter({ name: 'hs58_validator_claims_scanned_total', help: 'ChannelClaimed logs seen', registers: [registry] }),
    claimsWindow: new Gauge({ name: 'hs58_validator_claims_in_window', help: 'Claims inside the rolling window', registers: [registry] }),
    weightsSet: new Counter({
      name: 'hs58_validator_weights_set_total',
      help: 'Weight submissions by outcome',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    weightsLastBlock: new Gauge({
      name: 'hs58_validator_weights_last_block',
      help: 'Block that included the last weights extrinsic of this validator, by event (set, committed, revealed)',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    weightsLastTime: new Gauge({
      name: 'hs58_validator_weights_last_timestamp_seconds',
      help: 'Unix time the last weights extrinsic of this validator was seen included, by event (set, committed, revealed)',
      labelNames: ['event'] as const,
      registers: [registry],
    }),
    rpcRequests: new Counter({
      name: 'hs58_polygon_rpc_requests_total',
      help: 'Polygon RPC requests per endpoint (redacted) and outcome',
      labelNames: ['endpoint', 'outcome'] as const,
      registers: [registry],
    }),
    rpcFailures: new Counter({
      name: 'hs58_polygon_rpc_failures_total',
      help: 'Failed Polygon RPC requests per endpoint host and kind (rate_limit, timeout, range, server_error, http_error, network, rpc_error, bad_response)',
      labelNames: ['host', 'kind'] as const,
      registers: [registry],
    }),
    rpcSeconds: new Histogram({
      name: 'hs58_polygon_rpc_seconds',
      help: 'Polygon RPC latency per endpoint',
      labelNames: ['endpoint'] as const,
      buckets: [0.01, 0.05, 0.1, 0.3, 1, 3, 10, 30],
      registers: [registry],
    }),
  };
}
export type ValidatorMetrics = ReturnType<typeof createValidatorMetrics>;

/** A weights extrinsic of the validator included in a block (the subtensor adapter's `onWeights`). */
export interface WeightsEventLabels {
  kind: 'set' | 'committed' | 'committed-timelocked' | 'revealed';
  blockNumber: number;
}

/** The `event` label of the weights gauges: a timelocked commit is a commit (the chain reveals it by itself). */
const WEIGHTS_EVENT = { set: 'set', committed: 'committed', 'committed-timelocked': 'committed', revealed: 'revealed' } as const;

/** Records the block and time of a weights extrinsic: `hs58_validator_weights_last_{block,timestamp_seconds}{event}`. */
export function recordWeightsEvent(metrics: ValidatorMetrics, event: WeightsEventLabels, nowMs = Date.now()): void {
  const labels = { event: WEIGHTS_EVENT[event.kind] };
  metrics.weightsLastBlock.set(labels, event.blockNumber);
  metrics.weightsLastTime.set(labels, nowMs / 1000);
}

/**
 * The `kind` label of `hs58_polygon_rpc_failures_total` for each class of failed answer the Polygon
 * transport tells apart (src/chain/polygon/rpcTransport.ts): HTTP 429 or a throttling message; no answer
 * before the deadline; "range too large" (the scanner splits the range); HTTP 5xx; another HTTP status;
 * a refused connection, reset or DNS failure; a JSON-RPC error object; an answer that is no JSON-RPC answer.
 */
export const RPC_FAILURE_KINDS: Readonly<Record<string, string>> = {
  rate_limited: 'rate_limit',
  timeout: 'timeout',
  range_too_large: 'range',
  server_error: 'server_error',
  http_error: 'http_error',
  network: 'network',
  rpc_error: 'rpc_error',
  bad_response: 'bad_response',
};

/**
 * The host (and port, when not the scheme's) of an endpoint label or URL: never its path, query or
 * userinfo, where API keys and passwords live. The pool's labels are already `redactUrl`, maybe `#n`-numbered.
 */
export function endpointHost(endpoint: string): string {
  try {
    return new URL(endpoint).host || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** The Polygon endpoint pool's metrics sink: requests and latency per endpoint label, failures per host and kind. */
export function polygonRpcRecorder(metrics: ValidatorMetrics): {
  onRequest(endpoint: string, ok: boolean, ms: number, info?: { failure?: string }): void;
} {
  return {
    onRequest(endpoint, ok, ms, info) {
      // The pool's label: redacted, and `#n`-numbered where two endpoints share one (a second
      // redactUrl would drop the number and merge their series).
      metrics.rpcRequests.inc({ endpoint, outcome: ok ? 'ok' : 'error' });
      metrics.rpcSeconds.observe({ endpoint }, ms / 1000);
      if (!ok) metrics.rpcFailures.inc({ host: endpointHost(endpoint), kind: RPC_FAILURE_KINDS[info?.failure ?? ''] ?? 'other' });
    },
  };
}
