/** The bittensor wire protocol for Subnet 58: synapse declarations, codec, status codes. Pure. */
export * from './synapses.js';
export * from './codec.js';
export * from './status.js';
export { readSignatureText, SIGNATURE_ERRORS, type SignatureText } from './signature.js';
export { parseJson, pyJsonDumps, PyFloat, JsonSyntaxError, PY_DUMPS_DEFAULT, PY_STARLETTE } from './json.js';
export type { JsonValue, JsonObject, PyJson, PyJsonStyle } from './json.js';
export { pyFloatRepr } from './python.js';
