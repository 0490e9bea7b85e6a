/**
 * The bittensor wire protocol for Subnet 58, byte-compatible with the Python SDK 10.x: synapse
 * declarations, one file per operation (encodeRequest, decodeRequest, encodeResponse,
 * encodeErrorResponse, decodeResponse) over small layers (signing, fields, terminalInfo, headers,
 * body, json, python), status codes. Pure: no I/O, no clock; the sr25519 signer is injected.
 * Every failure is a `ProtocolError`; nothing else is ever thrown for bad input.
 *
 * Where Python reads what (learned from axon.py / synapse.py / dendrite.py):
 * - the Python axon checks blacklist and signature on a synapse built from the HEADERS
 *   (`Synapse.from_headers`), but the handler gets the synapse parsed from the BODY, and
 *   the success response is that body synapse echoed with the handler's fields filled;
 * - the signature covers `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{computed_body_hash}`
 *   from the headers, and a separate check compares that header hash with the body's hash;
 * - a Python dendrite rebuilds the synapse from a 200 body, then overlays every
 *   `bt_header_axon_*` / `bt_header_dendrite_*` response header on top; any parse failure
 *   on the way makes it record 422.
 * `decodeRequest` therefore returns the body's fields (what the handler sees) beside the
 * header values (what blacklist and verify see), and `decodeResponse` applies the overlay.
 */
export * from './synapses.js';
export * from './status.js';
export * from './encodeRequest.js';
export * from './decodeRequest.js';
export * from './encodeResponse.js';
export * from './encodeErrorResponse.js';
export * from './decodeResponse.js';
export {
  axonSigningMessage,
  computeBodyHash,
  EMPTY_BODY_HASH,
  parseSignatureHex,
  readSignatureText,
  SIGNATURE_ERRORS,
  signingMessage,
  type SignatureText,
  type SigningMessageParams,
} from './signing.js';
export type { Coercion } from './fields.js';
export type { HeaderInput } from './headers.js';
export { BITTENSOR_WIRE_VERSION, NONCE_WINDOW_VERSION } from './terminalInfo.js';
export { parseJson, pyJsonDumps, PyFloat, JsonSyntaxError, PY_DUMPS_DEFAULT, PY_STARLETTE } from './json.js';
export type { JsonValue, JsonObject, PyJson, PyJsonStyle } from './json.js';
export { pyFloatRepr } from './python.js';
