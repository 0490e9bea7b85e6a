import { describe, expect, test } from 'vitest';
import { isSubtensorError } from '../../src/chain/subtensor/errors.js';
import { decodeIp, encodeIp, encodeServableIp, isLoopbackIp } from '../../src/chain/subtensor/ip.js';

describe('axon IP codec (u128 + ip_type)', () => {
  test('IPv4: dotted quad ⇄ u32 value', () => {
    expect(encodeIp('10.0.0.5')).toEqual({ ip: 167772165n, ipType: 4 });
    expect(encodeIp(' 255.255.255.255 ')).toEqual({ ip: 4294967295n, ipType: 4 });
    expect(decodeIp(167772165n, 4)).toBe('10.0.0.5');
    // A value from finney's metagraph (netuid 1, uid 0).
    expect(decodeIp(3235789677n, 4)).toBe('192.222.59.109');
  });

  test('IPv6: every RFC 4291 form encodes to the same value; decoding gives the RFC 5952 short form', () => {
    const value = 0x20010db8000000000000000000000007n;
    for (const text of ['2001:db8::7', '2001:0db8:0000:0000:0000:0000:0000:0007', '[2001:DB8::7]', '2001:db8:0:0:0:0:0:7']) {
      expect(encodeIp(text)).toEqual({ ip: value, ipType: 6 });
    }
    expect(decodeIp(value, 6)).toBe('2001:db8::7');
    expect(decodeIp(0x20010db8000100000000000000000001n, 6)).toBe('2001:db8:1::1');
    // Longest zero run wins; a single zero group is not shortened.
    expect(decodeIp(0x20010db8000000010000000000000001n, 6)).toBe('2001:db8:0:1::1');
    expect(decodeIp(0x20010db8000100010001000100010001n, 6)).toBe('2001:db8:1:1:1:1:1:1');
    expect(decodeIp(0x20010000000000010000000000000000n, 6)).toBe('2001:0:0:1::');
    expect(decodeIp(1n, 6)).toBe('::1');
  });

  test('IPv4-mapped IPv6 keeps its dotted tail both ways', () => {
    expect(encodeIp('::ffff:1.2.3.4')).toEqual({ ip: 0xffff01020304n, ipType: 6 });
    expect(decodeIp(0xffff01020304n, 6)).toBe('::ffff:1.2.3.4');
    expect(encodeIp('64:ff9b::192.0.2.33').ip).toBe(0x0064ff9b0000000000000000c0000221n);
  });

  test('round trip over many values', () => {
    let x = 0x243f6a8885a308d313198a2e03707344n;
    for (let i = 0; i < 500; i++) {
      x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 128n) - 1n);
      const v6 = i % 3 === 0 ? x & ~0xffff0000000000000000n : x; // include zero runs
      expect(encodeIp(decodeIp(v6, 6))).toEqual({ ip: v6, ipType: 6 });
      const v4 = x & 0xffffffffn;
      expect(encodeIp(decodeIp(v4, 4))).toEqual({ ip: v4, ipType: 4 });
    }
  });

  test('never served (0, type 0) reads as 0.0.0.0; a type-4 value above u32 falls back to IPv6 like the SDK', () => {
    expect(decodeIp(0n, 0)).toBe('0.0.0.0');
    expect(decodeIp(1n << 40n, 4)).toBe('::100:0:0');
  });

  test('bad input is a typed error', () => {
    for (const bad of ['', 'example.com', '1.2.3', '256.0.0.1', '1::2::3', 'fe80::1%eth0', '::g']) {
      expect(() => encodeIp(bad)).toThrow(/is not an IPv4 or IPv6 address/);
    }
    try {
      encodeIp('nope');
    } catch (err) {
      expect(isSubtensorError(err) && err.code === 'INVALID_INPUT').toBe(true);
    }
  });

  test('loopback and unspecified addresses are refused for serving, with the flag to fix it', () => {
    for (const lo of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopbackIp(lo)).toBe(true);
      expect(() => encodeServableIp(lo)).toThrow(/loopback address .* --axon\.external_ip/);
    }
    expect(() => encodeServableIp('0.0.0.0')).toThrow(/unspecified address/);
    expect(() => encodeServableIp('::')).toThrow(/unspecified address/);
    expect(isLoopbackIp('10.0.0.5')).toBe(false);
    expect(encodeServableIp('10.0.0.5')).toEqual({ ip: 167772165n, ipType: 4 });
    expect(encodeServableIp('2001:db8::7').ipType).toBe(6);
  });
});
