/**
 * sr25519 on the fast path: schnorrkel compiled to wasm (@polkadot/wasm-crypto), about
 * 7× faster than @polkadot/util-crypto's pure-JS default (see spec/performance.md).
 * Signatures use the "substrate" signing context, like bittensor_wallet's Keypair.sign,
 * so they verify in the Python SDK and the other way round.
 *
 * Secret keys here are in the "ed25519 form" that wasm-crypto and @polkadot/keyring use:
 * 64 bytes = key·8 ‖ nonce. Wallet files store schnorrkel's own form (key ‖ nonce); see
 * `schnorrkelToPolkadotSecret`.
 */
import { decodeAddress, encodeAddress } from '@polkadot/util-crypto';
import { isReady, sr25519KeypairFromSeed as wasmKeypairFromSeed, sr25519Sign as wasmSign, sr25519Verify as wasmVerify, waitReady } from '@polkadot/wasm-crypto';
import { WalletError } from './errors.js';

export const SS58_PREFIX_BITTENSOR = 42;

export interface Sr25519Keypair {
  /** 32 bytes. */
  publicKey: Uint8Array;
  /** 64 bytes, ed25519 form (key·8 ‖ nonce). */
  secretKey: Uint8Array;
}

let ready: Promise<void> | null = null;

/** Loads the wasm once; every other function here needs it. Safe to call many times. */
export function initCrypto(): Promise<void> {
  ready ??= waitReady().then((ok) => {
    if (!ok) {
      ready = null;
      throw new WalletError('WALLET_CRYPTO_NOT_READY', 'could not load the sr25519 wasm (@polkadot/wasm-crypto)');
    }
  });
  return ready;
}

function assertReady(): void {
  if (!isReady()) throw new WalletError('WALLET_CRYPTO_NOT_READY', 'sr25519 used before `await initCrypto()`');
}

const utf8 = new TextEncoder();
const toBytes = (m: Uint8Array | string): Uint8Array => (typeof m === 'string' ? utf8.encode(m) : m);

/** A keypair from a 32-byte mini-secret (the `secretSeed` of a wallet file). */
export function sr25519KeypairFromSeed(miniSecret: Uint8Array): Sr25519Keypair {
  assertReady();
  if (miniSecret.length !== 32) throw new WalletError('WALLET_INVALID', `an sr25519 seed is 32 bytes, got ${miniSecret.length}`);
  const both = wasmKeypairFromSeed(miniSecret);
  return { secretKey: both.slice(0, 64), publicKey: both.slice(64, 96) };
}

/**
 * Signs with the substrate context. `keypairOrSecret` is a keypair or wasm-crypto's 96-byte
 * `secret ‖ public` (schnorrkel binds the public key into the transcript, so it is needed).
 */
export function signSr25519(keypairOrSecret: Sr25519Keypair | Uint8Array, message: Uint8Array | string): Uint8Array {
  assertReady();
  let publicKey: Uint8Array;
  let secretKey: Uint8Array;
  if (keypairOrSecret instanceof Uint8Array) {
    if (keypairOrSecret.length !== 96) {
      throw new WalletError('WALLET_INVALID', `signSr25519 wants a keypair or 96 bytes (secret ‖ public), got ${keypairOrSecret.length} bytes`);
    }
    secretKey = keypairOrSecret.subarray(0, 64);
    publicKey = keypairOrSecret.subarray(64, 96);
  } else {
    ({ publicKey, secretKey } = keypairOrSecret);
    if (publicKey.length !== 32 || secretKey.length !== 64) {
      throw new WalletError('WALLET_INVALID', `an sr25519 keypair has a 32-byte public and 64-byte secret key, got ${publicKey.length}/${secretKey.length}`);
    }
  }
  return wasmSign(publicKey, secretKey, toBytes(message));
}

// Hotkeys on a subnet are few (≤ 256 UIDs plus callers); decoding SS58 costs a blake2b each.
const ss58Cache = new Map<string, Uint8Array>();
const SS58_CACHE_MAX = 4096;

/** The 32-byte public key of an SS58 address (any prefix); throws WalletError on junk. */
export function ss58ToPublicKey(address: string): Uint8Array {
  const hit = ss58Cache.get(address);
  if (hit) return hit;
  let pk: Uint8Array;
  try {
    pk = decodeAddress(address);
  } catch (cause) {
    throw new WalletError('WALLET_BAD_ADDRESS', `${JSON.stringify(address.slice(0, 64))} is not a valid SS58 address`, { cause });
  }
  if (pk.length !== 32) throw new WalletError('WALLET_BAD_ADDRESS', `${JSON.stringify(address.slice(0, 64))} is not a 32-byte SS58 account`);
  if (ss58Cache.size >= SS58_CACHE_MAX) ss58Cache.clear();
  ss58Cache.set(address, pk);
  return pk;
}

export function publicKeyToSs58(publicKey: Uint8Array, prefix: number = SS58_PREFIX_BITTENSOR): string {
  if (publicKey.length !== 32) throw new WalletError('WALLET_BAD_ADDRESS', `a public key is 32 bytes, got ${publicKey.length}`);
  return encodeAddress(publicKey, prefix);
}

function hexToBytesOrNull(hex: string): Uint8Array | null {
  const body = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (body.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(body)) return null;
  return Uint8Array.from(Buffer.from(body, 'hex'));
}

/**
 * True iff `signature` (64 bytes, or hex with or without 0x) is a valid substrate-context
 * signature of `message` by the key. Bad input of any kind (lengths, hex, address) is false.
 * Throws only when called before `initCrypto()`, which is a bug, not bad input.
 */
export function verifySr25519(message: Uint8Array | string, signature: Uint8Array | string, publicKeyOrSs58: Uint8Array | string): boolean {
  assertReady();
  const sig = typeof signature === 'string' ? hexToBytesOrNull(signature) : signature;
  if (sig === null || sig.length !== 64) return false;
  let pk: Uint8Array;
  if (typeof publicKeyOrSs58 === 'string') {
    try {
      pk = ss58ToPublicKey(publicKeyOrSs58);
    } catch {
      return false;
    }
  } else pk = publicKeyOrSs58;
  if (pk.length !== 32) return false;
  try {
    return wasmVerify(sig, toBytes(message), pk);
  } catch {
    return false;
  }
}

/**
 * schnorrkel's `SecretKey::to_bytes()` (key ‖ nonce, as bittensor wallet files store
 * `privateKey`) → the ed25519 form wasm-crypto and @polkadot/keyring want: the key
 * scalar times the cofactor 8, i.e. the 32 little-endian bytes shifted left by 3 bits.
 */
export function schnorrkelToPolkadotSecret(schnorrkel: Uint8Array): Uint8Array {
  if (schnorrkel.length !== 64) throw new WalletError('WALLET_INVALID', `a schnorrkel secret key is 64 bytes, got ${schnorrkel.length}`);
  const out = new Uint8Array(64);
  let carry = 0;
  for (let i = 0; i < 32; i++) {
    const v = (schnorrkel[i]! << 3) | carry;
    out[i] = v & 0xff;
    carry = v >> 8;
  }
  // A canonical scalar is < 2^253, so nothing is shifted out; anything else is not a key.
  if (carry !== 0) throw new WalletError('WALLET_INVALID', 'privateKey is not a valid schnorrkel secret key (scalar out of range)');
  out.set(schnorrkel.subarray(32), 32);
  return out;
}

/** The inverse of `schnorrkelToPolkadotSecret`, for writing wallet files. */
export function polkadotToSchnorrkelSecret(secretKey: Uint8Array): Uint8Array {
  if (secretKey.length !== 64) throw new WalletError('WALLET_INVALID', `an sr25519 secret key is 64 bytes, got ${secretKey.length}`);
  if ((secretKey[0]! & 0b111) !== 0) throw new WalletError('WALLET_INVALID', 'not an ed25519-form sr25519 secret key (key not a multiple of 8)');
  const out = new Uint8Array(64);
  for (let i = 0; i < 32; i++) {
    out[i] = (secretKey[i]! >> 3) | (i < 31 ? (secretKey[i + 1]! << 5) & 0xff : 0);
  }
  out.set(secretKey.subarray(32), 32);
  return out;
}
