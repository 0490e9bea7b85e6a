/**
 * The verify pool gives exactly the answers of the wasm verification on the main thread, for
 * valid and every kind of invalid signature, in batches across workers; close() fails what is
 * pending instead of leaving callers hanging.
 */
import { afterAll, beforeAll, expect, test, vi } from 'vitest';
import { BURST_JOBS, createInlineVerifier, createVerifyPool, VerifyPoolError, type SignatureVerifier } from '../../src/axon/verifyPool.js';
import { initCrypto, signSr25519, sr25519KeypairFromSeed, verifySr25519 } from '../../src/wallet/sr25519.js';

let pool: SignatureVerifier;

beforeAll(async () => {
  await initCrypto();
  pool = await createVerifyPool({ threads: 2, maxBatch: 16 });
});

afterAll(async () => {
  await pool?.close();
});

function cases() {
  const a = sr25519KeypairFromSeed(new Uint8Array(32).fill(1));
  const b = sr25519KeypairFromSeed(new Uint8Array(32).fill(2));
  const out: Array<{ message: string; signature: Uint8Array; publicKey: Uint8Array }> = [];
  for (let i = 0; i < 300; i++) {
    const message = `${1_763_000_000_000_000_000n + BigInt(i)}.5Dendrite.5Axon.uuid-${i}.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a ü`;
    const signature = signSr25519(a, message);
    switch (i % 6) {
      case 0:
        out.push({ message, signature, publicKey: a.publicKey });
        break;
      case 1: // another key
        out.push({ message, signature, publicKey: b.publicKey });
        break;
      case 2: // another message
        out.push({ message: `${message}x`, signature, publicKey: a.publicKey });
        break;
      case 3: {
        // one flipped bit
        const bad = signature.slice();
        bad[i % 64]! ^= 1;
        out.push({ message, signature: bad, publicKey: a.publicKey });
        break;
      }
      case 4: // wrong lengths
        out.push({ message, signature: signature.slice(0, 63), publicKey: a.publicKey });
        break;
      default: // not a curve point at all
        out.push({ message, signature, publicKey: new Uint8Array(32).fill(0xff) });
    }
  }
  return out;
}

test('pool answers equal the main-thread wasm answers, for valid and invalid signatures', async () => {
  const all = cases();
  const expected = all.map((c) => verifySr25519(c.message, c.signature, c.publicKey));
  expect(expected.filter(Boolean).length).toBe(50);
  const got = await Promise.all(all.map((c) => pool.verify(c.message, c.signature, c.publicKey)));
  expect(got).toEqual(expected);
  expect(pool.pending).toBe(0);
  expect(pool.threads).toBe(2);
  expect(pool.mode).toBe('lean');
});

test('the lean workers do not leak wasm memory', async () => {
  const c = cases()[0]!;
  await Promise.all(Array.from({ length: 500 }, () => pool.verify(c.message, c.signature, c.publicKey)));
  const before = pool.wasmMemoryBytes;
  expect(before).toBeGreaterThan(0);
  for (let round = 0; round < 6; round++) {
    const all = await Promise.all(Array.from({ length: 500 }, () => pool.verify(c.message, c.signature, c.publicKey)));
    expect(all.every(Boolean)).toBe(true);
  }
  expect(pool.wasmMemoryBytes).toBe(before);
});

test('the inline verifier gives the same answers', async () => {
  const inline = await createInlineVerifier();
  const all = cases().slice(0, 60);
  expect(await Promise.all(all.map((c) => inline.verify(c.message, c.signature, c.publicKey)))).toEqual(
    all.map((c) => verifySr25519(c.message, c.signature, c.publicKey)),
  );
  await inline.close();
  await expect(inline.verify('m', new Uint8Array(64), new Uint8Array(32))).rejects.toBeInstanceOf(VerifyPoolError);
});

test('close() rejects pending and later jobs with VERIFY_POOL_CLOSED', async () => {
  const p = await createVerifyPool({ threads: 1 });
  const c = cases()[0]!;
  const pending = Array.from({ length: 200 }, () => p.verify(c.message, c.signature, c.publicKey));
  const closing = p.close();
  const settled = await Promise.allSettled(pending);
  await closing;
  // Jobs answered before close() stay answered; the others fail with a coded error.
  for (const s of settled) {
    if (s.status === 'fulfilled') expect(s.value).toBe(true);
    else expect(s.reason).toMatchObject({ code: 'VERIFY_POOL_CLOSED' });
  }
  expect(settled.some((s) => s.status === 'rejected')).toBe(true);
  await expect(p.verify(c.message, c.signature, c.publicKey)).rejects.toMatchObject({ code: 'VERIFY_POOL_CLOSED' });
});

test('an elastic pool verifies light load on the calling thread, starts its workers on a burst and stops them when idle', async () => {
  const p = await createVerifyPool({ threads: 2, minThreads: 0, idleMs: 300 });
  const stats = p as SignatureVerifier & { verifiedInline: number };
  try {
    expect(p.running).toBe(0);
    const all = cases();
    const expected = all.map((c) => verifySr25519(c.message, c.signature, c.publicKey));
    // One request at a time, as a validator queries a miner: no worker starts.
    const wellFormed = all.filter((c) => c.signature.length === 64).slice(0, BURST_JOBS - 1);
    for (const c of wellFormed) await p.verify(c.message, c.signature, c.publicKey);
    expect(p.running).toBe(0);
    expect(stats.verifiedInline).toBe(BURST_JOBS - 1);
    // A burst: the first turn is verified here while the workers start, the rest by them.
    expect(await Promise.all(all.map((c) => p.verify(c.message, c.signature, c.publicKey)))).toEqual(expected);
    await vi.waitFor(() => expect(p.running).toBe(2), { timeout: 20_000 });
    const inlineAfterBurst = stats.verifiedInline;
    expect(await Promise.all(all.map((c) => p.verify(c.message, c.signature, c.publicKey)))).toEqual(expected);
    expect(stats.verifiedInline).toBe(inlineAfterBurst);
    expect(p.mode).toBe('lean');
    // Idle: the workers stop, and the next single request is answered on the calling thread again.
    await vi.waitFor(() => expect(p.running).toBe(0), { timeout: 10_000, interval: 50 });
    const c = all[0]!;
    expect(await p.verify(c.message, c.signature, c.publicKey)).toBe(true);
    expect(stats.verifiedInline).toBe(inlineAfterBurst + 1);
    expect(p.pending).toBe(0);
  } finally {
    await p.close();
  }
  const c = cases()[0]!;
  await expect(p.verify(c.message, c.signature, c.publicKey)).rejects.toMatchObject({ code: 'VERIFY_POOL_CLOSED' });
});

test('an elastic pool keeps minThreads workers and refuses a minimum above its maximum', async () => {
  const p = await createVerifyPool({ threads: 2, minThreads: 1, idleMs: 100 });
  try {
    expect(p.running).toBe(1);
    const c = cases()[0]!;
    await Promise.all(Array.from({ length: 64 }, () => p.verify(c.message, c.signature, c.publicKey)));
    await vi.waitFor(() => expect(p.running).toBe(2), { timeout: 20_000 });
    await vi.waitFor(() => expect(p.running).toBe(1), { timeout: 10_000, interval: 50 });
    expect(await p.verify(c.message, c.signature, c.publicKey)).toBe(true);
  } finally {
    await p.close();
  }
  await expect(createVerifyPool({ threads: 1, minThreads: 2 })).rejects.toMatchObject({ code: 'VERIFY_POOL_START_FAILED' });
});
