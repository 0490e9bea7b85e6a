/**
 * Getting the miner onto the subnet: wait until its hotkey is registered (the Python miner
 * checks every 60 s), then put its reachable address on chain with serve_axon.
 *
 * `--axon.external_ip` may be a host name (Railway's TCP proxy `<x>.proxy.rlwy.net`): it is
 * resolved to IPv4 here, the IP is served, and the name is resolved again periodically; when
 * the address changes the axon is served again. The adapter skips a serve when the chain
 * already holds the same info, and a failed serve (rate limit, connection) is retried.
 */
import dns from 'node:dns';
import { isIP } from 'node:net';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ServeAxonResult, Subtensor } from '../chain/subtensor/types.js';
import { isSubtensorError } from '../chain/subtensor/errors.js';

export interface WaitForRegistrationParameters {
  subtensor: Pick<Subtensor, 'getUid'>;
  netuid: number;
  hotkey: string;
  /** Between two checks; default 60 s like the Python miner. */
  retryMs?: number;
  /** Printed in the log line so the operator knows what to run. */
  walletName?: string;
  walletHotkey?: string;
  logger: Logger;
  signal: AbortSignal;
}

/** Resolves with the hotkey's uid once it is registered; rejects only when the signal aborts. */
export async function waitForRegistration(p: WaitForRegistrationParameters): Promise<number> {
  const log = p.logger.child({ module: 'serving' });
  const retryMs = p.retryMs ?? 60_000;
  for (let attempt = 1; ; attempt++) {
    p.signal.throwIfAborted();
    try {
      const uid = await p.subtensor.getUid(p.netuid, p.hotkey);
      if (uid !== null) {
        log.info({ netuid: p.netuid, hotkey: p.hotkey, uid }, 'hotkey is registered');
        return uid;
      }
      const how = `btcli subnet register --netuid ${p.netuid}${p.walletName ? ` --wallet.name ${p.walletName}` : ''}${p.walletHotkey ? ` --wallet.hotkey ${p.walletHotkey}` : ''}`;
      log.warn(
        { netuid: p.netuid, hotkey: p.hotkey, attempt, retryInSec: Math.round(retryMs / 1000) },
        `hotkey ${p.hotkey} is not registered on netuid ${p.netuid}; checking again in ${Math.round(retryMs / 1000)} s (register it with \`${how}\`)`,
      );
    } catch (err) {
      if (p.signal.aborted) throw p.signal.reason;
      log.warn({ netuid: p.netuid, err: errorMessage(err), retryInSec: Math.round(retryMs / 1000) }, 'could not check the registration; retrying');
    }
    await sleep(retryMs, undefined, { signal: p.signal });
  }
}

/** IPv4 of a host name (first A record), like the original entrypoint's resolution of AXON_EXTERNAL_IP. */
export type Ipv4Resolver = (host: string) => Promise<string>;

export const systemIpv4Resolver: Ipv4Resolver = async (host) => (await dns.promises.lookup(host, { family: 4 })).address;

/**
 * The address to serve when `--axon.external_ip` is not set: the first public IPv4 of this
 * machine's interfaces, or null (behind NAT the operator must say it). Pure over `interfaces`.
 */
export function publicInterfaceIpv4(interfaces: ReturnType<typeof os.networkInterfaces> = os.networkInterfaces()): string | null {
  for (const list of Object.values(interfaces)) {
    for (const a of list ?? []) {
      if (a.family !== 'IPv4' || a.internal) continue;
      const [x = 0, y = 0] = a.address.split('.').map(Number);
      const isPrivate =
        x === 10 ||
        x === 127 ||
        (x === 172 && y >= 16 && y <= 31) ||
        (x === 192 && y === 168) ||
        (x === 169 && y === 254) ||
        (x === 100 && y >= 64 && y <= 127);
      if (!isPrivate) return a.address;
    }
  }
  return null;
}

export interface AxonServingParameters {
  subtensor: Pick<Subtensor, 'serveAxon'>;
  netuid: number;
  /** IP literal or host name. */
  externalHost: string;
  externalPort: number;
  /** Axon version put on chain. */
  version?: number;
  resolveIpv4?: Ipv4Resolver;
  /** How often a host name is resolved again. Default 5 min. */
  recheckMs?: number;
  /** After a failed serve. Default 60 s. */
  retryMs?: number;
  logger: Logger;
}

export interface AxonServingStatus {
  externalHost: string;
  /** The IP last served (or found already on chain). */
  servedIp: string | null;
  port: number;
  lastError: string | null;
}

export interface AxonServing {
  /** Resolves and serves once; returns the adapter's result, or throws. */
  serveOnce(signal?: AbortSignal): Promise<ServeAxonResult>;
  /** Serves, then keeps the chain in step with the host name until the signal aborts. Never throws. */
  run(signal: AbortSignal): Promise<void>;
  status(): AxonServingStatus;
}

export function createAxonServing(p: AxonServingParameters): AxonServing {
  const log = p.logger.child({ module: 'serving' });
  const resolve = p.resolveIpv4 ?? systemIpv4Resolver;
  const recheckMs = p.recheckMs ?? 300_000;
  const retryMs = p.retryMs ?? 60_000;
  const isLiteral = isIP(p.externalHost.replace(/^\[(.*)\]$/, '$1')) !== 0;
  let servedIp: string | null = null;
  let lastError: string | null = null;

  async function currentIp(): Promise<string> {
    if (isLiteral) return p.externalHost.replace(/^\[(.*)\]$/, '$1');
    return resolve(p.externalHost);
  }

  async function serveOnce(signal?: AbortSignal): Promise<ServeAxonResult> {
    const ip = await currentIp();
    const result = await p.subtensor.serveAxon({ netuid: p.netuid, ip, port: p.externalPort, version: p.version, signal });
    servedIp = ip;
    lastError = null;
    if (result.kind === 'served')
      log.info({ netuid: p.netuid, ip, port: p.externalPort, host: isLiteral ? undefined : p.externalHost, block: result.blockNumber }, 'axon served on chain');
    else log.info({ netuid: p.netuid, ip, port: p.externalPort }, 'axon already on chain with this address');
    return result;
  }

  return {
    serveOnce,
    async run(signal) {
      while (!signal.aborted) {
        let wait = recheckMs;
        try {
          const ip = await currentIp();
          if (ip !== servedIp) {
            if (servedIp !== null) log.info({ host: p.externalHost, from: servedIp, to: ip }, 'external address changed; serving the axon again');
            await serveOnce(signal);
          }
        } catch (err) {
          if (signal.aborted) return;
          lastError = errorMessage(err);
          wait = retryMs;
          const rateLimited = isSubtensorError(err, 'ServingRateLimitExceeded');
          log.warn(
            { host: p.externalHost, port: p.externalPort, err: lastError, retryInSec: Math.round(retryMs / 1000) },
            rateLimited ? 'serve_axon rate-limited; retrying' : 'could not serve the axon; retrying',
          );
        }
        // A literal IP that is on chain needs no further work.
        if (isLiteral && servedIp !== null) return;
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          return;
        }
      }
    },
    status: () => ({ externalHost: p.externalHost, servedIp, port: p.externalPort, lastError }),
  };
}
