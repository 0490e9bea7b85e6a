/**
 * decodeRequest: a request as a Python axon reads it. Its headers first (`decodeRequestHead`: what
 * blacklist and verify see, `Synapse.from_headers`), then its body (`decodeRequestBody`: what the
 * handler gets, in FastAPI's order); and the two checks the axon makes between them and after
 * (the signing message to verify, the body hash). Pure.
 */
import { bodyText, parseBodyObject, readEnvelope } from './body.js';
import { isError, readFieldPython, readSynapseFields } from './fields.js';
import { excerpt, HeaderTable, readRequestHeaders, type HeaderInput } from './headers.js';
import type { JsonValue } from './json.js';
import { computeBodyHash, signingMessage } from './signing.js';
import { bodyHashMismatchMessage, ProtocolError } from './status.js';
import { resolveSynapse, type SpecOf, type SynapseEnvelope, type SynapseFields, type SynapseRef, type SynapseSpec, type TerminalInfo } from './synapses.js';

/** Request bodies above this are refused (ours are < 4 KiB; ProviderProbe's biggest field is 2 KiB). */
export const MAX_REQUEST_BODY_BYTES = 64 * 1024;

/** What a request's headers say: what a Python axon's blacklist and verify read, before the body. */
export interface RequestHead<S extends SynapseSpec = SynapseSpec> {
  /** The synapse name: narrow on it (`if (req.synapseName === 'ProviderProbe')`) to get typed fields. */
  synapseName: S['name'];
  synapse: S;
  /** Null when absent or empty (the blacklist then refuses). */
  dendriteHotkey: string | null;
  /** Any size and sign, as Python's `int()` reads it. Null when absent (verify then fails). */
  nonce: bigint | null;
  /** As sent ("" stays "", as in Python); null when absent (signed as `None`). */
  uuid: string | null;
  /** As sent (`0x` + hex; see `readSignatureText`); null when absent or empty. */
  signature: string | null;
  version: number | null;
  /** The `timeout` header as Python's `float()` reads it: may be NaN, infinite, zero or negative. */
  timeoutSec: number | null;
  /** The `computed_body_hash` header: the hash the signature covers. */
  headerBodyHash: string | null;
  /** The hotkey the caller believes it is talking to (the verifier uses its own, as Python does). */
  axonHotkey: string | null;
  dendriteIp: string | null;
  /** The `content-type` header. */
  contentType: string | null;
  /** The dendrite/axon values from the headers (for error responses). */
  headerTerminals: { dendrite: TerminalInfo; axon: TerminalInfo };
}

export interface DecodedRequest<S extends SynapseSpec = SynapseSpec> extends RequestHead<S> {
  /** The synapse fields from the body: what a Python handler receives. */
  fields: SynapseFields<S>;
  /** The body hash recomputed from `fields`. */
  bodyHash: string;
  /** The body's common fields, echoed in the success response as a Python axon does. */
  envelope: SynapseEnvelope;
}

/** `DecodedRequest` distributed over a union of synapses, so that `synapseName` narrows it. */
export type DecodedRequestOf<S> = S extends SynapseSpec ? DecodedRequest<S> : never;
export type RequestHeadOf<S> = S extends SynapseSpec ? RequestHead<S> : never;

export interface DecodeRequestOptions {
  maxBodyBytes?: number;
}

/**
 * Parses a request for a known synapse (check `isKnownSynapse(path name)` first: unknown is 404):
 * `decodeRequestHead` then `decodeRequestBody`. An axon answering like Python's runs its
 * blacklist and verify between the two: Python reads the body only after them.
 */
export function decodeRequest<R extends SynapseRef>(
  synapse: R,
  headers: HeaderInput,
  rawBody: string | Uint8Array,
  options: DecodeRequestOptions = {},
): DecodedRequestOf<SpecOf<R>> {
  return decodeRequestBody(decodeRequestHead(synapse, headers), rawBody, options) as DecodedRequestOf<SpecOf<R>>;
}

/** Runs a decoding step; anything but a ProtocolError (a bug on hostile input) still becomes a 400. */
function guarded<T>(step: () => T): T {
  try {
    return step();
  } catch (err) {
    if (err instanceof ProtocolError) throw err;
    throw new ProtocolError('malformed-json', 'request could not be parsed', { cause: err });
  }
}

/**
 * The request's headers as a Python axon's `Synapse.from_headers` reads them (src/protocol/headers.ts):
 * what Python cannot parse is an `invalid-header` ProtocolError (400; Python answers 500). Missing
 * auth headers are NOT errors here: they come back as null so the pipeline answers in Python's
 * order (blacklist 403, then verify 401).
 */
export function decodeRequestHead<R extends SynapseRef>(synapse: R, headers: HeaderInput): RequestHeadOf<SpecOf<R>> {
  const spec = resolveSynapse(synapse) as SpecOf<R> & SynapseSpec;
  return guarded(() => {
    const checkInputObj = (key: string, value: JsonValue): string | null => {
      const field = Object.hasOwn(spec.fields, key) ? spec.fields[key] : undefined;
      if (field === undefined) return null;
      const r = readFieldPython(field, value);
      return r.ok ? null : `${spec.name}.${key} ${r.reason}`;
    };
    const h = readRequestHeaders(headers, { strict: true, checkInputObj });
    const contentType = new HeaderTable(headers, () => undefined).get('content-type');
    return {
      synapseName: spec.name,
      synapse: spec,
      dendriteHotkey: h.dendrite.hotkey || null, // Python's blacklists test `not hotkey`
      nonce: h.dendrite.nonce,
      uuid: h.dendrite.uuid,
      signature: h.dendrite.signature || null, // Python: `if not synapse.dendrite.signature` → Missing Signature
      version: h.dendrite.version,
      timeoutSec: h.timeoutSec,
      headerBodyHash: h.computedBodyHash,
      axonHotkey: h.axon.hotkey,
      dendriteIp: h.dendrite.ip,
      contentType,
      headerTerminals: { dendrite: h.dendrite, axon: h.axon },
    } as RequestHeadOf<SpecOf<R>>;
  });
}

/** FastAPI's test of a body's content-type: `application/json` or `application/*+json` (parameters ignored). */
function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const type = (value.split(';')[0] ?? '').trim().toLowerCase();
  const parts = type.split('/');
  if (parts.length !== 2 || parts[0] !== 'application') return false;
  return parts[1] === 'json' || parts[1]!.endsWith('+json');
}

/**
 * The body of a request whose head was read, in FastAPI's order: empty (400; Python 500), not
 * JSON by its content-type (415; Python 500), not UTF-8 (400, as Python), not JSON (422, as
 * Python), then our strict reading: a JSON object whose fields have their exact types and
 * limits (400; Python 500 or, for values it coerces, 200).
 */
export function decodeRequestBody<S extends SynapseSpec>(
  head: RequestHead<S>,
  rawBody: string | Uint8Array,
  options: DecodeRequestOptions = {},
): DecodedRequest<S> {
  return guarded(() => {
    const spec: SynapseSpec = head.synapse;
    if ((typeof rawBody === 'string' ? rawBody.length : rawBody.byteLength) === 0) throw new ProtocolError('malformed-json', 'body is empty');
    const text = bodyText(rawBody, options.maxBodyBytes ?? MAX_REQUEST_BODY_BYTES, refuseRequestBody);
    if (!isJsonContentType(head.contentType))
      throw new ProtocolError(
        'unsupported-media-type',
        `content-type must be application/json, got ${head.contentType === null ? 'none' : excerpt(head.contentType)}`,
      );
    const body = parseBodyObject(text, true, refuseRequestJson);
    const envelope = readEnvelope(body, 'strict');
    if (isError(envelope)) throw new ProtocolError('invalid-field', envelope.error);
    const read = readSynapseFields(spec, body, 'strict');
    if ('error' in read) throw new ProtocolError('invalid-field', `${spec.name}: ${read.error}`);
    const fields = read.fields as SynapseFields<S>;
    return { ...head, fields, bodyHash: computeBodyHash(spec, fields as never), envelope };
  });
}

function refuseRequestBody(code: 'body-too-large' | 'malformed-json', message: string): never {
  throw new ProtocolError(code, message);
}

function refuseRequestJson(message: string, kind: 'syntax' | 'shape'): never {
  throw new ProtocolError(kind === 'syntax' ? 'json-syntax' : 'malformed-json', message);
}

/** The message to verify the request's signature against, with the axon's OWN hotkey (as Python's `default_verify`). */
export function requestSigningMessage(request: RequestHead<SynapseSpec>, ownHotkey: string): string {
  return signingMessage({
    nonce: request.nonce,
    dendriteHotkey: request.dendriteHotkey,
    axonHotkey: ownHotkey,
    uuid: request.uuid,
    bodyHash: request.headerBodyHash,
  });
}

/** The axon's integrity check (after verify): the signed header hash must equal the body's. Python answers 500. */
export function checkBodyHash(request: DecodedRequest<SynapseSpec>): ProtocolError | null {
  const header = request.headerBodyHash ?? '';
  if (header === request.bodyHash) return null;
  return new ProtocolError('body-hash-mismatch', bodyHashMismatchMessage(header, request.bodyHash));
}
