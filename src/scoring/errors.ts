import { Hs58Error } from '../errors.js';

export type ScoringErrorCode =
  /** An input the scoring functions cannot score without guessing (wrong length, NaN, bad address, ...). */
  | 'SCORING_INVALID_INPUT'
  /** A preset name that does not exist. */
  | 'SCORING_UNKNOWN_PRESET';

/** Raised by the pure scoring functions on input they refuse to score; `details` says which value. */
export class ScoringError extends Hs58Error<ScoringErrorCode> {
  override name = 'ScoringError';
}

export function invalidInput(message: string, details: Record<string, unknown> = {}): ScoringError {
  return new ScoringError('SCORING_INVALID_INPUT', message, { details });
}
