/**
 * Synapse definitions, declared once: each field says its wire name (the Python attribute),
 * type, default, who sets it, and the limits our strict codec enforces. The codec, the
 * TypeScript types of requests and responses, and the registry all derive from these
 * declarations, so a new synapse is one `defineSynapse({...})` added to `SYNAPSE_LIST`.
 *
 * Field names stay the Python snake_case names: they are the wire format, and every subnet
 * author reads them that way. Our own structures (TerminalInfo, envelopes) are camelCase.
 */
import { ProtocolError } from './status.js';

export type FieldType = 'string' | 'int' | 'float' | 'bool';
/** `request`: the caller (validator) sets it; `response`: the axon (miner) fills it. */
export type FieldRole = 'request' | 'response';

interface FieldCommon {
  role: FieldRole;
  /** `Optional[...]` in Python: null is a valid value. */
  nullable: boolean;
  description: string;
}
/**
 * `default` absent means the Python field has no default (pydantic "required"): a Python
 * dendrite then sends a `bt_header_input_obj_<field>` header and the body must carry it.
 */
export interface StringFieldSpec extends FieldCommon {
  type: 'string';
  default?: string | null;
  /** Longest value our strict codec accepts (UTF-16 code units). */
  maxLength: number;
}
export interface IntFieldSpec extends FieldCommon {
  type: 'int';
  default?: number | null;
  min: number;
  max: number;
}
export interface FloatFieldSpec extends FieldCommon {
  type: 'float';
  default?: number | null;
  min: number;
  max: number;
}
export interface BoolFieldSpec extends FieldCommon {
  type: 'bool';
  default?: boolean | null;
}
export type FieldSpec = StringFieldSpec | IntFieldSpec | FloatFieldSpec | BoolFieldSpec;

export interface SynapseSpec {
  /** The Python class name: the URL path `/{name}` and the `name` field. */
  name: string;
  description: string;
  /** In Python declaration order (it is the JSON key order). */
  fields: Readonly<Record<string, FieldSpec>>;
  /** `required_hash_fields`: fields whose values the signed body hash covers, in this order. */
  hashFields: readonly string[];
}

type BaseValue<F> = F extends { type: 'string' } ? string : F extends { type: 'int' | 'float' } ? number : F extends { type: 'bool' } ? boolean : never;
export type FieldValue<F> = BaseValue<F> | (F extends { nullable: true } ? null : never);

/** Every field of a synapse with its TypeScript type (what `deserialize()` returns in Python). */
export type SynapseFields<S extends SynapseSpec> = { -readonly [K in keyof S['fields'] & string]: FieldValue<S['fields'][K]> };
/** The fields the caller sets. */
export type RequestFields<S extends SynapseSpec> = {
  -readonly [K in keyof S['fields'] & string as S['fields'][K] extends { role: 'request' } ? K : never]: FieldValue<S['fields'][K]>;
};
/** The fields the axon fills. */
export type ResponseFields<S extends SynapseSpec> = {
  -readonly [K in keyof S['fields'] & string as S['fields'][K] extends { role: 'response' } ? K : never]: FieldValue<S['fields'][K]>;
};

/** The keys of the common synapse fields on the wire; a synapse field may not reuse them. */
export const ENVELOPE_WIRE_KEYS = ['name', 'timeout', 'total_size', 'header_size', 'dendrite', 'axon', 'computed_body_hash'] as const;
const RESERVED = new Set<string>([...ENVELOPE_WIRE_KEYS, 'required_hash_fields', 'body_hash']);
const PY_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a declaration once at load time and freezes it; `const` keeps the literal types for the derived types. */
export function defineSynapse<const S extends SynapseSpec>(spec: S): S {
  const bad = (why: string): never => {
    throw new ProtocolError('invalid-encode-input', `synapse ${spec.name}: ${why}`);
  };
  if (!PY_IDENTIFIER.test(spec.name)) bad('name must be a Python class name');
  for (const [key, field] of Object.entries(spec.fields)) {
    if (!PY_IDENTIFIER.test(key) || RESERVED.has(key)) bad(`field name ${key} is not allowed`);
    if ((field.type === 'int' || field.type === 'float') && !(field.min <= field.max)) bad(`${key}: min > max`);
    if (field.type === 'int' && !(Number.isSafeInteger(field.min) && Number.isSafeInteger(field.max))) bad(`${key}: limits must be safe integers`);
    if (field.type === 'string' && !(Number.isSafeInteger(field.maxLength) && field.maxLength >= 0)) bad(`${key}: maxLength`);
    if (field.default === null && !field.nullable) bad(`${key}: null default on a non-nullable field`);
  }
  for (const h of spec.hashFields) if (!Object.hasOwn(spec.fields, h)) bad(`hash field ${h} is not a field`);
  // Deeply frozen: the codec caches each spec's field layout.
  for (const field of Object.values(spec.fields)) Object.freeze(field);
  Object.freeze(spec.fields);
  Object.freeze(spec.hashFields);
  return Object.freeze(spec);
}

// --- the Subnet 58 synapses ------------------------------------------------------------------

/** Generation A ("DRAIN scoring"): empty request; the miner proves its Polygon wallet. */
export const ProviderCheck = defineSynapse({
  name: 'ProviderCheck',
  description: 'Validator asks the miner for its Polygon wallet, an EIP-191 proof over its hotkey, and its API URL.',
  fields: {
    polygon_wallet: { type: 'string', role: 'response', nullable: true, default: null, maxLength: 256, description: 'Polygon address (0x + 40 hex).' },
    wallet_proof: {
      type: 'string',
      role: 'response',
      nullable: true,
      default: null,
      maxLength: 1024,
      description: 'personal_sign of "Bittensor Subnet 58 Miner: {hotkey}", hex.',
    },
    api_url: { type: 'string', role: 'response', nullable: true, default: null, maxLength: 2048, description: "The miner's provider API URL." },
  },
  hashFields: [],
});

/** Generation C ("network oracle"): the validator names a provider URL, the miner probes it. */
export const ProviderProbe = defineSynapse({
  name: 'ProviderProbe',
  description: 'Validator sends a provider URL; the miner GETs it and reports reachability, status and latency.',
  fields: {
    target_url: { type: 'string', role: 'request', nullable: false, default: '', maxLength: 2048, description: 'URL to probe.' },
    probe_latency_ms: {
      type: 'int',
      role: 'response',
      nullable: true,
      default: null,
      min: 0,
      max: 600_000,
      description: 'Whole GET including redirects and body, in ms.',
    },
    probe_status: {
      type: 'int',
      role: 'response',
      nullable: true,
      default: null,
      min: 0,
      max: 999,
      description: 'HTTP status of the final answer; 0 when unreachable.',
    },
    probe_reachable: { type: 'bool', role: 'response', nullable: true, default: null, description: 'Whether any HTTP answer came back.' },
  },
  hashFields: [],
});

/** Every synapse this project speaks. Add a declaration here to add a synapse. */
export const SYNAPSE_LIST = [ProviderCheck, ProviderProbe] as const;

export type KnownSynapse = (typeof SYNAPSE_LIST)[number];
export type SynapseName = KnownSynapse['name'];
export type SynapseByName<N extends SynapseName> = Extract<KnownSynapse, { name: N }>;
/** A synapse given by name (the registry) or by its declaration (e.g. one defined in a test). */
export type SynapseRef = SynapseName | SynapseSpec;
export type SpecOf<R> = R extends SynapseName ? SynapseByName<R> : R extends SynapseSpec ? R : never;

const REGISTRY: ReadonlyMap<string, SynapseSpec> = new Map(SYNAPSE_LIST.map((s) => [s.name, s]));

/** True for the names of synapses we serve; safe for any string (`__proto__`, `constructor`, …). */
export function isKnownSynapse(name: string): name is SynapseName {
  return REGISTRY.has(name);
}

/** Names in registry order (for the axon's 404 message). */
export function synapseNames(): SynapseName[] {
  return SYNAPSE_LIST.map((s) => s.name);
}

export function getSynapse<N extends SynapseName>(name: N): SynapseByName<N> {
  return REGISTRY.get(name) as SynapseByName<N>;
}

/** Resolves a name or a declaration; an unknown name is a ProtocolError (404). */
export function resolveSynapse<R extends SynapseRef>(ref: R): SpecOf<R> {
  if (typeof ref !== 'string') return ref as SpecOf<R>;
  const spec = REGISTRY.get(ref);
  if (!spec) throw new ProtocolError('unknown-synapse', `unknown synapse ${JSON.stringify(String(ref).slice(0, 64))}`);
  return spec as SpecOf<R>;
}

/** The Python defaults of every field (what `Synapse()` holds before anyone sets anything). */
export function defaultFields<S extends SynapseSpec>(spec: S): Partial<SynapseFields<S>> {
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(spec.fields)) if (field.default !== undefined) out[key] = field.default;
  return out as Partial<SynapseFields<S>>;
}

// --- the common part of every synapse ---------------------------------------------------------

/** bittensor's `TerminalInfo`: one end of a call (the `dendrite` and `axon` objects). */
export interface TerminalInfo {
  statusCode: number | null;
  statusMessage: string | null;
  /** Seconds. */
  processTime: number | null;
  ip: string | null;
  port: number | null;
  version: number | null;
  /** `time_ns()` of the sender: 19 digits, beyond a double's precision. */
  nonce: bigint | null;
  uuid: string | null;
  hotkey: string | null;
  signature: string | null;
}

/** TerminalInfo's fields in Python declaration order (the JSON and header order), with wire names and kinds. */
export const TERMINAL_INFO_FIELDS = [
  { key: 'statusCode', wire: 'status_code', kind: 'int' },
  { key: 'statusMessage', wire: 'status_message', kind: 'string' },
  { key: 'processTime', wire: 'process_time', kind: 'float' },
  { key: 'ip', wire: 'ip', kind: 'string' },
  { key: 'port', wire: 'port', kind: 'int' },
  { key: 'version', wire: 'version', kind: 'int' },
  { key: 'nonce', wire: 'nonce', kind: 'bigint' },
  { key: 'uuid', wire: 'uuid', kind: 'string' },
  { key: 'hotkey', wire: 'hotkey', kind: 'string' },
  { key: 'signature', wire: 'signature', kind: 'string' },
] as const satisfies readonly { key: keyof TerminalInfo; wire: string; kind: 'int' | 'float' | 'string' | 'bigint' }[];

export function emptyTerminalInfo(): TerminalInfo {
  return {
    statusCode: null,
    statusMessage: null,
    processTime: null,
    ip: null,
    port: null,
    version: null,
    nonce: null,
    uuid: null,
    hotkey: null,
    signature: null,
  };
}

/** The fields every synapse carries besides its own (bittensor's `Synapse` base class). */
export interface SynapseEnvelope {
  timeout: number | null;
  totalSize: number | null;
  headerSize: number | null;
  dendrite: TerminalInfo | null;
  axon: TerminalInfo | null;
  computedBodyHash: string | null;
}

/** The default `timeout` of a Python synapse, seconds. */
export const DEFAULT_TIMEOUT_SEC = 12;
