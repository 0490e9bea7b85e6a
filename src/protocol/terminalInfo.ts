/**
 * TerminalInfo: the `dendrite` and `axon` records of a synapse (status, process time, ip, port,
 * version, nonce, uuid, hotkey, signature), read from JSON under our strict rules or as Python's
 * TerminalInfo casts them, reduced to what an error answer may echo, and written as json.dumps
 * writes their `model_dump()`. Pure.
 */
import { describeValue, type Coercion } from './fields.js';
import { PyFloat, pyJsonDumps, pyJsonFloat, type JsonValue, type PyJson, type PyJsonStyle } from './json.js';
import { pyFloat, pyInt } from './python.js';
import { emptyTerminalInfo, TERMINAL_INFO_FIELDS, type TerminalInfo } from './synapses.js';

/** `bt_header_dendrite_version` we send: bittensor 10.5.0 (`major·10⁶ + minor·10³ + patch`), whose wire we mirror. */
export const BITTENSOR_WIRE_VERSION = 10_005_000;
/** From this version on, a Python axon applies the nonce freshness window. */
export const NONCE_WINDOW_VERSION = 7_002_000;

// --- reading ---------------------------------------------------------------------------------

/** Visible ASCII: safe in a header, and all a hotkey/uuid/ip/signature needs. */
export const TOKEN = /^[\x21-\x7e]+$/;
/** Our limits on the values of a TerminalInfo (strict reading, and what we echo or send). */
export const TERMINAL_LIMITS = {
  statusCode: { min: 0n, max: 999n },
  port: { min: 0n, max: 65_535n },
  version: { min: 0n, max: 2_147_483_647n },
  nonce: { min: 0n, max: 2n ** 64n - 1n },
  processTime: { min: 0, max: 1e9 },
  statusMessage: 4096,
  token: { ip: 64, uuid: 64, hotkey: 64, signature: 256 } as Record<string, number>,
} as const;

type TerminalKey = keyof TerminalInfo;

/** One TerminalInfo value from JSON under our strict rules; undefined when invalid. */
function terminalValueStrict(key: TerminalKey, kind: string, v: JsonValue): TerminalInfo[TerminalKey] | undefined {
  if (v === null) return null;
  if (kind === 'int' || kind === 'bigint') {
    if (typeof v !== 'bigint') return undefined;
    const lim = TERMINAL_LIMITS[key as 'statusCode' | 'port' | 'version' | 'nonce'];
    if (v < lim.min || v > lim.max) return undefined;
    return kind === 'bigint' ? v : Number(v);
  }
  if (kind === 'float') {
    const x = typeof v === 'bigint' ? Number(v) : v;
    if (typeof x !== 'number' || !Number.isFinite(x) || x < TERMINAL_LIMITS.processTime.min || x > TERMINAL_LIMITS.processTime.max) return undefined;
    return x;
  }
  if (typeof v !== 'string') return undefined;
  if (key === 'statusMessage') return v.length <= TERMINAL_LIMITS.statusMessage ? v : undefined;
  return v.length <= (TERMINAL_LIMITS.token[key] ?? 64) && TOKEN.test(v) ? v : undefined;
}

/** Request-header TerminalInfo reduced to what an error answer echoes: values of their wire type within our limits. */
export function echoable(info: TerminalInfo): TerminalInfo {
  const out = emptyTerminalInfo() as unknown as Record<string, unknown>;
  for (const f of TERMINAL_INFO_FIELDS) {
    const v = info[f.key];
    if (v === null) continue;
    const value = terminalValueStrict(f.key, f.kind, typeof v === 'number' && f.kind !== 'float' ? BigInt(v) : v);
    if (value !== undefined) out[f.key] = value;
  }
  return out as unknown as TerminalInfo;
}

/** One TerminalInfo value from JSON as Python's TerminalInfo does (`cast_int` / `cast_float` = `int()` / `float()`, lax str). */
function terminalValuePython(kind: string, v: JsonValue): TerminalInfo[TerminalKey] | undefined {
  if (v === null) return null;
  if (kind === 'int' || kind === 'bigint') {
    const i = pyInt(v);
    if (i === undefined || i === null) return undefined;
    return kind === 'bigint' ? i : Number(i);
  }
  if (kind === 'float') {
    const f = pyFloat(v);
    return f === undefined || f === null ? undefined : f;
  }
  return typeof v === 'string' ? v : undefined;
}

export function readTerminalInfo(v: JsonValue | undefined, coercion: Coercion, where: string): TerminalInfo | null | { error: string } {
  if (v === undefined) return emptyTerminalInfo(); // pydantic default: TerminalInfo()
  if (v === null) return null;
  if (!(v instanceof Map)) return { error: `${where} must be an object, got ${describeValue(v)}` };
  // Values by position, then one object literal (its keys in TERMINAL_INFO_FIELDS order, checked
  // below): stores under computed keys would be megamorphic.
  const values: TerminalInfo[TerminalKey][] = [null, null, null, null, null, null, null, null, null, null];
  for (let k = 0; k < TERMINAL_INFO_FIELDS.length; k++) {
    const f = TERMINAL_INFO_FIELDS[k]!;
    const raw = v.get(f.wire);
    if (raw === undefined) continue;
    const value = coercion === 'strict' ? terminalValueStrict(f.key, f.kind, raw) : terminalValuePython(f.kind, raw);
    if (value === undefined) return { error: `${where}.${f.wire} is invalid (${describeValue(raw)})` };
    values[k] = value;
  }
  return {
    statusCode: values[0] as number | null,
    statusMessage: values[1] as string | null,
    processTime: values[2] as number | null,
    ip: values[3] as string | null,
    port: values[4] as number | null,
    version: values[5] as number | null,
    nonce: values[6] as bigint | null,
    uuid: values[7] as string | null,
    hotkey: values[8] as string | null,
    signature: values[9] as string | null,
  };
}

if (TERMINAL_INFO_FIELDS.map((f) => f.key).join() !== Object.keys(emptyTerminalInfo()).join()) {
  throw new Error('readTerminalInfo: TERMINAL_INFO_FIELDS and TerminalInfo disagree on the field order');
}

// --- writing ---------------------------------------------------------------------------------

/** `{"status_code":`, `,"status_message":`, … (compact) and `{"status_code": `, `, "status_message": `, … */
const TERMINAL_JSON_KEYS_COMPACT = TERMINAL_INFO_FIELDS.map((f, k) => `${k === 0 ? '{' : ','}"${f.wire}":`);
const TERMINAL_JSON_KEYS_SPACED = TERMINAL_INFO_FIELDS.map((f, k) => `${k === 0 ? '{' : ', '}"${f.wire}": `);

/** A TerminalInfo as json.dumps writes its `model_dump()`, written directly (no intermediate object). */
export function terminalJson(info: TerminalInfo | null, style: PyJsonStyle): string {
  if (info === null) return 'null';
  const keys = style.compact ? TERMINAL_JSON_KEYS_COMPACT : TERMINAL_JSON_KEYS_SPACED;
  let out = '';
  for (let k = 0; k < TERMINAL_INFO_FIELDS.length; k++) {
    const f = TERMINAL_INFO_FIELDS[k]!;
    const v = info[f.key];
    out += keys[k]! + (v === null ? 'null' : f.kind === 'float' ? pyJsonFloat(v as number) : pyJsonDumps(v as string | number | bigint, style));
  }
  return `${out}}`;
}

export function terminalToPyJson(info: TerminalInfo | null): PyJson {
  if (info === null) return null;
  const out: Record<string, PyJson> = {};
  for (const f of TERMINAL_INFO_FIELDS) {
    const v = info[f.key];
    out[f.wire] = v === null ? null : f.kind === 'float' ? new PyFloat(v as number) : (v as string | number | bigint);
  }
  return out;
}
