import type { AxonEndpoint, Dendrite } from '../dendrite/dendrite.js';

/**
 * The validator's fan-out work as queue jobs (JSON in, JSON out), so that the same
 * handlers run in-process or in `hs58 validator --worker` processes via BullMQ.
 * A miner's failure is a result (`ok: false` with the dendrite's code), not a job failure.
 */
export interface ProviderCheckJob {
  axon: AxonEndpoint;
  timeoutSec: number;
}

export interface ProviderCheckOutcome {
  uid: number;
  ok: boolean;
  statusCode: number;
  polygonWallet: string | null;
  walletProof: string | null;
  apiUrl: string | null;
}

export interface ProbeJob {
  axon: AxonEndpoint;
  targetUrl: string;
  timeoutSec: number;
}

export interface ProbeJobOutcome {
  uid: number;
  ok: boolean;
  statusCode: number;
  reachable: boolean | null;
  status: number | null;
  latencyMs: number | null;
}

export function createValidatorJobHandlers(dendrite: Dendrite) {
  return {
    providerCheck: async (job: ProviderCheckJob, signal: AbortSignal): Promise<ProviderCheckOutcome> => {
      const r = await dendrite.call(job.axon, 'ProviderCheck', {}, { timeoutSec: job.timeoutSec, signal });
      if (!r.ok) return { uid: job.axon.uid, ok: false, statusCode: r.statusCode, polygonWallet: null, walletProof: null, apiUrl: null };
      return {
        uid: job.axon.uid,
        ok: true,
        statusCode: 200,
        polygonWallet: r.fields.polygon_wallet ?? null,
        walletProof: r.fields.wallet_proof ?? null,
        apiUrl: r.fields.api_url ?? null,
      };
    },
    probe: async (job: ProbeJob, signal: AbortSignal): Promise<ProbeJobOutcome> => {
      const r = await dendrite.call(job.axon, 'ProviderProbe', { target_url: job.targetUrl }, { timeoutSec: job.timeoutSec, signal });
      if (!r.ok) return { uid: job.axon.uid, ok: false, statusCode: r.statusCode, reachable: null, status: null, latencyMs: null };
      return {
        uid: job.axon.uid,
        ok: true,
        statusCode: 200,
        reachable: r.fields.probe_reachable ?? null,
        status: r.fields.probe_status ?? null,
        latencyMs: r.fields.probe_latency_ms ?? null,
      };
    },
  };
}

export type ValidatorJobHandlers = ReturnType<typeof createValidatorJobHandlers>;

/** One queue per validator hotkey and netuid: validators sharing a Redis never take each other's jobs. */
export function validatorQueueName(netuid: number, hotkey: string): string {
  return `hs58-${netuid}-${hotkey}`;
}
