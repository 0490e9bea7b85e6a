/**
 * The subtensor chain adapter: `createSubtensor(options)` connects and returns the
 * `Subtensor` port the daemons use (types.ts). Everything is read from the
 * runtime's metadata, so the same code runs on spec 218 (Chopsticks) and the live runtime.
 */
import type { ApiPromise } from '@polkadot/api';
import type { Metadata } from '@polkadot/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import type { Logger } from '../../observability/logger.js';
import { errorMessage } from '../../errors.js';
import { redactText } from '../../observability/redact.js';
import { blockHashOf, currentBlock, epochInfoAt, HeadWatcher } from './clock.js';
import { CommitReveal } from './commitReveal.js';
import { createJsonCommitStore, createMemoryCommitStore, type CommitStore, type PendingCommit } from './commitStore.js';
import { ChainConnection, type ConnectOptions } from './connect.js';
import { SubtensorError } from './errors.js';
import { mechanismStorageIndex, readMechanismCount, subtensorCalls } from './mechanism.js';
import { fetchMetagraph, readHyperparameters } from './metagraph.js';
import { decodeRuntimeApiResult, encodeRuntimeApiArgs, findRuntimeApi } from './runtimeApi.js';
import { serveAxon } from './serve.js';
import { primitive, requireStorage, storageItem, toNumber } from './storage.js';
import { signAndWatch } from './tx.js';
import { getUid } from './uid.js';
import type {
  BlockHead,
  ConnectionState,
  EpochInfo,
  Hyperparameters,
  MetagraphSnapshot,
  RevealOutcome,
  ServeAxonParameters,
  ServeAxonResult,
  SetWeightsParameters,
  SetWeightsResult,
  Subtensor,
  TxOptions,
  WeightsEvent,
} from './types.js';
import { commitTimelocked, DEFAULT_BLOCK_TIME_SEC, planTimelockedCommit } from './timelockCommit.js';
import { readPendingTimelockedCommits, type PendingTimelockedCommit } from './timelockPending.js';
import { withDeadline } from '../../util/deadline.js';
import { precheckError, predictWeightsFailure, readWeightState, setWeightsCall, signerOf, validateWeightsInput } from './weights.js';

export interface CreateSubtensorOptions extends ConnectOptions {
  /** Signs set_weights, commits, reveals and serve_axon (sr25519). */
  hotkey?: KeyringPair;
  /**
   * Where salts of pending commits live (createJsonCommitStore under --neuron.state_path).
   * Without one, commits are kept in memory and a restart before the reveal loses them.
   */
  commitStore?: CommitStore;
  /** Shortcut for `commitStore: createJsonCommitStore(path)`. */
  commitStorePath?: string;
  /** Reveal due commits on new heads by itself (default true). */
  autoReveal?: boolean;
  /** Seconds per block, to pick the drand round of a timelocked commit (12 as the Python SDK assumes). */
  blockTimeSec?: number;
  /** Defaults for every transaction (waitFor finalized, 120 s). */
  tx?: Pick<TxOptions, 'waitFor' | 'timeoutMs'>;
  /**
   * Told of each weights extrinsic once included: set, committed, and the reveals this adapter sends on
   * its own (the validator's metrics). A throw here is logged, never the caller's failure.
   */
  onWeights?: (event: WeightsEvent) => void;
}

export async function createSubtensor(options: CreateSubtensorOptions): Promise<SubtensorClient> {
  const logger = options.logger.child({ module: 'subtensor' });
  const conn = await ChainConnection.open({ ...options, logger });
  return new SubtensorClient(conn, logger, options);
}

export class SubtensorClient implements Subtensor {
  readonly #conn: ChainConnection;
  readonly #logger: Logger;
  readonly #heads: HeadWatcher;
  readonly #commitReveal: CommitReveal;
  readonly #hotkey: KeyringPair | undefined;
  readonly #txDefaults: Pick<TxOptions, 'waitFor' | 'timeoutMs'>;
  readonly #signers = new Map<string, KeyringPair>();
  readonly #autoReveal: boolean;
  readonly #ephemeralStore: boolean;
  readonly #blockTimeSec: number;
  readonly #onWeights: ((event: WeightsEvent) => void) | undefined;
  #stopAutoReveal: (() => void) | null = null;
  #closing: Promise<void> | null = null;

  constructor(conn: ChainConnection, logger: Logger, options: CreateSubtensorOptions) {
    this.#conn = conn;
    this.#logger = logger;
    this.#hotkey = options.hotkey;
    if (options.hotkey) this.#signers.set(options.hotkey.address, options.hotkey);
    this.#txDefaults = options.tx ?? {};
    this.#blockTimeSec = options.blockTimeSec ?? DEFAULT_BLOCK_TIME_SEC;
    this.#autoReveal = options.autoReveal ?? true;
    this.#onWeights = options.onWeights;
    const store = options.commitStore ?? (options.commitStorePath ? createJsonCommitStore(options.commitStorePath) : undefined);
    this.#ephemeralStore = store === undefined;
    this.#heads = new HeadWatcher(conn, logger);
    this.#commitReveal = new CommitReveal({
      conn,
      store: store ?? createMemoryCommitStore(),
      logger,
      onRevealed: (o) => this.#emitWeights({ kind: 'revealed', netuid: o.netuid, blockNumber: o.receipt.blockNumber }),
    });
    conn.onReconnect(() => void this.#checkSameChain());
    // Commits left by an earlier run are revealed without waiting for a new commit.
    void this.#commitReveal
      .pending()
      .then((pending) => {
        if (pending.some((c) => this.#signers.has(c.hotkey))) this.#ensureAutoReveal();
      })
      .catch((err: unknown) => this.#logger.error({ err: errorMessage(err) }, 'cannot read pending weight commits'));
  }

  get endpoint(): string {
    return this.#conn.endpoint;
  }

  get state(): ConnectionState {
    return this.#conn.state;
  }

  /** The underlying ApiPromise once connected, for tools (localnet, sudo helpers, tests). */
  api(signal?: AbortSignal): Promise<ApiPromise> {
    return this.#conn.ready(signal);
  }

  specVersion(): number {
    return this.#conn.specVersion();
  }

  genesisHash(): string {
    return this.#conn.genesisHash();
  }

  currentBlock(): Promise<number> {
    return currentBlock(this.#conn);
  }

  blockHash(blockNumber: number): Promise<string> {
    return blockHashOf(this.#conn, blockNumber);
  }

  onNewHead(cb: (head: BlockHead) => void): () => void {
    return this.#heads.subscribe(cb);
  }

  heads(signal?: AbortSignal): AsyncIterableIterator<BlockHead> {
    return this.#heads.iterate(signal);
  }

  async epochInfo(netuid: number, atBlock?: number): Promise<EpochInfo> {
    const api = await this.#conn.ready();
    const block = atBlock ?? (await currentBlock(this.#conn));
    const blockHash = await blockHashOf(this.#conn, block);
    const at = await api.at(blockHash);
    const tempo = toNumber(primitive(await requireStorage(at, 'tempo')(netuid)), 'Tempo');
    let info = epochInfoAt(netuid, tempo, block);
    // Runtimes with an epoch counter number epochs themselves.
    const counter = storageItem(at, 'subnetEpochIndex');
    if (counter) info = { ...info, index: toNumber(primitive(await counter(netuid)), 'SubnetEpochIndex') };
    // Newer runtimes answer this themselves; their answer wins over the formula.
    const method = findRuntimeApi(api.registry, api.runtimeMetadata as Metadata, 'SubnetInfoRuntimeApi', 'get_next_epoch_start_block');
    if (method && !method.opaque && method.inputs.length === 1) {
      const raw = await api.rpc.state.call(method.callName, encodeRuntimeApiArgs(api.registry, method, [netuid]), blockHash);
      const next = primitive(decodeRuntimeApiResult(api.registry, method, raw));
      if (next !== null) {
        const nextEpochBlock = toNumber(next, 'next epoch start');
        return { ...info, nextEpochBlock, blocksUntilNextEpoch: Math.max(0, nextEpochBlock - block) };
      }
    }
    return info;
  }

  async getMetagraph(netuid: number, options: { blockHash?: string } = {}): Promise<MetagraphSnapshot> {
    const api = await this.#conn.ready();
    const header = options.blockHash ? await api.rpc.chain.getHeader(options.blockHash) : await api.rpc.chain.getHeader();
    return fetchMetagraph(api, netuid, { block: header.number.toNumber(), blockHash: header.hash.toHex() });
  }

  async getHyperparameters(netuid: number): Promise<Hyperparameters> {
    const api = await this.#conn.ready();
    return readHyperparameters(api, netuid);
  }

  async getUid(netuid: number, hotkey: string): Promise<number | null> {
    return getUid(await this.#conn.ready(), netuid, hotkey);
  }

  async isRegistered(netuid: number, hotkey: string): Promise<boolean> {
    return (await this.getUid(netuid, hotkey)) !== null;
  }

  async getWeights(netuid: number, uid: number, options: { mechanism?: number } = {}): Promise<Array<[number, number]>> {
    const api = await this.#conn.ready();
    const mechanism = options.mechanism ?? 0;
    if (mechanism !== 0 && (await readMechanismCount(api, netuid)) === null) {
      throw new SubtensorError('UNSUPPORTED_RUNTIME', `this runtime has no mechanisms: only mechanism 0 (the subnet itself) has weights, not ${mechanism}.`);
    }
    const row = primitive(await requireStorage(api, 'weights')(mechanismStorageIndex(netuid, mechanism), uid));
    return (Array.isArray(row) ? row : []).map((pair) => {
      const [dest, weight] = pair as unknown[];
      return [toNumber(dest, 'weights uid'), toNumber(weight, 'weights value')];
    });
  }

  async setWeights(params: SetWeightsParameters): Promise<SetWeightsResult> {
    const signer = signerOf(params.hotkey, this.#hotkey, 'setWeights');
    const input = validateWeightsInput(params.uids, params.weights, params.versionKey);
    const tx = this.#tx(params);
    const api = await this.#conn.ready(params.signal);
    this.#conn.assertCanSign();
    const state = await readWeightState(api, params.netuid, signer.address);
    const commit = (params.mode ?? 'auto') === 'auto' && state.hyperparameters.commitRevealEnabled;
    if (!params.skipPrechecks) {
      const reason = predictWeightsFailure(state, input, commit ? 'commit' : 'set');
      if (reason) throw precheckError(reason, commit ? 'commitWeights' : 'setWeights', state);
    }
    if (commit) {
      const timelocked = planTimelockedCommit(subtensorCalls(api), state.hyperparameters, state.mechanismCount);
      if (timelocked) {
        const receipt = await commitTimelocked(api, signer, state, input, timelocked, {
          ...tx,
          blockTimeSec: this.#blockTimeSec,
          skipPrechecks: params.skipPrechecks,
        });
        this.#logger.info(
          {
            netuid: params.netuid,
            call: timelocked.route.call,
            mechanism: timelocked.route.mechanism,
            uids: input.uids.length,
            block: receipt.blockNumber,
            revealRound: receipt.revealRound.toString(),
            revealTargetBlock: receipt.revealTargetBlock,
          },
          'weights committed (timelocked): the chain reveals them in the reveal epoch',
        );
        const { revealRound, revealTargetBlock, ...rest } = receipt;
        this.#emitWeights({ kind: 'committed-timelocked', netuid: params.netuid, blockNumber: receipt.blockNumber });
        return { kind: 'committed-timelocked', revealRound, revealTargetBlock, ...rest };
      }
      if (this.#ephemeralStore) this.#logger.warn('committing weights without a commit store: a restart before the reveal loses this commit');
      this.#signers.set(signer.address, signer);
      const { commit: pending, receipt } = await this.#commitReveal.commit(api, signer, params.netuid, input, {
        ...tx,
        tempo: state.hyperparameters.tempo,
        revealPeriod: state.hyperparameters.commitRevealPeriod,
        mechanismCount: state.mechanismCount,
        skipPrechecks: params.skipPrechecks,
      });
      this.#ensureAutoReveal();
      this.#emitWeights({ kind: 'committed', netuid: params.netuid, blockNumber: receipt.blockNumber });
      return { kind: 'committed', commit: pending, ...receipt };
    }
    const { call, route } = setWeightsCall(subtensorCalls(api), params.netuid, input, state.mechanismCount);
    const receipt = await signAndWatch(api, call, signer, { ...tx, label: route.call });
    this.#logger.info(
      { netuid: params.netuid, call: route.call, mechanism: route.mechanism, uids: input.uids.length, block: receipt.blockNumber },
      'weights set',
    );
    this.#emitWeights({ kind: 'set', netuid: params.netuid, blockNumber: receipt.blockNumber });
    return { kind: 'set', ...receipt };
  }

  async revealPendingCommits(options: TxOptions = {}): Promise<RevealOutcome[]> {
    const api = await this.#conn.ready(options.signal);
    this.#conn.assertCanSign();
    return this.#commitReveal.revealDue(api, this.#signers, this.#tx(options));
  }

  pendingCommits(): Promise<PendingCommit[]> {
    return this.#commitReveal.pending();
  }

  pendingTimelockedCommits(netuid: number, hotkey: string, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<PendingTimelockedCommit[]> {
    return withDeadline(options.timeoutMs ?? 30_000, async (signal) => readPendingTimelockedCommits(await this.#conn.ready(signal), { netuid, hotkey }), {
      parent: options.signal,
      label: 'reading the timelocked commits',
    });
  }

  async serveAxon(params: ServeAxonParameters): Promise<ServeAxonResult> {
    const signer = signerOf(params.hotkey, this.#hotkey, 'serveAxon');
    const api = await this.#conn.ready(params.signal);
    this.#conn.assertCanSign();
    const result = await serveAxon(api, signer, { ...params, ...this.#tx(params) });
    if (result.kind === 'served')
      this.#logger.info({ netuid: params.netuid, ip: result.axon.ip, port: result.axon.port, block: result.blockNumber }, 'axon served');
    return result;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#stopAutoReveal?.();
      this.#heads.close();
      await this.#conn.close();
    })();
    return this.#closing;
  }

  #tx(options: TxOptions): TxOptions {
    return {
      waitFor: options.waitFor ?? this.#txDefaults.waitFor,
      timeoutMs: options.timeoutMs ?? this.#txDefaults.timeoutMs,
      signal: options.signal,
    };
  }

  #emitWeights(event: WeightsEvent): void {
    try {
      this.#onWeights?.(event);
    } catch (err) {
      this.#logger.warn({ err: redactText(errorMessage(err)) }, 'the weights listener failed');
    }
  }

  #ensureAutoReveal(): void {
    if (!this.#autoReveal || this.#stopAutoReveal || this.#closing) return;
    this.#stopAutoReveal = this.#heads.subscribe((head) => {
      if (!this.#commitReveal.hasWorkAt(head.number, this.#signers)) return;
      this.revealPendingCommits().catch((err: unknown) => {
        if (this.#conn.state === 'closed') return;
        this.#logger.warn({ err: redactText(errorMessage(err)) }, 'revealing weight commits failed; retrying on the next block');
      });
    });
  }

  async #checkSameChain(): Promise<void> {
    try {
      const api = await this.#conn.ready();
      const genesis = (await api.rpc.chain.getBlockHash(0)).toHex();
      if (genesis !== this.#conn.genesisHash()) {
        this.#logger.error({ expected: this.#conn.genesisHash(), got: genesis }, 'the endpoint now serves a different chain; restart to use it');
      }
    } catch (err) {
      this.#logger.debug({ err: redactText(errorMessage(err)) }, 'genesis check after reconnect failed');
    }
  }
}

export { ChainConnection, type ConnectOptions } from './connect.js';
export { SubtensorError, isSubtensorError, type SubtensorErrorCode } from './errors.js';
export { createJsonCommitStore, createMemoryCommitStore, defaultCommitStorePath, type CommitStore, type PendingCommit } from './commitStore.js';
export { commitHash, generateSalt, revealWindow } from './commitReveal.js';
export { decodeIp, encodeIp, encodeServableIp, isLoopbackIp } from './ip.js';
export { epochIndex, blocksUntilNextEpoch, epochInfoAt } from './clock.js';
export { maxUpscaleU16, validateWeightsInput } from './weights.js';
export { SUBTENSOR_EXTENSIONS, planTransactionExtensions } from './extensions.js';
export type * from './types.js';
