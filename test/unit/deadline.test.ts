/**
 * src/util/deadline.ts: a deadline's timer holds its signal, so it fires although garbage
 * collections run while nothing else references the wait; a parent's abort passes through with
 * its reason; a cleared deadline never fires; `withDeadline` settles by the deadline even when
 * the work ignores its signal.
 */
import { expect, test } from 'vitest';
import { isTimeoutReason, raceSignal, sleep, startDeadline, withDeadline } from '../../src/util/deadline.js';
import { collectGarbageEvery, within } from '../support/tarpit.js';

function aborted(signal: AbortSignal): Promise<unknown> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
}

test('fires at its time with a TimeoutError naming the wait, through forced garbage collections', async () => {
  const parent = new AbortController();
  const stopGc = collectGarbageEvery(50);
  try {
    const started = performance.now();
    // Only the promise below references the signal: the deadline's own timer must keep it alive.
    const reason = await within(10_000, 'the deadline', aborted(startDeadline(500, { parent: parent.signal, label: 'probe of uid 7' }).signal));
    expect(performance.now() - started).toBeGreaterThanOrEqual(450);
    expect(isTimeoutReason(reason)).toBe(true);
    expect((reason as Error).message).toBe('probe of uid 7 timed out after 500 ms');
  } finally {
    stopGc();
  }
});

test("a parent's abort passes through with its reason; expired says whose it was", async () => {
  const parent = new AbortController();
  const d = startDeadline(60_000, { parent: parent.signal });
  const why = new Error('shutting down');
  parent.abort(why);
  expect(d.signal.aborted).toBe(true);
  expect(d.signal.reason).toBe(why);
  expect(d.expired).toBe(false);

  const already = startDeadline(60_000, { parent: parent.signal });
  expect(already.signal.reason).toBe(why);

  const own = startDeadline(10);
  await aborted(own.signal);
  expect(own.expired).toBe(true);
});

test('a cleared deadline never fires, and stops listening to its parent', async () => {
  const parent = new AbortController();
  const d = startDeadline(20, { parent: parent.signal });
  d.clear();
  await sleep(60);
  parent.abort(new Error('later'));
  expect(d.signal.aborted).toBe(false);
  expect(d.expired).toBe(false);
});

test('withDeadline: work that ignores its signal is left behind at the deadline; work that finishes clears the timer', async () => {
  const never = new Promise<string>(() => undefined);
  await expect(withDeadline(100, () => never, { label: 'the chain call' })).rejects.toThrow('the chain call timed out after 100 ms');
  await expect(withDeadline(10_000, async () => 'done')).resolves.toBe('done');
  await expect(withDeadline(10_000, async () => Promise.reject(new Error('own failure')))).rejects.toThrow('own failure');
  const stop = new AbortController();
  setTimeout(() => stop.abort(new Error('stopped')), 20);
  await expect(withDeadline(10_000, () => never, { parent: stop.signal })).rejects.toThrow('stopped');
});

test('raceSignal and sleep end at the abort', async () => {
  const stop = new AbortController();
  setTimeout(() => stop.abort(new Error('cut')), 20);
  await expect(raceSignal(new Promise(() => undefined), stop.signal)).rejects.toThrow('cut');
  const started = performance.now();
  await sleep(60_000, stop.signal);
  expect(performance.now() - started).toBeLessThan(60_000);
});
