/**
 * Pending weight commits and their salts. A salt lost between commit and reveal
 * loses that round's weights, so commits are written before the commit is sent
 * and survive restarts. The port is `{load, save}`; the JSON file implementation
 * replaces the file atomically (write temp, fsync, rename).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { errorMessage } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomicFile.js';
import { SubtensorError } from './errors.js';

export interface PendingCommit {
  /** Hash commit-reveal (v2). Timelocked commits (v3/v4) would add another scheme. */
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

const u16 = z.number().int().min(0).max(65535);
const block = z.number().int().min(0).nullable();
const pendingCommitSchema = z.object({
  scheme: z.literal('hash-v2'),
  genesisHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  netuid: u16,
  hotkey: z.string().min(1),
  uids: z.array(u16),
  values: z.array(u16),
  salt: z.array(u16),
  versionKey: z.string().regex(/^\d+$/),
  commitHash: z.string().regex(/^0x[0-9a-f]{64}$/),
  createdAt: z.string(),
  commitBlock: block,
  revealFrom: block,
  revealUntil: block,
  revealEpoch: block.default(null),
});
const fileSchema = z.object({ version: z.literal(1), commits: z.array(pendingCommitSchema) });

/** The default file under the state folder (`--neuron.state_path`). */
export function defaultCommitStorePath(stateDir: string): string {
  return path.join(stateDir, 'weight-commits.json');
}

export function createJsonCommitStore(filePath: string): CommitStore {
  let writing: Promise<void> = Promise.resolve();
  return {
    async load() {
      let text: string;
      try {
        text = await readFile(filePath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw new SubtensorError('COMMIT_STORE_FAILED', `cannot read pending weight commits from ${filePath}: ${errorMessage(err)}`, { cause: err });
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (err) {
        throw new SubtensorError('COMMIT_STORE_FAILED', `${filePath} is not valid JSON; move it away to start without pending commits (their reveals are then lost).`, { cause: err });
      }
      const result = fileSchema.safeParse(parsed);
      if (!result.success) {
        throw new SubtensorError('COMMIT_STORE_FAILED', `${filePath} does not hold pending weight commits: ${result.error.issues[0]?.message ?? 'bad shape'} at ${result.error.issues[0]?.path.join('.') ?? '?'}.`);
      }
      return result.data.commits;
    },
    save(commits) {
      // Serialize writers: two saves racing on the temp file would lose one.
      const next = writing.then(() => writeAtomically(filePath, JSON.stringify({ version: 1, commits }, null, 2)));
      writing = next.catch(() => undefined);
      return next;
    },
  };
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

async function writeAtomically(filePath: string, text: string): Promise<void> {
  try {
    await writeFileAtomic(filePath, text);
  } catch (err) {
    throw new SubtensorError('COMMIT_STORE_FAILED', `cannot write pending weight commits to ${filePath}: ${errorMessage(err)}`, { cause: err });
  }
}
