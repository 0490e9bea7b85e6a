import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { decodeAddress } from '@polkadot/util-crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { epochBlockRange, epochIndex, epochInfoAt } from '../../src/chain/subtensor/clock.js';
import { commitHash, commitStatus, generateSalt, parseChainCommit, revealWindow } from '../../src/chain/subtensor/commitReveal.js';
import { createJsonCommitStore, createMemoryCommitStore, type PendingCommit } from '../../src/chain/subtensor/commitStore.js';

// Golden values from the Python SDK (bittensor 10.5.0, bittensor.utils.weight_utils.generate_weight_hash).
const SDK_VECTORS = [
  {
    hotkey: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
    netuid: 58,
    uids: [0, 1, 2, 3],
    values: [16384, 32768, 49151, 65535],
    versionKey: 21706n,
    salt: [1, 2, 3, 4, 5, 6, 7, 8],
    hash: '0x530990d7b93fa9a17684e29357133760d5a5b10710f127ee8ccc7796971a6400',
  },
  {
    hotkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
    netuid: 2,
    uids: [],
    values: [],
    versionKey: 0n,
    salt: [],
    hash: '0x3f9e133db4335e2025ae52ad88f190fc9e350a662d5309bc09ced69058eef515',
  },
  {
    // 70 entries: the two-byte compact length prefix.
    hotkey: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
    netuid: 65535,
    uids: Array.from({ length: 70 }, (_, i) => i),
    values: Array.from({ length: 70 }, (_, i) => 65535 - i),
    versionKey: 2n ** 64n - 1n,
    salt: [65535, 0, 12345],
    hash: '0xd28f67a95d36b8edd5834471a8567a6a41aa591605d7f9e944bf9e3a6eb40be0',
  },
];

describe('commit-reveal v2 hash', () => {
  test.each(SDK_VECTORS)('matches the Python SDK for netuid $netuid', (v) => {
    expect(commitHash(v)).toBe(v.hash);
    expect(commitHash({ ...v, hotkey: decodeAddress(v.hotkey) })).toBe(v.hash);
  });

  test('every input changes the hash', () => {
    const base = SDK_VECTORS[0]!;
    const variants = [
      { ...base, netuid: 59 },
      { ...base, uids: [0, 1, 2, 4] },
      { ...base, values: [16384, 32768, 49151, 65534] },
      { ...base, salt: [1, 2, 3, 4, 5, 6, 7, 9] },
      { ...base, versionKey: 21707n },
      { ...base, hotkey: SDK_VECTORS[1]!.hotkey },
    ];
    for (const v of variants) expect(commitHash(v)).not.toBe(base.hash);
  });

  test('salts are eight random u16', () => {
    const a = generateSalt();
    const b = generateSalt();
    expect(a).toHaveLength(8);
    expect(a.every((x) => Number.isInteger(x) && x >= 0 && x <= 65535)).toBe(true);
    expect(a).not.toEqual(b);
  });
});

describe('epochs and reveal windows (the runtime arithmetic)', () => {
  test('epoch index and the block the epoch runs in', () => {
    // tempo 10 on netuid 2: the epoch runs when (block + 3) % 11 == 10, i.e. blocks 7, 18, 29…
    expect(epochInfoAt(2, 10, 5)).toEqual({ netuid: 2, tempo: 10, block: 5, index: 0, nextEpochBlock: 7, blocksUntilNextEpoch: 2 });
    expect(epochInfoAt(2, 10, 7)).toMatchObject({ index: 0, nextEpochBlock: 7, blocksUntilNextEpoch: 0 });
    expect(epochInfoAt(2, 10, 8)).toMatchObject({ index: 1, nextEpochBlock: 18 });
    expect(epochInfoAt(2, 0, 8)).toMatchObject({ nextEpochBlock: null, blocksUntilNextEpoch: null });
    // The runtime's own table (pallet_subtensor blocks_until_next_epoch docs).
    expect(epochInfoAt(0, 1, 0).blocksUntilNextEpoch).toBe(0);
    expect(epochInfoAt(1, 1, 0).blocksUntilNextEpoch).toBe(1);
    expect(epochInfoAt(0, 100, 0).blocksUntilNextEpoch).toBe(99);
    expect(epochInfoAt(1, 100, 0).blocksUntilNextEpoch).toBe(98);
  });

  test('a reveal window is the whole epoch commit_epoch + period, as get_reveal_blocks computes it', () => {
    // netuid 2, tempo 4: epoch k covers [5k − 3, 5k + 1].
    expect(epochIndex(2, 4, 40)).toBe(8);
    expect(revealWindow(2, 4, 1, 40)).toEqual({ revealFrom: 42, revealUntil: 46 });
    expect(revealWindow(2, 4, 2, 40)).toEqual({ revealFrom: 47, revealUntil: 51 });
    const { first, last } = epochBlockRange(2, 4, 9);
    for (let b = first; b <= last; b++) expect(epochIndex(2, 4, b)).toBe(9);
    expect(epochIndex(2, 4, first - 1)).toBe(8);
    expect(epochIndex(2, 4, last + 1)).toBe(10);
  });

  test('commit status for a transaction included in a given block (block-derived epochs, spec ≤ 406)', () => {
    const c = pending({ revealFrom: 42, revealUntil: 46 });
    expect(commitStatus(c, 41)).toBe('waiting');
    expect(commitStatus(c, 42)).toBe('due');
    expect(commitStatus(c, 46)).toBe('due');
    expect(commitStatus(c, 47)).toBe('expired');
    expect(commitStatus(pending({ revealFrom: null, revealUntil: null }), 1)).toBe('unconfirmed');
  });

  test('commit status on runtimes with an epoch counter (SubnetEpochIndex): the epoch decides, not the block', () => {
    const c = pending({ revealFrom: null, revealUntil: null, revealEpoch: 812 });
    expect(commitStatus(c, 10_000, 811)).toBe('waiting');
    expect(commitStatus(c, 10_000, 812)).toBe('due');
    expect(commitStatus(c, 10_000, 813)).toBe('expired');
    expect(commitStatus(c, 10_000, null)).toBe('waiting'); // epoch not read: never guess
  });

  test('WeightCommits entries: the same SCALE tuple means different things before and after the epoch counter', () => {
    const entry = ['0xaa', 811, 6_900_123, 0];
    expect(parseChainCommit(entry, true)).toEqual({ format: 'epochs', hash: '0xaa', commitEpoch: 811, commitBlock: 6_900_123 });
    expect(parseChainCommit(['0xaa', 40, 42, 46], false)).toEqual({ format: 'blocks', hash: '0xaa', commitBlock: 40, revealFrom: 42, revealUntil: 46 });
    expect(parseChainCommit(['0xaa', 40], false)).toBeNull();
  });
});

function pending(over: Partial<PendingCommit> = {}): PendingCommit {
  return {
    scheme: 'hash-v2',
    genesisHash: `0x${'ab'.repeat(32)}`,
    netuid: 2,
    hotkey: SDK_VECTORS[0]!.hotkey,
    uids: [0, 1],
    values: [65535, 1],
    salt: [1, 2, 3, 4, 5, 6, 7, 8],
    versionKey: '18446744073709551615',
    commitHash: `0x${'cd'.repeat(32)}`,
    createdAt: '2026-01-01T00:00:00.000Z',
    commitBlock: 40,
    revealFrom: 42,
    revealUntil: 46,
    revealEpoch: null,
    ...over,
  };
}

describe('pending commit store', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const d = await mkdtemp(path.join(os.tmpdir(), 'hs58-commits-'));
    dirs.push(d);
    return d;
  };
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  test('JSON file: empty when absent, round trip, mode 0600, no temp file left behind', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'sub', 'weight-commits.json');
    const store = createJsonCommitStore(file);
    expect(await store.load()).toEqual([]);
    const commits = [
      pending(),
      pending({ commitHash: `0x${'ef'.repeat(32)}`, commitBlock: null, revealFrom: null, revealUntil: null }),
      pending({ commitHash: `0x${'01'.repeat(32)}`, revealFrom: null, revealUntil: null, revealEpoch: 9 }),
    ];
    await store.save(commits);
    expect(await createJsonCommitStore(file).load()).toEqual(commits);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readdir(path.dirname(file))).toEqual(['weight-commits.json']);
    // u64 version keys survive as decimal strings.
    expect(JSON.parse(await readFile(file, 'utf8')).commits[0].versionKey).toBe('18446744073709551615');
  });

  test('concurrent saves never interleave: the last one wins, the file stays valid', async () => {
    const file = path.join(await tempDir(), 'c.json');
    const store = createJsonCommitStore(file);
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.save([pending({ netuid: i })])));
    expect((await store.load()).map((c) => c.netuid)).toEqual([19]);
  });

  test('a corrupt or foreign file is a clear error, never an empty list', async () => {
    const dir = await tempDir();
    const bad = path.join(dir, 'bad.json');
    await writeFile(bad, '{"version":1,"commits":[{"scheme":"hash-v2"');
    await expect(createJsonCommitStore(bad).load()).rejects.toThrow(/not valid JSON; move it away/);
    const foreign = path.join(dir, 'foreign.json');
    await writeFile(foreign, JSON.stringify({ version: 1, commits: [{ ...pending(), salt: [70000] }] }));
    await expect(createJsonCommitStore(foreign).load()).rejects.toThrow(/does not hold pending weight commits.*commits\.0\.salt\.0/);
  });

  test('a file written before revealEpoch existed still loads', async () => {
    const file = path.join(await tempDir(), 'old.json');
    const { revealEpoch: _dropped, ...old } = pending();
    await writeFile(file, JSON.stringify({ version: 1, commits: [old] }));
    expect(await createJsonCommitStore(file).load()).toEqual([pending()]);
  });

  test('fields it does not know are not loaded, so they are not written back', async () => {
    const file = path.join(await tempDir(), 'extra.json');
    await writeFile(file, JSON.stringify({ version: 1, commits: [{ ...pending(), note: 'x', __proto__: { polluted: true } }] }));
    const [loaded] = await createJsonCommitStore(file).load();
    expect(loaded).toEqual(pending());
    expect(Object.keys(loaded!).sort()).toEqual(Object.keys(pending()).sort());
  });

  test('memory store returns copies', async () => {
    const store = createMemoryCommitStore([pending()]);
    const loaded = await store.load();
    loaded[0]!.salt.push(9);
    expect((await store.load())[0]!.salt).toHaveLength(8);
  });
});
