/**
 * serve_axon: put the miner's reachable address on chain. Skipped when the chain
 * already holds the same info; refused locally for loopback/unspecified addresses
 * and while the serving rate limit (`ServingRateLimit` blocks since the last serve) holds.
 */
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { REASON_HINTS, SubtensorError } from './errors.js';
import { decodeIp, encodeServableIp } from './ip.js';
import { subtensorCalls, type CallSection } from './mechanism.js';
import { assertSubnetExists, axonFromPrimitive } from './metagraph.js';
import { primitive, requireStorage, toNumber, type StorageApi } from './storage.js';
import { signAndWatch } from './tx.js';
import type { AxonInfo, ServeAxonParameters, ServeAxonResult } from './types.js';

/** bittensor 10.5.0 as the SDK encodes versions (major·10⁶ + minor·10³ + patch). */
export const DEFAULT_AXON_VERSION = 10_005_000;
export const AXON_PROTOCOL_HTTP = 4;

export function sameAxon(current: AxonInfo, wanted: Pick<AxonInfo, 'ip' | 'port' | 'ipType' | 'version' | 'protocol'>): boolean {
  return (
    current.ip === wanted.ip &&
    current.port === wanted.port &&
    current.ipType === wanted.ipType &&
    current.version === wanted.version &&
    current.protocol === wanted.protocol
  );
}

/** `axon_passes_rate_limit`: no limit, never served, or enough blocks since the last serve. */
export function servingRateLimitPasses(lastServeBlock: number, limit: number, inclusionBlock: number): boolean {
  return limit === 0 || lastServeBlock === 0 || inclusionBlock - lastServeBlock >= limit;
}

export async function readAxon(api: StorageApi, netuid: number, hotkey: string): Promise<AxonInfo> {
  return axonFromPrimitive(primitive(await requireStorage(api, 'axons')(netuid, hotkey)), 'axon');
}

/** `serve_axon(netuid, version, ip: u128, port, ip_type, protocol, placeholder1 = 0, placeholder2 = 0)`. */
export function serveAxonCall<R>(tx: CallSection<R>, netuid: number, axon: { version: number; ip: bigint; port: number; ipType: number; protocol: number }): R {
  const fn = tx?.serveAxon;
  if (!fn) throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no SubtensorModule.serve_axon call.');
  return fn(netuid, axon.version, axon.ip, axon.port, axon.ipType, axon.protocol, 0, 0);
}

export async function serveAxon(api: ApiPromise, signer: KeyringPair, params: ServeAxonParameters): Promise<ServeAxonResult> {
  const { netuid } = params;
  if (!Number.isInteger(params.port) || params.port < 1 || params.port > 65535) {
    throw new SubtensorError('INVALID_INPUT', `axon port ${params.port} must be an integer from 1 to 65535.`, { reason: 'InvalidPort' });
  }
  const { ip, ipType } = encodeServableIp(params.ip);
  const version = params.version ?? DEFAULT_AXON_VERSION;
  const protocol = params.protocol ?? AXON_PROTOCOL_HTTP;
  const header = await api.rpc.chain.getHeader();
  const at = await api.at(header.hash);
  await assertSubnetExists(at, netuid);
  const [uid, current, limit] = await Promise.all([
    requireStorage(at, 'uids')(netuid, signer.address).then(primitive),
    readAxon(at, netuid, signer.address),
    requireStorage(at, 'servingRateLimit')(netuid).then((c) => toNumber(primitive(c), 'ServingRateLimit')),
  ]);
  const wanted = { ip: decodeIp(ip, ipType), port: params.port, ipType, version, protocol };
  if (!params.skipPrechecks) {
    if (uid === null) {
      throw new SubtensorError('PRECHECK_FAILED', `serveAxon not sent: ${REASON_HINTS.HotKeyNotRegisteredInSubNet} (${netuid}).`, {
        reason: 'HotKeyNotRegisteredInSubNet',
      });
    }
    if (sameAxon(current, wanted)) return { kind: 'unchanged', axon: current };
    const inclusion = header.number.toNumber() + 1;
    if (!servingRateLimitPasses(current.block, limit, inclusion)) {
      const retryAtBlock = current.block + limit;
      throw new SubtensorError(
        'PRECHECK_FAILED',
        `serveAxon not sent: the axon was served at block ${current.block}; the subnet allows a new serve from block ${retryAtBlock}.`,
        {
          reason: 'ServingRateLimitExceeded',
          details: { retryAtBlock, lastServeBlock: current.block, servingRateLimit: limit },
        },
      );
    }
  }
  const call = serveAxonCall(subtensorCalls(api), netuid, {
    version,
    ip,
    port: params.port,
    ipType,
    protocol,
  });
  const receipt = await signAndWatch(api, call, signer, {
    waitFor: params.waitFor,
    timeoutMs: params.timeoutMs,
    signal: params.signal,
    label: 'serveAxon',
  });
  const axon = await readAxon(await api.at(receipt.blockHash), netuid, signer.address);
  return { kind: 'served', axon, ...receipt };
}
