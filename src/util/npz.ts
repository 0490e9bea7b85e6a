/**
 * A reader for numpy's `.npz` files (what `np.savez` and `np.savez_compressed` write): a zip
 * archive of `.npy` arrays. It reads the arrays a Python validator saves (1-d float and unicode
 * arrays, 0-d integers) and refuses everything else by name. Object arrays are pickles: they are
 * refused, never unpickled. Nothing here touches the file system; pass the bytes in.
 *
 * Zip: the central directory is the source of truth (numpy writes zip64 local headers with sizes
 * 0xFFFFFFFF, forced on every entry); entries are stored or deflated; every CRC-32 is checked.
 * `.npy`: format versions 1, 2 and 3; the header is a Python dict literal with `descr`,
 * `fortran_order` and `shape`.
 */
import { inflateRawSync } from 'node:zlib';
import { Hs58Error } from '../errors.js';

export type NpzErrorCode =
  /** Not a zip or `.npy` file, truncated, or failing its CRC. */
  | 'NPZ_INVALID'
  /** Well formed, but uses something this reader does not read (dtype, ndim > 1, encryption, compression method). */
  | 'NPZ_UNSUPPORTED'
  /** An object array: numpy stores it as a pickle, which is never loaded here. */
  | 'NPZ_PICKLE_REFUSED';

export class NpzError extends Hs58Error<NpzErrorCode> {
  override name = 'NpzError';
}

/** The values of one array, flattened (a 0-d array has one value). */
export type NpyValues = { kind: 'float'; values: Float64Array } | { kind: 'int'; values: bigint[] } | { kind: 'unicode'; values: string[] };

export type NpyArray = NpyValues & {
  /** numpy's dtype string, e.g. `<f4`, `<i8`, `<U48`. */
  descr: string;
  /** `[]` for a 0-d array, `[n]` for a vector. */
  shape: number[];
};

/** Largest uncompressed entry read (a 256-uid state is a few kB). */
export const MAX_ENTRY_BYTES = 64 * 1024 * 1024;

const invalid = (message: string, details: Record<string, unknown> = {}) => new NpzError('NPZ_INVALID', message, { details });
const unsupported = (message: string, details: Record<string, unknown> = {}) => new NpzError('NPZ_UNSUPPORTED', message, { details });

// --- zip ----------------------------------------------------------------------------------------

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const U32_MAX = 0xffffffff;

interface ZipEntry {
  name: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function need(bytes: Uint8Array, offset: number, length: number, what: string): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || offset + length > bytes.length)
    throw invalid(`truncated file: ${what} lies beyond its end`, { offset, length });
}

function u64(v: DataView, at: number, what: string): number {
  const n = v.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(`${what} is too large`);
  return Number(n);
}

function findEndOfCentralDirectory(bytes: Uint8Array): number {
  const v = view(bytes);
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let at = bytes.length - 22; at >= lowest; at--) {
    if (v.getUint32(at, true) === SIG_EOCD) return at;
  }
  throw invalid('not a zip file (no end of central directory record)');
}

function centralDirectory(bytes: Uint8Array): { offset: number; size: number; count: number } {
  const v = view(bytes);
  const eocd = findEndOfCentralDirectory(bytes);
  let count = v.getUint16(eocd + 10, true);
  let size = v.getUint32(eocd + 12, true);
  let offset = v.getUint32(eocd + 16, true);
  if (v.getUint16(eocd + 4, true) !== 0 || v.getUint16(eocd + 6, true) !== 0) throw unsupported('multi-disk zip archives are not read');
  if (count === 0xffff || size === U32_MAX || offset === U32_MAX) {
    const locator = eocd - 20;
    need(bytes, locator, 20, 'the zip64 locator');
    if (v.getUint32(locator, true) !== SIG_ZIP64_LOCATOR) throw invalid('zip64 end of central directory locator missing');
    const at = u64(v, locator + 8, 'zip64 record offset');
    need(bytes, at, 56, 'the zip64 end of central directory');
    if (v.getUint32(at, true) !== SIG_ZIP64_EOCD) throw invalid('zip64 end of central directory record missing');
    count = u64(v, at + 32, 'entry count');
    size = u64(v, at + 40, 'central directory size');
    offset = u64(v, at + 48, 'central directory offset');
  }
  need(bytes, offset, size, 'the central directory');
  return { offset, size, count };
}

/** Sizes and offset from a zip64 extra field, for the fields the fixed header marks 0xFFFFFFFF. */
function applyZip64Extra(bytes: Uint8Array, extraStart: number, extraLength: number, entry: ZipEntry): void {
  const v = view(bytes);
  let at = extraStart;
  const end = extraStart + extraLength;
  while (at + 4 <= end) {
    const id = v.getUint16(at, true);
    const len = v.getUint16(at + 2, true);
    if (at + 4 + len > end) throw invalid('zip extra field overruns its header', { entry: entry.name });
    if (id === 0x0001) {
      let p = at + 4;
      const take = (what: string) => {
        if (p + 8 > at + 4 + len) throw invalid(`zip64 extra field lacks the ${what}`, { entry: entry.name });
        const n = u64(v, p, what);
        p += 8;
        return n;
      };
      if (entry.size === U32_MAX) entry.size = take('size');
      if (entry.compressedSize === U32_MAX) entry.compressedSize = take('compressed size');
      if (entry.localOffset === U32_MAX) entry.localOffset = take('local header offset');
    }
    at += 4 + len;
  }
}

function readEntries(bytes: Uint8Array): ZipEntry[] {
  const v = view(bytes);
  const cd = centralDirectory(bytes);
  const entries: ZipEntry[] = [];
  let at = cd.offset;
  for (let i = 0; i < cd.count; i++) {
    need(bytes, at, 46, 'a central directory entry');
    if (v.getUint32(at, true) !== SIG_CENTRAL) throw invalid('corrupt central directory entry', { index: i });
    const nameLength = v.getUint16(at + 28, true);
    const extraLength = v.getUint16(at + 30, true);
    const commentLength = v.getUint16(at + 32, true);
    need(bytes, at + 46, nameLength + extraLength + commentLength, 'a central directory entry');
    const entry: ZipEntry = {
      name: new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      flags: v.getUint16(at + 8, true),
      method: v.getUint16(at + 10, true),
      crc: v.getUint32(at + 16, true),
      compressedSize: v.getUint32(at + 20, true),
      size: v.getUint32(at + 24, true),
      localOffset: v.getUint32(at + 42, true),
    };
    applyZip64Extra(bytes, at + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function entryData(bytes: Uint8Array, entry: ZipEntry): Uint8Array {
  const v = view(bytes);
  if (entry.flags & 0x0001) throw unsupported('encrypted zip entries are not read', { entry: entry.name });
  if (entry.size > MAX_ENTRY_BYTES) throw unsupported(`entry ${entry.name} is larger than ${MAX_ENTRY_BYTES} bytes`, { entry: entry.name, size: entry.size });
  need(bytes, entry.localOffset, 30, 'a local file header');
  if (v.getUint32(entry.localOffset, true) !== SIG_LOCAL) throw invalid('corrupt local file header', { entry: entry.name });
  const start = entry.localOffset + 30 + v.getUint16(entry.localOffset + 26, true) + v.getUint16(entry.localOffset + 28, true);
  need(bytes, start, entry.compressedSize, `the data of ${entry.name}`);
  const raw = bytes.subarray(start, start + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) data = raw;
  else if (entry.method === 8) {
    try {
      data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
    } catch (err) {
      throw new NpzError('NPZ_INVALID', `entry ${entry.name} does not inflate`, { cause: err, details: { entry: entry.name } });
    }
  } else
    throw unsupported(`entry ${entry.name} uses zip compression method ${entry.method} (stored and deflate are read)`, {
      entry: entry.name,
      method: entry.method,
    });
  if (data.length !== entry.size) throw invalid(`entry ${entry.name} has ${data.length} bytes, its header says ${entry.size}`, { entry: entry.name });
  if (crc32(data) !== entry.crc) throw invalid(`entry ${entry.name} fails its CRC-32 check`, { entry: entry.name });
  return data;
}

let CRC_TABLE: Uint32Array | null = null;
/** CRC-32 (IEEE 802.3), as zip stores it. */
export function crc32(data: Uint8Array): number {
  if (CRC_TABLE === null) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// --- npy ----------------------------------------------------------------------------------------

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

type Literal = string | boolean | number[] | null;

/** The header dict: `{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }`; strings, booleans and int tuples only. */
export function parseNpyHeader(text: string): Map<string, Literal> {
  let i = 0;
  const fail = (what: string): never => {
    throw unsupported(`.npy header not read (${what}): ${JSON.stringify(text.trim().slice(0, 120))}`);
  };
  const ws = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string) => {
    ws();
    if (text[i] !== c) fail(`expected ${c}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = text[i];
    if (q !== "'" && q !== '"') return fail('expected a string');
    const end = text.indexOf(q, i + 1);
    if (end < 0) return fail('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) return fail('escaped string');
    i = end + 1;
    return s;
  };
  const value = (): Literal => {
    ws();
    if (text[i] === "'" || text[i] === '"') return str();
    for (const [word, v] of [
      ['True', true],
      ['False', false],
      ['None', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    if (text[i] !== '(') return fail('a value that is not a string, a boolean or a tuple of integers');
    i++;
    const dims: number[] = [];
    for (;;) {
      ws();
      if (text[i] === ')') break;
      const m = /^\d+/.exec(text.slice(i));
      if (!m) return fail('a tuple of something else than integers');
      dims.push(Number(m[0]));
      i += m[0].length;
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') fail('expected , or )');
    }
    i++;
    return dims;
  };
  const out = new Map<string, Literal>();
  expect('{');
  for (;;) {
    ws();
    if (text[i] === '}') break;
    const key = str();
    expect(':');
    out.set(key, value());
    ws();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') fail('expected , or }');
  }
  i++;
  ws();
  if (i !== text.length) fail('text after the dict');
  return out;
}

/** Reads one `.npy` file. `name` is for messages. */
export function readNpy(bytes: Uint8Array, name = 'array'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, k) => bytes[k] !== b)) throw invalid(`${name} is not a .npy file (bad magic)`, { entry: name });
  const v = view(bytes);
  const major = bytes[6]!;
  if (major < 1 || major > 3) throw unsupported(`${name}: .npy format version ${major}.${bytes[7]} (1, 2 and 3 are read)`, { entry: name });
  const headerStart = major === 1 ? 10 : 12;
  need(bytes, 8, headerStart - 8, 'the .npy header length');
  const headerLength = major === 1 ? v.getUint16(8, true) : v.getUint32(8, true);
  need(bytes, headerStart, headerLength, `the .npy header of ${name}`);
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
  const header = parseNpyHeader(major === 3 ? new TextDecoder('utf-8', { fatal: true }).decode(headerBytes) : new TextDecoder('latin1').decode(headerBytes));
  const descr = header.get('descr');
  const shape = header.get('shape');
  const fortran = header.get('fortran_order');
  if (typeof descr !== 'string' || !Array.isArray(shape) || typeof fortran !== 'boolean') {
    throw unsupported(`${name}: the .npy header lacks descr, shape or fortran_order, or descr is not a plain dtype`, { entry: name });
  }
  if (shape.length > 1) throw unsupported(`${name}: ${shape.length}-dimensional arrays are not read (0-d and 1-d are)`, { entry: name, shape });
  const count = shape.length === 0 ? 1 : shape[0]!;
  return { descr, shape, ...decodeValues(bytes.subarray(headerStart + headerLength), descr, count, name) };
}

function decodeValues(data: Uint8Array, descr: string, count: number, name: string): NpyValues {
  if (descr === '|O' || descr.endsWith('O')) {
    throw new NpzError('NPZ_PICKLE_REFUSED', `${name} is an object array (a pickle): refused, never unpickled`, { details: { entry: name, descr } });
  }
  const m = /^([<>|=])([fiuU])(\d+)$/.exec(descr);
  if (!m) throw unsupported(`${name}: dtype ${descr} is not read (<f4, <f8, <i4, <i8, <u4, <u8 and <U are)`, { entry: name, descr });
  const [, order, kind, sizeText] = m as unknown as [string, string, string, string];
  const little = order !== '>';
  const size = Number(sizeText);
  const itemBytes = kind === 'U' ? 4 * size : size;
  if (data.length !== itemBytes * count) throw invalid(`${name}: ${data.length} bytes of data for ${count} × ${descr}`, { entry: name, descr, count });
  const v = view(data);
  if (kind === 'f') {
    if (size !== 4 && size !== 8) throw unsupported(`${name}: dtype ${descr} is not read`, { entry: name, descr });
    const values = new Float64Array(count);
    for (let k = 0; k < count; k++) values[k] = size === 4 ? v.getFloat32(4 * k, little) : v.getFloat64(8 * k, little);
    return { kind: 'float', values };
  }
  if (kind === 'i' || kind === 'u') {
    if (size !== 4 && size !== 8) throw unsupported(`${name}: dtype ${descr} is not read`, { entry: name, descr });
    const values: bigint[] = [];
    for (let k = 0; k < count; k++) {
      if (size === 8) values.push(kind === 'i' ? v.getBigInt64(8 * k, little) : v.getBigUint64(8 * k, little));
      else values.push(BigInt(kind === 'i' ? v.getInt32(4 * k, little) : v.getUint32(4 * k, little)));
    }
    return { kind: 'int', values };
  }
  // Unicode: `size` UCS-4 code points per element, padded with NULs (numpy strips trailing NULs).
  const values: string[] = [];
  for (let k = 0; k < count; k++) {
    const points: number[] = [];
    for (let c = 0; c < size; c++) {
      const cp = v.getUint32(itemBytes * k + 4 * c, little);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw invalid(`${name}: element ${k} holds an invalid code point`, { entry: name });
      points.push(cp);
    }
    while (points.length > 0 && points[points.length - 1] === 0) points.pop();
    values.push(String.fromCodePoint(...points));
  }
  return { kind: 'unicode', values };
}

/** Every array of an `.npz` file by its name (the `.npy` suffix dropped, as `np.load` names them). */
export function readNpz(bytes: Uint8Array): Map<string, NpyArray> {
  const out = new Map<string, NpyArray>();
  for (const entry of readEntries(bytes)) {
    if (entry.name.endsWith('/')) continue;
    const key = entry.name.endsWith('.npy') ? entry.name.slice(0, -4) : entry.name;
    if (out.has(key)) throw invalid(`entry ${entry.name} appears twice`, { entry: entry.name });
    out.set(key, readNpy(entryData(bytes, entry), entry.name));
  }
  return out;
}
