/**
 * The miner's two synapse handlers.
 *
 * `ProviderCheck` (generation A): the Polygon wallet, the EIP-191 proof over
 * `Bittensor Subnet 58 Miner: {hotkey}` (signed once at start) and the provider's API URL.
 * What is not configured stays null, and the log says why once, at start.
 *
 * `ProviderProbe` (generation C): one guarded, timed GET of the target (src/miner/probe.ts);
 * any failure, a refused private target included, is `reachable=false, status=0, latency=0`
 * exactly like the Python miner's answer to an exception.
 */
import type { PrivateKeyAccount } from 'viem/accounts';
import type { AxonHandlers } from '../axon/server.js';
import type { Logger } from '../observability/logger.js';
import { createThrottle } from '../observability/logger.js';
import type { MinerMetrics } from '../observability/metrics.js';
import { signWalletProof } from '../wallet/polygon.js';
import type { Prober } from './probe.js';

export interface ProviderIdentity {
  polygonWallet: string | null;
  walletProof: string | null;
  apiUrl: string | null;
}

export interface CreateMinerServiceParameters {
  hotkeyAddress: string;
  /** From POLYGON_PRIVATE_KEY (already checked against POLYGON_WALLET), or null. */
  polygonAccount: PrivateKeyAccount | null;
  /** POLYGON_WALLET, or null (then the account's address is used). */
  polygonWallet: string | null;
  apiUrl: string | null;
  prober: Prober;
  logger: Logger;
  metrics?: MinerMetrics | null;
}

export interface MinerService {
  handlers: AxonHandlers;
  /** What ProviderCheck answers. */
  identity: ProviderIdentity;
}

/** Signs the wallet proof once and returns the handlers. */
export async function createMinerService(params: CreateMinerServiceParameters): Promise<MinerService> {
  const log = params.logger.child({ module: 'miner' });
  const metrics = params.metrics ?? null;
  const identity = await providerIdentity(params, log);
  const refusedLog = createThrottle(60_000);

  const handlers: AxonHandlers = {
    ProviderCheck: () => ({
      polygon_wallet: identity.polygonWallet,
      wallet_proof: identity.walletProof,
      api_url: identity.apiUrl,
    }),
    ProviderProbe: async (request, ctx) => {
      const target = request.fields.target_url;
      const outcome = await params.prober.probe(target, ctx.signal);
      const kind = outcome.probe_reachable ? 'reachable' : (outcome.failure?.kind ?? 'unreachable');
      metrics?.probes.inc({ outcome: kind });
      if (outcome.failure?.kind === 'refused' && refusedLog(ctx.callerHotkey)) {
        log.info({ caller: ctx.callerHotkey, reason: outcome.failure.message }, 'refused to probe a non-public address');
      } else {
        log.debug(
          {
            caller: ctx.callerHotkey,
            reachable: outcome.probe_reachable,
            status: outcome.probe_status,
            latencyMs: outcome.probe_latency_ms,
            failure: outcome.failure?.kind,
          },
          'probed',
        );
      }
      return {
        probe_latency_ms: outcome.probe_latency_ms,
        probe_status: outcome.probe_status,
        probe_reachable: outcome.probe_reachable,
      };
    },
  };
  return { handlers, identity };
}

async function providerIdentity(params: CreateMinerServiceParameters, log: Logger): Promise<ProviderIdentity> {
  const apiUrl = params.apiUrl && params.apiUrl.trim() !== '' ? params.apiUrl.trim() : null;
  if (apiUrl === null) log.warn('API_URL (--miner.api_url) is not set: ProviderCheck answers api_url = null');
  const account = params.polygonAccount;
  if (account === null) {
    if (params.polygonWallet) {
      log.warn(
        { polygonWallet: params.polygonWallet },
        'POLYGON_PRIVATE_KEY is not set: ProviderCheck answers the wallet without a proof (validators give no availability score without one)',
      );
      return { polygonWallet: params.polygonWallet, walletProof: null, apiUrl };
    }
    log.warn('no Polygon wallet configured (POLYGON_WALLET / POLYGON_PRIVATE_KEY): ProviderCheck answers polygon_wallet = wallet_proof = null');
    return { polygonWallet: null, walletProof: null, apiUrl };
  }
  const walletProof = await signWalletProof(account, params.hotkeyAddress);
  log.info({ polygonWallet: account.address, hotkey: params.hotkeyAddress }, 'wallet ownership proof signed');
  return { polygonWallet: params.polygonWallet ?? account.address, walletProof, apiUrl };
}
