import { Hs58Error } from '../errors.js';

/**
 * Everything that can be wrong with keys and wallet files. Messages name the file or
 * variable and the fix; they never carry a secret (phrase, seed, private key).
 */
export type WalletErrorCode =
  | 'WALLET_CRYPTO_NOT_READY'
  | 'WALLET_FILE_MISSING'
  | 'WALLET_FILE_UNREADABLE'
  | 'WALLET_FILE_EXISTS'
  | 'WALLET_ENCRYPTED'
  | 'WALLET_INVALID'
  | 'WALLET_NO_SECRET'
  | 'WALLET_ADDRESS_MISMATCH'
  | 'WALLET_BAD_BASE64'
  | 'WALLET_BAD_ADDRESS'
  | 'POLYGON_KEY_INVALID'
  | 'POLYGON_WALLET_INVALID'
  | 'POLYGON_WALLET_MISMATCH';

export class WalletError extends Hs58Error<WalletErrorCode> {
  override name = 'WalletError';
}
