/**
 * A Chopsticks fork of a live chain on this machine: the chain's state at one block, served on
 * a loopback port, with blocks built here. Chopsticks only reads from the endpoint it forks
 * (blocks, storage, the runtime); every transaction sent to the fork stays in this process.
 *
 * Chopsticks is a large package that operators may not have: it is imported lazily, and its
 * absence is an error that says what to install. It also installs a process-wide HTTP proxy agent
 * (HTTP(S)_PROXY); that agent is made to proxy nothing, as the validator itself uses no proxy.
 */
import { errorMessage, Hs58Error } from '../errors.js';
import { redactUrl } from '../observability/redact.js';
import { proxyNothing } from '../util/globalAgent.js';
import { withDeadline } from '../util/deadline.js';

export type ForkErrorCode =
  | 'CHOPSTICKS_MISSING'
  | 'FORK_FAILED'
  /** A rehearsal about to hand the validator an endpoint that is not the fork's. */
  | 'NOT_A_FORK';
export class ForkError extends Hs58Error<ForkErrorCode> {
  override name = 'ForkError';
}

/** How long closing the fork waits for a block being built. */
const BUILDING_CLOSE_MS = 30_000;

export const CHOPSTICKS_INSTALL = 'npm install @acala-network/chopsticks@1.5';
/** The fork listens here only: nothing outside this machine reaches it. */
export const FORK_HOST = '127.0.0.1';

export interface StartForkOptions {
  /** The endpoint to fork (read only). */
  upstream: string;
  /** Block number to fork at; absent: the upstream's finalized head. */
  block?: number;
  /** Loopback port of the fork; 0 or absent: a free one. */
  port?: number;
  /** Forking and building the first block must end within this (default 180 s: a live runtime is large). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Fork {
  /** `ws://127.0.0.1:<port>`: the only endpoint a rehearsal hands to the validator. */
  readonly endpoint: string;
  /** The upstream block the fork starts from. */
  readonly forkedAt: { number: number; hash: string };
  /** Builds a block every `intervalMs` (a tick is skipped while one is being built); returns a function that stops it. */
  produceBlocks(intervalMs: number): () => void;
  close(): Promise<void>;
}

type Modules = Awaited<ReturnType<typeof loadChopsticks>>;

/** Chopsticks' modules; a ForkError CHOPSTICKS_MISSING naming the install command when they are not installed. */
export async function loadChopsticks() {
  try {
    const [{ setupContext }, { createServer }, { handler }, core] = await Promise.all([
      import('@acala-network/chopsticks/context'),
      import('@acala-network/chopsticks/server'),
      import('@acala-network/chopsticks/rpc/index'),
      import('@acala-network/chopsticks-core'),
    ]);
    return { setupContext, createServer, handler, core };
  } catch (err) {
    if (isModuleMissing(err)) throw new ForkError('CHOPSTICKS_MISSING', `Chopsticks is not installed: ${CHOPSTICKS_INSTALL}`, { cause: err });
    throw err;
  }
}

function isModuleMissing(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && /chopsticks/.test(errorMessage(err));
}

export async function startFork(options: StartForkOptions, modules?: Modules): Promise<Fork> {
  const { setupContext, createServer, handler, core } = modules ?? (await loadChopsticks());
  proxyNothing();
  const where = `${redactUrl(options.upstream)}${options.block === undefined ? '' : ` at block ${options.block}`}`;
  const setup = setupContext({
    endpoint: options.upstream,
    block: options.block,
    'build-block-mode': core.BuildBlockMode.Instant,
    // Runtimes of the drand era import BLS host functions Chopsticks lacks; only drand pulses need them.
    'allow-unresolved-imports': true,
    port: 0,
  } as unknown as Parameters<typeof setupContext>[0]);
  type Context = Awaited<typeof setup>;
  const closeContext = async (c: Context) => {
    await c.fetchStorageWorker?.terminate();
    await c.chain.close();
  };
  let context: Context;
  try {
    context = await withDeadline(options.timeoutMs ?? 180_000, () => setup, { parent: options.signal, label: `forking ${where}` });
  } catch (err) {
    void setup.then(closeContext, () => undefined); // a late fork is closed when it arrives
    throw new ForkError('FORK_FAILED', `could not fork ${where}: ${errorMessage(err)}`, { cause: err });
  }
  const { chain } = context;
  const forkedAt = { number: chain.head.number, hash: chain.head.hash };
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    // One block first: a fork that cannot build blocks (a runtime Chopsticks cannot run) fails here, named.
    await withDeadline(options.timeoutMs ?? 180_000, () => chain.newBlock(), {
      parent: options.signal,
      label: `building the first block on the fork of ${where}`,
    });
    server = await createServer(handler(context), options.port ?? 0, FORK_HOST);
  } catch (err) {
    await closeContext(context).catch(() => undefined);
    throw new ForkError('FORK_FAILED', `the fork of ${where} cannot run: ${errorMessage(err)}`, { cause: err });
  }
  const tickers = new Set<NodeJS.Timeout>();
  let building: Promise<unknown> | null = null;
  let closing: Promise<void> | null = null;
  return {
    endpoint: `ws://${FORK_HOST}:${server.port}`,
    forkedAt,
    produceBlocks(intervalMs) {
      const timer = setInterval(() => {
        if (building || closing) return;
        building = chain
          .newBlock()
          .catch(() => undefined) // retried on the next tick
          .finally(() => (building = null));
      }, intervalMs);
      tickers.add(timer);
      return () => {
        clearInterval(timer);
        tickers.delete(timer);
      };
    },
    close() {
      closing ??= (async () => {
        for (const t of tickers) clearInterval(t);
        tickers.clear();
        // A block half built when its upstream goes away fails noisily; one whose upstream stopped
        // answering would hold the close for good: wait for it, up to a deadline.
        if (building) await withDeadline(BUILDING_CLOSE_MS, () => building ?? Promise.resolve()).catch(() => undefined);
        await server.close();
        await closeContext(context);
      })();
      return closing;
    },
  };
}
