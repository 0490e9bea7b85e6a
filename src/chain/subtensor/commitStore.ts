/**
 * Pending weight commits and their salts. A salt lost between commit and reveal
 * loses that round's weights, so commits are written before the commit is sent
 * and survive restarts. The port is `{load, save}`; the JSON file implementation is the
 * atomic JSON store of src/store (write temp, fsync, rename; saves serialized).
 */
import path from 'node:path';
import { errorMessage } from '../../errors.js';
import { StoreError } from '../../store/errors.js';
import { createFileStateStore } from '../../store/jsonFile.js';
import { SubtensorError } from './errors.js';

export interface PendingCommit {
  /** Hash commit-reveal (v2). Timelocked commits (v3/v4) need no store: the chain reveals them. */
  scheme: 'hash-v2';
  /** Chain the commit belongs to, so one store never mixes networks. */
  genesisHash: string;
  netuid: number;
  /** SS58 address of the committing hotkey. */
  hotkey: string;
  uids: number[];
  values: number[];
  salt: number[];
  /** u64 as a decimal string (JSON has no u64). */
  versionKey: string;
  commitHash: string;
  /** ISO time the commit was prepared. */
  createdAt: string;
  /** Block that included the commit; null while it is being sent. */
  commitBlock: number | null;
  /**
   * Runtimes up to ~spec 406 count epochs from block numbers: the reveal is accepted
   * from `revealFrom` to `revealUntil` (blocks). Later runtimes keep a per-subnet epoch
   * counter (`SubnetEpochIndex`): the reveal is accepted while it equals `revealEpoch`.
   * One of the two is set once the commit is on chain.
   */
  revealFrom: number | null;
  revealUntil: number | null;
  revealEpoch: number | null;
}

export interface CommitStore {
  load(): Promise<PendingCommit[]>;
  save(commits: readonly PendingCommit[]): Promise<void>;
}

/**
 * Checks one parsed commit; returns what is wrong with it (field and expectation) or null.
 * Hand-written: the only schema check a daemon needs at start, and a schema library would add
 * 14 MB to every daemon's memory (bench/README.md).
 */
function commitProblem(c: unknown): string | null {
  if (typeof c !== 'object' || c === null || Array.isArray(c)) return 'itself is not an object';
  const o = c as Record<string, unknown>;
  const hash32 = (v: unknown) => typeof v === 'string' && /^0x[0-9a-f]{64}$/.test(v);
  const u16 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535;
  const blockOrNull = (v: unknown) => v === null || (Number.isSafeInteger(v) && (v as number) >= 0);
  const checks: [string, boolean, string][] = [
    ['scheme', o.scheme === 'hash-v2', "'hash-v2'"],
    ['genesisHash', hash32(o.genesisHash), 'a 0x-hex 32-byte hash'],
    ['netuid', u16(o.netuid), 'an integer 0–65535'],
    ['hotkey', typeof o.hotkey === 'string' && o.hotkey.length > 0, 'an address'],
    ['versionKey', typeof o.versionKey === 'string' && /^\d+$/.test(o.versionKey), 'a decimal string'],
    ['commitHash', hash32(o.commitHash), 'a 0x-hex 32-byte hash'],
    ['createdAt', typeof o.createdAt === 'string', 'a time string'],
    ['commitBlock', blockOrNull(o.commitBlock), 'a block number or null'],
    ['revealFrom', blockOrNull(o.revealFrom), 'a block number or null'],
    ['revealUntil', blockOrNull(o.revealUntil), 'a block number or null'],
    ['revealEpoch', o.revealEpoch === undefined || blockOrNull(o.revealEpoch), 'an epoch number or null'],
  ];
  const bad = checks.find(([, ok]) => !ok);
  if (bad) return `${bad[0]} is not ${bad[2]}`;
  for (const field of ['uids', 'values', 'salt'] as const) {
    const list = o[field];
    if (!Array.isArray(list)) return `${field} is not a list`;
    const i = list.findIndex((v) => !u16(v));
    if (i >= 0) return `${field}.${i} is not an integer 0–65535`;
  }
  return null;
}

/** The commits of a parsed file, or what is wrong with it. */
function parseCommitFile(data: unknown): PendingCommit[] | string {
  if (typeof data !== 'object' || data === null || (data as { version?: unknown }).version !== 1) return 'version is not 1';
  const commits = (data as { commits?: unknown }).commits;
  if (!Array.isArray(commits)) return 'commits is not a list';
  for (const [i, c] of commits.entries()) {
    const problem = commitProblem(c);
    if (problem) return `commits.${i}.${problem}`;
  }
  // Only the known fields, so that whatever else a file holds is not written back.
  return (commits as PendingCommit[]).map((c) => ({
    scheme: c.scheme,
    genesisHash: c.genesisHash,
    netuid: c.netuid,
    hotkey: c.hotkey,
    uids: c.uids,
    values: c.values,
    salt: c.salt,
    versionKey: c.versionKey,
    commitHash: c.commitHash,
    createdAt: c.createdAt,
    commitBlock: c.commitBlock,
    revealFrom: c.revealFrom,
    revealUntil: c.revealUntil,
    revealEpoch: c.revealEpoch ?? null,
  }));
}

/** The default file under the state folder (`--neuron.state_path`). */
export function defaultCommitStorePath(stateDir: string): string {
  return path.join(stateDir, 'weight-commits.json');
}

export function createJsonCommitStore(filePath: string): CommitStore {
  const file = createFileStateStore<unknown>(filePath, { pretty: true });
  return {
    async load() {
      const parsed = await file.load().catch((err: unknown) => {
        if (err instanceof StoreError && err.code === 'STORE_INVALID') {
          throw new SubtensorError(
            'COMMIT_STORE_FAILED',
            `${filePath} is not valid JSON; move it away to start without pending commits (their reveals are then lost).`,
            { cause: err },
          );
        }
        throw new SubtensorError('COMMIT_STORE_FAILED', `cannot read pending weight commits from ${filePath}: ${causeMessage(err)}`, { cause: err });
      });
      if (parsed === null) return [];
      const commits = parseCommitFile(parsed);
      if (typeof commits === 'string') throw new SubtensorError('COMMIT_STORE_FAILED', `${filePath} does not hold pending weight commits: ${commits}.`);
      return commits;
    },
    save: (commits) =>
      file.save({ version: 1, commits }).catch((err: unknown) => {
        throw new SubtensorError('COMMIT_STORE_FAILED', `cannot write pending weight commits to ${filePath}: ${causeMessage(err)}`, { cause: err });
      }),
  };
}

/** The file system's own words (the store's error adds the path, which the message has already). */
function causeMessage(err: unknown): string {
  return errorMessage(err instanceof StoreError && err.cause !== undefined ? err.cause : err);
}

/** For pure-logic tests and dry runs: nothing survives the process. */
export function createMemoryCommitStore(initial: readonly PendingCommit[] = []): CommitStore {
  let commits = structuredClone([...initial]);
  return {
    load: async () => structuredClone(commits),
    save: async (next) => {
      commits = structuredClone([...next]);
    },
  };
}
