import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ClaimsStore } from '../../src/chain/polygon/claimsStore.js';
import { createFileStateStore } from '../../src/store/jsonFile.js';

// The scanner's state is saved in pieces (a week of claims is tens of MB of JSON); the file
// must still be exactly JSON.stringify of the state.

const C = `0x${'c'.repeat(40)}`;

function storeWith(claims: number): ClaimsStore {
  const store = new ClaimsStore({ contracts: [C], chainId: 137 });
  const list = Array.from({ length: claims }, (_, i) => ({
    contract: C,
    channelId: `0x${(i % 37).toString(16).padStart(64, '0')}`,
    provider: `0x${(i % 11).toString(16).padStart(40, '0')}`,
    amount: BigInt(1_000 + i),
    blockNumber: 10 + Math.floor(i / 3),
    txHash: `0x${i.toString(16).padStart(64, '0')}`,
    logIndex: i % 3,
  }));
  store.addRange({ from: 10, to: 10 + Math.floor(claims / 3) + 1 }, list);
  return store;
}

describe('ClaimsStore.jsonPieces', () => {
  test.each([0, 1, 199, 200, 201, 1000, 2345])('%i claims: the pieces are exactly JSON.stringify(toJSON()), a few hundred claims each', (n) => {
    const store = storeWith(n);
    const pieces = [...store.jsonPieces()];
    expect(pieces.join('')).toBe(JSON.stringify(store.toJSON()));
    expect(Math.max(...pieces.map((p) => (p.match(/"tx":/g) ?? []).length))).toBeLessThanOrEqual(200);
  });

  test('with totals of a complete round, and the state as it was when called', () => {
    const store = storeWith(500);
    store.lastComplete = { window: { from: 10, to: 200 }, providers: store.totals({ from: 10, to: 200 }), completedAt: 1_700_000_000_000 };
    const before = JSON.stringify(store.toJSON());
    const pieces = store.jsonPieces(50);
    // Claims added after the call are not in the pieces, nor their blocks in `covered`.
    store.addRange({ from: 10_000, to: 10_010 }, [
      {
        contract: C,
        channelId: `0x${'1'.repeat(64)}`,
        provider: `0x${'2'.repeat(40)}`,
        amount: 5n,
        blockNumber: 10_005,
        txHash: `0x${'3'.repeat(64)}`,
        logIndex: 0,
      },
    ]);
    expect([...pieces].join('')).toBe(before);
    expect(JSON.stringify(store.toJSON())).not.toBe(before);
  });

  test('a batch with one claim outside its range adds nothing, so every saved state loads', () => {
    const store = storeWith(10);
    const claim = (block: number, tx: string) => ({
      contract: C,
      channelId: `0x${'1'.repeat(64)}`,
      provider: `0x${'2'.repeat(40)}`,
      amount: 5n,
      blockNumber: block,
      txHash: `0x${tx.repeat(64)}`,
      logIndex: 0,
    });
    expect(() => store.addRange({ from: 500, to: 510 }, [claim(505, 'a'), claim(600, 'b')])).toThrow(/outside the range/);
    expect(store.claimCount).toBe(10);
    expect(ClaimsStore.fromJSON(JSON.parse([...store.jsonPieces()].join('')), { contracts: [C], chainId: 137 }).claimCount).toBe(10);
  });
});

describe('the file state store with a large state', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hs58-chunks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('saves whole and in pieces, the same file either way; loads back the same store', async () => {
    const file = path.join(dir, 'claims.json');
    const store = storeWith(5_000);
    const state = store.toJSON();
    const files = createFileStateStore<typeof state>(file);
    await files.save(state);
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(state));
    expect(readdirSync(dir)).toEqual(['claims.json']);
    const back = ClaimsStore.fromJSON(await files.load(), { contracts: [C], chainId: 137 });
    expect(back.claimCount).toBe(5_000);
    expect(back.totals()).toEqual(store.totals());
    // Saved from its pieces: the same file.
    await files.saveSerialized!(store.jsonPieces());
    expect(readFileSync(file, 'utf8')).toBe(JSON.stringify(state));
    expect(readdirSync(dir)).toEqual(['claims.json']);
    // Dropping old claims keeps the totals of the rest exact (the shared strings are rebuilt).
    back.dropBelow(1_000);
    expect(back.totals()).toEqual(store.totals({ from: 1_000, to: 1_000_000 }));
  });
});
