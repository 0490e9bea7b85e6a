import { Hs58Error } from '../src/errors.js';

/** Failures of the local chains (anvil, Chopsticks) and of what the local network deploys on them. */
export type LocalChainErrorCode =
  | 'LOCALCHAIN_ANVIL_MISSING'
  | 'LOCALCHAIN_ANVIL_START'
  | 'LOCALCHAIN_COMPILE'
  | 'LOCALCHAIN_TX_FAILED'
  | 'CHAIN_SPEC_MISSING'
  | 'CHAIN_SPEC_INVALID'
  | 'PORT_UNAVAILABLE'
  | 'CHAIN_START_FAILED';

export class LocalChainError extends Hs58Error<LocalChainErrorCode> {
  override name = 'LocalChainError';
}
