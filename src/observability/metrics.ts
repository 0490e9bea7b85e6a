import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * One typed factory per daemon on a private registry (no global default registry,
 * so tests and several daemons in one process never collide). Modules take
 * `Metrics | null` and do nothing when metrics are off.
 */
export function createMinerMetrics(registry = new Registry()) {
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

export function createValidatorMetrics(registry = new Registry()) {
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
    rpcRequests: new Counter({
      name: 'hs58_polygon_rpc_requests_total',
      help: 'Polygon RPC requests per endpoint (redacted) and outcome',
      labelNames: ['endpoint', 'outcome'] as const,
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
