/**
 * Timelocked commits against the Python SDK's own implementation (bittensor_drand 2.0.0, Rust,
 * built on the `tle` crate that subtensor's runtime decrypts commits with), through
 * test/interop/timelock_peer.py:
 * - what we encrypt to quicknet round 1000 opens in Python with drand's published signature of
 *   that round, and what Python encrypts opens here;
 * - for the same epoch schedule Python's `get_encrypted_commit_v2` (what the SDK's validator sends)
 *   picks the reveal round we pick, and its commit has the length of ours.
 */
import path from 'node:path';
import { compactFromU8a, compactToU8a, u8aConcat } from '@polkadot/util';
import { describe, expect, test } from 'vitest';
import { encodeWeightsPayload, revealRound, timelockDecrypt, timelockEncrypt, type EpochSchedule } from '../../src/chain/subtensor/timelock.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { runPythonOracle, testRng, testSeed } from '../support/python-oracle.js';

const ROUND = 1000n;
/** Quicknet's published beacon for round 1000. */
const SIGNATURE = 'b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39';
const PEER = path.join(REPO_ROOT, 'test/interop/timelock_peer.py');

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const fromHex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

/** bittensor_drand's generic API wraps a ciphertext in SCALE `UserData {encrypted_data: Vec<u8>, reveal_round: u64}`. */
function wrapUserData(ct: Uint8Array, round: bigint): Uint8Array {
  const r = Buffer.alloc(8);
  r.writeBigUInt64LE(round);
  return u8aConcat(compactToU8a(ct.length), ct, r);
}
function unwrapUserData(bytes: Uint8Array): { ct: Uint8Array; round: bigint } {
  const [offset, length] = compactFromU8a(bytes);
  const end = offset + length.toNumber();
  return { ct: bytes.subarray(offset, end), round: Buffer.from(bytes.subarray(end)).readBigUInt64LE() };
}

interface PeerAnswer {
  decrypted: string[];
  encrypted: string[];
  commits: Array<{ round: number; length: number; before: number; after: number }>;
}

describe('timelock encryption against bittensor_drand (the Rust code the chain shares)', () => {
  test('ciphertexts cross both ways and open with drand quicknet’s signature of round 1000', (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason || !python) return ctx.skip(reason ?? 'no interop Python');
    const rng = testRng(testSeed(1000));
    const payloads = [
      encodeWeightsPayload({ hotkey: fromHex(rng.hex(32)), uids: [0, 1, 2], values: [65535, 1000, 0], versionKey: 2010n }),
      encodeWeightsPayload({
        hotkey: fromHex(rng.hex(32)),
        uids: Array.from({ length: 256 }, (_, i) => i),
        values: Array.from({ length: 256 }, () => rng.int(0, 65535)),
        versionKey: 1n,
      }),
      fromHex(rng.hex(1)),
    ];
    const ours = payloads.map((p) => timelockEncrypt(p, ROUND));
    const answer = runPythonOracle<PeerAnswer>(python, PEER, {
      signature: SIGNATURE,
      round: Number(ROUND),
      decrypt: ours.map((ct) => hex(wrapUserData(ct, ROUND))),
      encrypt: payloads.map(hex),
    });
    expect(answer.decrypted).toEqual(payloads.map(hex));
    answer.encrypted.forEach((wrapped, i) => {
      const { ct, round } = unwrapUserData(fromHex(wrapped));
      expect(round).toBe(ROUND);
      expect(ct.length).toBe(ours[i]!.length);
      expect(hex(timelockDecrypt(ct, SIGNATURE))).toBe(hex(payloads[i]!));
    });
  });

  test('get_encrypted_commit_v2 picks our reveal round for the same schedule, with a commit of our length', (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason || !python) return ctx.skip(reason ?? 'no interop Python');
    const rng = testRng(testSeed(4242));
    const cases = Array.from({ length: 60 }, (_, i) => {
      const tempo = rng.pick([10, 99, 100, 360, 720]);
      const lastEpochBlock = rng.int(1_000, 5_000_000);
      const currentBlock = lastEpochBlock + rng.int(0, tempo + 3);
      const pendingEpochAt = rng.pick([0, 0, currentBlock + rng.int(-2, tempo), lastEpochBlock + tempo + rng.int(-1, 1)]);
      const n = rng.int(1, 40);
      return {
        uids: Array.from({ length: n }, (_, k) => k),
        weights: Array.from({ length: n }, () => rng.int(0, 65535)),
        version_key: rng.int(0, 5000),
        last_epoch_block: lastEpochBlock,
        pending_epoch_at: Math.max(0, pendingEpochAt),
        subnet_epoch_index: rng.int(0, 100_000),
        tempo,
        blocks_since_last_step: currentBlock - lastEpochBlock,
        current_block: currentBlock,
        subnet_reveal_period_epochs: i % 10 === 0 ? rng.int(2, 4) : 1,
        block_time: rng.pick([12, 12, 0.25, 6]),
        hotkey: rng.hex(32),
      };
    });
    const answer = runPythonOracle<PeerAnswer>(python, PEER, { signature: SIGNATURE, round: 1, commits: cases });
    answer.commits.forEach((got, i) => {
      const c = cases[i]!;
      const schedule: EpochSchedule = { kind: 'stateful', tempo: c.tempo, lastEpochBlock: c.last_epoch_block, pendingEpochAt: c.pending_epoch_at };
      const at = (now: number) => revealRound(schedule, c.current_block, c.subnet_reveal_period_epochs, c.block_time, now).round;
      // Python read its clock between `before` and `after`: our round at those instants brackets its own.
      const what = `case ${i}: ${JSON.stringify({ ...c, uids: undefined, weights: undefined, hotkey: undefined })}`;
      expect(BigInt(got.round), what).toBeGreaterThanOrEqual(at(got.before));
      expect(BigInt(got.round), what).toBeLessThanOrEqual(at(got.after));
      const payload = encodeWeightsPayload({ hotkey: fromHex(c.hotkey), uids: c.uids, values: c.weights, versionKey: BigInt(c.version_key) });
      expect(got.length, what).toBe(timelockEncrypt(payload, 1n).length);
    });
  });
});
