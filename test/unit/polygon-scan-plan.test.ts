import { describe, expect, test } from 'vitest';
import { missingRanges, planScan } from '../../src/chain/polygon/scanPlan.js';

// What a scan round covers, from the head alone (pure arithmetic).

describe('planScan', () => {
  test('the rolling window ends confirmations below the head and never starts below block 0', () => {
    expect(planScan({ head: 1_000, confirmations: 32, windowBlocks: 100 })).toEqual({
      confirmedHead: 968,
      window: { from: 869, to: 968 },
      fetchable: { from: 869, to: 968 },
      unconfirmed: [],
    });
    expect(planScan({ head: 50, confirmations: 32, windowBlocks: 100 }).window).toEqual({ from: 0, to: 18 });
  });

  test('a fixed window: its part above the confirmed head is reported, never fetched; `to` defaults to the confirmed head', () => {
    expect(planScan({ head: 1_000, confirmations: 32, windowBlocks: 1, fixed: { from: 900, to: 990 } })).toEqual({
      confirmedHead: 968,
      window: { from: 900, to: 990 },
      fetchable: { from: 900, to: 968 },
      unconfirmed: [{ from: 969, to: 990, reason: 'not final yet: head 1000, 32 confirmations' }],
    });
    expect(planScan({ head: 1_000, confirmations: 32, windowBlocks: 1, fixed: { from: 10 } }).window).toEqual({ from: 10, to: 968 });
    // Entirely unconfirmed: nothing fetchable, all of it missing.
    const ahead = planScan({ head: 1_000, confirmations: 32, windowBlocks: 1, fixed: { from: 990 } });
    expect(ahead.window).toEqual({ from: 990, to: 990 });
    expect(ahead.fetchable.to).toBeLessThan(ahead.fetchable.from);
    expect(ahead.unconfirmed).toEqual([{ from: 990, to: 990, reason: 'not final yet: head 1000, 32 confirmations' }]);
    expect(() => planScan({ head: 1_000, confirmations: 0, windowBlocks: 1, fixed: { from: 10, to: 5 } })).toThrow(/bad block window 10-5/);
    expect(() => planScan({ head: 1_000, confirmations: 0, windowBlocks: 1, fixed: { from: -1, to: 5 } })).toThrow(/bad block window/);
  });
});

test('missing ranges: each gap with the last failure that touched it, then the unconfirmed part', () => {
  const failures = [
    { from: 0, to: 9, reason: 'first' },
    { from: 5, to: 9, reason: 'retried' },
    { from: 50, to: 59, reason: 'elsewhere' },
  ];
  const unconfirmed = [{ from: 100, to: 110, reason: 'not final yet' }];
  expect(
    missingRanges(
      [
        { from: 5, to: 9 },
        { from: 20, to: 29 },
      ],
      failures,
      unconfirmed,
    ),
  ).toEqual([
    { from: 5, to: 9, reason: 'retried' },
    { from: 20, to: 29, reason: 'not fetched' },
    { from: 100, to: 110, reason: 'not final yet' },
  ]);
  expect(missingRanges([], failures, [])).toEqual([]);
});
