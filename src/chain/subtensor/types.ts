/**
 * The port the daemons use for the Bittensor chain. The real adapter is
 * `createSubtensor` (index.ts); tests use it against Chopsticks.
 */
import type { KeyringPair } from '@polkadot/keyring/types';
import type { PendingCommit } from './commitStore.js';
import type { PendingTimelockedCommit } from './timelockPending.js';

export type { KeyringPair, PendingCommit, PendingTimelockedCommit };

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'closed';

export interface BlockHead {
  number: number;
  hash: string;
}

export interface AxonInfo {
  /** Dotted IPv4 or RFC 5952 IPv6; `0.0.0.0` when never served. */
  ip: string;
  port: number;
  /** 4, 6, or 0 when never served. */
  ipType: number;
  version: number;
  protocol: number;
  /** Block of the last serve_axon; 0 when never served. */
  block: number;
}

export interface Hyperparameters {
  tempo: number;
  /** Blocks between two weight submissions (and commits) of one neuron. */
  weightsRateLimit: number;
  /** Minimum version_key a weight submission must carry (0: any). */
  weightsVersionKey: bigint;
  minAllowedWeights: number;
  /** Max single weight after max-upscaling, in u16 (65535: no limit). */
  maxWeightsLimit: number;
  activityCutoff: number;
  servingRateLimit: number;
  commitRevealEnabled: boolean;
  /** Reveal happens this many epochs after the commit epoch. */
  commitRevealPeriod: number;
  /** `CommitRevealWeightsVersion` of runtimes with timelocked commit-reveal; null where there is none. */
  commitRevealVersion: number | null;
}

export type MetagraphSource = 'selective-mechagraph' | 'selective-metagraph' | 'neurons-lite' | 'storage';

export interface MetagraphSnapshot {
  netuid: number;
  /** The block all values were read at. */
  block: number;
  blockHash: string;
  n: number;
  uids: number[];
  hotkeys: string[];
  coldkeys: string[];
  axons: AxonInfo[];
  /** Stake weight in RAO as the runtime reports it (total stake on dTAO runtimes, alpha on spec 218 storage). */
  stake: bigint[];
  validatorPermit: boolean[];
  lastUpdate: number[];
  active: boolean[];
  hyperparameters: Hyperparameters;
  /** How the snapshot was read: a runtime API where it is decodable, storage otherwise. */
  source: MetagraphSource;
}

export interface EpochInfo {
  netuid: number;
  tempo: number;
  /** The block these values are relative to. */
  block: number;
  /**
   * Epoch index as the runtime counts it for commit-reveal: (block + netuid + 1) / (tempo + 1),
   * or the `SubnetEpochIndex` counter on runtimes that keep one.
   */
  index: number;
  /** The next block in which the subnet's epoch runs; null when tempo is 0 (never). */
  nextEpochBlock: number | null;
  blocksUntilNextEpoch: number | null;
}

export type WaitFor = 'inBlock' | 'finalized';

export interface TxOptions {
  /** Resolve when the transaction is in a block or finalized (default: finalized; Chopsticks needs it). */
  waitFor?: WaitFor;
  /** Give up waiting after this many ms (the transaction may still land). */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface TxReceipt {
  txHash: string;
  blockHash: string;
  blockNumber: number;
  /** `section.method` of the events of this extrinsic. */
  events: string[];
}

export interface SetWeightsParameters extends TxOptions {
  netuid: number;
  uids: readonly number[];
  /** u16 values; the chain max-upscales them, so only ratios matter. */
  weights: readonly number[];
  versionKey: bigint | number;
  /** Defaults to the adapter's hotkey. */
  hotkey?: KeyringPair;
  /**
   * `auto` (default): commit on subnets with commit-reveal on, set directly otherwise.
   * `direct` always sends set_weights (the chain answers `CommitRevealEnabled` where it is on).
   */
  mode?: 'auto' | 'direct';
  /** Submit even when the local checks predict failure, to get the chain's own verdict (tests, diagnostics). */
  skipPrechecks?: boolean;
}

export type SetWeightsResult =
  | ({ kind: 'set' } & TxReceipt)
  | ({ kind: 'committed'; commit: PendingCommit } & TxReceipt)
  /** Commit-reveal v3/v4: encrypted to drand round `revealRound`; the chain reveals it by itself. */
  | ({ kind: 'committed-timelocked'; revealRound: bigint; revealTargetBlock: number } & TxReceipt);

/** A weights extrinsic of this adapter's hotkeys included in a block: set, committed (hash or timelocked), a hash commit revealed. */
export interface WeightsEvent {
  kind: 'set' | 'committed' | 'committed-timelocked' | 'revealed';
  netuid: number;
  blockNumber: number;
}

export interface RevealOutcome {
  commitHash: string;
  netuid: number;
  outcome: 'revealed' | 'expired' | 'rejected' | 'waiting';
  /** Runtime error name for `rejected`. */
  reason?: string;
  receipt?: TxReceipt;
  /** The stored weight row matched the revealed values (ratios after max-upscale). */
  confirmed?: boolean;
}

export interface ServeAxonParameters extends TxOptions {
  netuid: number;
  /** IPv4 or IPv6 text; loopback and unspecified addresses are refused. */
  ip: string;
  port: number;
  /** Axon version integer, major·10⁶ + minor·10³ + patch. */
  version?: number;
  protocol?: number;
  hotkey?: KeyringPair;
  /** Submit even when the chain already holds the same info or the rate limit predicts failure. */
  skipPrechecks?: boolean;
}

export type ServeAxonResult = { kind: 'unchanged'; axon: AxonInfo } | ({ kind: 'served'; axon: AxonInfo } & TxReceipt);

export interface Subtensor {
  /** The endpoint with any credentials removed, for logs. */
  readonly endpoint: string;
  readonly state: ConnectionState;
  /** spec_version of the connected runtime. */
  specVersion(): number;
  genesisHash(): string;

  currentBlock(): Promise<number>;
  blockHash(blockNumber: number): Promise<string>;
  /** Calls `cb` for every new best head (deduplicated, survives reconnects); returns an unsubscribe function. */
  onNewHead(cb: (head: BlockHead) => void): () => void;
  /** New heads as an async iterator; a slow consumer sees the latest head, skipped ones are dropped. */
  heads(signal?: AbortSignal): AsyncIterableIterator<BlockHead>;
  epochInfo(netuid: number, atBlock?: number): Promise<EpochInfo>;

  getMetagraph(netuid: number, options?: { blockHash?: string }): Promise<MetagraphSnapshot>;
  getHyperparameters(netuid: number): Promise<Hyperparameters>;
  getUid(netuid: number, hotkey: string): Promise<number | null>;
  isRegistered(netuid: number, hotkey: string): Promise<boolean>;
  /**
   * The stored weight row of a uid, `[uid, u16]` pairs as the chain keeps them (max-upscaled), for
   * mechanism 0 (the subnet itself) unless `mechanism` says otherwise (`Weights` is keyed by
   * `mechanism · 4096 + netuid` on runtimes with mechanisms).
   */
  getWeights(netuid: number, uid: number, options?: { mechanism?: number }): Promise<Array<[number, number]>>;

  setWeights(params: SetWeightsParameters): Promise<SetWeightsResult>;
  /** Reveals every pending commit whose reveal window is open; drops expired ones. The adapter calls it on new heads. */
  revealPendingCommits(options?: TxOptions): Promise<RevealOutcome[]>;
  pendingCommits(): Promise<PendingCommit[]>;
  /** A hotkey's timelocked commits (v3/v4) still on chain: the chain reveals those itself, so they are read, not stored. */
  pendingTimelockedCommits(netuid: number, hotkey: string, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<PendingTimelockedCommit[]>;
  serveAxon(params: ServeAxonParameters): Promise<ServeAxonResult>;

  close(): Promise<void>;
}
