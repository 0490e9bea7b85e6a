import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ClaimsDatabase } from '../../src/chain/polygon/claimsDatabase.js';
import { ClaimsStore, type ClaimsStoreIdentity, type ClaimsWindow } from '../../src/chain/polygon/claimsStore.js';
import { PolygonError } from '../../src/chain/polygon/errors.js';
import type { ChannelClaim } from '../../src/chain/polygon/getLogs.js';

// The scanner's ClaimsWindow port: both adapters, the in-memory ClaimsStore and the SQLite
// ClaimsDatabase, run the same cases and must give the same answers.

const A = '0x1c1918c99b6dce977392e4131c91654d8ab71e64';
const B = '0x0c2b3aa1e80629d572b1f200e6df3586b3946a8a';
const P1 = '0x00000000000000000000000000000000000000a1';
const P2 = '0x00000000000000000000000000000000000000b2';
const word = (n: bigint | number) => `0x${BigInt(n).toString(16).padStart(64, '0')}`;

function claim({ block, ...over }: Partial<ChannelClaim> & { block: number }): ChannelClaim {
  return { contract: A, channelId: word(1), provider: P1, amount: 1_000_000n, txHash: word(0xabc000 + block), logIndex: 0, blockNumber: block, ...over };
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'hs58-claims-window-'));
const opened: ClaimsDatabase[] = [];
afterAll(() => {
  opened.forEach((db) => db.close());
  rmSync(dir, { recursive: true, force: true });
});
function database(identity: ClaimsStoreIdentity): ClaimsDatabase {
  const db = ClaimsDatabase.open({ path: path.join(dir, `claims-${opened.length}.sqlite`), identity });
  opened.push(db);
  return db;
}

describe.each([
  ['in memory (ClaimsStore)', (identity: ClaimsStoreIdentity): ClaimsWindow => new ClaimsStore(identity)],
  ['in SQLite (ClaimsDatabase)', database],
])('the claims window %s', (_name, make) => {
  test('dedupes by transaction hash and log index; aggregates per provider with distinct channels', () => {
    const s = make({ contracts: [B, A], chainId: 137 });
    const c1 = claim({ block: 5, amount: 2_500_000n });
    const c2 = claim({ block: 5, logIndex: 3, amount: 500_000n, channelId: word(2) });
    const c3 = claim({ block: 8, provider: P2, contract: B, amount: 7n });
    const c4 = claim({ block: 9, contract: B, channelId: word(1), amount: 1n }); // same id, other contract: another channel
    expect(s.addRange({ from: 0, to: 9 }, [c1, c2, c3, c4])).toBe(4);
    expect(s.addRange({ from: 5, to: 5 }, [c1, { ...c2 }])).toBe(0);
    expect(s.totals()).toEqual(
      new Map([
        [P1, { amount: 3_000_001n, claims: 3, channels: 3 }],
        [P2, { amount: 7n, claims: 1, channels: 1 }],
      ]),
    );
    expect(s.totals({ from: 6, to: 9 }).get(P1)).toEqual({ amount: 1n, claims: 1, channels: 1 });
    expect(() => s.addRange({ from: 20, to: 30 }, [claim({ block: 31 })])).toThrow(PolygonError);
    expect(s.claimCount).toBe(4);
    expect(s.list({ from: 5, to: 8 }).map((c) => [c.blockNumber, c.logIndex])).toEqual([
      [5, 0],
      [5, 3],
      [8, 0],
    ]);
    expect(s.list()[0]).toEqual(c1);
  });

  test('the rolling window drops old claims and coverage', () => {
    const s = make({ contracts: [A], chainId: 137 });
    s.addRange({ from: 0, to: 99 }, [claim({ block: 10 }), claim({ block: 50 }), claim({ block: 90 })]);
    expect(s.dropBelow(50)).toBe(1);
    expect(s.covered).toEqual([{ from: 50, to: 99 }]);
    expect(s.gaps({ from: 40, to: 120 })).toEqual([
      { from: 40, to: 49 },
      { from: 100, to: 120 },
    ]);
    expect(s.totals().get(P1)?.claims).toBe(2);
  });

  test('amounts are exact however large (uint256), and so are sums past 2⁶³', () => {
    const s = make({ contracts: [A], chainId: 137 });
    const huge = 2n ** 255n + 12345n;
    s.addRange({ from: 100, to: 200 }, [claim({ block: 150, amount: huge }), claim({ block: 160, amount: huge }), claim({ block: 170, amount: 5n })]);
    expect(s.totals().get(P1)).toEqual({ amount: 2n * huge + 5n, claims: 3, channels: 1 });
    expect(s.list().map((c) => c.amount)).toEqual([huge, huge, 5n]);
    // Each below 2⁶³, together above it (SQLite's integer SUM overflows there).
    const big = 2n ** 62n + 7n;
    s.addRange(
      { from: 300, to: 400 },
      [300, 310, 320].map((block) => claim({ block, provider: P2, amount: big })),
    );
    expect(s.totals({ from: 300, to: 400 })).toEqual(new Map([[P2, { amount: 3n * big, claims: 3, channels: 1 }]]));
    expect(s.totals().get(P1)?.amount).toBe(2n * huge + 5n);
  });

  test('a range with a claim outside it adds nothing; covered ranges merge', () => {
    const s = make({ contracts: [A], chainId: 137 });
    s.addRange({ from: 10, to: 19 }, [claim({ block: 12 })]);
    expect(() => s.addRange({ from: 20, to: 30 }, [claim({ block: 25 }), claim({ block: 31 })])).toThrow(/outside the range/);
    expect(s.claimCount).toBe(1);
    s.addRange({ from: 20, to: 29 }, []);
    s.addRange({ from: 40, to: 49 }, []);
    expect(s.covered).toEqual([
      { from: 10, to: 29 },
      { from: 40, to: 49 },
    ]);
    expect(s.gaps({ from: 0, to: 50 })).toEqual([
      { from: 0, to: 9 },
      { from: 30, to: 39 },
      { from: 50, to: 50 },
    ]);
  });

  test('past the chain head everything goes: claims, coverage and a complete window reaching there', () => {
    const s = make({ contracts: [A], chainId: 137 });
    s.addRange({ from: 50, to: 99 }, [claim({ block: 50 }), claim({ block: 90 })]);
    s.setLastComplete({ window: { from: 50, to: 99 }, providers: s.totals(), completedAt: 1 });
    expect(s.dropAbove(80)).toEqual({ claims: 1, blocks: 19, lastComplete: true });
    expect(s.lastComplete).toBeNull();
    expect(s.covered).toEqual([{ from: 50, to: 80 }]);
    expect(s.dropAbove(80)).toEqual({ claims: 0, blocks: 0, lastComplete: false });
    s.setLastComplete({ window: { from: 50, to: 80 }, providers: s.totals(), completedAt: 2 });
    expect(s.dropAbove(80).lastComplete).toBe(false);
    expect(s.lastComplete?.providers.get(P1)).toEqual({ amount: 1_000_000n, claims: 1, channels: 1 });
  });
});
