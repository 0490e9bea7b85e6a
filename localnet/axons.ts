/**
 * Where the local network's axons are: the address each one has on chain, and where it really
 * listens. 'mapped': 10.0.0.N on chain, listening on 127.0.0.1; only an in-process validator
 * reaches them, through `resolveAddress`. 'loopback': 127.0.0.N, where they listen (the runtime
 * accepts any loopback address but 127.0.0.1), so that validator worker processes, which have no
 * address mapping, reach them too. Linux only (127.0.0.0/8 is all local there).
 */
import type { ApiPromise } from '@polkadot/api';
import { encodeIp } from '../src/chain/subtensor/index.js';
import { subtensorCalls } from '../src/chain/subtensor/mechanism.js';
import { AXON_PROTOCOL_HTTP, DEFAULT_AXON_VERSION, serveAxonCall } from '../src/chain/subtensor/serve.js';
import { signAndWatch } from '../src/chain/subtensor/tx.js';
import { loadHotkey } from '../src/wallet/hotkey.js';

export type AxonAddressing = 'mapped' | 'loopback';

export interface ServedAxon {
  /** Address on chain. */
  ip: string;
  port: number;
  /** Where it listens. */
  host: string;
}

export interface AxonAddressBook {
  /** The next free address: `ip` on chain, `host` to listen on. */
  allocate(): { ip: string; host: string };
  /** An axon served at `ip:port` listens on `host`. */
  record(ip: string, port: number, host: string): void;
  /** Where to connect for an axon the chain says is at `ip:port`. */
  resolveAddress(ip: string, port: number): { host: string; port: number };
}

export function createAxonAddressBook(addressing: AxonAddressing): AxonAddressBook {
  const listenOf = new Map<string, string>();
  let nextHost = 2;
  return {
    allocate() {
      const n = nextHost++;
      if (n > 254) throw new Error('the local network has addresses for 253 axons');
      return addressing === 'loopback' ? { ip: `127.0.0.${n}`, host: `127.0.0.${n}` } : { ip: `10.0.0.${n}`, host: '127.0.0.1' };
    },
    record: (ip, port, host) => void listenOf.set(`${ip}:${port}`, host),
    resolveAddress(ip, port) {
      const host = listenOf.get(`${ip}:${port}`);
      return host ? { host, port } : { host: ip, port };
    },
  };
}

export interface ServeOnChainParameters {
  walletPath: string;
  walletName: string;
  hotkeyName: string;
  netuid: number;
  ip: string;
  port: number;
}

/** serve_axon signed by a hotkey of the wallet, without the daemon's refusal of loopback addresses. */
export async function serveOnChain(api: ApiPromise, p: ServeOnChainParameters): Promise<void> {
  const { pair } = await loadHotkey({ walletPath: p.walletPath, name: p.walletName, hotkey: p.hotkeyName });
  const { ip, ipType } = encodeIp(p.ip);
  const call = serveAxonCall(subtensorCalls(api), p.netuid, {
    version: DEFAULT_AXON_VERSION,
    ip,
    port: p.port,
    ipType,
    protocol: AXON_PROTOCOL_HTTP,
  });
  await signAndWatch(api, call, pair, { label: 'serveAxon' });
}
