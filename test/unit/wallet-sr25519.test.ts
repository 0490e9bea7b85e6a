import { Keyring } from '@polkadot/keyring';
import { bip39ToMiniSecret } from '@polkadot/wasm-crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { WalletError } from '../../src/wallet/errors.js';
import {
  initCrypto,
  polkadotToSchnorrkelSecret,
  publicKeyToSs58,
  schnorrkelToPolkadotSecret,
  signSr25519,
  sr25519KeypairFromSeed,
  ss58ToPublicKey,
  verifySr25519,
} from '../../src/wallet/sr25519.js';
import { schnorrkelFromPolkadotSecret } from '../support/wallet-fixtures.js';

// Substrate's well-known development phrase; its root sr25519 account (no derivation path).
const DEV_PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
const DEV_PUBLIC = '46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a';
const DEV_SS58 = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV';

beforeAll(() => initCrypto());

describe('sr25519 (wasm)', () => {
  test('keypair from the dev phrase matches the known substrate account', () => {
    const kp = sr25519KeypairFromSeed(bip39ToMiniSecret(DEV_PHRASE, ''));
    expect(Buffer.from(kp.publicKey).toString('hex')).toBe(DEV_PUBLIC);
    expect(publicKeyToSs58(kp.publicKey)).toBe(DEV_SS58);
    expect(Buffer.from(ss58ToPublicKey(DEV_SS58)).toString('hex')).toBe(DEV_PUBLIC);
  });

  test('sign → verify, with bytes, strings, hex and SS58; tampering fails', () => {
    const kp = sr25519KeypairFromSeed(new Uint8Array(32).fill(3));
    const msg = '12345.5Dfh.5Grw.uuid.abc';
    const sig = signSr25519(kp, msg);
    expect(sig).toHaveLength(64);
    expect(verifySr25519(msg, sig, kp.publicKey)).toBe(true);
    expect(verifySr25519(new TextEncoder().encode(msg), sig, publicKeyToSs58(kp.publicKey))).toBe(true);
    const sigHex = Buffer.from(sig).toString('hex');
    expect(verifySr25519(msg, `0x${sigHex}`, kp.publicKey)).toBe(true);
    expect(verifySr25519(msg, sigHex, kp.publicKey)).toBe(true);
    expect(verifySr25519(`${msg}x`, sig, kp.publicKey)).toBe(false);
    const flipped = sig.slice();
    flipped[10]! ^= 1;
    expect(verifySr25519(msg, flipped, kp.publicKey)).toBe(false);
    const other = sr25519KeypairFromSeed(new Uint8Array(32).fill(4));
    expect(verifySr25519(msg, sig, other.publicKey)).toBe(false);
    // the 96-byte secret‖public form signs the same key
    const both = new Uint8Array([...kp.secretKey, ...kp.publicKey]);
    expect(verifySr25519(msg, signSr25519(both, msg), kp.publicKey)).toBe(true);
  });

  test('bad input to verify is false, never a throw', () => {
    const kp = sr25519KeypairFromSeed(new Uint8Array(32).fill(5));
    const sig = signSr25519(kp, 'm');
    const cases: [Uint8Array | string, Uint8Array | string][] = [
      [sig.slice(0, 63), kp.publicKey],
      [new Uint8Array(65), kp.publicKey],
      [new Uint8Array(0), kp.publicKey],
      ['0xzz', kp.publicKey],
      ['0x123', kp.publicKey],
      ['', kp.publicKey],
      [sig, kp.publicKey.slice(0, 31)],
      [sig, new Uint8Array(33)],
      [sig, new Uint8Array(32).fill(255)], // not a curve point
      [sig, 'not-an-address'],
      [sig, ''],
      [sig, `${publicKeyToSs58(kp.publicKey).slice(0, -1)}x`], // bad checksum
      [new Uint8Array(64), kp.publicKey],
    ];
    for (const [s, pk] of cases) expect(verifySr25519('m', s, pk)).toBe(false);
  });

  test('interoperates with @polkadot/keyring (the path @polkadot/api signs with)', () => {
    const kp = sr25519KeypairFromSeed(new Uint8Array(32).fill(9));
    const pair = new Keyring({ type: 'sr25519' }).addFromPair(kp);
    expect(pair.address).toBe(publicKeyToSs58(kp.publicKey));
    const msg = new TextEncoder().encode('both ways');
    expect(verifySr25519(msg, pair.sign(msg), kp.publicKey)).toBe(true);
    expect(pair.verify(msg, signSr25519(kp, msg), kp.publicKey)).toBe(true);
  });

  test('schnorrkel ↔ ed25519 secret forms: ×8 / ÷8 of the little-endian scalar, nonce unchanged', () => {
    for (const fill of [1, 77, 200]) {
      const kp = sr25519KeypairFromSeed(new Uint8Array(32).fill(fill));
      const schnorrkel = schnorrkelFromPolkadotSecret(kp.secretKey);
      expect(polkadotToSchnorrkelSecret(kp.secretKey)).toEqual(schnorrkel);
      expect(schnorrkelToPolkadotSecret(schnorrkel)).toEqual(kp.secretKey);
    }
    const tooBig = new Uint8Array(64);
    tooBig[31] = 0xff;
    expect(() => schnorrkelToPolkadotSecret(tooBig)).toThrow(WalletError);
    expect(() => schnorrkelToPolkadotSecret(new Uint8Array(63))).toThrow(/64 bytes/);
  });

  test('ss58ToPublicKey rejects junk with a typed error', () => {
    expect(() => ss58ToPublicKey('5Grw')).toThrow(WalletError);
    expect(() => publicKeyToSs58(new Uint8Array(31))).toThrow(WalletError);
    expect(publicKeyToSs58(ss58ToPublicKey(DEV_SS58), 0)).not.toBe(DEV_SS58);
    expect(ss58ToPublicKey(publicKeyToSs58(ss58ToPublicKey(DEV_SS58), 0))).toEqual(ss58ToPublicKey(DEV_SS58));
  });
});
