/** decodeResponse: an axon's answer as a Python dendrite reads it (`process_server_response`). Pure. */
import { bodyText, parseBodyObject, readEnvelope } from './body.js';
import { describeValue, isError, readSynapseFields, type Coercion } from './fields.js';
import { excerpt, HeaderTable, type HeaderInput } from './headers.js';
import { pyFloatFromText, pyIntFromText } from './python.js';
import { ProtocolError, STATUS } from './status.js';
import {
  emptyTerminalInfo,
  resolveSynapse,
  TERMINAL_INFO_FIELDS,
  type SpecOf,
  type SynapseEnvelope,
  type SynapseFields,
  type SynapseRef,
  type SynapseSpec,
  type TerminalInfo,
} from './synapses.js';

/** Response bodies above this count as unparseable. */
export const MAX_RESPONSE_BODY_BYTES = 1024 * 1024;

export interface DecodedResponse<S extends SynapseSpec = SynapseSpec> {
  /** The HTTP status line. */
  httpStatus: number;
  /** What a Python dendrite records as `dendrite.status_code`: the `bt_header_axon_status_code` header, else the body's or the HTTP status. */
  statusCode: number | null;
  statusMessage: string | null;
  /**
   * Every synapse field as the axon returned it (its `deserialize()`), only for HTTP 200 —
   * a Python dendrite keeps its own unfilled fields for any other status.
   */
  fields: SynapseFields<S> | null;
  /** The axon's `process_time`, seconds. */
  processTimeSec: number | null;
  /** The axon terminal after the header overlay (hotkey, status, …). */
  axon: TerminalInfo;
  /** The body's common fields (timeout, sizes, echoed dendrite), only for HTTP 200. */
  envelope: SynapseEnvelope | null;
}

export interface DecodeResponseOptions {
  coercion?: Coercion;
  maxBodyBytes?: number;
}

const STRICT_HEADER_INT = /^-?\d{1,20}$/;
const DECIMAL_FLOAT = /^-?\d{1,20}(?:\.\d{1,20})?(?:[eE][+-]?\d{1,3})?$/;

/**
 * Parses an axon's answer as a Python dendrite (`process_server_response`) would; an answer
 * a Python dendrite could not use (it records 422) is a ProtocolError `unparseable-response`.
 * `coercion: 'strict'` (default) also wants exact JSON types and our field limits;
 * `'python'` accepts exactly what pydantic's lax mode accepts, for score parity.
 */
export function decodeResponse<R extends SynapseRef>(
  synapse: R,
  httpStatus: number,
  headers: HeaderInput,
  rawBody: string | Uint8Array,
  options: DecodeResponseOptions = {},
): DecodedResponse<SpecOf<R>> {
  try {
    return decodeResponseUnsafe(synapse, httpStatus, headers, rawBody, options);
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError('unparseable-response', 'response could not be parsed', { cause: err, details: { httpStatus } });
  }
}

function decodeResponseUnsafe<R extends SynapseRef>(
  synapse: R,
  httpStatus: number,
  headers: HeaderInput,
  rawBody: string | Uint8Array,
  options: DecodeResponseOptions,
): DecodedResponse<SpecOf<R>> {
  const spec = resolveSynapse(synapse) as SpecOf<R> & SynapseSpec;
  const coercion = options.coercion ?? 'strict';
  const fail = (msg: string): never => {
    throw new ProtocolError('unparseable-response', msg, { details: { httpStatus } });
  };
  const text = bodyText(rawBody, options.maxBodyBytes ?? MAX_RESPONSE_BODY_BYTES, (_code, msg) => fail(msg));
  const body = parseBodyObject(text, coercion === 'python', fail);

  const { axon: headerAxon, dendrite: headerDendrite } = readResponseHeaders(headers, coercion, fail);

  if (httpStatus === STATUS.SUCCESS) {
    const envelope = readEnvelope(body, coercion);
    if (isError(envelope)) return fail(envelope.error);
    const read = readSynapseFields(spec, body, coercion);
    if ('error' in read) return fail(`${spec.name}: ${read.error}`);
    const axon: TerminalInfo = { ...(envelope.axon ?? emptyTerminalInfo()), ...headerAxon };
    return {
      httpStatus,
      statusCode: axon.statusCode,
      statusMessage: axon.statusMessage,
      fields: read.fields as SynapseFields<SpecOf<R>>,
      processTimeSec: axon.processTime,
      axon,
      envelope: { ...envelope, axon, dendrite: { ...(envelope.dendrite ?? emptyTerminalInfo()), ...headerDendrite } },
    };
  }
  const message = body.get('message');
  if (message !== undefined && message !== null && typeof message !== 'string') return fail(`error message must be a string, got ${describeValue(message)}`);
  const axon: TerminalInfo = { ...emptyTerminalInfo(), statusCode: httpStatus, statusMessage: message ?? null, ...headerAxon };
  return { httpStatus, statusCode: axon.statusCode, statusMessage: axon.statusMessage, fields: null, processTimeSec: axon.processTime, axon, envelope: null };
}

/**
 * `Synapse.from_headers(response headers)`: every known header must parse, or Python raises (`fail`);
 * returns the `bt_header_axon_*` / `bt_header_dendrite_*` values that overlay the body's terminals.
 */
function readResponseHeaders(
  headers: HeaderInput,
  coercion: Coercion,
  fail: (msg: string) => never,
): { axon: Partial<TerminalInfo>; dendrite: Partial<TerminalInfo> } {
  const headerTable = new HeaderTable(headers, (name) => (coercion === 'strict' ? fail(`header ${name} given more than once`) : undefined));
  const get = (name: string): string | null => headerTable.get(name);
  const headerInt = (name: string): bigint | null => {
    const v = get(name);
    if (v === null) return null;
    const n = coercion === 'strict' ? (STRICT_HEADER_INT.test(v) ? BigInt(v) : null) : pyIntFromText(v);
    return n === null ? fail(`header ${name} is not an integer: ${excerpt(v)}`) : n;
  };
  const headerFloat = (name: string): number | null => {
    const v = get(name);
    if (v === null) return null;
    const x = coercion === 'strict' ? (DECIMAL_FLOAT.test(v) ? Number(v) : null) : pyFloatFromText(v);
    return x === null ? fail(`header ${name} is not a number: ${excerpt(v)}`) : x;
  };
  headerFloat('timeout');
  headerInt('header_size');
  headerInt('total_size');
  const overlay = (prefix: 'axon' | 'dendrite'): Partial<TerminalInfo> => {
    const o: Record<string, unknown> = {};
    for (const f of TERMINAL_INFO_FIELDS) {
      const name = `bt_header_${prefix}_${f.wire}`;
      let v: unknown;
      if (f.kind === 'int' || f.kind === 'bigint') {
        const n = headerInt(name);
        v = n === null ? null : f.kind === 'bigint' ? n : Number(n);
      } else if (f.kind === 'float') v = headerFloat(name);
      else v = get(name);
      if (v !== null) o[f.key] = v;
    }
    return o as Partial<TerminalInfo>;
  };
  return { axon: overlay('axon'), dendrite: overlay('dendrite') };
}
