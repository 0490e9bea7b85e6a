/**
 * Timelocked weight commits (v3/v4): the BLS12-381 identity of a drand round, the encryption the
 * chain opens with the round's signature, the SCALE payload, the reveal round, and the call as the
 * live runtime (spec 343 metadata) encodes it. Interop with the Python SDK's Rust implementation is
 * in test/e2e/timelock-python.test.ts.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { Metadata, TypeRegistry } from '@polkadot/types';
import { decorateExtrinsics } from '@polkadot/types/metadata/decorate';
import { describe, expect, test } from 'vitest';
import {
  CRV3_PULSE_DELAY_ROUNDS,
  crv3RevealBlock,
  drandRoundAt,
  encodeLegacyWeightsPayload,
  encodeWeightsPayload,
  QUICKNET,
  revealRound,
  revealTargetBlock,
  roundIdentity,
  timelockDecrypt,
  timelockEncrypt,
  verifyRoundSignature,
  type EpochSchedule,
} from '../../src/chain/subtensor/timelock.js';
import { commitTimelocked, planTimelockedCommit, readEpochSchedule, timelockedCommitExtrinsic } from '../../src/chain/subtensor/timelockCommit.js';
import type { WeightState } from '../../src/chain/subtensor/weights.js';
import { hyperparameters } from '../support/hyperparameters.js';
import { REPO_ROOT } from '../support/programs.js';
import { mulberry32 } from '../support/rng.js';

/** Quicknet's published beacon for round 1000 (also a test vector of subtensor's drand pallet). */
const ROUND_1000_SIGNATURE = 'b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125e342b73a8dd2bacbe47e4b6b63ed5e39';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** A beacon of our own: master key sk, public key sk·G2, signature of a round sk·H(round). */
function ownBeacon(seed: number) {
  const next = mulberry32(seed);
  const sk = (BigInt(Math.floor(next() * 2 ** 32)) << 64n) + BigInt(Math.floor(next() * 2 ** 32)) + 1n;
  return {
    publicKey: bls.G2.ProjectivePoint.BASE.multiply(sk).toHex(true),
    sign: (round: bigint) => (roundIdentity(round) as unknown as InstanceType<typeof bls.G1.ProjectivePoint>).multiply(sk).toHex(true),
  };
}

function seededRandom(seed: number) {
  const next = mulberry32(seed);
  return (n: number) => Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
}

describe('the identity of a drand round', () => {
  test("quicknet's published signature of round 1000 verifies against H(sha256(round)) and the quicknet key", () => {
    expect(verifyRoundSignature(1000n, ROUND_1000_SIGNATURE)).toBe(true);
    expect(verifyRoundSignature(1001n, ROUND_1000_SIGNATURE)).toBe(false);
    const other = ownBeacon(7);
    expect(verifyRoundSignature(1000n, ROUND_1000_SIGNATURE, other.publicKey)).toBe(false);
    expect(verifyRoundSignature(5n, other.sign(5n), other.publicKey)).toBe(true);
  });

  test('rounds follow quicknet time: genesis 1692803367, one every 3 s, at least 1', () => {
    expect(drandRoundAt(QUICKNET.genesisTime + 3000)).toBe(1000n);
    expect(drandRoundAt(QUICKNET.genesisTime + 3002.9)).toBe(1000n);
    expect(drandRoundAt(QUICKNET.genesisTime + 3003)).toBe(1001n);
    expect(drandRoundAt(0)).toBe(1n);
  });
});

describe('timelock encryption', () => {
  test("opens with quicknet's signature of the round it was made for, and only with it", () => {
    const message = new TextEncoder().encode('weights for round 1000');
    const ct = timelockEncrypt(message, 1000n);
    expect(hex(timelockDecrypt(ct, ROUND_1000_SIGNATURE))).toBe(hex(message));
    const beacon = ownBeacon(3);
    expect(() => timelockDecrypt(ct, beacon.sign(1000n))).toThrow(/does not open this ciphertext/);
  });

  test('the arkworks layout: G2 header, 32-byte V and W, body {ciphertext‖tag, nonce}, suite AES_GCM_', () => {
    const beacon = ownBeacon(11);
    for (const size of [0, 1, 51, 600]) {
      const message = seededRandom(size)(size);
      const ct = timelockEncrypt(message, 42n, { publicKey: beacon.publicKey });
      expect(ct.length).toBe(96 + (8 + 32) * 2 + 8 + (8 + size + 16) + (8 + 12) + 8 + 8);
      const le64 = (at: number) => Number(Buffer.from(ct).readBigUInt64LE(at));
      expect(le64(96)).toBe(32);
      expect(le64(96 + 40)).toBe(32);
      expect(le64(96 + 80)).toBe(8 + size + 16 + 8 + 12);
      expect(Buffer.from(ct.subarray(ct.length - 8)).toString('ascii')).toBe('AES_GCM_');
      expect(ct[0]! & 0x80).toBe(0x80); // compressed point flag
      expect(hex(timelockDecrypt(ct, beacon.sign(42n)))).toBe(hex(message));
      expect(() => timelockDecrypt(ct, beacon.sign(43n))).toThrow(/does not open/);
    }
  });

  test('the same randomness gives the same bytes; fresh randomness never does', () => {
    const beacon = ownBeacon(5);
    const msg = new Uint8Array([1, 2, 3]);
    const a = timelockEncrypt(msg, 9n, { publicKey: beacon.publicKey, random: seededRandom(1) });
    const b = timelockEncrypt(msg, 9n, { publicKey: beacon.publicKey, random: seededRandom(1) });
    expect(hex(a)).toBe(hex(b));
    expect(hex(timelockEncrypt(msg, 9n, { publicKey: beacon.publicKey }))).not.toBe(hex(timelockEncrypt(msg, 9n, { publicKey: beacon.publicKey })));
  });

  test('tampered, truncated or foreign bytes are refused with a reason, never half-decrypted', () => {
    const beacon = ownBeacon(9);
    const sig = beacon.sign(77n);
    const ct = timelockEncrypt(new TextEncoder().encode('payload'), 77n, { publicKey: beacon.publicKey });
    const flip = (at: number) => {
      const c = Uint8Array.from(ct);
      c[at] = c[at]! ^ 1;
      return c;
    };
    expect(() => timelockDecrypt(flip(96 + 8 + 3), sig)).toThrow(/does not open/); // V
    expect(() => timelockDecrypt(flip(96 + 48 + 3), sig)).toThrow(/does not open/); // W
    expect(() => timelockDecrypt(flip(96 + 80 + 8 + 8 + 2), sig)).toThrow(/does not authenticate/); // AES body
    expect(() => timelockDecrypt(ct.subarray(0, ct.length - 1), sig)).toThrow(/runs past the end/);
    expect(() => timelockDecrypt(Uint8Array.from([...ct, 0]), sig)).toThrow(/trailing bytes/);
    const suite = Uint8Array.from(ct);
    suite[suite.length - 1] = 0x41;
    expect(() => timelockDecrypt(suite, sig)).toThrow(/unknown cipher suite/);
    expect(() => timelockDecrypt(new Uint8Array(96), sig)).toThrow(/not a timelock ciphertext/);
    expect(() => timelockEncrypt(new Uint8Array(1), 0n)).toThrow(/out of range/);
  });
});

describe('the payload and the call', () => {
  test('WeightsTlockPayload is SCALE {hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64}', () => {
    const registry = new TypeRegistry();
    const hotkey = Uint8Array.from({ length: 32 }, (_, i) => i + 1);
    const p = { hotkey, uids: [0, 1, 300], values: [65535, 7, 0], versionKey: 2010n };
    const decoded = registry.createType('(Bytes, Vec<u16>, Vec<u16>, u64)', encodeWeightsPayload(p)).toJSON() as [string, number[], number[], number];
    expect(decoded).toEqual([`0x${hex(hotkey)}`, [0, 1, 300], [65535, 7, 0], 2010]);
    expect(encodeWeightsPayload({ hotkey, uids: [0, 1], values: [1, 2], versionKey: 1n }).length).toBe(51);
  });

  test('the legacy payload of commit_crv3_weights runtimes (spec 300) is SCALE {uids, values, version_key}, without the hotkey', () => {
    const registry = new TypeRegistry();
    const p = { uids: [0, 1, 300], values: [65535, 7, 0], versionKey: 2010n };
    expect(registry.createType('(Vec<u16>, Vec<u16>, u64)', encodeLegacyWeightsPayload(p)).toJSON()).toEqual([[0, 1, 300], [65535, 7, 0], 2010]);
    const hotkey = new Uint8Array(32).fill(9);
    expect(hex(encodeWeightsPayload({ hotkey, ...p }))).toBe(`80${hex(hotkey)}${hex(encodeLegacyWeightsPayload(p))}`);
  });

  test('commit_timelocked_weights encodes for the live runtime (spec 343): call 7/113 with the commit, round and version', () => {
    const registry = new TypeRegistry();
    const metadata = new Metadata(
      registry,
      readFileSync(path.resolve(REPO_ROOT, '../shared/chain/finney-spec343-metadata-v15.hex'), 'utf8').trim() as `0x${string}`,
    );
    registry.setMetadata(metadata);
    const tx = decorateExtrinsics(registry, metadata.asLatest, metadata.version);
    const commit = timelockEncrypt(encodeWeightsPayload({ hotkey: new Uint8Array(32), uids: [1], values: [1], versionKey: 1n }), 123_456n);
    const plan = planTimelockedCommit(tx.subtensorModule as never, { commitRevealEnabled: true, commitRevealVersion: 4 }, 1)!;
    const call = timelockedCommitExtrinsic(tx.subtensorModule as never, plan, 58, commit, 123_456n) as ReturnType<
      NonNullable<typeof tx.subtensorModule>[string]
    >;
    expect([...call.callIndex]).toEqual([7, 113]);
    const back = registry.createType('Call', call.toU8a());
    expect(back.section).toBe('subtensorModule');
    expect(back.method).toBe('commitTimelockedWeights');
    const args = back.args.map((a) => a.toJSON());
    expect(args).toEqual([58, `0x${hex(commit)}`, 123456, 4]);
    // A runtime with only the mechanism variant gets mechanism 0.
    const onlyMechanism = { commitTimelockedMechanismWeights: tx.subtensorModule!.commitTimelockedMechanismWeights! };
    const mechPlan = planTimelockedCommit(onlyMechanism as never, { commitRevealEnabled: true, commitRevealVersion: 4 }, 1)!;
    const mech = registry.createType('Call', (timelockedCommitExtrinsic(onlyMechanism as never, mechPlan, 58, commit, 123_456n) as typeof call).toU8a());
    expect(mech.method).toBe('commitTimelockedMechanismWeights');
    expect(mech.args.map((a) => a.toJSON())).toEqual([58, 0, `0x${hex(commit)}`, 123456, 4]);
    expect(() => timelockedCommitExtrinsic({}, plan, 58, commit, 1n)).toThrow(/no SubtensorModule.commitTimelockedWeights call/);
  });
});

describe('the reveal round', () => {
  const stateful = (over: Partial<Extract<EpochSchedule, { kind: 'stateful' }>> = {}): EpochSchedule => ({
    kind: 'stateful',
    tempo: 360,
    lastEpochBlock: 1000,
    pendingEpochAt: 0,
    ...over,
  });

  test('stateful schedule: the epoch after the commit, or one later when the commit lands in the block an epoch runs', () => {
    expect(revealTargetBlock(stateful(), 1100, 1)).toBe(1363); // next epoch at 1360, +3
    expect(revealTargetBlock(stateful(), 1358, 1)).toBe(1363);
    expect(revealTargetBlock(stateful(), 1359, 1)).toBe(1723); // included in 1360, where the epoch runs
    expect(revealTargetBlock(stateful(), 1361, 1)).toBe(1725); // overdue: the epoch runs at 1362
    expect(revealTargetBlock(stateful(), 1100, 2)).toBe(1723);
    expect(revealTargetBlock(stateful({ pendingEpochAt: 1200 }), 1100, 1)).toBe(1203); // owner-triggered epoch first
    expect(revealTargetBlock(stateful({ pendingEpochAt: 2000 }), 1100, 1)).toBe(1363);
    expect(revealTargetBlock(stateful(), 1100, 0)).toBe(1104);
    expect(() => revealTargetBlock(stateful({ tempo: 0 }), 1100, 1)).toThrow(/runs no epochs/);
  });

  test('legacy schedule (spec 343): epochs where (block + netuid + 1) % (tempo + 1) == 0', () => {
    const legacy: EpochSchedule = { kind: 'legacy', tempo: 360, netuid: 58 };
    // epoch index of 10_000 is (10_000 + 59) / 361 = 27; epoch 28 starts at 28·361 − 59 = 10_049.
    expect(revealTargetBlock(legacy, 10_000, 1)).toBe(10_052);
    expect(revealTargetBlock(legacy, 10_000, 2)).toBe(10_052 + 361);
    expect(revealTargetBlock(legacy, 10_048, 1)).toBe(10_052);
    expect(revealTargetBlock(legacy, 10_049, 1)).toBe(10_052 + 361);
  });

  test('crv3 schedule (spec 300): revealed in the block where epoch filed + period − 1 runs, filed one later when committed in a running block', () => {
    // netuid 2, tempo 10: epochs run where (block + 3) % 11 == 10, i.e. in blocks 7, 18, 29, 40 …
    expect(crv3RevealBlock(2, 10, 20, 1)).toBe(29); // filed under index 2, revealed where it ends
    expect(crv3RevealBlock(2, 10, 28, 1)).toBe(29);
    expect(crv3RevealBlock(2, 10, 29, 1)).toBe(40); // the epoch runs in the inclusion block: filed under 3
    expect(crv3RevealBlock(2, 10, 30, 1)).toBe(40);
    expect(crv3RevealBlock(2, 10, 20, 2)).toBe(40);
    expect(crv3RevealBlock(2, 10, 20, 0)).toBe(29); // the runtime treats a period of 0 as 1
    const crv3: EpochSchedule = { kind: 'crv3', tempo: 10, netuid: 2 };
    expect(revealTargetBlock(crv3, 19, 1)).toBe(29); // head 19, included in 20: the reveal block itself, no security blocks
    // The round drand publishes 24 rounds before that block is expected.
    const now = QUICKNET.genesisTime + 3 * 1_000_000 + 1.5;
    expect(revealRound(crv3, 19, 1, 12, now)).toEqual({
      targetBlock: 29,
      round: 1_000_000n + BigInt(Math.floor((1.5 + 10 * 12) / 3)) - CRV3_PULSE_DELAY_ROUNDS,
    });
    expect(revealRound(crv3, 19, 1, 12, 0).round).toBe(1n);
  });

  test('the round is the one published by the time the target block is expected, rounded down', () => {
    const now = QUICKNET.genesisTime + 3 * 1_000_000 + 1.5;
    const r = revealRound(stateful(), 1100, 1, 12, now);
    expect(r.targetBlock).toBe(1363);
    expect(r.round).toBe(1_000_000n + BigInt(Math.floor((1.5 + 263 * 12) / 3)));
    expect(revealRound(stateful(), 1100, 1, 0.25, now).round).toBe(1_000_000n + BigInt(Math.floor((1.5 + 263 * 0.25) / 3)));
  });
});

describe('the adapter before it signs (storage read through real codecs)', () => {
  const registry = new TypeRegistry();
  const u64 = (v: number | bigint) => registry.createType('u64', v);
  const state: WeightState = {
    netuid: 58,
    block: 1100,
    n: 4,
    uid: 1,
    lastUpdate: 0,
    validatorPermit: true,
    mechanismCount: 1,
    hyperparameters: hyperparameters({ tempo: 360, commitRevealEnabled: true, commitRevealVersion: 4 }),
  };
  const plan = { route: { call: 'commitTimelockedWeights', mechanism: null }, version: 4, payload: 'hotkey' } as const;
  const fakeApi = (query: Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>>) => ({
    query,
    tx: { subtensorModule: { commitTimelockedWeights: () => ({}) } },
  });

  test('the schedule is stateful where LastEpochBlock exists and legacy otherwise', async () => {
    const stateful = fakeApi({ subtensorModule: { lastEpochBlock: async () => u64(1000), pendingEpochAt: async () => u64(1200) } });
    expect(await readEpochSchedule(stateful as never, 58, 360)).toEqual({ kind: 'stateful', tempo: 360, lastEpochBlock: 1000, pendingEpochAt: 1200 });
    expect(await readEpochSchedule(fakeApi({ subtensorModule: {} }) as never, 58, 360)).toEqual({ kind: 'legacy', tempo: 360, netuid: 58 });
    // commit_crv3_weights runtimes reveal by their own rule, whatever else they store.
    expect(await readEpochSchedule(stateful as never, 58, 360, { payload: 'legacy' })).toEqual({ kind: 'crv3', tempo: 360, netuid: 58 });
  });

  test("a reveal round not after the chain's latest drand round is refused before signing (InvalidRevealRound)", async () => {
    const now = QUICKNET.genesisTime + 3 * 5_000_000;
    const api = fakeApi({
      subtensorModule: { lastEpochBlock: async () => u64(1000), pendingEpochAt: async () => u64(0) },
      drand: { lastStoredRound: async () => u64(6_000_000) },
    });
    const input = { uids: [0, 1], weights: [1, 2], versionKey: 1n };
    const err = await commitTimelocked(api as never, { publicKey: new Uint8Array(32) } as never, state, input, plan, { nowSec: () => now }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'PRECHECK_FAILED', reason: 'InvalidRevealRound' });
    expect(String((err as Error).message)).toMatch(/clock behind/);
  });
});
