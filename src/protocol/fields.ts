/**
 * Fields: a synapse's declared fields as the wire carries them. How each JSON value is read into a
 * typed field (our strict rules, or pydantic's lax mode for score parity), how our own values are
 * checked before they are written, and the per-synapse layout the body writer uses. Pure.
 */
import { pyJsonString, PyFloat, type JsonObject, type JsonValue, type PyJson } from './json.js';
import { pydanticLaxBool, pydanticLaxFloat, pydanticLaxInt } from './python.js';
import { ProtocolError } from './status.js';
import { ENVELOPE_WIRE_KEYS, type FieldSpec, type SynapseSpec } from './synapses.js';

interface FieldLayout {
  key: string;
  field: FieldSpec;
  /** `,"key":` and `, "key": `: the key as it follows the previous one in a compact / default json.dumps. */
  compactKey: string;
  spacedKey: string;
}

interface SpecLayout {
  fields: readonly FieldLayout[];
  /** No field reuses a common key or `__proto__`, so the body can be written field by field. */
  plainKeys: boolean;
}

/** Computed once per declaration (declarations are not changed after they are made). */
const LAYOUTS = new WeakMap<object, SpecLayout>();

export function specLayout(spec: SynapseSpec): SpecLayout {
  let layout = LAYOUTS.get(spec.fields);
  if (layout === undefined) {
    const fields = Object.entries(spec.fields).map(([key, field]) => {
      const json = pyJsonString(key, true);
      return { key, field, compactKey: `,${json}:`, spacedKey: `, ${json}: ` };
    });
    const common = new Set<string>([...ENVELOPE_WIRE_KEYS, '__proto__']);
    layout = { fields, plainKeys: fields.every((f) => !common.has(f.key)) };
    LAYOUTS.set(spec.fields, layout);
  }
  return layout;
}

// --- field values: checks and conversions ------------------------------------------------------

/** How strictly JSON values are read into typed fields. */
export type Coercion =
  /** Exact JSON types and our range/length limits (default). */
  | 'strict'
  /** What a Python dendrite accepts (pydantic lax mode: `"12"` → 12, `"yes"` → true; no limits), for score parity. */
  | 'python';

type FieldResult = { ok: true; value: string | number | boolean | null } | { ok: false; reason: string };
const ok = (value: string | number | boolean | null): FieldResult => ({ ok: true, value });
const bad = (reason: string): FieldResult => ({ ok: false, reason });

export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'bigint') return 'an integer';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a float literal' : 'a float';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return 'a boolean';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Map) return 'an object';
  return typeof v;
}

/** Checks a TypeScript value against a field's type and limits (our own values, before encoding). */
export function checkTsValue(field: FieldSpec, v: unknown): FieldResult {
  if (v === null) return field.nullable ? ok(null) : bad('must not be null');
  switch (field.type) {
    case 'string':
      if (typeof v !== 'string') return bad(`must be a string, got ${describeValue(v)}`);
      return v.length <= field.maxLength ? ok(v) : bad(`longer than ${field.maxLength} characters`);
    case 'int':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return bad(`must be an integer, got ${describeValue(v)}`);
      return v >= field.min && v <= field.max ? ok(v) : bad(`out of range ${field.min}..${field.max}`);
    case 'float':
      if (typeof v !== 'number' || !Number.isFinite(v)) return bad(`must be a finite number, got ${describeValue(v)}`);
      return v >= field.min && v <= field.max ? ok(v) : bad(`out of range ${field.min}..${field.max}`);
    case 'bool':
      return typeof v === 'boolean' ? ok(v) : bad(`must be a boolean, got ${describeValue(v)}`);
  }
}

/** Reads a JSON value into a field: exact types (integers written as integers) and our limits. */
function readFieldStrict(field: FieldSpec, v: JsonValue): FieldResult {
  if (field.type === 'int') {
    if (v === null) return field.nullable ? ok(null) : bad('must not be null');
    if (typeof v !== 'bigint') return bad(`must be an integer, got ${describeValue(v)}`);
    if (v < BigInt(field.min) || v > BigInt(field.max)) return bad(`out of range ${field.min}..${field.max}`);
    return ok(Number(v));
  }
  if (field.type === 'float' && typeof v === 'bigint') return checkTsValue(field, Number(v));
  return checkTsValue(field, v);
}

/** Reads a JSON value into a field as pydantic 2 (lax mode) would, without our limits. */
export function readFieldPython(field: FieldSpec, v: JsonValue): FieldResult {
  if (v === null) return field.nullable ? ok(null) : bad('must not be null');
  switch (field.type) {
    case 'string':
      return typeof v === 'string' ? ok(v) : bad(`must be a string, got ${describeValue(v)}`);
    case 'int': {
      const i = pydanticLaxInt(v);
      return i === undefined ? bad(`is not an integer for pydantic: ${describeValue(v)}`) : ok(Number(i));
    }
    case 'float': {
      const f = pydanticLaxFloat(v);
      return f === undefined ? bad(`is not a float for pydantic: ${describeValue(v)}`) : ok(f);
    }
    case 'bool': {
      const b = pydanticLaxBool(v);
      return b === undefined ? bad(`is not a boolean for pydantic: ${describeValue(v)}`) : ok(b);
    }
  }
}

export function toPyJson(field: FieldSpec, v: unknown): PyJson {
  if (v === null || v === undefined) return null;
  if (field.type === 'float') return new PyFloat(v as number);
  return v as string | number | boolean;
}

/**
 * Reads every field of a synapse from a body object. Missing fields take their defaults;
 * a missing field without default (Python "required") is an error; unknown keys are ignored
 * like pydantic does.
 */
export function readSynapseFields(spec: SynapseSpec, body: JsonObject, coercion: Coercion): { fields: Record<string, unknown> } | { error: string } {
  const fields: Record<string, unknown> = {};
  for (const { key, field } of specLayout(spec).fields) {
    const raw = body.get(key); // a parsed JSON value is never undefined: undefined means absent
    if (raw === undefined) {
      if (field.default === undefined) return { error: `missing field ${key}` };
      fields[key] = field.default;
      continue;
    }
    const r = coercion === 'strict' ? readFieldStrict(field, raw) : readFieldPython(field, raw);
    if (!r.ok) return { error: `field ${key} ${r.reason}` };
    fields[key] = r.value;
  }
  return { fields };
}

/** The `{ error }` arm of the readers' results. */
export const isError = (x: unknown): x is { error: string } => typeof x === 'object' && x !== null && 'error' in x;

/** An encoder's precondition: our own values must fit the wire, else `invalid-encode-input`. */
export function checkEncode(cond: boolean, what: string): void {
  if (!cond) throw new ProtocolError('invalid-encode-input', what);
}
