import { Hs58Error } from '../../errors.js';

export type PolygonErrorCode =
  /** No usable endpoint configured (empty list, bad URL, all on the wrong chain). */
  | 'POLYGON_NO_ENDPOINTS'
  /** A request failed on every attempt, across endpoints. */
  | 'POLYGON_RPC_FAILED'
  /** The endpoint refused the block range or the result size; the caller splits the range. */
  | 'POLYGON_RANGE_TOO_LARGE'
  /** No endpoint has reached the block a request needs yet. */
  | 'POLYGON_ENDPOINTS_BEHIND'
  /** An answer that is not what JSON-RPC promised (bad JSON, a log outside the range, …). */
  | 'POLYGON_BAD_RESPONSE'
  /** A caller passed something unusable (bad address, from > to, …). */
  | 'POLYGON_INVALID_INPUT'
  /** A persisted scanner state that cannot be read back. */
  | 'POLYGON_STATE_INVALID';

export class PolygonError extends Hs58Error<PolygonErrorCode> {
  override name = 'PolygonError';
}
