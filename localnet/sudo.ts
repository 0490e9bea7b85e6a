/**
 * Root calls a local chain needs: hyperparameters through pallet AdminUtils,
 * wrapped in `sudo` (batched with `utility.batch_all` when several). For tests and
 * the local network only; a live network's sudo key is not ours.
 */
import type { ApiPromise } from '@polkadot/api';
import type { SubmittableExtrinsic } from '@polkadot/api/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import { SubtensorError } from '../src/chain/subtensor/errors.js';
import { signAndWatch } from '../src/chain/subtensor/tx.js';
import type { TxOptions, TxReceipt } from '../src/chain/subtensor/types.js';

type Call = SubmittableExtrinsic<'promise'>;

function txOf(api: ApiPromise, section: string, method: string): (...args: unknown[]) => Call {
  const fn = (api.tx as unknown as Record<string, Record<string, ((...args: unknown[]) => Call) | undefined> | undefined>)[section]?.[method];
  if (!fn) throw new SubtensorError('UNSUPPORTED_RUNTIME', `this runtime has no ${section}.${method} call.`);
  return fn;
}

/** AdminUtils calls by what they set. Each returns an unsigned call to pass to `sudo`. */
export const adminCalls = {
  tempo: (api: ApiPromise, netuid: number, tempo: number) => txOf(api, 'adminUtils', 'sudoSetTempo')(netuid, tempo),
  weightsSetRateLimit: (api: ApiPromise, netuid: number, blocks: number) => txOf(api, 'adminUtils', 'sudoSetWeightsSetRateLimit')(netuid, blocks),
  commitRevealEnabled: (api: ApiPromise, netuid: number, enabled: boolean) => txOf(api, 'adminUtils', 'sudoSetCommitRevealWeightsEnabled')(netuid, enabled),
  /** Reveal period in epochs. */
  commitRevealPeriod: (api: ApiPromise, netuid: number, epochs: number) => txOf(api, 'adminUtils', 'sudoSetCommitRevealWeightsInterval')(netuid, epochs),
  servingRateLimit: (api: ApiPromise, netuid: number, blocks: number) => txOf(api, 'adminUtils', 'sudoSetServingRateLimit')(netuid, blocks),
  weightsVersionKey: (api: ApiPromise, netuid: number, key: bigint | number) => txOf(api, 'adminUtils', 'sudoSetWeightsVersionKey')(netuid, key),
  minAllowedWeights: (api: ApiPromise, netuid: number, count: number) => txOf(api, 'adminUtils', 'sudoSetMinAllowedWeights')(netuid, count),
  maxWeightLimit: (api: ApiPromise, netuid: number, limit: number) => txOf(api, 'adminUtils', 'sudoSetMaxWeightLimit')(netuid, limit),
  targetRegistrationsPerInterval: (api: ApiPromise, netuid: number, count: number) =>
    txOf(api, 'adminUtils', 'sudoSetTargetRegistrationsPerInterval')(netuid, count),
  maxRegistrationsPerBlock: (api: ApiPromise, netuid: number, count: number) => txOf(api, 'adminUtils', 'sudoSetMaxRegistrationsPerBlock')(netuid, count),
  networkRateLimit: (api: ApiPromise, blocks: number) => txOf(api, 'adminUtils', 'sudoSetNetworkRateLimit')(blocks),
  txRateLimit: (api: ApiPromise, blocks: number) => txOf(api, 'adminUtils', 'sudoSetTxRateLimit')(blocks),
  /** Global minimum stake (RAO) to set weights. */
  weightsMinStake: (api: ApiPromise, rao: bigint | number) => txOf(api, 'adminUtils', 'sudoSetWeightsMinStake')(rao),
} as const;

/**
 * Runs `calls` as root, signed by the sudo key, in one transaction. Fails with the
 * inner call's error name (sudo itself succeeds when the inner call fails).
 */
export async function sudo(api: ApiPromise, sudoKey: KeyringPair, calls: Call | readonly Call[], options: TxOptions = {}): Promise<TxReceipt> {
  const list = Array.isArray(calls) ? (calls as readonly Call[]) : [calls as Call];
  if (list.length === 0) throw new SubtensorError('INVALID_INPUT', 'sudo needs at least one call.');
  const inner = list.length === 1 ? list[0]! : txOf(api, 'utility', 'batchAll')(list);
  const labels = list.map((c) => `${c.method.section}.${c.method.method}`).join(', ');
  return signAndWatch(api, txOf(api, 'sudo', 'sudo')(inner), sudoKey, { ...options, label: `sudo(${labels})`, checkSudoResult: true });
}
