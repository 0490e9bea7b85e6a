/** encodeResponse: the success answer of a Python axon to a decoded request. Pure. */
import { synapseBodyJson } from './body.js';
import type { DecodedRequest } from './decodeRequest.js';
import { checkEncode, checkTsValue, specLayout } from './fields.js';
import { finishHeaders, terminalHeaders } from './headers.js';
import { PY_STARLETTE } from './json.js';
import { pyFloatRepr } from './python.js';
import { ProtocolError, STATUS, SUCCESS_MESSAGE } from './status.js';
import { DEFAULT_TIMEOUT_SEC, emptyTerminalInfo, type ResponseFields, type SynapseSpec, type TerminalInfo } from './synapses.js';

export interface EncodedResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface EncodeResponseOptions {
  /** Seconds the handler took (`bt_header_axon_process_time`). */
  processTimeSec: number;
  /** Default 200. */
  status?: number;
  /** Default "Success" for 200. */
  message?: string | null;
}

/**
 * The answer of a Python axon to `request` (Starlette JSONResponse of the body synapse):
 * the request body's synapse echoed, the handler's fields filled, `axon.status_code`,
 * `status_message` and `process_time` set; headers are its `to_headers()`.
 */
export function encodeResponse<S extends SynapseSpec>(
  request: DecodedRequest<S>,
  filled: Partial<ResponseFields<S>>,
  options: EncodeResponseOptions,
): EncodedResponse {
  const spec: SynapseSpec = request.synapse;
  const status = options.status ?? STATUS.SUCCESS;
  checkEncode(Number.isInteger(status) && status >= 100 && status <= 999, 'status must be an HTTP status');
  checkEncode(Number.isFinite(options.processTimeSec) && options.processTimeSec >= 0, 'processTimeSec must be ≥ 0');
  const message = options.message ?? (status === STATUS.SUCCESS ? SUCCESS_MESSAGE : null);

  const given = filled as Record<string, unknown>;
  const fields: Record<string, unknown> = { ...(request.fields as Record<string, unknown>) };
  for (const { key, field } of specLayout(spec).fields) {
    if (field.role !== 'response' || !Object.hasOwn(given, key) || given[key] === undefined) continue;
    const r = checkTsValue(field, given[key]);
    if (!r.ok) throw new ProtocolError('invalid-encode-input', `${spec.name}.${key} ${r.reason}`);
    fields[key] = r.value;
  }

  const env = request.envelope;
  // A null timeout would print as "None" and break a Python dendrite's header parsing.
  const headerTimeout = request.timeoutSec !== null && Number.isFinite(request.timeoutSec) ? request.timeoutSec : null;
  const timeout = env.timeout ?? headerTimeout ?? DEFAULT_TIMEOUT_SEC;
  const axon: TerminalInfo = { ...(env.axon ?? emptyTerminalInfo()), statusCode: status, statusMessage: message, processTime: options.processTimeSec };
  const body = synapseBodyJson(
    spec,
    { timeout, totalSize: env.totalSize, headerSize: env.headerSize, dendrite: env.dendrite, axon, computedBodyHash: env.computedBodyHash },
    fields,
    PY_STARLETTE,
  );

  const headers: Record<string, string> = { name: spec.name, timeout: pyFloatRepr(timeout) };
  terminalHeaders('axon', axon, headers);
  terminalHeaders('dendrite', env.dendrite, headers);
  finishHeaders(spec, fields, headers, Buffer.byteLength(body, 'utf8'));
  headers['content-type'] = 'application/json';
  return { status, headers, body };
}
