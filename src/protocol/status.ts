/**
 * Status codes and messages of the bittensor axon/dendrite protocol, word for word as the
 * Python SDK (10.x) writes them, and the one error type of this module.
 */
import { Hs58Error } from '../errors.js';
import { pyFloatRepr, pyFormatFixed2 } from './python.js';

/** The codes a Python axon answers with (axon.py) and a Python dendrite records when it gets no answer (dendrite.py). */
export const STATUS = {
  SUCCESS: 200,
  /** Axon: the request could not be parsed (Python 10.5 answers 500 for broken headers, and 400 only for a body that is not UTF-8). */
  BAD_REQUEST: 400,
  /** Axon: signature, nonce or hotkey check failed (`Not Verified with error: …`). */
  UNAUTHORIZED: 401,
  /** Axon: the blacklist refused the caller (`Forbidden. Key is blacklisted: …`). */
  FORBIDDEN: 403,
  /** Axon: no synapse of that name is attached. */
  NOT_FOUND: 404,
  /** Axon: the synapse's path with another method than GET or POST (Starlette's answer, after verification). */
  METHOD_NOT_ALLOWED: 405,
  /** Axon: the priority queue timed out. Dendrite: no answer within the timeout. */
  TIMEOUT: 408,
  /** Axon: a body that is not `application/json` (Python 10.5 answers 500). */
  UNSUPPORTED_MEDIA_TYPE: 415,
  /** Axon: the body is not JSON (FastAPI's `json_invalid`). Dendrite: the answer could not be parsed (`Failed to parse response`). */
  UNPARSEABLE: 422,
  /** Axon: handler failure or body hash mismatch. */
  INTERNAL_ERROR: 500,
  /** Axon: overloaded. Dendrite: connection refused or closed. */
  UNAVAILABLE: 503,
  /** Dendrite: aiohttp's server timeout. */
  GATEWAY_TIMEOUT: 504,
} as const;

export const SUCCESS_MESSAGE = 'Success';

/** The axon's 403 message; `reason` is the blacklist function's second return value. */
export function blacklistedMessage(reason: string): string {
  return `Forbidden. Key is blacklisted: ${reason}.`;
}

/** The axon's 401 message around the verify failure. */
export function notVerifiedMessage(error: string): string {
  return `Not Verified with error: ${error}`;
}

/** The verify failures of Python's `default_verify`, to pass to `notVerifiedMessage`. */
export const VERIFY_ERRORS = {
  missingNonce: 'Missing Nonce',
  missingSignature: 'Missing Signature',
  nonceReplayed: 'Nonce is too old, a newer one was last processed',
  nonceTooOld: (allowedDeltaSec: number, ageSec: number): string =>
    `Nonce is too old: acceptable delta is ${pyFormatFixed2(allowedDeltaSec)} seconds but request was ${pyFormatFixed2(ageSec)} seconds old`,
  signatureMismatch: (message: string, signature: string): string => `Signature mismatch with ${message} and ${signature}`,
} as const;

/** The axon's 408 message when the priority queue times out. */
export function priorityTimeoutMessage(timeoutSec: number | null): string {
  return `Response timeout after: ${timeoutSec === null ? 'None' : pyFloatRepr(timeoutSec)}s`;
}

/** Our 503 message when the priority queue is full (Python has the code but never sends it). */
export const OVERLOADED_MESSAGE = 'Service unavailable: axon overloaded';

/** The axon's 404 message; Python lists its synapses as a Python list literal. */
export function unknownSynapseMessage(name: string, available: readonly string[]): string {
  return `Synapse name '${name}' not found. Available synapses [${available.map((s) => `'${s}'`).join(', ')}]`;
}

/** The axon's 500 message on a body hash mismatch (Python logs it and sends `Internal Server Error #<id>`). */
export function bodyHashMismatchMessage(headerHash: string, bodyHash: string): string {
  return `Hash mismatch between header body hash ${headerHash} and parsed body hash ${bodyHash}`;
}

/** What a Python dendrite records when no usable answer came back (`DENDRITE_ERROR_MAPPING`). */
export const DENDRITE_ERRORS = {
  connectionRefused: { status: STATUS.UNAVAILABLE, message: 'Service unavailable' },
  disconnected: { status: STATUS.UNAVAILABLE, message: 'Service disconnected' },
  timeout: { status: STATUS.TIMEOUT, message: 'Request timeout' },
  payload: { status: STATUS.BAD_REQUEST, message: 'Payload error' },
  client: { status: STATUS.INTERNAL_ERROR, message: 'Client error' },
  serverTimeout: { status: STATUS.GATEWAY_TIMEOUT, message: 'Server timeout error' },
  unparseable: { status: STATUS.UNPARSEABLE, message: 'Failed to parse response' },
} as const;

/** Python's dendrite message for a refused connection: `Service unavailable at {ip}:{port}/{Synapse}`. */
export function connectionRefusedMessage(ip: string, port: number, synapseName: string): string {
  return `${DENDRITE_ERRORS.connectionRefused.message} at ${ip}:${port}/${synapseName}`;
}

/** Python's dendrite message for a timeout: `Request timeout after {timeout} seconds`. */
export function dendriteTimeoutMessage(timeoutSec: number): string {
  return `${DENDRITE_ERRORS.timeout.message} after ${pyFloatRepr(timeoutSec)} seconds`;
}

export type ProtocolErrorCode =
  /** Request: body is empty, not UTF-8, not an object, or nested too deep. */
  | 'malformed-json'
  /** Request: body is not JSON (422, as FastAPI answers). */
  | 'json-syntax'
  /** Request: a body whose content-type is not JSON. */
  | 'unsupported-media-type'
  /** Request: body larger than the limit. */
  | 'body-too-large'
  /** Request: a header is malformed (not a number, too long, duplicated). */
  | 'invalid-header'
  /** Request: a synapse field in the body has the wrong type or is out of range. */
  | 'invalid-field'
  /** Request: the URL names no known synapse. */
  | 'unknown-synapse'
  /** Request: the signed body hash header differs from the body. */
  | 'body-hash-mismatch'
  /** Response: the answer of an axon cannot be used (what a Python dendrite records as 422). */
  | 'unparseable-response'
  /** Encoding: our own code passed a value the wire cannot carry (a bug, not bad input). */
  | 'invalid-encode-input';

const STATUS_OF_CODE: Record<ProtocolErrorCode, number> = {
  'malformed-json': STATUS.BAD_REQUEST,
  'json-syntax': STATUS.UNPARSEABLE,
  'unsupported-media-type': STATUS.UNSUPPORTED_MEDIA_TYPE,
  'body-too-large': STATUS.BAD_REQUEST,
  'invalid-header': STATUS.BAD_REQUEST,
  'invalid-field': STATUS.BAD_REQUEST,
  'unknown-synapse': STATUS.NOT_FOUND,
  'body-hash-mismatch': STATUS.INTERNAL_ERROR,
  'unparseable-response': STATUS.UNPARSEABLE,
  'invalid-encode-input': STATUS.INTERNAL_ERROR,
};

/**
 * Every failure of the codec. `status` is the HTTP status an axon answers with (400, 404, 415, 422, 500)
 * or, for `unparseable-response`, the status a dendrite records (422). `shortMessage` is safe
 * to send back to the peer: it never contains secrets, only names and short excerpts.
 */
export class ProtocolError extends Hs58Error<ProtocolErrorCode> {
  override name = 'ProtocolError';
  readonly status: number;

  constructor(code: ProtocolErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(code, message, options);
    this.status = STATUS_OF_CODE[code];
  }
}

export function isProtocolError(err: unknown): err is ProtocolError {
  return err instanceof ProtocolError;
}
