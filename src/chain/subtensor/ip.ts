/**
 * Axon IPs on chain are a u128 plus an ip_type (4 or 6). Pure: text ⇄ integer,
 * and the checks the chain applies (and the ones it should apply) before serving.
 */
import { isIP } from 'node:net';
import { SubtensorError } from './errors.js';

export type IpType = 4 | 6;

export interface EncodedIp {
  ip: bigint;
  ipType: IpType;
}

const U32 = 1n << 32n;
const U128_MAX = (1n << 128n) - 1n;

/** `'10.0.0.5'` → `{ip: 167772165n, ipType: 4}`; IPv6 in any RFC 4291 form, brackets allowed. */
export function encodeIp(text: string): EncodedIp {
  const trimmed = text.trim().replace(/^\[(.*)\]$/, '$1');
  const kind = isIP(trimmed);
  if (kind === 4) return { ip: ipv4ToBigInt(trimmed), ipType: 4 };
  if (kind === 6 && !trimmed.includes('%')) return { ip: ipv6ToBigInt(trimmed), ipType: 6 };
  throw new SubtensorError('INVALID_INPUT', `${JSON.stringify(text)} is not an IPv4 or IPv6 address (a host name must be resolved first).`);
}

/**
 * The text form of an on-chain IP. `ipType` 4 gives dotted quads, 6 the RFC 5952
 * short form (`2001:db8::1`, `::ffff:1.2.3.4`); 0 (never served) gives `0.0.0.0`.
 * Any other type falls back to the size of the value, as the Python SDK does.
 */
export function decodeIp(value: bigint, ipType: number): string {
  if (value < 0n || value > U128_MAX) throw new SubtensorError('DECODE_FAILED', `IP value ${value} is outside u128.`);
  if (ipType === 0 && value === 0n) return '0.0.0.0';
  if (ipType === 6 || (ipType !== 4 && value >= U32)) return formatIpv6(value);
  if (value >= U32) return formatIpv6(value);
  return formatIpv4(value);
}

export function isLoopbackIp(text: string): boolean {
  const { ip, ipType } = encodeIp(text);
  if (ipType === 4) return ip >> 24n === 127n;
  if (ip === 1n) return true;
  // IPv4-mapped loopback ::ffff:127.x.x.x
  return ip >> 32n === 0xffffn && (ip & 0xffffffffn) >> 24n === 127n;
}

export function isUnspecifiedIp(text: string): boolean {
  return encodeIp(text).ip === 0n;
}

/**
 * The address a miner may put on chain: refuses what no other neuron can reach
 * (loopback, 0.0.0.0, ::) and what the runtime refuses, with a message that says what to do.
 */
export function encodeServableIp(text: string): EncodedIp {
  const encoded = encodeIp(text);
  if (isLoopbackIp(text)) {
    throw new SubtensorError(
      'INVALID_INPUT',
      `refusing to serve the loopback address ${text.trim()} on chain: other neurons cannot reach it. Set --axon.external_ip to this machine's public IP (on a local network, use a private address such as 10.0.0.5).`,
      { reason: 'InvalidIpAddress' },
    );
  }
  if (encoded.ip === 0n) {
    throw new SubtensorError(
      'INVALID_INPUT',
      `refusing to serve the unspecified address ${text.trim()} on chain: set --axon.external_ip to this machine's public IP.`,
      {
        reason: 'InvalidIpAddress',
      },
    );
  }
  if (encoded.ipType === 6 && encoded.ip === U128_MAX) {
    throw new SubtensorError('INVALID_INPUT', `the chain refuses ${text.trim()} as an axon address.`, { reason: 'InvalidIpAddress' });
  }
  return encoded;
}

function ipv4ToBigInt(text: string): bigint {
  return text.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

function ipv6ToBigInt(text: string): bigint {
  // A dotted IPv4 tail (::ffff:1.2.3.4) is two hex groups written another way.
  let normalized = text;
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToBigInt(tail);
    normalized = `${text.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => BigInt(`0x${g}`)));
  let groups: bigint[];
  if (normalized.includes('::')) {
    const [left = '', right = ''] = normalized.split('::');
    const l = parse(left);
    const r = parse(right);
    groups = [...l, ...Array<bigint>(8 - l.length - r.length).fill(0n), ...r];
  } else {
    groups = parse(normalized);
  }
  if (groups.length !== 8) throw new SubtensorError('INVALID_INPUT', `${JSON.stringify(text)} is not a valid IPv6 address.`);
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

function formatIpv4(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 0xffn)).join('.');
}

function formatIpv6(value: bigint): string {
  const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - i * 16)) & 0xffffn));
  // ::ffff:a.b.c.d (IPv4-mapped) keeps the dotted tail, as RFC 5952 §5 recommends.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${formatIpv4(value & 0xffffffffn)}`;
  }
  // Longest run of at least two zero groups becomes "::" (the first one on a tie).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
