import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, test } from 'vitest';
import { ClaimsDatabase } from '../../src/chain/polygon/claimsDatabase.js';
import { importLegacyClaims, legacyClaimsFileInPlace } from '../../src/chain/polygon/claimsImport.js';
import { ClaimsStore } from '../../src/chain/polygon/claimsStore.js';
import type { ChannelClaim } from '../../src/chain/polygon/getLogs.js';
import { createFileStateStore } from '../../src/store/jsonFile.js';
import { readClaimsDatabase } from '../support/claimsDatabase.js';
import { capturingLogger } from '../support/localChain.js';

// The claims window in SQLite (its behaviour as a ClaimsWindow: polygon-claims-window.test.ts):
// kept across reopenings, all or nothing per range, a state it cannot use set aside, and the
// one-time import of the JSON state that earlier versions wrote.

const A = '0x1c1918c99b6dce977392e4131c91654d8ab71e64';
const B = '0x0c2b3aa1e80629d572b1f200e6df3586b3946a8a';
const P1 = '0x00000000000000000000000000000000000000a1';
const P2 = '0x00000000000000000000000000000000000000b2';
const word = (n: bigint | number) => `0x${BigInt(n).toString(16).padStart(64, '0')}`;
const identity = { contracts: [A, B], chainId: 137 };

function claim({ block, ...over }: Partial<ChannelClaim> & { block: number }): ChannelClaim {
  return { contract: A, channelId: word(1), provider: P1, amount: 1_000_000n, txHash: word(0xabc000 + block), logIndex: 0, blockNumber: block, ...over };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'hs58-claims-db-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const freshFile = () => path.join(dir, `c${++files}`, 'drain-claims.sqlite');
const opened: ClaimsDatabase[] = [];
function open(file = freshFile(), extra: Partial<Parameters<typeof ClaimsDatabase.open>[0]> = {}): ClaimsDatabase {
  const db = ClaimsDatabase.open({ path: file, identity, ...extra });
  opened.push(db);
  return db;
}
afterAll(() => opened.forEach((db) => db.close()));

describe('kept in a file', () => {
  test('a reopened database has the claims, the covered ranges and the last complete totals; the file is 0600 in WAL mode', () => {
    const file = freshFile();
    const db = open(file);
    db.addRange({ from: 100, to: 200 }, [claim({ block: 150, amount: 2n ** 200n }), claim({ block: 160, provider: P2 })]);
    db.setLastComplete({ window: { from: 100, to: 200 }, providers: db.totals(), completedAt: 1_700_000_000_000 });
    const before = { covered: db.covered, totals: db.totals(), last: db.lastComplete, list: db.list() };
    db.close();
    const again = open(file);
    expect({ covered: again.covered, totals: again.totals(), last: again.lastComplete, list: again.list() }).toEqual(before);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}-wal`)).toBe(true);
    expect(readClaimsDatabase(file)).toMatchObject({ chainId: 137, contracts: [B, A], covered: [[100, 200]] });
  });

  test('all or nothing: a range whose claims cannot all be written leaves neither claims nor coverage', () => {
    const file = freshFile();
    const db = open(file);
    db.addRange({ from: 0, to: 9 }, [claim({ block: 1 })]);
    // A log index that is not an integer: the STRICT table refuses it after the first claim was inserted.
    const bad = [claim({ block: 12 }), claim({ block: 13, logIndex: 1.5 })];
    expect(() => db.addRange({ from: 10, to: 19 }, bad)).toThrow(expect.objectContaining({ code: 'STORE_FAILED' }));
    expect(db.claimCount).toBe(1);
    expect(db.covered).toEqual([{ from: 0, to: 9 }]);
    db.close();
    expect(readClaimsDatabase(file)).toMatchObject({ covered: [[0, 9]], claims: [{ block: 1 }] });
  });

  test('a state of other contracts or another chain is not used: emptied with a warning (it only costs a rescan)', () => {
    const file = freshFile();
    const db = open(file);
    db.addRange({ from: 0, to: 9 }, [claim({ block: 1 })]);
    db.close();
    const log = capturingLogger();
    const other = open(file, { identity: { contracts: [A], chainId: 137 }, logger: log.logger });
    expect(log.messages()).toContain('scanner state not usable; starting a fresh scan');
    expect([other.claimCount, other.covered]).toEqual([0, []]);
    other.close();
    const otherChain = open(file, { identity: { contracts: [A], chainId: 80002 } });
    expect(otherChain.claimCount).toBe(0);
    expect(readClaimsDatabase(file)).toMatchObject({ chainId: 80002, contracts: [A] });
  });

  test.each([
    ['claims outside the covered ranges', 'DELETE FROM covered'],
    ['overlapping covered ranges', 'INSERT INTO covered VALUES (5, 20)'],
    ['a complete window that is not JSON', "UPDATE meta SET value = '{' WHERE key = 'lastComplete'"],
    ['malformed complete-window totals', `UPDATE meta SET value = '{"from":0,"to":9,"completedAt":1,"providers":{"x":{}}}' WHERE key = 'lastComplete'`],
  ])('a state with %s is emptied with a warning', (_what, edit) => {
    const file = freshFile();
    const db = open(file);
    db.addRange({ from: 0, to: 9 }, [claim({ block: 1 })]);
    db.setLastComplete({ window: { from: 0, to: 9 }, providers: db.totals(), completedAt: 1 });
    db.close();
    const raw = new DatabaseSync(file);
    raw.exec(edit);
    raw.close();
    const log = capturingLogger();
    const again = open(file, { logger: log.logger });
    expect(log.messages()).toContain('scanner state not usable; starting a fresh scan');
    expect([again.claimCount, again.covered, again.lastComplete]).toEqual([0, [], null]);
  });

  test('a file that is not a database, or of another schema, is moved aside and a fresh one takes its place', () => {
    const file = freshFile();
    open(file).close();
    writeFileSync(file, 'this is not an SQLite database, just some bytes'.repeat(100));
    const log = capturingLogger();
    const db = open(file, { logger: log.logger });
    expect(log.messages()).toContain('scanner state not usable; starting a fresh scan');
    expect(readFileSync(`${file}.unusable`, 'utf8')).toMatch(/^this is not an SQLite database/);
    db.addRange({ from: 0, to: 1 }, []);
    expect(db.covered).toEqual([{ from: 0, to: 1 }]);
    db.close();

    const foreign = freshFile();
    mkdirSync(path.dirname(foreign));
    const other = new DatabaseSync(foreign);
    other.exec('CREATE TABLE notes (text TEXT); PRAGMA user_version = 7;');
    other.close();
    expect(open(foreign).covered).toEqual([]);
    expect(existsSync(`${foreign}.unusable`)).toBe(true);
  });

  test('a file that cannot be opened at all is STORE_FAILED, not moved aside', () => {
    const notAFolder = path.join(dir, 'plain');
    writeFileSync(notAFolder, 'x');
    expect(() => open(path.join(notAFolder, 'drain-claims.sqlite'))).toThrow(expect.objectContaining({ code: 'STORE_FAILED' }));
    expect(readFileSync(notAFolder, 'utf8')).toBe('x');
  });
});

describe('the JSON state of earlier versions', () => {
  /** A state as today's code wrote it: ClaimsStore.jsonPieces through the atomic file store. */
  async function writeEarlierState(file: string, claims: number): Promise<ClaimsStore> {
    const store = new ClaimsStore(identity);
    const list = Array.from({ length: claims }, (_, i) =>
      claim({
        block: 10 + Math.floor(i / 3),
        logIndex: i % 3,
        txHash: word(i + 1),
        provider: i % 2 ? P1 : P2,
        channelId: word(i % 7),
        amount: BigInt(1_000 + i),
      }),
    );
    store.addRange({ from: 10, to: 10 + Math.floor(claims / 3) + 1 }, list);
    store.addRange({ from: 5_000, to: 5_999 }, []);
    store.lastComplete = { window: { from: 10, to: 5_999 }, providers: store.totals(), completedAt: 1_700_000_000_000 };
    await createFileStateStore(file).saveSerialized!(store.jsonPieces(50));
    return store;
  }

  test('imported once in one transaction, then renamed; what it held is what the database holds', async () => {
    const folder = path.dirname(freshFile());
    const json = path.join(folder, 'drain-claims.json');
    const earlier = await writeEarlierState(json, 1_000);
    const text = readFileSync(json, 'utf8');
    const legacy = { path: json, movedTo: `${json}.imported` };
    const db = open(path.join(folder, 'drain-claims.sqlite'));
    const log = capturingLogger();
    expect(importLegacyClaims(db, legacy, log.logger)).toEqual({ kind: 'imported', claims: 1_000, ranges: 2, movedTo: legacy.movedTo });
    expect(log.messages()).toContain('imported the JSON claims state of an earlier version into the claims database (once)');
    expect(existsSync(json)).toBe(false);
    expect(readFileSync(legacy.movedTo, 'utf8')).toBe(text);
    expect(db.list()).toEqual(earlier.list());
    expect(db.covered).toEqual(earlier.covered);
    expect(db.totals()).toEqual(earlier.totals());
    expect(db.lastComplete).toEqual(earlier.lastComplete);
    expect(importLegacyClaims(db, legacy)).toEqual({ kind: 'none' });

    // A crash after the transaction and before the rename: the next start only renames it.
    renameSync(legacy.movedTo, json);
    expect(importLegacyClaims(db, legacy)).toEqual({ kind: 'finished', movedTo: legacy.movedTo });
    expect(db.claimCount).toBe(1_000);
    expect(existsSync(json)).toBe(false);
  });

  test('merged into what the database holds: claims counted once, coverage joined, its complete window kept', async () => {
    const folder = path.dirname(freshFile());
    const json = path.join(folder, 'drain-claims.json');
    const earlier = await writeEarlierState(json, 30);
    const db = open(path.join(folder, 'drain-claims.sqlite'));
    db.addRange({ from: 10, to: 12 }, earlier.list({ from: 10, to: 12 }));
    db.addRange({ from: 7_000, to: 7_010 }, [claim({ block: 7_005, amount: 9n })]);
    importLegacyClaims(db, { path: json, movedTo: `${json}.imported` });
    expect(db.claimCount).toBe(31);
    expect(db.covered).toEqual([
      { from: 10, to: 21 },
      { from: 5_000, to: 5_999 },
      { from: 7_000, to: 7_010 },
    ]);
    expect(db.lastComplete?.window).toEqual({ from: 10, to: 5_999 });
  });

  test('a state of other contracts is not imported: renamed to .unusable with a warning', async () => {
    const folder = path.dirname(freshFile());
    const json = path.join(folder, 'drain-claims.json');
    await writeEarlierState(json, 10);
    const db = open(path.join(folder, 'drain-claims.sqlite'), { identity: { contracts: [A], chainId: 137 } });
    const log = capturingLogger();
    const result = importLegacyClaims(db, { path: json, movedTo: `${json}.imported` }, log.logger);
    expect(result).toMatchObject({
      kind: 'unusable',
      reason: expect.stringMatching(/POLYGON_STATE_INVALID: scanner state was written for contracts/),
      movedTo: `${json}.unusable`,
    });
    expect(log.messages()).toContain('JSON claims state of an earlier version not usable; not imported, starting from what the database holds');
    expect([db.claimCount, existsSync(json), existsSync(`${json}.unusable`)]).toEqual([0, false, true]);
  });

  test('hs58 scan --state FILE where FILE is the JSON state: it becomes FILE.importing, the database takes its name', async () => {
    const file = path.join(path.dirname(freshFile()), 'my-scan.json');
    const earlier = await writeEarlierState(file, 12);
    const copy = `${file}.copy`;
    copyFileSync(file, copy);
    const legacy = legacyClaimsFileInPlace(file);
    expect(legacy).toEqual({ path: `${file}.importing`, movedTo: `${file}.imported` });
    expect(existsSync(file)).toBe(false);
    const db = open(file);
    importLegacyClaims(db, legacy);
    expect(db.totals()).toEqual(earlier.totals());
    expect(readFileSync(`${file}.imported`, 'utf8')).toBe(readFileSync(copy, 'utf8'));
    db.close();
    // FILE is now the database: nothing is renamed again.
    expect(legacyClaimsFileInPlace(file)).toEqual(legacy);
    expect(readClaimsDatabase(file)?.claims).toHaveLength(12);
  });
});
