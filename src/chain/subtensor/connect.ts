/**
 * One WebSocket connection to a subtensor node that comes back by itself.
 * Reconnection is done here, not by @polkadot/rpc-provider's auto-connect: that
 * one logs every failed attempt to the console with the full endpoint URL.
 * Each state change is logged once: connected, disconnected/reconnecting, reconnected.
 */
import { ApiPromise, WsProvider } from '@polkadot/api';
import type { Metadata } from '@polkadot/types';
import type { Logger } from '../../observability/logger.js';
import { errorMessage } from '../../errors.js';
import { redactText, redactUrl } from '../../observability/redact.js';
import { SubtensorError } from './errors.js';
import { assertEncodable, planTransactionExtensions, SUBTENSOR_EXTENSIONS, type ExtensionPlan } from './extensions.js';
import type { ConnectionState } from './types.js';

export interface ConnectOptions {
  /** ws:// or wss:// URL (see `subtensorEndpoint(config)` in src/config/load.ts). */
  endpoint: string;
  logger: Logger;
  /** How long the first connection may take (default 30 s). */
  connectTimeoutMs?: number;
  /** First delay between reconnect attempts, doubled up to `reconnectMaxDelayMs` (defaults 1 s, 30 s). */
  reconnectDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** How long a call waits for a dropped connection to come back before failing (default 30 s). */
  waitForConnectionMs?: number;
  /** Per-request timeout of the RPC provider (default 60 s). */
  requestTimeoutMs?: number;
  signal?: AbortSignal;
}

type Waiter = { resolve: () => void; reject: (err: Error) => void; timer: NodeJS.Timeout };

export class ChainConnection {
  readonly endpoint: string;
  readonly #logger: Logger;
  readonly #provider: WsProvider;
  readonly #options: Required<Omit<ConnectOptions, 'signal' | 'logger' | 'endpoint'>>;
  #api: ApiPromise | null = null;
  #state: ConnectionState = 'connecting';
  #waiters: Waiter[] = [];
  #reconnectTimer: NodeJS.Timeout | null = null;
  #attempt = 0;
  #downSince = 0;
  #lastSpecVersion = 0;
  #plans = new WeakMap<object, ExtensionPlan>();
  #stateListeners = new Set<(state: ConnectionState) => void>();
  #reconnectListeners = new Set<() => void>();

  private constructor(options: ConnectOptions) {
    this.endpoint = redactUrl(options.endpoint);
    this.#logger = options.logger;
    this.#options = {
      connectTimeoutMs: options.connectTimeoutMs ?? 30_000,
      reconnectDelayMs: options.reconnectDelayMs ?? 1_000,
      reconnectMaxDelayMs: options.reconnectMaxDelayMs ?? 30_000,
      waitForConnectionMs: options.waitForConnectionMs ?? 30_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
    };
    this.#provider = new WsProvider(options.endpoint, false, {}, this.#options.requestTimeoutMs);
    this.#provider.on('connected', () => this.#onConnected());
    this.#provider.on('disconnected', () => this.#onDisconnected());
    this.#provider.on('error', (err: unknown) => this.#logger.debug({ err: redactText(errorMessage(err)) }, 'subtensor socket error'));
  }

  /** Connects, waits for the runtime metadata, checks the transaction extensions and logs the runtime. */
  static async open(options: ConnectOptions): Promise<ChainConnection> {
    if (!/^wss?:\/\//.test(options.endpoint)) {
      throw new SubtensorError('INVALID_INPUT', `subtensor endpoint ${redactUrl(options.endpoint)} must start with ws:// or wss://.`);
    }
    const conn = new ChainConnection(options);
    try {
      await conn.#start(options.signal);
    } catch (err) {
      await conn.close();
      throw err;
    }
    return conn;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** The ApiPromise; valid while connected (use `ready()` to wait through a reconnect). */
  get api(): ApiPromise {
    if (!this.#api) throw new SubtensorError('NOT_CONNECTED', 'the subtensor connection is not initialised.');
    return this.#api;
  }

  /** Waits (up to waitForConnectionMs) until the connection is up, then returns the api. */
  async ready(signal?: AbortSignal): Promise<ApiPromise> {
    await this.#connected(signal);
    return this.api;
  }

  #connected(signal?: AbortSignal): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(new SubtensorError('CLOSED', 'the subtensor connection is closed.'));
    if (this.#state === 'connected') return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        clearTimeout(waiter.timer);
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
        timer: setTimeout(() => {
          this.#waiters = this.#waiters.filter((w) => w !== waiter);
          waiter.reject(
            new SubtensorError(
              'NOT_CONNECTED',
              `no connection to the subtensor node at ${this.endpoint} for ${Math.round(this.#options.waitForConnectionMs / 1000)} s; still retrying.`,
            ),
          );
        }, this.#options.waitForConnectionMs),
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  specVersion(): number {
    return this.api.runtimeVersion.specVersion.toNumber();
  }

  genesisHash(): string {
    return this.api.genesisHash.toHex();
  }

  /** The extension check for the current runtime (cached per registry, so a runtime upgrade is re-checked). */
  extensionPlan(): ExtensionPlan {
    const api = this.api;
    let plan = this.#plans.get(api.registry);
    if (!plan) {
      plan = planTransactionExtensions(api.registry, api.runtimeMetadata as Metadata);
      this.#plans.set(api.registry, plan);
    }
    return plan;
  }

  /** Throws TX_ENCODING_UNSUPPORTED when the runtime has an extension this client would encode wrongly. */
  assertCanSign(): void {
    assertEncodable(this.extensionPlan(), this.specVersion());
  }

  /** Logs a runtime upgrade once; called on new heads. */
  noticeRuntime(): void {
    if (!this.#api) return;
    const spec = this.#api.runtimeVersion.specVersion.toNumber();
    if (spec !== this.#lastSpecVersion) {
      this.#lastSpecVersion = spec;
      this.#logRuntime('subtensor runtime upgraded');
    }
  }

  onStateChange(cb: (state: ConnectionState) => void): () => void {
    this.#stateListeners.add(cb);
    return () => this.#stateListeners.delete(cb);
  }

  /** Called after the connection came back (not on the first connect). */
  onReconnect(cb: () => void): () => void {
    this.#reconnectListeners.add(cb);
    return () => this.#reconnectListeners.delete(cb);
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new SubtensorError('CLOSED', 'the subtensor connection was closed.'));
    }
    try {
      if (this.#api) await this.#api.disconnect();
      else await this.#provider.disconnect();
    } catch (err) {
      this.#logger.debug({ err: redactText(errorMessage(err)) }, 'subtensor disconnect');
    }
    this.#logger.info({ endpoint: this.endpoint }, 'subtensor connection closed');
  }

  async #start(signal?: AbortSignal): Promise<void> {
    const deadline = Date.now() + this.#options.connectTimeoutMs;
    const abortable = <T>(p: Promise<T>, what: string): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const left = deadline - Date.now();
        const timer = setTimeout(
          () =>
            reject(
              new SubtensorError('CONNECT_FAILED', `could not ${what} at ${this.endpoint} within ${Math.round(this.#options.connectTimeoutMs / 1000)} s.`),
            ),
          Math.max(0, left),
        );
        const onAbort = () => reject(signal?.reason instanceof Error ? signal.reason : new DOMException('aborted', 'AbortError'));
        signal?.addEventListener('abort', onAbort, { once: true });
        p.then(resolve, reject).finally(() => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
        });
      });

    this.#connectSocket();
    await abortable(this.#connected(signal), 'connect to the subtensor node');
    const api = new ApiPromise({ provider: this.#provider, signedExtensions: SUBTENSOR_EXTENSIONS, noInitWarn: true });
    this.#api = api;
    await abortable(api.isReadyOrError, 'read the runtime metadata');
    this.#lastSpecVersion = this.specVersion();
    this.#logRuntime('connected to subtensor');
  }

  #logRuntime(message: string): void {
    const api = this.api;
    const plan = this.extensionPlan();
    this.#logger.info(
      {
        endpoint: this.endpoint,
        specName: api.runtimeVersion.specName.toString(),
        specVersion: api.runtimeVersion.specVersion.toNumber(),
        transactionVersion: api.runtimeVersion.transactionVersion.toNumber(),
        metadataVersion: api.runtimeMetadata.version,
        extensions: plan.extensions.map((e) => e.name),
      },
      message,
    );
    if (plan.problems.length > 0) {
      this.#logger.error(
        { problems: plan.problems },
        'this runtime has transaction extensions this client cannot encode: every transaction would be refused, so none will be sent',
      );
    }
  }

  #connectSocket(): void {
    if (this.#state === 'closed') return;
    this.#provider.connect().catch((err: unknown) => {
      this.#logger.debug({ err: redactText(errorMessage(err)) }, 'subtensor connect attempt failed');
      this.#scheduleReconnect();
    });
  }

  #onConnected(): void {
    if (this.#state === 'closed') return;
    const wasDown = this.#state === 'reconnecting';
    this.#attempt = 0;
    this.#setState('connected');
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve();
    }
    if (wasDown) {
      this.#logger.info({ endpoint: this.endpoint, downMs: Date.now() - this.#downSince }, 'subtensor reconnected');
      for (const cb of this.#reconnectListeners) cb();
    }
  }

  #onDisconnected(): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'connected') {
      this.#downSince = Date.now();
      this.#setState('reconnecting');
      this.#logger.warn(
        { endpoint: this.endpoint, retryMs: this.#options.reconnectDelayMs, maxRetryMs: this.#options.reconnectMaxDelayMs },
        'subtensor disconnected; reconnecting',
      );
    } else if (this.#state === 'connecting' && this.#api) {
      this.#setState('reconnecting');
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    if (this.#state === 'closed' || this.#reconnectTimer) return;
    const delay = Math.min(this.#options.reconnectMaxDelayMs, this.#options.reconnectDelayMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    this.#logger.debug({ delayMs: delay }, 'subtensor reconnect scheduled');
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = null;
      this.#connectSocket();
    }, delay);
  }

  #setState(state: ConnectionState): void {
    if (state === this.#state) return;
    this.#state = state;
    for (const cb of this.#stateListeners) cb(state);
  }
}
