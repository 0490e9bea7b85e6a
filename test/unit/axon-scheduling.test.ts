import { describe, expect, test } from 'vitest';
import { ALLOWED_DELTA_NS, NonceStore } from '../../src/axon/nonces.js';
import { PriorityScheduler } from '../../src/axon/priority.js';

describe('NonceStore follows the Python axon rules', () => {
  const now = 1_700_000_000_000_000_000n;
  const store = () => new NonceStore({ nowNs: () => now });

  test('a fresh first nonce passes, then nonces must strictly increase per hotkey:uuid', () => {
    const s = store();
    const p = { hotkey: 'h', uuid: 'u', version: 10_005_000, timeoutSec: 12 };
    expect(s.check({ ...p, nonce: now })).toEqual({ ok: true });
    s.commit('h', 'u', now);
    expect(s.check({ ...p, nonce: now })).toEqual({ ok: false, message: 'Nonce is too old, a newer one was last processed' });
    expect(s.check({ ...p, nonce: now - 1n })).toMatchObject({ ok: false });
    expect(s.check({ ...p, nonce: now + 1n })).toEqual({ ok: true });
    // another uuid of the same hotkey is a new key
    expect(s.check({ ...p, uuid: 'v', nonce: now - 1n })).toEqual({ ok: true });
  });

  test('a first-seen nonce older than 4 s + timeout is refused with Python’s message', () => {
    const s = store();
    const edge = now - ALLOWED_DELTA_NS - 12_000_000_000n;
    const r = s.check({ hotkey: 'h', uuid: 'u', nonce: edge, version: 10_005_000, timeoutSec: 12 });
    expect(r).toEqual({ ok: false, message: 'Nonce is too old: acceptable delta is 16.00 seconds but request was 16.00 seconds old' });
    expect(s.check({ hotkey: 'h', uuid: 'u', nonce: edge + 1n, version: 10_005_000, timeoutSec: 12 })).toEqual({ ok: true });
  });

  test('the store is bounded', () => {
    const s = new NonceStore({ nowNs: () => now, maxKeys: 3 });
    for (let i = 0; i < 10; i++) s.commit(`h${i}`, 'u', now);
    expect(s.size).toBe(3);
  });
});

describe('PriorityScheduler', () => {
  test('serves waiters by stake, first come first served among equals', async () => {
    const s = new PriorityScheduler({ concurrency: 1, maxQueue: 10 });
    const first = await s.admit(0, 1000);
    if (!first.ok) throw new Error('first must be admitted');
    const order: string[] = [];
    const wait = (name: string, prio: number) =>
      s.admit(prio, 1000).then((r) => {
        order.push(name);
        if (r.ok) r.release();
      });
    const all = Promise.all([wait('low', 1), wait('high', 100), wait('mid-a', 50), wait('mid-b', 50)]);
    first.release();
    await all;
    expect(order).toEqual(['high', 'mid-a', 'mid-b', 'low']);
  });

  test('a full queue refuses the lowest priority with overloaded, never grows', async () => {
    const s = new PriorityScheduler({ concurrency: 1, maxQueue: 2 });
    const busy = await s.admit(0, 1000);
    const a = s.admit(5, 1000);
    const b = s.admit(6, 1000);
    const c = await s.admit(1, 1000); // lower than everyone queued: refused at once
    expect(c).toEqual({ ok: false, reason: 'overloaded' });
    const d = s.admit(10, 1000); // evicts the lowest queued (a)
    expect(await a).toEqual({ ok: false, reason: 'overloaded' });
    expect(s.queued).toBe(2);
    if (busy.ok) busy.release();
    const rd = await d;
    expect(rd.ok).toBe(true);
    if (rd.ok) rd.release();
    const rb = await b;
    expect(rb.ok).toBe(true);
    if (rb.ok) rb.release();
    expect(s.active).toBe(0);
  });

  test('a waiter past its deadline leaves with timeout', async () => {
    const s = new PriorityScheduler({ concurrency: 1, maxQueue: 2 });
    const busy = await s.admit(0, 1000);
    expect(await s.admit(1, 20)).toEqual({ ok: false, reason: 'timeout' });
    expect(s.queued).toBe(0);
    if (busy.ok) busy.release();
  });
});
