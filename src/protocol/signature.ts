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

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
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
