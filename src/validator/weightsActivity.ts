/**
 * What the validator last sent to the chain with its weights, and its commits still waiting to
 * be revealed, for `/status`. Hash commits (commit-reveal v2) come from the chain adapter's commit
 * store (`Subtensor.pendingCommits()`), read after each round and on each head; timelocked
 * commits (v3/v4) need no store, the chain reveals them at their drand round: they are read from
 * the chain's own storage (`Subtensor.pendingTimelockedCommits()`, so a restart still lists them),
 * with the reveal block this process computed when it sent them; without that read, the ones this
 * process sent are listed until the head reaches their reveal block. Salts and weight values
 * never leave the adapter: only hashes, blocks, epochs and rounds are shown.
 */
import type { PendingCommit, PendingTimelockedCommit, SetWeightsResult } from '../chain/subtensor/types.js';
import { errorMessage } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { RoundReport } from './report.js';

/** The last weight transaction the validator sent (or tried to). */
export interface WeightTx {
  /** Block of the round that sent it. */
  roundBlock: number;
  /** When the round finished, ms since the epoch. */
  at: number;
  kind: SetWeightsResult['kind'] | 'failed';
  /** `set`, `committed`, …, or `failed: <why>`. */
  outcome: string;
  /** Block that included it, its hash and the extrinsic's hash; null when it failed. */
  blockNumber: number | null;
  blockHash: string | null;
  txHash: string | null;
  /** Hash commits: the commit's hash. */
  commitHash: string | null;
  /** Timelocked commits: the drand round it is encrypted to (decimal) and the block it should reveal near. */
  revealRound: string | null;
  revealTargetBlock: number | null;
}

/** One commit waiting for its reveal. */
export interface PendingCommitView {
  scheme: 'hash' | 'timelocked';
  netuid: number;
  /** Hash commits only. */
  commitHash: string | null;
  /** Block that included the commit; null while it is being sent. */
  commitBlock: number | null;
  /** Hash commits on runtimes that count epochs from blocks: the reveal is accepted in these blocks. */
  revealFromBlock: number | null;
  revealUntilBlock: number | null;
  /** Hash commits on runtimes with an epoch counter: the reveal is accepted in this subnet epoch. */
  revealEpoch: number | null;
  /** Timelocked commits: the chain reveals it at this drand round (decimal), near this block. */
  drandRound: string | null;
  revealTargetBlock: number | null;
}

export interface WeightsActivityOptions {
  netuid: number;
  /** The validator's hotkey: only its commits are listed. */
  hotkey: string;
  /** The adapter's pending hash commits; absent: none are listed. */
  pendingCommits?: () => Promise<PendingCommit[]>;
  /** This hotkey's timelocked commits on chain; absent: only those this process sent are listed. */
  timelockedCommits?: () => Promise<PendingTimelockedCommit[]>;
  log: Logger;
  now: () => number;
}

const MAX_TIMELOCKED = 16;
/** The chain's timelocked commits are read after each round and at most this often on new heads. */
const TIMELOCKED_READ_EVERY_MS = 60_000;

export class WeightsActivity {
  private readonly options: WeightsActivityOptions;
  private last: WeightTx | null = null;
  private hashCommits: PendingCommitView[] = [];
  private timelocked: PendingCommitView[] = [];
  /** The last read of the chain's timelocked commits; null until one succeeded. */
  private chainTimelocked: PendingTimelockedCommit[] | null = null;
  private timelockedReadAt = Number.NEGATIVE_INFINITY;
  private forceTimelocked = false;
  private head: number | null = null;
  private readError: string | null = null;
  private reading: Promise<void> | null = null;
  private again = false;

  constructor(options: WeightsActivityOptions) {
    this.options = options;
  }

  /** After each round: its weight transaction (when it sent one, or failed to), then the pending commits again. */
  afterRound(report: RoundReport): Promise<void> {
    const tx = weightTxOf(report, this.options.now());
    if (tx) this.last = tx;
    const s = report.submitted;
    if (s?.kind === 'committed-timelocked') {
      this.timelocked = [...this.timelocked, timelockedView(this.options.netuid, s)].slice(-MAX_TIMELOCKED);
    }
    this.forceTimelocked = true;
    return this.refresh();
  }

  /** On each new head: timelocked commits past their reveal block leave the list; hash commits are read again. */
  onHead(block: number): Promise<void> {
    this.head = block;
    return this.refresh();
  }

  lastWeightTx(): WeightTx | null {
    return this.last;
  }

  /** Oldest first; `error` says why the hash commits could not be read (the last list read is kept). */
  pending(): { commits: PendingCommitView[]; error: string | null } {
    const head = this.head;
    const timelocked =
      this.chainTimelocked !== null
        ? this.chainTimelocked.map((c) => chainTimelockedView(c, this.timelocked))
        : this.timelocked.filter((c) => head === null || c.revealTargetBlock === null || head < c.revealTargetBlock);
    const commits = [...this.hashCommits, ...timelocked].sort(
      (a, b) => (a.commitBlock ?? Number.MAX_SAFE_INTEGER) - (b.commitBlock ?? Number.MAX_SAFE_INTEGER),
    );
    return { commits, error: this.readError };
  }

  /** One read at a time; one asked for while a read runs is done once more after it (the store may have changed). */
  private refresh(): Promise<void> {
    const { pendingCommits, timelockedCommits } = this.options;
    if (!pendingCommits && !timelockedCommits) return Promise.resolve();
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        await this.readOnce();
      } while (this.again);
      this.reading = null;
    })();
    return this.reading;
  }

  private async readOnce(): Promise<void> {
    const { netuid, hotkey, pendingCommits, timelockedCommits } = this.options;
    const now = this.options.now();
    const readChain = timelockedCommits !== undefined && (this.forceTimelocked || now - this.timelockedReadAt >= TIMELOCKED_READ_EVERY_MS);
    if (readChain) {
      this.forceTimelocked = false;
      this.timelockedReadAt = now;
    }
    const [hash, timelocked] = await Promise.allSettled([pendingCommits?.(), readChain ? timelockedCommits() : undefined]);
    if (hash.status === 'fulfilled' && hash.value) this.hashCommits = hash.value.filter((c) => c.netuid === netuid && c.hotkey === hotkey).map(hashView);
    if (timelocked.status === 'fulfilled' && timelocked.value) this.chainTimelocked = timelocked.value.filter((c) => c.netuid === netuid);
    const failed = [hash, timelocked].find((r) => r.status === 'rejected');
    this.readError = failed ? errorMessage(failed.reason) : null;
    if (this.readError) this.options.log.debug({ err: this.readError }, 'pending weight commits not read');
  }
}

function weightTxOf(report: RoundReport, at: number): WeightTx | null {
  const s = report.submitted;
  const base = { roundBlock: report.block, at, commitHash: null, revealRound: null, revealTargetBlock: null };
  if (s) {
    return {
      ...base,
      kind: s.kind,
      outcome: report.weightsOutcome,
      blockNumber: s.blockNumber,
      blockHash: s.blockHash,
      txHash: s.txHash,
      commitHash: s.kind === 'committed' ? s.commit.commitHash : null,
      revealRound: s.kind === 'committed-timelocked' ? s.revealRound.toString() : null,
      revealTargetBlock: s.kind === 'committed-timelocked' ? s.revealTargetBlock : null,
    };
  }
  if (!report.weightsOutcome.startsWith('failed')) return null;
  return { ...base, kind: 'failed', outcome: report.weightsOutcome, blockNumber: null, blockHash: null, txHash: null };
}

function hashView(c: PendingCommit): PendingCommitView {
  return {
    scheme: 'hash',
    netuid: c.netuid,
    commitHash: c.commitHash,
    commitBlock: c.commitBlock,
    revealFromBlock: c.revealFrom,
    revealUntilBlock: c.revealUntil,
    revealEpoch: c.revealEpoch ?? null,
    drandRound: null,
    revealTargetBlock: null,
  };
}

/** A timelocked commit read from the chain, with the blocks this process knew when it sent it (same drand round). */
function chainTimelockedView(c: PendingTimelockedCommit, sent: PendingCommitView[]): PendingCommitView {
  const drandRound = c.revealRound.toString();
  const known = sent.find((s) => s.drandRound === drandRound && (c.commitBlock === null || s.commitBlock === c.commitBlock));
  return {
    scheme: 'timelocked',
    netuid: c.netuid,
    commitHash: c.commitHash,
    commitBlock: c.commitBlock ?? known?.commitBlock ?? null,
    revealFromBlock: null,
    revealUntilBlock: null,
    revealEpoch: null,
    drandRound,
    revealTargetBlock: known?.revealTargetBlock ?? null,
  };
}

function timelockedView(netuid: number, s: Extract<SetWeightsResult, { kind: 'committed-timelocked' }>): PendingCommitView {
  return {
    scheme: 'timelocked',
    netuid,
    commitHash: null,
    commitBlock: s.blockNumber,
    revealFromBlock: null,
    revealUntilBlock: null,
    revealEpoch: null,
    drandRound: s.revealRound.toString(),
    revealTargetBlock: s.revealTargetBlock,
  };
}
