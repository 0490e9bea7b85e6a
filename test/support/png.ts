import { inflateSync } from 'node:zlib';

/**
 * A small PNG reader for checking screenshots: 8-bit truecolour (RGB or RGBA),
 * non-interlaced, which is what Chromium writes. Checks the signature, the chunk
 * CRCs and the IHDR; undoes the five scanline filters. Anything else is a clear error.
 */
export interface DecodedPng {
  width: number;
  height: number;
  /** Bytes per pixel: 3 (RGB) or 4 (RGBA). */
  channels: 3 | 4;
  /** Row-major pixels, `channels` bytes each, filters undone. */
  pixels: Uint8Array;
}

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function decodePng(file: Buffer): DecodedPng {
  if (file.length < 8 || !file.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG: bad signature');
  let offset = 8;
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | null = null;
  const idat: Buffer[] = [];
  let ended = false;
  while (offset + 12 <= file.length && !ended) {
    const length = file.readUInt32BE(offset);
    const type = file.toString('latin1', offset + 4, offset + 8);
    if (offset + 12 + length > file.length) throw new Error(`PNG chunk ${type} runs past the end of the file`);
    const data = file.subarray(offset + 8, offset + 8 + length);
    if (crc32(file.subarray(offset + 4, offset + 8 + length)) !== file.readUInt32BE(offset + 8 + length)) throw new Error(`PNG chunk ${type} has a bad CRC`);
    if (type === 'IHDR') {
      header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8]!, colour: data[9]!, interlace: data[12]! };
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
    }
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG has no IHDR');
  if (!ended) throw new Error('PNG has no IEND (truncated?)');
  if (header.depth !== 8 || (header.colour !== 2 && header.colour !== 6) || header.interlace !== 0) {
    throw new Error(`unsupported PNG: depth ${header.depth}, colour type ${header.colour}, interlace ${header.interlace}`);
  }
  const { width, height } = header;
  const channels = header.colour === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  if (raw.length !== height * (stride + 1)) throw new Error(`PNG data is ${raw.length} bytes, expected ${height * (stride + 1)}`);
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[row + x - channels]! : 0;
      const b = y > 0 ? pixels[prev + x]! : 0;
      const c = y > 0 && x >= channels ? pixels[prev + x - channels]! : 0;
      let predictor: number;
      switch (filter) {
        case 0:
          predictor = 0;
          break;
        case 1:
          predictor = a;
          break;
        case 2:
          predictor = b;
          break;
        case 3:
          predictor = (a + b) >> 1;
          break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default:
          throw new Error(`PNG row ${y} has unknown filter ${filter}`);
      }
      pixels[row + x] = (raw[src + x]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** The pixel at (x, y) as `#rrggbb`. */
export function pixelHex(png: DecodedPng, x: number, y: number): string {
  const i = (y * png.width + x) * png.channels;
  return `#${[png.pixels[i]!, png.pixels[i + 1]!, png.pixels[i + 2]!].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** How many pixels are within `tolerance` (per channel) of each colour. */
export function countColours(png: DecodedPng, colours: readonly string[], tolerance = 24): Map<string, number> {
  const targets = colours.map((c) => [c, parseInt(c.slice(1, 3), 16), parseInt(c.slice(3, 5), 16), parseInt(c.slice(5, 7), 16)] as const);
  const counts = new Map(colours.map((c) => [c, 0]));
  for (let i = 0; i < png.pixels.length; i += png.channels) {
    const r = png.pixels[i]!;
    const g = png.pixels[i + 1]!;
    const b = png.pixels[i + 2]!;
    for (const [name, tr, tg, tb] of targets) {
      if (Math.abs(r - tr) <= tolerance && Math.abs(g - tg) <= tolerance && Math.abs(b - tb) <= tolerance) counts.set(name, counts.get(name)! + 1);
    }
  }
  return counts;
}
