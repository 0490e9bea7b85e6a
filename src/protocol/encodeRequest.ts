/** encodeRequest: a signed request exactly as a Python dendrite builds it. Pure (the signer is injected). */
import { synapseBodyJson } from './body.js';
import { checkEncode, checkTsValue, specLayout } from './fields.js';
import { finishHeaders, terminalHeaders } from './headers.js';
import { PY_DUMPS_DEFAULT } from './json.js';
import { pyFloatRepr } from './python.js';
import { computeBodyHash, signingMessage } from './signing.js';
import { ProtocolError } from './status.js';
import { emptyTerminalInfo, resolveSynapse, type RequestFields, type SpecOf, type SynapseRef, type SynapseSpec, type TerminalInfo } from './synapses.js';
import { BITTENSOR_WIRE_VERSION, TERMINAL_LIMITS, TOKEN } from './terminalInfo.js';

export interface DendriteIdentity {
  hotkey: string;
  /** One per dendrite instance (Python uses uuid1); the axon tracks nonces per `{hotkey}:{uuid}`. */
  uuid: string;
  /** The dendrite's external IP, as Python sends it; omitted when null. */
  ip?: string | null;
  version?: number;
}

export interface AxonTarget {
  hotkey: string;
  ip: string;
  port: number;
}

export interface EncodeRequestParams<R extends SynapseRef> {
  synapse: R;
  /** Caller-set fields; the others keep their defaults. */
  fields: Partial<RequestFields<SpecOf<R>>>;
  timeoutSec: number;
  /** `time_ns()` now; must grow from one request to the next of this dendrite to the same axon. */
  nonce: bigint;
  dendrite: DendriteIdentity;
  axon: AxonTarget;
  /** sr25519 signature (64 bytes) of the message bytes with the dendrite's hotkey. */
  sign: (message: Uint8Array) => Uint8Array;
}

export interface EncodedRequest {
  /** `/{SynapseName}`: POST it to `http://{axon.ip}:{axon.port}{path}`. */
  path: string;
  headers: Record<string, string>;
  body: string;
  signingMessage: string;
  bodyHash: string;
}

/** Builds a request exactly as a Python dendrite (`preprocess_synapse_for_request`, `to_headers`, aiohttp `json=`) does. */
export function encodeRequest<R extends SynapseRef>(params: EncodeRequestParams<R>): EncodedRequest {
  const spec: SynapseSpec = resolveSynapse(params.synapse);
  const { dendrite, axon } = params;
  checkEncode(Number.isFinite(params.timeoutSec) && params.timeoutSec > 0 && params.timeoutSec <= 86_400, 'timeoutSec must be in (0, 86400]');
  checkEncode(typeof params.nonce === 'bigint' && params.nonce >= 0n && params.nonce <= TERMINAL_LIMITS.nonce.max, 'nonce must be a u64 bigint');
  checkEncode(TOKEN.test(dendrite.hotkey) && dendrite.hotkey.length <= 64, 'dendrite hotkey');
  checkEncode(TOKEN.test(dendrite.uuid) && dendrite.uuid.length <= 64, 'dendrite uuid');
  checkEncode(dendrite.ip == null || (TOKEN.test(dendrite.ip) && dendrite.ip.length <= 64), 'dendrite ip');
  checkEncode(TOKEN.test(axon.hotkey) && axon.hotkey.length <= 64, 'axon hotkey');
  checkEncode(TOKEN.test(axon.ip) && axon.ip.length <= 64, 'axon ip');
  checkEncode(Number.isInteger(axon.port) && axon.port >= 0 && axon.port <= 65_535, 'axon port');
  const version = dendrite.version ?? BITTENSOR_WIRE_VERSION;
  checkEncode(Number.isInteger(version) && version >= 0 && version <= 2_147_483_647, 'dendrite version');

  const given = params.fields as Record<string, unknown>;
  const fields: Record<string, unknown> = {};
  for (const { key, field } of specLayout(spec).fields) {
    const value = Object.hasOwn(given, key) && given[key] !== undefined ? given[key] : field.default;
    if (value === undefined) throw new ProtocolError('invalid-encode-input', `${spec.name}.${key} has no default and was not given`);
    const r = checkTsValue(field, value);
    if (!r.ok) throw new ProtocolError('invalid-encode-input', `${spec.name}.${key} ${r.reason}`);
    fields[key] = r.value;
  }
  const bodyHash = computeBodyHash(spec, fields as never);

  const dendriteInfo: TerminalInfo = {
    ...emptyTerminalInfo(),
    ip: dendrite.ip ?? null,
    version,
    nonce: params.nonce,
    uuid: dendrite.uuid,
    hotkey: dendrite.hotkey,
  };
  const axonInfo: TerminalInfo = { ...emptyTerminalInfo(), ip: axon.ip, port: axon.port, hotkey: axon.hotkey };
  const message = signingMessage({ nonce: params.nonce, dendriteHotkey: dendrite.hotkey, axonHotkey: axon.hotkey, uuid: dendrite.uuid, bodyHash });
  const signature = params.sign(new TextEncoder().encode(message));
  checkEncode(signature instanceof Uint8Array && signature.length === 64, 'sign() must return a 64-byte sr25519 signature');
  dendriteInfo.signature = `0x${Buffer.from(signature).toString('hex')}`;

  // Python's body: model_dump() in declaration order; header_size stays 0 and
  // computed_body_hash "" (frozen); total_size equals the header's (set by to_headers first).
  const renderBody = (totalSize: number): string =>
    synapseBodyJson(
      spec,
      { timeout: params.timeoutSec, totalSize, headerSize: 0, dendrite: dendriteInfo, axon: axonInfo, computedBodyHash: '' },
      fields,
      PY_DUMPS_DEFAULT,
    );
  let totalSize = 0;
  let body = renderBody(totalSize);
  for (let round = 0; round < 4 && Buffer.byteLength(body, 'utf8') !== totalSize; round++) {
    totalSize = Buffer.byteLength(body, 'utf8');
    body = renderBody(totalSize);
  }

  const headers: Record<string, string> = { name: spec.name, timeout: pyFloatRepr(params.timeoutSec) };
  terminalHeaders('axon', axonInfo, headers);
  terminalHeaders('dendrite', dendriteInfo, headers);
  finishHeaders(spec, fields, headers, totalSize);
  headers['content-type'] = 'application/json';
  return { path: `/${spec.name}`, headers, body, signingMessage: message, bodyHash };
}
