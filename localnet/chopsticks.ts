/**
 * A real subtensor runtime on this machine: Chopsticks running the chain spec's
 * compiled runtime (spec 218 offline, see ../shared/chain/README.md), in-process.
 *
 * Clients reach it through a small TCP relay on the public port, so that
 * `restart()` can do what a node restart does to its clients (every connection
 * dropped, the port refusing connections for a while, then the same port
 * serving the same chain state again) without losing the chain state.
 *
 * Chopsticks logs through its own pino at the level of the LOG_LEVEL environment
 * variable, read when it is first imported (it is imported lazily here): the
 * process that starts it sets LOG_LEVEL=warn to keep block logs quiet.
 */
import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { u8aToHex } from '@polkadot/util';
import { xxhashAsHex } from '@polkadot/util-crypto';
import { loadChopsticks } from '../src/rehearse/fork.js';
import { keepLocalTrafficOffProxy } from '../src/util/globalAgent.js';
import { LocalChainError } from './errors.js';

export { LocalChainError, type LocalChainErrorCode } from './errors.js';

export interface StartChopsticksOptions {
  /** Raw chain spec with the runtime in its genesis (`--subtensor.chain_spec`, SUBTENSOR_CHAIN_SPEC). */
  chainSpecPath: string;
  /** Public WebSocket port; 0 or absent picks a free one. */
  port?: number;
  host?: string;
  /** `Instant` (default): a block per transaction. `Manual`: only `newBlock()` builds. */
  buildBlockMode?: 'Instant' | 'Batch' | 'Manual';
  /**
   * Run a runtime that imports host functions Chopsticks lacks (drand-era runtimes import
   * `ext_host_calls_bls12_381_*`): calling one fails at run time instead of at load.
   */
  allowUnresolvedImports?: boolean;
}

export interface LocalChain {
  /** ws://host:port */
  readonly endpoint: string;
  readonly port: number;
  /** Builds `count` empty blocks (about 0.4 s each with the real runtime). */
  newBlock(count?: number): Promise<number>;
  /**
   * Chopsticks has no block timer: this builds a block every `intervalMs` (skipping a tick
   * while one is still being built) so that daemons waiting for new heads see time pass.
   * Returns a function that stops it; `close()` stops it too.
   */
  produceBlocks(intervalMs: number): () => void;
  /** Current head number. */
  headNumber(): number;
  /** Writes storage like `dev_setStorage` (`{System: {Account: [[[addr], {...}]]}}`) into the head. */
  setStorage(values: Record<string, unknown>): Promise<void>;
  /** Drops every connection, refuses new ones for `downMs`, then serves the same state on the same port again. */
  restart(options?: { downMs?: number }): Promise<void>;
  close(): Promise<void>;
}

export async function startChopsticks(options: StartChopsticksOptions): Promise<LocalChain> {
  const host = options.host ?? '127.0.0.1';
  let genesis: unknown;
  try {
    genesis = JSON.parse(await readFile(options.chainSpecPath, 'utf8'));
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new LocalChainError(
      missing ? 'CHAIN_SPEC_MISSING' : 'CHAIN_SPEC_INVALID',
      missing
        ? `chain spec ${options.chainSpecPath} not found; pass --subtensor.chain_spec or set SUBTENSOR_CHAIN_SPEC (the repository expects ../shared/chain/subtensor-spec218-raw.json).`
        : `chain spec ${options.chainSpecPath} is not valid JSON.`,
      { cause: err },
    );
  }
  const { setupContext, createServer, handler, core } = await loadChopsticks();
  keepLocalTrafficOffProxy(host);
  const mode = core.BuildBlockMode[options.buildBlockMode ?? 'Instant'];
  pinGenesisTimestamp(genesis, Date.now());
  const context = await setupContext({
    genesis,
    'build-block-mode': mode,
    port: 0,
    'allow-unresolved-imports': options.allowUnresolvedImports ?? false,
  } as unknown as Parameters<typeof setupContext>[0]);
  // Chopsticks builds block 1 itself and only logs a failure; a chain left at genesis signs nothing valid.
  for (let attempt = 0; context.chain.head.number === 0 && attempt < 3; attempt++) await context.chain.newBlock().catch(() => undefined);
  if (context.chain.head.number === 0) {
    await context.chain.close();
    throw new LocalChainError('CHAIN_START_FAILED', `Chopsticks could not build the first block on ${options.chainSpecPath} (see its log above).`);
  }
  let server: Awaited<ReturnType<typeof createServer>> | null = null;
  let relay: Relay | null = null;
  try {
    server = await createServer(handler(context), 0, '127.0.0.1');
    relay = await startRelay({ port: options.port ?? 0, host, targetPort: server.port });
  } catch (err) {
    await server?.close();
    await context.chain.close();
    throw err;
  }
  const liveRelay = relay;
  const liveServer = server;
  const { chain } = context;
  let closed = false;
  const tickers = new Set<NodeJS.Timeout>();

  return {
    endpoint: `ws://${host}:${liveRelay.port}`,
    port: liveRelay.port,
    async newBlock(count = 1) {
      let block = chain.head;
      for (let i = 0; i < count; i++) block = await chain.newBlock();
      return block.number;
    },
    produceBlocks(intervalMs) {
      let building = false;
      const timer = setInterval(() => {
        if (building || closed) return;
        building = true;
        chain
          .newBlock()
          .catch(() => undefined) // a failed empty block is retried on the next tick
          .finally(() => {
            building = false;
          });
      }, intervalMs);
      tickers.add(timer);
      return () => {
        clearInterval(timer);
        tickers.delete(timer);
      };
    },
    headNumber: () => chain.head.number,
    async setStorage(values) {
      await core.setStorage(chain, values as Parameters<typeof core.setStorage>[1]);
    },
    async restart({ downMs = 1_000 } = {}) {
      await liveRelay.stop();
      await sleep(downMs);
      await liveRelay.start();
    },
    async close() {
      if (closed) return;
      closed = true;
      for (const t of tickers) clearInterval(t);
      tickers.clear();
      await liveRelay.stop();
      await liveServer.close();
      await context.fetchStorageWorker?.terminate();
      await chain.close();
    },
  };
}

/**
 * Without `Timestamp::Now` in genesis, Chopsticks takes block 1's Aura slot and its
 * timestamp inherent from two separate `Date.now()` calls; when a 12 s slot boundary
 * falls between them (likely while the runtime is first compiled) the runtime panics
 * ("Timestamp slot must match CurrentSlot") and block 1 is never built. One value fixes both.
 */
function pinGenesisTimestamp(spec: unknown, nowMs: number): void {
  const top = (spec as { genesis?: { raw?: { top?: Record<string, string> } } }).genesis?.raw?.top;
  if (!top) return;
  const key = xxhashAsHex('Timestamp', 128) + xxhashAsHex('Now', 128).slice(2);
  if (top[key] !== undefined) return;
  const value = new Uint8Array(8);
  new DataView(value.buffer).setBigUint64(0, BigInt(nowMs), true);
  top[key] = u8aToHex(value);
}

interface Relay {
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/** Forwards TCP connections from `port` to `targetPort`; `stop()` drops them all and closes the port. */
async function startRelay(options: { port: number; host: string; targetPort: number }): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let server: net.Server | null = null;
  let port = options.port;
  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  };
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const srv = net.createServer((client) => {
        const upstream = net.connect(options.targetPort, '127.0.0.1');
        track(client);
        track(upstream);
        const end = () => {
          client.destroy();
          upstream.destroy();
        };
        client.on('error', end).on('close', end);
        upstream.on('error', end).on('close', end);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      srv.once('error', (err: NodeJS.ErrnoException) =>
        reject(new LocalChainError('PORT_UNAVAILABLE', `cannot listen on ${options.host}:${port}: ${err.code ?? err.message}`, { cause: err })),
      );
      srv.listen(port, options.host, () => {
        port = (srv.address() as net.AddressInfo).port;
        server = srv;
        resolve();
      });
    });
  await listen();
  return {
    get port() {
      return port;
    },
    async stop() {
      const srv = server;
      server = null;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
    },
    start: listen,
  };
}

export { prepareLocalSubnet, type PrepareLocalSubnetOptions, type PreparedSubnet } from './subnet.js';
