/**
 * The chain refuses weights whose `version_key` is below the subnet's `WeightsVersionKey`
 * (`IncorrectWeightVersionKey`; 0 on chain accepts any key). The validator checks it before
 * sending, from the round's metagraph, and turns the chain adapter's own refusal (its precheck
 * on fresher state, or the chain's answer) into the same error: one that names the flag to set.
 */
import { isSubtensorError } from '../chain/subtensor/errors.js';
import { Hs58Error } from '../errors.js';

export class VersionKeyError extends Hs58Error<'VERSION_KEY_TOO_LOW'> {
  override name = 'VersionKeyError';
}

const FIX = 'set --neuron.weights_version (env WEIGHTS_VERSION_KEY)';

/** The error when `configured` is below the subnet's key `chainKey`, else null. */
export function versionKeyTooLow(configured: bigint, chainKey: bigint): VersionKeyError | null {
  if (chainKey === 0n || configured >= chainKey) return null;
  return new VersionKeyError(
    'VERSION_KEY_TOO_LOW',
    `weights not sent: version key ${configured} is below the subnet's WeightsVersionKey ${chainKey}; ${FIX} to ${chainKey} or run the preset of the Python release the subnet expects`,
    { details: { configured: configured.toString(), chainVersionKey: chainKey.toString() } },
  );
}

/** `err` as a VersionKeyError when the chain adapter or the chain refused the key; otherwise `err` itself. */
export function asVersionKeyError(err: unknown, configured: bigint): unknown {
  if (!isSubtensorError(err, 'IncorrectWeightVersionKey')) return err;
  const known = err.details.chainVersionKey;
  if (typeof known === 'string' && /^\d+$/.test(known)) return versionKeyTooLow(configured, BigInt(known)) ?? err;
  return new VersionKeyError('VERSION_KEY_TOO_LOW', `weights refused: version key ${configured} is below the subnet's WeightsVersionKey; ${FIX} to that key`, {
    cause: err,
    details: { configured: configured.toString() },
  });
}
