/**
 * The miner's Polygon identity (generation A "wallet proof"): POLYGON_PRIVATE_KEY as a viem
 * account, checked against POLYGON_WALLET, and the EIP-191 proof that ties the Polygon
 * wallet that receives DRAIN payments to the miner's hotkey.
 */
// Subpath imports: the 'viem' index loads the whole library (clients, chains, ABIs), ~7 MB more per daemon.
import type { Hex } from 'viem';
import { getAddress, isAddress, recoverMessageAddress } from 'viem/utils';
import { privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';
import { WalletError } from './errors.js';

/** The exact text the Python miner signs and the Python validator recovers. */
export function walletProofMessage(hotkeySs58: string): string {
  return `Bittensor Subnet 58 Miner: ${hotkeySs58}`;
}

export interface LoadPolygonAccountParameters {
  /** POLYGON_PRIVATE_KEY: 32 bytes of hex, with or without 0x. */
  privateKey: string;
  /** POLYGON_WALLET: when given, must be the key's address (any case). */
  expectedWallet?: string | null;
}

export function loadPolygonAccount(params: LoadPolygonAccountParameters): PrivateKeyAccount {
  const body = params.privateKey.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{64}$/.test(body)) {
    throw new WalletError('POLYGON_KEY_INVALID', 'POLYGON_PRIVATE_KEY must be 32 bytes of hex (64 hex digits, 0x optional)');
  }
  let account: PrivateKeyAccount;
  try {
    account = privateKeyToAccount(`0x${body.toLowerCase()}` as Hex);
  } catch {
    // Zero or ≥ the curve order. The cause is dropped: viem's message would echo the key.
    throw new WalletError('POLYGON_KEY_INVALID', 'POLYGON_PRIVATE_KEY is not a valid secp256k1 private key');
  }
  const expected = params.expectedWallet?.trim();
  if (expected) {
    if (!isAddress(expected, { strict: false })) {
      throw new WalletError('POLYGON_WALLET_INVALID', `POLYGON_WALLET ${JSON.stringify(expected.slice(0, 64))} is not a 0x-prefixed 20-byte address`);
    }
    if (expected.toLowerCase() !== account.address.toLowerCase()) {
      throw new WalletError(
        'POLYGON_WALLET_MISMATCH',
        `POLYGON_WALLET ${getAddress(expected)} is not the address of POLYGON_PRIVATE_KEY (${account.address}); set one of them so that they match`,
        { details: { expected: getAddress(expected), actual: account.address } },
      );
    }
  }
  return account;
}

/** EIP-191 personal_sign of `Bittensor Subnet 58 Miner: {hotkey}`: 65 bytes r‖s‖v (v 27/28), 0x-hex. */
export async function signWalletProof(account: PrivateKeyAccount, hotkeySs58: string): Promise<Hex> {
  return account.signMessage({ message: walletProofMessage(hotkeySs58) });
}

export interface VerifyWalletProofParameters {
  hotkey: string;
  polygonWallet: string;
  /** Hex, with or without 0x (the Python miner may omit it). */
  proof: string;
}

/**
 * True iff `proof` recovers to `polygonWallet` (any case) over this hotkey's message, as the
 * Python validator checks it. Any junk (types, lengths, v, bad curve points) is false.
 */
export async function verifyWalletProof(params: VerifyWalletProofParameters): Promise<boolean> {
  const { hotkey, polygonWallet, proof } = params;
  if (typeof hotkey !== 'string' || typeof polygonWallet !== 'string' || typeof proof !== 'string') return false;
  if (!isAddress(polygonWallet, { strict: false })) return false;
  const body = proof.trim().replace(/^0x/i, '');
  if (!/^[0-9a-fA-F]{130}$/.test(body)) return false;
  const v = Number.parseInt(body.slice(128), 16);
  if (![0, 1, 27, 28].includes(v)) return false;
  try {
    const recovered = await recoverMessageAddress({ message: walletProofMessage(hotkey), signature: `0x${body}` as Hex });
    return recovered.toLowerCase() === polygonWallet.toLowerCase();
  } catch {
    return false;
  }
}
