import { Hs58Error, type Hs58ErrorOptions } from '../../errors.js';

export type SubtensorErrorCode =
  /** The endpoint could not be reached at start. */
  | 'CONNECT_FAILED'
  /** The connection is down and did not come back within the wait. */
  | 'NOT_CONNECTED'
  /** `close()` was called. */
  | 'CLOSED'
  /** The runtime's metadata lacks a call, storage item or runtime API this client needs. */
  | 'UNSUPPORTED_RUNTIME'
  /** The runtime declares a transaction extension that carries data this client cannot encode. */
  | 'TX_ENCODING_UNSUPPORTED'
  /** The node refused the transaction before inclusion (bad signature, stale nonce, outdated, priority). */
  | 'TX_INVALID'
  /** The transaction was dropped, usurped or never finalized within the wait. */
  | 'TX_NOT_INCLUDED'
  /** Included, but the call failed: `reason` is the runtime's error name (e.g. `SettingWeightsTooFast`). */
  | 'TX_DISPATCH_FAILED'
  /** Checked locally and not sent: `reason` names the runtime error the chain would return. */
  | 'PRECHECK_FAILED'
  | 'INVALID_INPUT'
  /** A runtime answer could not be decoded or is inconsistent. */
  | 'DECODE_FAILED'
  /** A subnet, block or neuron that does not exist. */
  | 'NOT_FOUND'
  /** The pending commit store could not be read or written. */
  | 'COMMIT_STORE_FAILED'
  /** A signer is needed for this call and none was given. */
  | 'NO_SIGNER';

export interface SubtensorErrorOptions extends Hs58ErrorOptions {
  /** Name of the runtime error (pallet error variant or DispatchError kind), when there is one. */
  reason?: string;
}

/**
 * Every failure of the chain adapter. `reason` carries the runtime's own error
 * name both when the chain returned it (`TX_DISPATCH_FAILED`) and when a local
 * check predicted it (`PRECHECK_FAILED`), so callers branch on one field.
 */
export class SubtensorError extends Hs58Error<SubtensorErrorCode> {
  override name = 'SubtensorError';
  readonly reason: string | undefined;

  constructor(code: SubtensorErrorCode, shortMessage: string, options: SubtensorErrorOptions = {}) {
    super(code, shortMessage, options);
    this.reason = options.reason;
  }
}

/** True when `err` is a SubtensorError, optionally with the given runtime error name. */
export function isSubtensorError(err: unknown, reason?: string): err is SubtensorError {
  return err instanceof SubtensorError && (reason === undefined || err.reason === reason);
}

/** Short human text for the errors `setWeights` and friends can meet; the chain's own docs are used when known. */
export const REASON_HINTS: Readonly<Record<string, string>> = {
  HotKeyNotRegisteredInSubNet: 'the hotkey is not registered on this subnet',
  HotKeyNotRegisteredInNetwork: 'the hotkey is not registered on any subnet',
  NotEnoughStakeToSetWeights: 'the hotkey has less stake than the subnet requires to set weights',
  IncorrectWeightVersionKey: "the version key is below the subnet's weights_version",
  SettingWeightsTooFast: 'weights were set less than weights_rate_limit blocks ago',
  NeuronNoValidatorPermit: 'the neuron has no validator permit',
  DuplicateUids: 'the uid list has duplicates',
  UidVecContainInvalidOne: 'a uid does not exist on the subnet',
  WeightVecLengthIsLow: 'fewer weights than min_allowed_weights',
  WeightVecNotEqualSize: 'uids and weights differ in length',
  UidsLengthExceedUidsInSubNet: 'more uids than neurons on the subnet',
  MaxWeightExceeded: "a weight exceeds the subnet's max_weights_limit",
  CommitRevealEnabled: 'commit-reveal is on for this subnet: weights must be committed, then revealed',
  CommitRevealDisabled: 'commit-reveal is off for this subnet',
  CommittingWeightsTooFast: 'a commit was made less than weights_rate_limit blocks ago',
  TooManyUnrevealedCommits: 'ten commits are already waiting to be revealed',
  RevealTooEarly: 'the reveal epoch has not started',
  ExpiredWeightCommit: 'the reveal epoch is over',
  NoWeightsCommitFound: 'no commit of this hotkey is on chain',
  InvalidRevealCommitHashNotMatch: 'the revealed data does not match the committed hash',
  ServingRateLimitExceeded: 'the axon was served less than serving_rate_limit blocks ago',
  InvalidIpAddress: 'the chain refuses this IP address',
  InvalidIpType: 'the IP type must be 4 or 6',
  InvalidPort: 'the port must be 1 to 65535',
  SubNetworkDoesNotExist: 'the subnet does not exist',
};
