/** encodeErrorResponse: an error answer as a Python axon's `create_error_response` builds it. Pure (the signer is injected). */
import type { DecodedRequest, RequestHead } from './decodeRequest.js';
import type { EncodedResponse } from './encodeResponse.js';
import { finishHeaders, readRequestHeaders, terminalHeaders, type HeaderInput } from './headers.js';
import { PY_STARLETTE, pyJsonDumps } from './json.js';
import { pyFloatRepr } from './python.js';
import { axonSigningMessage } from './signing.js';
import { STATUS } from './status.js';
import { DEFAULT_TIMEOUT_SEC, emptyTerminalInfo, isKnownSynapse, resolveSynapse, type SynapseRef, type SynapseSpec, type TerminalInfo } from './synapses.js';
import { BITTENSOR_WIRE_VERSION, echoable, TERMINAL_LIMITS, TOKEN } from './terminalInfo.js';

/** What the axon says about itself in error headers (Python fills these in `preprocess`). */
export interface AxonIdentity {
  hotkey?: string | null;
  ip?: string | null;
  port?: number | null;
  version?: number | null;
  uuid?: string | null;
  /** `time_ns()` when the request arrived. */
  nonce?: bigint | null;
  /** Signs `bt_header_axon_signature` like Python (optional: no Python dendrite checks it). */
  sign?: (message: Uint8Array) => Uint8Array;
}

export interface ErrorResponseOptions {
  /** The synapse of the URL, when known; the headers then echo the request like Python's. */
  synapseName?: string | null;
  /** The decoded request (or its head), when decoding succeeded. */
  request?: RequestHead<SynapseSpec> | DecodedRequest<SynapseSpec>;
  /** The raw request headers, when decoding failed: whatever of them is well-formed is echoed. */
  requestHeaders?: HeaderInput;
  axon?: AxonIdentity;
  /** The caller's address as the server saw it (Python overwrites the dendrite ip/port with it). */
  client?: { ip: string | null; port: number | null };
  processTimeSec?: number;
}

/**
 * An error answer like Python's `create_error_response`: body `{"message": …}`, status as
 * given, and the headers of the synapse built from the request headers (or a bare
 * `Synapse` when the URL named no known synapse). Every numeric header parses as a number.
 */
export function encodeErrorResponse(status: number, message: string, options: ErrorResponseOptions = {}): EncodedResponse {
  const safeStatus = Number.isInteger(status) && status >= 100 && status <= 999 ? status : STATUS.INTERNAL_ERROR;
  const text = String(message).slice(0, TERMINAL_LIMITS.statusMessage);
  const name = options.request?.synapse.name ?? (options.synapseName && isKnownSynapse(options.synapseName) ? options.synapseName : null);
  const spec = name === null ? null : resolveSynapse(name as SynapseRef);

  let dendrite: TerminalInfo | null = null;
  let axon = emptyTerminalInfo();
  let timeout: number = DEFAULT_TIMEOUT_SEC;
  if (spec !== null) {
    const source = options.request
      ? { timeoutSec: options.request.timeoutSec, ...options.request.headerTerminals }
      : readRequestHeaders(options.requestHeaders, { strict: false });
    const h = { timeoutSec: source.timeoutSec, dendrite: echoable(source.dendrite), axon: echoable(source.axon) };
    // Echoed only when it prints as a plain number (Python would echo `nan` or `inf` too).
    timeout = h.timeoutSec !== null && Number.isFinite(h.timeoutSec) ? h.timeoutSec : DEFAULT_TIMEOUT_SEC;
    dendrite = h.dendrite;
    axon = h.axon;
    if (options.client) {
      dendrite.ip = options.client.ip !== null && TOKEN.test(options.client.ip) ? options.client.ip : dendrite.ip;
      dendrite.port = options.client.port ?? dendrite.port;
    }
    const id = options.axon ?? {};
    const token = (v: string | null | undefined): string | null => (typeof v === 'string' && TOKEN.test(v) && v.length <= 64 ? v : null);
    axon.hotkey = axon.hotkey ?? token(id.hotkey);
    axon.ip = axon.ip ?? token(id.ip);
    axon.port = axon.port ?? (Number.isInteger(id.port) ? (id.port as number) : null);
    axon.version = Number.isInteger(id.version) ? (id.version as number) : BITTENSOR_WIRE_VERSION;
    axon.uuid = token(id.uuid);
    axon.nonce = typeof id.nonce === 'bigint' ? id.nonce : null;
    if (id.sign && axon.nonce !== null && axon.uuid !== null) {
      const msg = axonSigningMessage({ nonce: axon.nonce, dendriteHotkey: dendrite.hotkey, axonHotkey: axon.hotkey, uuid: axon.uuid });
      const sig = id.sign(new TextEncoder().encode(msg));
      if (sig instanceof Uint8Array && sig.length === 64) axon.signature = `0x${Buffer.from(sig).toString('hex')}`;
    }
  }
  axon.statusCode = safeStatus;
  axon.statusMessage = text;
  const pt = options.processTimeSec;
  axon.processTime = typeof pt === 'number' && Number.isFinite(pt) && pt >= 0 ? pt : 0;

  const body = pyJsonDumps({ message: text }, PY_STARLETTE);
  const headers: Record<string, string> = { name: name ?? 'Synapse', timeout: pyFloatRepr(timeout) };
  terminalHeaders('axon', axon, headers);
  terminalHeaders('dendrite', dendrite, headers);
  const fields = options.request && 'fields' in options.request ? options.request.fields : {};
  finishHeaders(spec, spec ? { ...fields } : {}, headers, Buffer.byteLength(body, 'utf8'));
  headers['content-type'] = 'application/json';
  return { status: safeStatus, headers, body };
}
