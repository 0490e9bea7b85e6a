/**
 * Commit-reveal v2 (hash commits): commit blake2_256(SCALE(hotkey, netuid, uids,
 * values, salt, version_key)) now, reveal the same data in epoch
 * `commit_epoch + reveal_period`. Salts and pending commits go to a CommitStore
 * before the commit is sent, so a restart between commit and reveal loses nothing.
 *
 * Two on-chain formats of `WeightCommits` exist, with the same SCALE type:
 * - up to ~spec 406 (incl. 218 and finney 343): `(hash, commit_block, first_reveal_block, last_reveal_block)`,
 *   epochs derived from block numbers;
 * - later runtimes (those with `SubnetEpochIndex`): `(hash, commit_epoch, commit_block, 0)`,
 *   epochs counted by the runtime.
 *
 * The timelocked variants (v3/v4) are in timelockCommit.ts: the chain reveals those itself,
 * so nothing is stored or revealed here.
 */
import { randomInt } from 'node:crypto';
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { compactToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsU8a, decodeAddress } from '@polkadot/util-crypto';
import type { Logger } from '../../observability/logger.js';
import { errorMessage } from '../../errors.js';
import { redactText } from '../../observability/redact.js';
import { blocksUntilNextEpoch, epochBlockRange, epochIndex } from './clock.js';
import type { CommitStore, PendingCommit } from './commitStore.js';
import type { ChainConnection } from './connect.js';
import { isSubtensorError, SubtensorError } from './errors.js';
import { mechanismStorageIndex, readMechanismCount, requireWeightsRoute, subtensorCalls, weightsCall } from './mechanism.js';
import { primitive, storageItem, toNumber, type StorageApi } from './storage.js';
import { signAndWatch } from './tx.js';
import type { RevealOutcome, TxOptions, TxReceipt } from './types.js';
import { maxUpscaleU16, type ValidWeights } from './weights.js';

/** The runtime keeps at most this many unrevealed commits per hotkey and subnet. */
export const MAX_PENDING_COMMITS = 10;
/** A commit still without its block after this long never landed. */
const UNCONFIRMED_COMMIT_TTL_MS = 10 * 60_000;

export interface CommitHashInput {
  /** SS58 address or 32-byte public key of the hotkey. */
  hotkey: string | Uint8Array;
  netuid: number;
  uids: readonly number[];
  values: readonly number[];
  salt: readonly number[];
  versionKey: bigint | number;
}

function u16le(v: number): Uint8Array {
  return new Uint8Array([v & 0xff, (v >> 8) & 0xff]);
}

function vecU16(values: readonly number[]): Uint8Array {
  return u8aConcat(compactToU8a(values.length), ...values.map(u16le));
}

function u64le(v: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt.asUintN(64, v), true);
  return out;
}

/** `BlakeTwo256::hash_of(&(hotkey, netuid, uids, values, salt, version_key))`, as 0x-hex. */
export function commitHash(input: CommitHashInput): `0x${string}` {
  const account = typeof input.hotkey === 'string' ? decodeAddress(input.hotkey) : input.hotkey;
  if (account.length !== 32) throw new SubtensorError('INVALID_INPUT', 'a commit hash needs a 32-byte hotkey.');
  const encoded = u8aConcat(account, u16le(input.netuid), vecU16(input.uids), vecU16(input.values), vecU16(input.salt), u64le(BigInt(input.versionKey)));
  return u8aToHex(blake2AsU8a(encoded, 256));
}

/** Eight random u16, as the Python SDK uses. */
export function generateSalt(length = 8): number[] {
  return Array.from({ length }, () => randomInt(0, 65536));
}

/** Pure: the reveal window (blocks) of a commit included in `commitBlock`, on block-derived-epoch runtimes. */
export function revealWindow(netuid: number, tempo: number, revealPeriod: number, commitBlock: number): { revealFrom: number; revealUntil: number } {
  const { first, last } = epochBlockRange(netuid, tempo, epochIndex(netuid, tempo, commitBlock) + revealPeriod);
  return { revealFrom: first, revealUntil: last };
}

export type CommitStatus = 'due' | 'waiting' | 'expired' | 'unconfirmed';

/**
 * Where a commit stands for a transaction included in `inclusionBlock`. `epoch` is the
 * runtime's epoch for that block on epoch-counter runtimes (SubnetEpochIndex plus the
 * look-ahead on a firing block), null where it was not read.
 */
export function commitStatus(commit: PendingCommit, inclusionBlock: number, epoch: number | null = null): CommitStatus {
  if (commit.revealEpoch !== null) {
    if (epoch === null) return 'waiting';
    return epoch < commit.revealEpoch ? 'waiting' : epoch === commit.revealEpoch ? 'due' : 'expired';
  }
  if (commit.revealFrom === null || commit.revealUntil === null) return 'unconfirmed';
  if (inclusionBlock > commit.revealUntil) return 'expired';
  if (inclusionBlock < commit.revealFrom) return 'waiting';
  return 'due';
}

export type ChainCommit =
  | { format: 'blocks'; hash: string; commitBlock: number; revealFrom: number; revealUntil: number }
  | { format: 'epochs'; hash: string; commitBlock: number; commitEpoch: number };

/** Pure: one `WeightCommits` entry in the runtime's format (see the module comment). */
export function parseChainCommit(entry: unknown, epochCounter: boolean): ChainCommit | null {
  if (!Array.isArray(entry) || entry.length < 4) return null;
  const hash = String(entry[0]);
  if (epochCounter) return { format: 'epochs', hash, commitEpoch: toNumber(entry[1], 'commit epoch'), commitBlock: toNumber(entry[2], 'commit block') };
  return {
    format: 'blocks',
    hash,
    commitBlock: toNumber(entry[1], 'commit block'),
    revealFrom: toNumber(entry[2], 'first reveal block'),
    revealUntil: toNumber(entry[3], 'last reveal block'),
  };
}

/** True on runtimes that count epochs in storage (`SubnetEpochIndex`) rather than from block numbers. */
function hasEpochCounter(api: StorageApi): boolean {
  return storageItem(api, 'subnetEpochIndex') !== null;
}

async function readChainCommits(api: StorageApi, netuid: number, hotkey: string): Promise<ChainCommit[]> {
  const item = storageItem(api, 'weightCommits');
  if (!item) throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no SubtensorModule.WeightCommits storage.');
  const value = primitive(await item(netuid, hotkey));
  if (!Array.isArray(value)) return [];
  const counter = hasEpochCounter(api);
  return value.flatMap((entry) => parseChainCommit(entry, counter) ?? []);
}

/** The runtime's epoch for a transaction included after `headBlock` (epoch-counter runtimes), else null. */
async function inclusionEpoch(api: ApiPromise, netuid: number, headBlock: number): Promise<number | null> {
  const counter = storageItem(api, 'subnetEpochIndex');
  if (!counter) return null;
  const [index, tempo] = await Promise.all([counter(netuid).then((c) => toNumber(primitive(c), 'SubnetEpochIndex')), readTempo(api, netuid)]);
  // `current_epoch_with_lookahead`: a block in which the epoch fires already belongs to the next epoch.
  return index + (blocksUntilNextEpoch(netuid, tempo, headBlock + 1) === 0 ? 1 : 0);
}

async function readTempo(api: ApiPromise, netuid: number): Promise<number> {
  const item = storageItem(api, 'tempo');
  if (!item) throw new SubtensorError('UNSUPPORTED_RUNTIME', 'this runtime has no SubtensorModule.Tempo storage.');
  return toNumber(primitive(await item(netuid)), 'Tempo');
}

/** A chain entry's reveal timing, as stored with the pending commit. */
function timingOf(onChain: ChainCommit, revealPeriod: number): Pick<PendingCommit, 'commitBlock' | 'revealFrom' | 'revealUntil' | 'revealEpoch'> {
  return onChain.format === 'blocks'
    ? { commitBlock: onChain.commitBlock, revealFrom: onChain.revealFrom, revealUntil: onChain.revealUntil, revealEpoch: null }
    : { commitBlock: onChain.commitBlock, revealFrom: null, revealUntil: null, revealEpoch: onChain.commitEpoch + revealPeriod };
}

async function readRevealPeriod(api: ApiPromise, netuid: number): Promise<number> {
  const item = storageItem(api, 'revealPeriodEpochs');
  return item ? toNumber(primitive(await item(netuid)), 'RevealPeriodEpochs') : 1;
}

export interface CommitRevealDeps {
  conn: ChainConnection;
  store: CommitStore;
  logger: Logger;
  /** Called once per reveal included (callers joining a running reveal do not repeat it). */
  onRevealed?: (outcome: RevealOutcome & { receipt: TxReceipt }) => void;
}

export class CommitReveal {
  readonly #conn: ChainConnection;
  readonly #store: CommitStore;
  readonly #logger: Logger;
  readonly #onRevealed: CommitRevealDeps['onRevealed'];
  #commits: PendingCommit[] | null = null;
  #revealing: Promise<RevealOutcome[]> | null = null;

  constructor(deps: CommitRevealDeps) {
    this.#conn = deps.conn;
    this.#store = deps.store;
    this.#logger = deps.logger;
    this.#onRevealed = deps.onRevealed;
  }

  /** Pending commits of this chain (all hotkeys the store holds). */
  async pending(): Promise<PendingCommit[]> {
    const genesis = this.#conn.genesisHash();
    return structuredClone((await this.#load()).filter((c) => c.genesisHash === genesis));
  }

  /**
   * True when a pending commit of one of `hotkeys` may need work at this head: due,
   * expired or unconfirmed, or kept by epoch counter (which takes a storage read to tell).
   */
  hasWorkAt(headBlock: number, hotkeys: ReadonlyMap<string, unknown>): boolean {
    if (!this.#commits) return false;
    const genesis = this.#conn.genesisHash();
    return this.#commits.some(
      (c) => c.genesisHash === genesis && hotkeys.has(c.hotkey) && (c.revealEpoch !== null || commitStatus(c, headBlock + 1) !== 'waiting'),
    );
  }

  /**
   * Commits `input` for `signer`: checks the pending count, writes the salt to the
   * store, sends `commit_weights`, then records the reveal timing the chain assigned.
   */
  async commit(
    api: ApiPromise,
    signer: KeyringPair,
    netuid: number,
    input: ValidWeights,
    options: TxOptions & { tempo: number; revealPeriod: number; mechanismCount: number | null; skipPrechecks?: boolean },
  ): Promise<{ commit: PendingCommit; receipt: TxReceipt }> {
    const genesisHash = this.#conn.genesisHash();
    if (!options.skipPrechecks) {
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      const epoch = await inclusionEpoch(api, netuid, head);
      const live = (await readChainCommits(api, netuid, signer.address)).filter((c) =>
        c.format === 'blocks' ? c.revealUntil >= head + 1 : epoch === null || c.commitEpoch + options.revealPeriod >= epoch,
      ).length;
      if (live >= MAX_PENDING_COMMITS) {
        throw new SubtensorError(
          'PRECHECK_FAILED',
          `commitWeights not sent: ${live} commits of this hotkey wait to be revealed on subnet ${netuid} (the runtime allows ${MAX_PENDING_COMMITS}).`,
          {
            reason: 'TooManyUnrevealedCommits',
          },
        );
      }
    }
    const salt = generateSalt();
    const hash = commitHash({ hotkey: signer.publicKey, netuid, uids: input.uids, values: input.weights, salt, versionKey: input.versionKey });
    const pending: PendingCommit = {
      scheme: 'hash-v2',
      genesisHash,
      netuid,
      hotkey: signer.address,
      uids: input.uids,
      values: input.weights,
      salt,
      versionKey: input.versionKey.toString(),
      commitHash: hash,
      createdAt: new Date().toISOString(),
      commitBlock: null,
      revealFrom: null,
      revealUntil: null,
      revealEpoch: null,
    };
    // Salt first: a crash after sending but before saving would make the commit unrevealable.
    await this.#mutate((list) => [...list, pending]);
    let receipt: TxReceipt;
    try {
      // Mechanism 0's storage index is the netuid, so the hash is the same through either call.
      const tx = subtensorCalls(api);
      const route = requireWeightsRoute(tx, 'commit', options.mechanismCount);
      receipt = await signAndWatch(api, weightsCall(tx, route, netuid, [hash]), signer, { ...options, label: route.call });
    } catch (err) {
      // Refused or failed on chain: nothing to reveal. A timeout may still land: keep it, the reveal loop resolves it.
      if (!(isSubtensorError(err) && err.code === 'TX_NOT_INCLUDED')) await this.#mutate((list) => list.filter((c) => c.commitHash !== hash));
      throw err;
    }
    const onChain = (await readChainCommits(await api.at(receipt.blockHash), netuid, signer.address)).find((c) => c.hash === hash);
    const timing = onChain
      ? timingOf(onChain, options.revealPeriod)
      : { commitBlock: receipt.blockNumber, revealEpoch: null, ...revealWindow(netuid, options.tempo, options.revealPeriod, receipt.blockNumber) };
    const confirmed: PendingCommit = { ...pending, ...timing };
    await this.#mutate((list) => list.map((c) => (c.commitHash === hash ? confirmed : c)));
    this.#logger.info(
      {
        netuid,
        commitHash: hash,
        commitBlock: confirmed.commitBlock,
        revealFrom: confirmed.revealFrom,
        revealUntil: confirmed.revealUntil,
        revealEpoch: confirmed.revealEpoch,
        uids: input.uids.length,
      },
      'weights committed',
    );
    return { commit: structuredClone(confirmed), receipt };
  }

  /**
   * Reveals, oldest first, every commit of `signers` whose reveal epoch has come; drops
   * expired and refused ones. Serialized: a call while one runs joins it.
   */
  revealDue(api: ApiPromise, signers: ReadonlyMap<string, KeyringPair>, options: TxOptions = {}): Promise<RevealOutcome[]> {
    if (!this.#revealing) {
      this.#revealing = this.#revealDue(api, signers, options).finally(() => {
        this.#revealing = null;
      });
    }
    return this.#revealing;
  }

  async #revealDue(api: ApiPromise, signers: ReadonlyMap<string, KeyringPair>, options: TxOptions): Promise<RevealOutcome[]> {
    const genesis = this.#conn.genesisHash();
    const outcomes: RevealOutcome[] = [];
    const mine = (await this.#load())
      .filter((c) => c.genesisHash === genesis && signers.has(c.hotkey))
      .sort((a, b) => (a.commitBlock ?? Number.MAX_SAFE_INTEGER) - (b.commitBlock ?? Number.MAX_SAFE_INTEGER));
    for (const original of mine) {
      let commit = original;
      const base = { commitHash: commit.commitHash, netuid: commit.netuid };
      const head = (await api.rpc.chain.getHeader()).number.toNumber();
      if (commitStatus(commit, head + 1) === 'unconfirmed') {
        const resolved = await this.#resolveUnconfirmed(api, commit);
        if (resolved === 'dropped') {
          outcomes.push({ ...base, outcome: 'expired', reason: 'NeverIncluded' });
          continue;
        }
        if (resolved === 'unknown') {
          outcomes.push({ ...base, outcome: 'waiting' });
          continue;
        }
        commit = resolved;
      }
      const epoch = commit.revealEpoch !== null ? await inclusionEpoch(api, commit.netuid, head) : null;
      const status = commitStatus(commit, head + 1, epoch);
      if (status === 'waiting' || status === 'unconfirmed') {
        outcomes.push({ ...base, outcome: 'waiting' });
        continue;
      }
      if (status === 'expired') {
        this.#logger.warn(
          { netuid: commit.netuid, commitHash: commit.commitHash, revealUntil: commit.revealUntil, revealEpoch: commit.revealEpoch, head, epoch },
          'weight commit expired before it could be revealed; dropped',
        );
        await this.#drop(commit.commitHash);
        outcomes.push({ ...base, outcome: 'expired', reason: 'ExpiredWeightCommit' });
        continue;
      }
      outcomes.push(await this.#reveal(api, signers.get(commit.hotkey)!, commit, options));
    }
    return outcomes;
  }

  async #reveal(api: ApiPromise, signer: KeyringPair, commit: PendingCommit, options: TxOptions): Promise<RevealOutcome> {
    const base = { commitHash: commit.commitHash, netuid: commit.netuid };
    const tx = subtensorCalls(api);
    const route = requireWeightsRoute(tx, 'reveal', await readMechanismCount(api, commit.netuid));
    try {
      const call = weightsCall(tx, route, commit.netuid, [commit.uids, commit.values, commit.salt, BigInt(commit.versionKey)]);
      const receipt = await signAndWatch(api, call, signer, { ...options, label: route.call });
      await this.#drop(commit.commitHash);
      const confirmed = await this.#confirm(api, commit, receipt.blockHash);
      this.#logger.info({ netuid: commit.netuid, commitHash: commit.commitHash, block: receipt.blockNumber, confirmed }, 'weights revealed');
      const revealed = { ...base, outcome: 'revealed' as const, receipt, confirmed };
      this.#onRevealed?.(revealed);
      return revealed;
    } catch (err) {
      if (!isSubtensorError(err) || (err.code !== 'TX_DISPATCH_FAILED' && err.code !== 'TX_INVALID')) throw err;
      if (err.reason === 'RevealTooEarly') {
        // Our timing disagrees with the chain's: take the chain's and try again later.
        const onChain = (await readChainCommits(api, commit.netuid, commit.hotkey)).find((c) => c.hash === commit.commitHash);
        if (onChain) {
          const timing = timingOf(onChain, await readRevealPeriod(api, commit.netuid));
          await this.#mutate((list) => list.map((c) => (c.commitHash === commit.commitHash ? { ...c, ...timing } : c)));
          return { ...base, outcome: 'waiting', reason: err.reason };
        }
      }
      this.#logger.warn(
        { netuid: commit.netuid, commitHash: commit.commitHash, reason: err.reason, err: redactText(errorMessage(err)) },
        'weight reveal refused; commit dropped',
      );
      await this.#drop(commit.commitHash);
      return { ...base, outcome: 'rejected', reason: err.reason ?? err.code };
    }
  }

  /** After a reveal: does the stored row (mechanism 0's) hold what was revealed (max-upscaled)? */
  async #confirm(api: ApiPromise, commit: PendingCommit, blockHash: string): Promise<boolean> {
    const at = await api.at(blockHash);
    const uidItem = storageItem(at, 'uids');
    const weightsItem = storageItem(at, 'weights');
    if (!uidItem || !weightsItem) return false;
    const uid = primitive(await uidItem(commit.netuid, commit.hotkey));
    if (uid === null) return false;
    const row = primitive(await weightsItem(mechanismStorageIndex(commit.netuid, 0), uid as number));
    const stored = new Map((Array.isArray(row) ? row : []).map((p) => [toNumber((p as unknown[])[0], 'uid'), toNumber((p as unknown[])[1], 'weight')]));
    const expected = maxUpscaleU16(commit.values);
    return commit.uids.every((u, i) => stored.get(u) === expected[i]);
  }

  /** A commit saved but not known to have landed (timeout, or a restart mid-send): look for it on chain. */
  async #resolveUnconfirmed(api: ApiPromise, commit: PendingCommit): Promise<PendingCommit | 'dropped' | 'unknown'> {
    const onChain = (await readChainCommits(api, commit.netuid, commit.hotkey)).find((c) => c.hash === commit.commitHash);
    if (onChain) {
      const resolved = { ...commit, ...timingOf(onChain, await readRevealPeriod(api, commit.netuid)) };
      await this.#mutate((list) => list.map((c) => (c.commitHash === commit.commitHash ? resolved : c)));
      return resolved;
    }
    if (Date.now() - Date.parse(commit.createdAt) > UNCONFIRMED_COMMIT_TTL_MS) {
      this.#logger.warn({ netuid: commit.netuid, commitHash: commit.commitHash }, 'a weight commit prepared before a restart never reached the chain; dropped');
      await this.#drop(commit.commitHash);
      return 'dropped';
    }
    return 'unknown';
  }

  async #load(): Promise<PendingCommit[]> {
    if (!this.#commits) this.#commits = await this.#store.load();
    return this.#commits;
  }

  async #drop(hash: string): Promise<void> {
    await this.#mutate((list) => list.filter((c) => c.commitHash !== hash));
  }

  async #mutate(fn: (list: PendingCommit[]) => PendingCommit[]): Promise<void> {
    const next = fn(await this.#load());
    await this.#store.save(next);
    this.#commits = next;
  }
}
