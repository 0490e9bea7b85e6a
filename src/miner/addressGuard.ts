/**
 * The miner's server-side request forgery guard.
 *
 * A validator tells the miner which URL to probe; the Python miner fetched any
 * URL, so a caller could make it read loopback services or the cloud metadata
 * endpoint. Here every address a probe would connect to is classified first,
 * after DNS resolution and on every redirect hop, and anything that is not a
 * public unicast address is refused unless the operator allowed it
 * (`--probe.allow`, hosts or CIDRs, for local networks).
 *
 * Pure: no I/O. The probe feeds it host names and resolved addresses.
 */
import { Hs58Error } from '../errors.js';

export type AddressGuardErrorCode = 'ADDRESS_GUARD_BAD_ALLOW_ENTRY';

export class AddressGuardError extends Hs58Error<AddressGuardErrorCode> {
  override name = 'AddressGuardError';
}

/** Why an address is not a public unicast address; `public` means a probe may connect. */
export type AddressCategory =
  | 'public'
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'cgnat'
  | 'link-local'
  | 'metadata'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'documentation'
  | 'unparseable';

const CATEGORY_TEXT: Record<AddressCategory, string> = {
  public: 'public',
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  cgnat: 'carrier-grade NAT (private)',
  'link-local': 'link-local',
  metadata: 'cloud metadata',
  multicast: 'multicast',
  broadcast: 'broadcast',
  reserved: 'reserved',
  documentation: 'documentation-only',
  unparseable: 'unparseable',
};

export type ParsedIp = { version: 4; value: number } | { version: 6; value: bigint };

// ---------------------------------------------------------------------------------------------
// Parsing

const DECIMAL_OCTET = /^(0|[1-9][0-9]{0,2})$/;

/** Canonical dotted-quad only (what resolvers return); leading zeros are rejected, not guessed. */
export function parseIpv4Strict(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!DECIMAL_OCTET.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

/**
 * IPv4 the way URL parsers and inet_aton read a host: 1 to 4 parts, each decimal,
 * `0x` hex or `0` octal, the last part filling the remaining bytes
 * (`2130706433`, `0x7f.1`, `127.1`, `0177.0.0.1` are all 127.0.0.1).
 * Returns null when the text is not such a number form.
 */
export function parseIpv4Loose(text: string): number | null {
  const parts = text.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  if (parts.length === 0 || parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Part(part);
    if (n === null) return null;
    numbers.push(n);
  }
  const last = numbers.pop() as number;
  for (const n of numbers) if (n > 255) return null;
  if (last >= 256 ** (4 - numbers.length)) return null;
  let value = 0;
  for (const n of numbers) value = value * 256 + n;
  return value * 256 ** (4 - numbers.length) + last;
}

function parseIpv4Part(part: string): number | null {
  if (part === '') return null;
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(part)) {
    digits = part.slice(2);
    radix = 16;
    if (digits === '') return 0;
  } else if (part.length > 1 && part.startsWith('0')) {
    digits = part.slice(1);
    radix = 8;
  }
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return null;
  // Long digit strings would lose precision; anything above 2^32 is rejected anyway.
  if (digits.replace(/^0+/, '').length > 11) return null;
  return parseInt(digits, radix);
}

/** IPv6 text (with optional `%zone` and trailing dotted IPv4) as a 128-bit integer, or null. */
export function parseIpv6(text: string): bigint | null {
  let body = text;
  const zone = body.indexOf('%');
  if (zone !== -1) body = body.slice(0, zone);
  if (body === '' || !/^[0-9a-fA-F:.]+$/.test(body)) return null;

  const groups: number[] = [];
  const tail = body.lastIndexOf(':');
  if (body.includes('.')) {
    const v4 = parseIpv4Strict(body.slice(tail + 1));
    if (v4 === null || tail === -1) return null;
    body = `${body.slice(0, tail + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return null;
  const parseGroups = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0] ?? '');
  if (head === null) return null;
  if (halves.length === 2) {
    const rest = parseGroups(halves[1] ?? '');
    if (rest === null || head.length + rest.length > 7) return null;
    groups.push(...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest);
  } else {
    if (head.length !== 8) return null;
    groups.push(...head);
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return value;
}

/** An address as a resolver returns it (dotted quad or IPv6), or null. */
export function parseIp(text: string): ParsedIp | null {
  const v4 = parseIpv4Strict(text);
  if (v4 !== null) return { version: 4, value: v4 };
  const v6 = parseIpv6(text);
  return v6 === null ? null : { version: 6, value: v6 };
}

export function formatIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

// ---------------------------------------------------------------------------------------------
// Classification

interface Range4 {
  base: number;
  bits: number;
  category: AddressCategory;
}
interface Range6 {
  base: bigint;
  bits: number;
  category: AddressCategory;
}

const cidr4 = (text: string, category: AddressCategory): Range4 => {
  const [ip, bits] = text.split('/');
  return { base: parseIpv4Strict(ip ?? '') ?? 0, bits: Number(bits), category };
};
const cidr6 = (text: string, category: AddressCategory): Range6 => {
  const [ip, bits] = text.split('/');
  return { base: parseIpv6(ip ?? '') ?? 0n, bits: Number(bits), category };
};

/** Most specific first: the first match names the category. */
export const REFUSED_IPV4_RANGES: readonly Range4[] = [
  cidr4('169.254.169.254/32', 'metadata'), // AWS, GCP, Azure, OCI, DigitalOcean
  cidr4('100.100.100.200/32', 'metadata'), // Alibaba Cloud
  cidr4('255.255.255.255/32', 'broadcast'),
  cidr4('0.0.0.0/8', 'unspecified'),
  cidr4('10.0.0.0/8', 'private'),
  cidr4('100.64.0.0/10', 'cgnat'),
  cidr4('127.0.0.0/8', 'loopback'),
  cidr4('169.254.0.0/16', 'link-local'),
  cidr4('172.16.0.0/12', 'private'),
  cidr4('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  cidr4('192.0.2.0/24', 'documentation'),
  cidr4('192.88.99.0/24', 'reserved'), // 6to4 relay anycast (deprecated)
  cidr4('192.168.0.0/16', 'private'),
  cidr4('198.18.0.0/15', 'reserved'), // benchmarking
  cidr4('198.51.100.0/24', 'documentation'),
  cidr4('203.0.113.0/24', 'documentation'),
  cidr4('224.0.0.0/4', 'multicast'),
  cidr4('240.0.0.0/4', 'reserved'),
];

export const REFUSED_IPV6_RANGES: readonly Range6[] = [
  cidr6('::/128', 'unspecified'),
  cidr6('::1/128', 'loopback'),
  cidr6('fd00:ec2::254/128', 'metadata'), // AWS IMDS over IPv6
  cidr6('64:ff9b:1::/48', 'private'), // local-use NAT64
  cidr6('100::/64', 'reserved'), // discard-only
  cidr6('2001:db8::/32', 'documentation'),
  cidr6('3fff::/20', 'documentation'),
  cidr6('fc00::/7', 'private'), // unique local
  cidr6('fe80::/10', 'link-local'),
  cidr6('fec0::/10', 'private'), // deprecated site-local
  cidr6('ff00::/8', 'multicast'),
];

function inRange4(value: number, r: { base: number; bits: number }): boolean {
  if (r.bits === 0) return true;
  const shift = 32 - r.bits;
  return Math.floor(value / 2 ** shift) === Math.floor(r.base / 2 ** shift);
}

function inRange6(value: bigint, r: { base: bigint; bits: number }): boolean {
  const shift = BigInt(128 - r.bits);
  return value >> shift === r.base >> shift;
}

export function classifyIpv4(value: number): AddressCategory {
  for (const r of REFUSED_IPV4_RANGES) if (inRange4(value, r)) return r.category;
  return 'public';
}

const MASK32 = 0xffffffffn;

/**
 * IPv4 addresses carried inside an IPv6 address, which a dual-stack host or a
 * NAT64/6to4/Teredo gateway would turn back into IPv4 traffic.
 */
export function embeddedIpv4(value: bigint): number[] {
  const hi96 = value >> 32n;
  const low = Number(value & MASK32);
  if (hi96 === 0xffffn) return [low]; // ::ffff:a.b.c.d  (IPv4-mapped)
  if (hi96 === 0xffff0000n) return [low]; // ::ffff:0:a.b.c.d  (IPv4-translated)
  if (hi96 === 0n) return [low]; // ::a.b.c.d  (IPv4-compatible, deprecated)
  if (hi96 === 0x0064ff9b0000000000000000n) return [low]; // 64:ff9b::/96 NAT64
  if (value >> 112n === 0x2002n) return [Number((value >> 80n) & MASK32)]; // 6to4
  if (value >> 96n === 0x20010000n) {
    // Teredo: server IPv4 in bits 64..95, client IPv4 bit-inverted in the low 32 bits
    return [Number((value >> 64n) & MASK32), Number(~value & MASK32)];
  }
  return [];
}

export interface Classification {
  category: AddressCategory;
  /** The embedded IPv4 address that decided the category, if any. */
  via?: string;
}

export function classifyIpv6(value: bigint): Classification {
  for (const r of REFUSED_IPV6_RANGES) if (inRange6(value, r)) return { category: r.category };
  for (const v4 of embeddedIpv4(value)) {
    const category = classifyIpv4(v4);
    if (category !== 'public') return { category, via: formatIpv4(v4) };
  }
  return { category: 'public' };
}

/** Category of an address as a resolver returns it; unparseable text is refused (fail closed). */
export function classifyAddress(address: string): Classification {
  const ip = parseIp(address);
  if (ip === null) return { category: 'unparseable' };
  return ip.version === 4 ? { category: classifyIpv4(ip.value) } : classifyIpv6(ip.value);
}

export function isPublicAddress(address: string): boolean {
  return classifyAddress(address).category === 'public';
}

// ---------------------------------------------------------------------------------------------
// The guard

/** Names that reach metadata services or this machine whatever DNS says. */
const REFUSED_NAMES = new Map<string, AddressCategory>([
  ['metadata.google.internal', 'metadata'],
  ['metadata.goog', 'metadata'],
  ['metadata', 'metadata'],
  ['instance-data', 'metadata'],
  ['instance-data.ec2.internal', 'metadata'],
  ['metadata.azure.internal', 'metadata'],
  ['localhost', 'loopback'],
]);

export type HostVerdict =
  /** `ip` is set when the host is an IP literal: connect to exactly that address, no DNS. */
  { ok: true; ip: string | null } | { ok: false; reason: string };

export interface AddressGuard {
  /** First check, on the URL's host name before any DNS (IP literals are decided here). */
  checkHost(hostname: string): HostVerdict;
  /** Second check, on each address the host name resolved to; the reason when refused, else null. */
  checkResolved(hostname: string, address: string): string | null;
}

export interface AddressGuardOptions {
  /** Host names, IP addresses or CIDRs (IPv4/IPv6) a probe may reach although not public. */
  allow?: readonly string[];
}

/** Lower case, no brackets around IPv6, no trailing dot (`localhost.` is `localhost`). */
export function normalizeHostname(hostname: string): string {
  let h = hostname.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  while (h.endsWith('.') && h.length > 1) h = h.slice(0, -1);
  return h;
}

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

export function createAddressGuard(options: AddressGuardOptions = {}): AddressGuard {
  const allowedHosts = new Set<string>();
  const allowed4: { base: number; bits: number }[] = [];
  const allowed6: { base: bigint; bits: number }[] = [];

  for (const raw of options.allow ?? []) {
    const entry = raw.trim();
    if (entry === '') continue;
    const slash = entry.indexOf('/');
    const ipText = normalizeHostname(slash === -1 ? entry : entry.slice(0, slash));
    const bitsText = slash === -1 ? null : entry.slice(slash + 1);
    const ip = parseIp(ipText);
    if (ip !== null) {
      const max = ip.version === 4 ? 32 : 128;
      const bits = bitsText === null ? max : /^\d{1,3}$/.test(bitsText) ? Number(bitsText) : NaN;
      if (!(bits >= 0 && bits <= max)) throw badAllowEntry(entry, `prefix length must be 0..${max}`);
      if (ip.version === 4) allowed4.push({ base: ip.value, bits });
      else allowed6.push({ base: ip.value, bits });
      continue;
    }
    if (bitsText !== null) throw badAllowEntry(entry, 'a CIDR needs an IPv4 or IPv6 address before the "/"');
    const host = normalizeHostname(entry);
    if (!HOSTNAME.test(host)) throw badAllowEntry(entry, 'not a host name, IP address or CIDR');
    allowedHosts.add(host);
  }

  const addressAllowed = (ip: ParsedIp): boolean => {
    if (ip.version === 4) return allowed4.some((r) => inRange4(ip.value, r));
    if (allowed6.some((r) => inRange6(ip.value, r))) return true;
    // An IPv4-mapped form of an allowed IPv4 address is the same destination.
    const hi96 = ip.value >> 32n;
    if (hi96 === 0xffffn || hi96 === 0xffff0000n) {
      const v4 = Number(ip.value & MASK32);
      return allowed4.some((r) => inRange4(v4, r));
    }
    return false;
  };

  const refusal = (address: string, ip: ParsedIp | null, resolved: boolean): string | null => {
    if (ip !== null && addressAllowed(ip)) return null;
    const c = ip === null ? { category: 'unparseable' as const } : ip.version === 4 ? { category: classifyIpv4(ip.value) } : classifyIpv6(ip.value);
    if (c.category === 'public') return null;
    const what = `${CATEGORY_TEXT[c.category]} address ${address}${'via' in c && c.via ? ` (embeds ${c.via})` : ''}`;
    return resolved ? `refused: resolves to ${what}` : `refused: ${what}`;
  };

  return {
    checkHost(hostname) {
      const host = normalizeHostname(hostname);
      if (host === '') return { ok: false, reason: 'refused: empty host' };
      if (allowedHosts.has(host)) {
        const ip = literalIp(host);
        return { ok: true, ip: ip === null ? null : ipText(ip, host) };
      }
      const ip = literalIp(host);
      if (ip !== null) {
        const text = ipText(ip, host);
        const reason = refusal(text, ip, false);
        return reason === null ? { ok: true, ip: text } : { ok: false, reason };
      }
      const named = REFUSED_NAMES.get(host) ?? (host.endsWith('.localhost') ? 'loopback' : undefined);
      if (named !== undefined) return { ok: false, reason: `refused: ${host} is a ${CATEGORY_TEXT[named]} host name` };
      return { ok: true, ip: null };
    },
    checkResolved(hostname, address) {
      if (allowedHosts.has(normalizeHostname(hostname))) return null;
      return refusal(address, parseIp(address), true);
    },
  };
}

/** A host that is an IP literal in any spelling a URL parser or inet_aton accepts. */
function literalIp(host: string): ParsedIp | null {
  if (host.includes(':')) {
    const v6 = parseIpv6(host);
    return v6 === null ? null : { version: 6, value: v6 };
  }
  const v4 = parseIpv4Loose(host);
  return v4 === null ? null : { version: 4, value: v4 };
}

function ipText(ip: ParsedIp, original: string): string {
  return ip.version === 4 ? formatIpv4(ip.value) : original.replace(/%.*$/, '');
}

function badAllowEntry(entry: string, why: string): AddressGuardError {
  return new AddressGuardError('ADDRESS_GUARD_BAD_ALLOW_ENTRY', `--probe.allow entry "${entry}": ${why}`, { details: { entry } });
}
