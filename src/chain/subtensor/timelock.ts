/**
 * Timelocked weight commits (commit-reveal v3/v4), as the chain's `reveal_crv3_commits` reads them.
 *
 * The payload `SCALE{hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64}` is
 * encrypted to a future round of drand's quicknet beacon with Boneh–Franklin identity-based
 * encryption (FullIdent) on BLS12-381, identity `H(sha256(round as u64 big-endian))` in G1, master
 * key in G2, and an AES-256-GCM body. The bytes are the arkworks "compressed" serialization of the
 * `TLECiphertext` the chain deserializes:
 *
 *   header.u  G2 point, 96 bytes (zcash compressed form)
 *   header.v  Vec<u8> (u64 LE length, 32 bytes): sigma ⊕ sha256(ser(e(Q_id, r·P_pub)))
 *   header.w  Vec<u8> (u64 LE length, 32 bytes): AES key ⊕ sha256(sigma)
 *   body      Vec<u8> holding {ciphertext‖tag: Vec<u8>, nonce: Vec<u8>}
 *   suite     Vec<u8> "AES_GCM_"
 *
 * with r = sha256(sigma ‖ key) mod the group order and U = r·G2. When drand publishes the round,
 * its BLS signature is the identity's private key: the chain (or anyone) decrypts. Nothing here
 * talks to drand: only the round number and the quicknet public key are needed to encrypt.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { bls12_381 as bls } from '@noble/curves/bls12-381';
import { compactToU8a, u8aConcat, u8aToHex } from '@polkadot/util';
import { SubtensorError } from './errors.js';

/** drand quicknet (`bls-unchained-g1-rfc9380`): the beacon the chain ingests pulses from. */
export const QUICKNET = {
  chainHash: '52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971',
  publicKey:
    '83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a',
  genesisTime: 1692803367,
  periodSec: 3,
  dst: 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_',
} as const;

const CIPHER_SUITE = Buffer.from('AES_GCM_', 'ascii');
const G2_BYTES = 96;
const FP_BYTES = 48;
const TAG_BYTES = 16;
const NONCE_BYTES = 12;

type G1 = ReturnType<typeof bls.G1.hashToCurve>;
type G2Point = InstanceType<typeof bls.G2.ProjectivePoint>;
type Fp12 = ReturnType<typeof bls.pairing>;

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

function xor32(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) out[i] = a[i]! ^ b[i]!;
  return out;
}

/** The identity of a round: `hash_to_curve(sha256(round_be_u64))` in G1, the point drand signs. */
export function roundIdentity(round: bigint): G1 {
  const be = Buffer.alloc(8);
  be.writeBigUInt64BE(round);
  return bls.G1.hashToCurve(sha256(be), { DST: QUICKNET.dst }) as G1;
}

/** True when `signatureHex` is drand's signature of `round` under `publicKeyHex` (quicknet by default). */
export function verifyRoundSignature(round: bigint, signatureHex: string, publicKeyHex: string = QUICKNET.publicKey): boolean {
  const sig = bls.G1.ProjectivePoint.fromHex(signatureHex.replace(/^0x/, ''));
  const pk = bls.G2.ProjectivePoint.fromHex(publicKeyHex.replace(/^0x/, ''));
  return bls.fields.Fp12.eql(bls.pairing(sig, bls.G2.ProjectivePoint.BASE), bls.pairing(roundIdentity(round) as never, pk));
}

/** arkworks serializes an Fp as 48 little-endian bytes, towers c0 before c1 (before c2). */
function fpLe(x: bigint, out: Uint8Array, offset: number): void {
  let v = x;
  for (let i = 0; i < FP_BYTES; i++) {
    out[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** `H2`: sha256 of the arkworks serialization of a GT element (576 bytes). */
function h2(gt: Fp12): Uint8Array {
  const out = new Uint8Array(12 * FP_BYTES);
  let o = 0;
  for (const c6 of [gt.c0, gt.c1]) {
    for (const c2 of [c6.c0, c6.c1, c6.c2]) {
      fpLe(c2.c0, out, o);
      fpLe(c2.c1, out, o + FP_BYTES);
      o += 2 * FP_BYTES;
    }
  }
  return sha256(out);
}

/** `H3`: sha256(sigma ‖ message) read big-endian, reduced mod the group order. */
function h3(sigma: Uint8Array, message: Uint8Array): bigint {
  const n = bls.params.r;
  return BigInt(u8aToHex(sha256(sigma, message))) % n;
}

function arkVec(bytes: Uint8Array): Uint8Array {
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(bytes.length));
  return u8aConcat(len, bytes);
}

class Reader {
  #offset = 0;
  constructor(readonly bytes: Uint8Array) {}
  take(n: number, what: string): Uint8Array {
    if (this.#offset + n > this.bytes.length) throw malformed(`${what} runs past the end`);
    const out = this.bytes.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }
  vec(what: string): Uint8Array {
    const len = Buffer.from(this.take(8, `${what} length`)).readBigUInt64LE();
    if (len > BigInt(this.bytes.length)) throw malformed(`${what} length ${len} is larger than the ciphertext`);
    return this.take(Number(len), what);
  }
  end(): void {
    if (this.#offset !== this.bytes.length) throw malformed(`${this.bytes.length - this.#offset} trailing bytes`);
  }
}

const malformed = (why: string) => new SubtensorError('INVALID_INPUT', `not a timelock ciphertext: ${why}.`);

export interface TimelockEncryptOptions {
  /** Master public key (G2, hex); quicknet's by default. */
  publicKey?: string;
  /** Randomness source (tests make it deterministic); crypto.randomBytes by default. */
  random?: (n: number) => Uint8Array;
}

/** Encrypts `plaintext` so that it opens with the beacon's signature of `round`. */
export function timelockEncrypt(plaintext: Uint8Array, round: bigint, options: TimelockEncryptOptions = {}): Uint8Array {
  if (round < 1n || round >= 1n << 64n) throw new SubtensorError('INVALID_INPUT', `drand round ${round} is out of range (1 ≤ round < 2^64).`);
  const random = options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
  const pPub = bls.G2.ProjectivePoint.fromHex((options.publicKey ?? QUICKNET.publicKey).replace(/^0x/, ''));
  const key = random(32);
  const sigma = random(32);
  const r = h3(sigma, key);
  const u = bls.G2.ProjectivePoint.BASE.multiply(r);
  const gId = bls.pairing(roundIdentity(round) as never, pPub.multiply(r));
  const v = xor32(sigma, h2(gId));
  const w = xor32(key, sha256(sigma));

  const nonce = random(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = u8aConcat(cipher.update(plaintext), cipher.final(), cipher.getAuthTag());
  const body = u8aConcat(arkVec(sealed), arkVec(nonce));
  return u8aConcat(u.toRawBytes(true), arkVec(v), arkVec(w), arkVec(body), arkVec(CIPHER_SUITE));
}

/** Opens a timelock ciphertext with the beacon's signature of its round (hex, 48 bytes). */
export function timelockDecrypt(ciphertext: Uint8Array, signatureHex: string): Uint8Array {
  const rd = new Reader(ciphertext);
  let u: G2Point;
  try {
    u = bls.G2.ProjectivePoint.fromHex(rd.take(G2_BYTES, 'header.u'));
  } catch (err) {
    if (err instanceof SubtensorError) throw err;
    throw malformed('header.u is not a G2 point');
  }
  const v = rd.vec('header.v');
  const w = rd.vec('header.w');
  const body = rd.vec('body');
  const suite = rd.vec('cipher suite');
  rd.end();
  if (v.length !== 32 || w.length !== 32) throw malformed('header.v and header.w must be 32 bytes');
  if (Buffer.compare(Buffer.from(suite), CIPHER_SUITE) !== 0) throw malformed(`unknown cipher suite ${JSON.stringify(Buffer.from(suite).toString('latin1'))}`);
  const sig = bls.G1.ProjectivePoint.fromHex(signatureHex.replace(/^0x/, ''));
  const sigma = xor32(v, h2(bls.pairing(sig, u)));
  const key = xor32(w, sha256(sigma));
  if (!bls.G2.ProjectivePoint.BASE.multiply(h3(sigma, key)).equals(u)) {
    throw new SubtensorError('INVALID_INPUT', 'the signature does not open this ciphertext (wrong round or wrong beacon).');
  }
  const br = new Reader(body);
  const sealed = br.vec('body.ciphertext');
  const nonce = br.vec('body.nonce');
  br.end();
  if (nonce.length !== NONCE_BYTES || sealed.length < TAG_BYTES) throw malformed('bad AES-GCM nonce or ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', key, nonce);
  decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
  try {
    return u8aConcat(decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final());
  } catch {
    throw new SubtensorError('INVALID_INPUT', 'the AES-GCM body does not authenticate.');
  }
}

export interface WeightsTlockPayload {
  /** The committing hotkey's 32-byte public key (the chain checks it against the signer). */
  hotkey: Uint8Array;
  uids: readonly number[];
  values: readonly number[];
  versionKey: bigint;
}

/** SCALE of `WeightsTlockPayload {hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>, version_key: u64}`. */
export function encodeWeightsPayload(p: WeightsTlockPayload): Uint8Array {
  return u8aConcat(compactToU8a(p.hotkey.length), p.hotkey, encodeLegacyWeightsPayload(p));
}

/**
 * SCALE of `LegacyWeightsTlockPayload {uids: Vec<u16>, values: Vec<u16>, version_key: u64}`: the only
 * payload runtimes with `commit_crv3_weights` but no `CommitRevealWeightsVersion` decode (spec 300 among them).
 */
export function encodeLegacyWeightsPayload(p: Omit<WeightsTlockPayload, 'hotkey'>): Uint8Array {
  const u16s = (xs: readonly number[]) => {
    const b = Buffer.alloc(xs.length * 2);
    xs.forEach((x, i) => {
      b.writeUInt16LE(x, i * 2);
    });
    return u8aConcat(compactToU8a(xs.length), b);
  };
  const version = Buffer.alloc(8);
  version.writeBigUInt64LE(p.versionKey);
  return u8aConcat(u16s(p.uids), u16s(p.values), version);
}

/** The latest quicknet round published at or before `unixSec` (at least 1). */
export function drandRoundAt(unixSec: number): bigint {
  const round = Math.floor((unixSec - QUICKNET.genesisTime) / QUICKNET.periodSec);
  return BigInt(Math.max(1, round));
}

/**
 * How the runtime schedules a subnet's epochs.
 * - `stateful` (runtimes with `LastEpochBlock`): an epoch runs `tempo` blocks after the last one,
 *   or at an owner-triggered `PendingEpochAt` if that comes first; an overdue one runs next block.
 * - `legacy` (runtimes without `LastEpochBlock`, spec 343 among them): bittensor-drand 1.x's rule,
 *   reveal epoch `(block + netuid + 1) / (tempo + 1) + period`, first block `index·(tempo + 1) − netuid − 1`.
 *   Like the SDK it counts from the head block, not the inclusion block: a commit sent in the last two
 *   blocks of an epoch targets a round one epoch early (revealed all the same, decryptable sooner).
 * - `crv3` (runtimes with `commit_crv3_weights` and no `CommitRevealWeightsVersion`, spec 300): the
 *   block of the reveal is exact ({@link crv3RevealBlock}); see {@link CRV3_PULSE_DELAY_ROUNDS}.
 */
export type EpochSchedule =
  | { kind: 'stateful'; tempo: number; lastEpochBlock: number; pendingEpochAt: number }
  | { kind: 'legacy'; tempo: number; netuid: number }
  | { kind: 'crv3'; tempo: number; netuid: number };

/** Blocks after the start of the reveal epoch at which the pulse should be on chain. */
export const REVEAL_SECURITY_BLOCKS = 3;

/**
 * `crv3` runtimes reveal in one block only and skip a commit whose pulse is not on chain by then:
 * the round is taken this many rounds (72 s) before that block, as bittensor-drand 0.5 did for them.
 */
export const CRV3_PULSE_DELAY_ROUNDS = 24n;

/**
 * The block in which a `commit_crv3_weights` runtime (spec 300) reveals a commit included in
 * `inclusionBlock`: the commit is filed under the epoch index of its block (one more when an epoch
 * runs in that block) and revealed in the block where epoch `filed + period − 1` runs, the last block
 * of that index (`reveal_crv3_commits` at `should_run_epoch`; a period of 0 acts as 1 there).
 */
export function crv3RevealBlock(netuid: number, tempo: number, inclusionBlock: number, revealPeriodEpochs: number): number {
  const span = tempo + 1;
  const shift = netuid + 1;
  const runsAtInclusion = (inclusionBlock + shift) % span === tempo;
  const filed = Math.floor((inclusionBlock + shift) / span) + (runsAtInclusion ? 1 : 0);
  return (filed + Math.max(1, revealPeriodEpochs)) * span - shift - 1;
}

/**
 * The block by which the reveal round's pulse should be on chain: the start of the epoch in which
 * the chain reveals a commit included in the next block, plus {@link REVEAL_SECURITY_BLOCKS}
 * (what bittensor-drand aims for); on `crv3` runtimes the block of the reveal itself.
 */
export function revealTargetBlock(schedule: EpochSchedule, currentBlock: number, revealPeriodEpochs: number): number {
  const { tempo } = schedule;
  if (!Number.isSafeInteger(tempo) || tempo <= 0)
    throw new SubtensorError('INVALID_INPUT', `tempo ${tempo}: this subnet runs no epochs, so nothing can be revealed.`);
  const inclusion = currentBlock + 1;
  if (schedule.kind === 'crv3') return crv3RevealBlock(schedule.netuid, tempo, inclusion, revealPeriodEpochs);
  let revealStart: number;
  if (schedule.kind === 'stateful') {
    let next = schedule.lastEpochBlock + tempo;
    if (schedule.pendingEpochAt > 0) next = Math.min(next, schedule.pendingEpochAt);
    next = Math.max(next, inclusion);
    // A commit included in the block where an epoch runs belongs to the epoch that starts there.
    revealStart = next <= inclusion ? next + tempo * revealPeriodEpochs : next + tempo * (revealPeriodEpochs - 1);
  } else {
    const span = tempo + 1;
    const shift = schedule.netuid + 1;
    const epoch = Math.floor((currentBlock + shift) / span);
    revealStart = (epoch + revealPeriodEpochs) * span - shift;
  }
  return Math.max(revealStart, inclusion) + REVEAL_SECURITY_BLOCKS;
}

/**
 * The drand round to encrypt to: the round published by the time the target block is expected (rounded
 * down), {@link CRV3_PULSE_DELAY_ROUNDS} earlier on `crv3` runtimes.
 */
export function revealRound(
  schedule: EpochSchedule,
  currentBlock: number,
  revealPeriodEpochs: number,
  blockTimeSec: number,
  nowSec: number,
): { round: bigint; targetBlock: number } {
  const targetBlock = revealTargetBlock(schedule, currentBlock, revealPeriodEpochs);
  const secondsUntil = Math.max(0, targetBlock - currentBlock) * blockTimeSec;
  const round = drandRoundAt(nowSec + secondsUntil) - (schedule.kind === 'crv3' ? CRV3_PULSE_DELAY_ROUNDS : 0n);
  return { round: round < 1n ? 1n : round, targetBlock };
}
