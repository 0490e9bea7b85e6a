/**
 * Signing: the message a dendrite signs and an axon verifies, the body hash it covers, and the
 * signature text as each side reads it. Pure.
 */
import { createHash } from 'node:crypto';
import { pyFloatRepr } from './python.js';
import { resolveSynapse, type FieldSpec, type SpecOf, type SynapseFields, type SynapseRef, type SynapseSpec } from './synapses.js';

const sha3Hex = (text: string): string => createHash('sha3-256').update(text, 'utf8').digest('hex');

/** sha3-256 of "": the body hash of every synapse without `required_hash_fields` (both of ours). */
export const EMPTY_BODY_HASH = sha3Hex('');

export interface SigningMessageParams {
  nonce: bigint | null;
  dendriteHotkey: string | null;
  axonHotkey: string | null;
  uuid: string | null;
  bodyHash: string | null;
}

/**
 * The text a dendrite signs and an axon verifies: `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}.{body_hash}`.
 * Missing parts print as Python's `None`, exactly as the Python axon builds it for verification.
 */
export function signingMessage(p: SigningMessageParams): string {
  const s = (v: string | bigint | null): string => (v === null ? 'None' : String(v));
  return `${s(p.nonce)}.${s(p.dendriteHotkey)}.${s(p.axonHotkey)}.${s(p.uuid)}.${s(p.bodyHash)}`;
}

/** The message a Python axon signs into `bt_header_axon_signature` (no body hash): `{nonce}.{dendrite_hotkey}.{axon_hotkey}.{uuid}`. */
export function axonSigningMessage(p: Omit<SigningMessageParams, 'bodyHash'>): string {
  const s = (v: string | bigint | null): string => (v === null ? 'None' : String(v));
  return `${s(p.nonce)}.${s(p.dendriteHotkey)}.${s(p.axonHotkey)}.${s(p.uuid)}`;
}

/** `0x` + hex of a 64-byte sr25519 signature → bytes; null when it is not that shape. */
export function parseSignatureHex(signature: string | null): Uint8Array | null {
  if (signature === null) return null;
  const start = signature.startsWith('0x') ? 2 : 0;
  if (signature.length - start !== 128) return null;
  const bytes = new Uint8Array(64);
  for (let k = 0; k < 64; k++) {
    const hi = hexValue(signature.charCodeAt(start + 2 * k));
    const lo = hexValue(signature.charCodeAt(start + 2 * k + 1));
    if (hi < 0 || lo < 0) return null;
    bytes[k] = (hi << 4) | lo;
  }
  return bytes;
}

/** 0–15 for an ASCII hex digit, else -1. */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** Python's `str()` of a field value after pydantic coercion: `True`, `None`, `12`, `12.0`, the string itself. */
function pyStrOfValue(field: FieldSpec, value: unknown): string {
  if (value === null || value === undefined) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return field.type === 'float' ? pyFloatRepr(value) : Number.isInteger(value) ? String(value) : pyFloatRepr(value);
  return String(value);
}

/**
 * bittensor's `Synapse.body_hash`: sha3-256 over the concatenated sha3-256 hex digests of
 * `str(value)` of each `required_hash_fields` entry (lowercase hex, no `0x`). Fields not
 * given take their defaults.
 */
export function computeBodyHash<R extends SynapseRef>(synapse: R, values: Partial<SynapseFields<SpecOf<R>>>): string {
  const spec: SynapseSpec = resolveSynapse(synapse);
  // No hash fields (both Subnet 58 synapses): the hash is a constant; skip the sha3 per request.
  if (spec.hashFields.length === 0) return EMPTY_BODY_HASH;
  const given = values as Record<string, unknown>;
  let joined = '';
  for (const key of spec.hashFields) {
    const field = spec.fields[key]!;
    const value = Object.hasOwn(given, key) ? given[key] : field.default;
    joined += sha3Hex(pyStrOfValue(field, value));
  }
  return sha3Hex(joined);
}

// --- the signature text as a Python axon reads it -------------------------------------------

/**
 * How a Python axon reads the `bt_header_dendrite_signature` text before it verifies it:
 * `bittensor_wallet.Keypair.verify` (Rust) wants `0x` + hex of the UTF-8 bytes, decoded with the
 * `hex` crate, and a 64-byte sr25519 signature. Each failure has its own message, which the
 * axon sends back as `Not Verified with error: <message>`; we send the same words.
 */

export type SignatureText = { ok: true; bytes: Uint8Array } | { ok: false; error: string };

export const SIGNATURE_ERRORS = {
  notHex: 'Invalid signature format. Expected hex string.',
  oddLength: 'Invalid hex string: OddLength',
  invalidCharacter: (byte: number, index: number): string => `Invalid hex string: InvalidHexCharacter { c: ${rustCharDebug(byte)}, index: ${index} }`,
  notSr25519: 'Invalid SR25519 signature.',
} as const;

/** Rust's `{:?}` of the char with this code (0–255): quotes, the usual escapes, `\u{…}` for the unprintable. */
function rustCharDebug(code: number): string {
  const escapes: Record<number, string> = { 0x00: '\\0', 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r', 0x27: "\\'", 0x5c: '\\\\' };
  const text = escapes[code] ?? (code < 0x20 || (code >= 0x7f && code <= 0xa0) || code === 0xad ? `\\u{${code.toString(16)}}` : String.fromCharCode(code));
  return `'${text}'`;
}

/** The signature bytes as the Python axon reads them, or the message its verify raises. */
export function readSignatureText(signature: string): SignatureText {
  if (!signature.startsWith('0x')) return { ok: false, error: SIGNATURE_ERRORS.notHex };
  const hex = Buffer.from(signature.slice(2), 'utf8');
  if (hex.length % 2 !== 0) return { ok: false, error: SIGNATURE_ERRORS.oddLength };
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < hex.length; i += 2) {
    const hi = hexValue(hex[i]!);
    if (hi < 0) return { ok: false, error: SIGNATURE_ERRORS.invalidCharacter(hex[i]!, i) };
    const lo = hexValue(hex[i + 1]!);
    if (lo < 0) return { ok: false, error: SIGNATURE_ERRORS.invalidCharacter(hex[i + 1]!, i + 1) };
    bytes[i / 2] = (hi << 4) | lo;
  }
  return bytes.length === 64 ? { ok: true, bytes } : { ok: false, error: SIGNATURE_ERRORS.notSr25519 };
}
