import net from 'node:net';
import { describe, expect, test } from 'vitest';
import {
  AddressGuardError,
  classifyAddress,
  createAddressGuard,
  formatIpv4,
  isPublicAddress,
  parseIpv4Loose,
  parseIpv6,
} from '../../src/miner/addressGuard.js';

/** Deterministic PRNG (xorshift32) so a failure can be replayed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

// The refused ranges written out again as text, checked by node's own CIDR matcher (net.BlockList).
const REFUSED_V4 = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.88.99.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '100.100.100.200/32',
];
const REFUSED_V6_PLAIN = ['::/128', '::1/128', '64:ff9b:1::/48', '100::/64', '2001:db8::/32', '3fff::/20', 'fc00::/7', 'fe80::/10', 'fec0::/10', 'ff00::/8'];

function blockList(ranges: string[], type: 'ipv4' | 'ipv6'): net.BlockList {
  const bl = new net.BlockList();
  for (const r of ranges) {
    const [ip, bits] = r.split('/');
    bl.addSubnet(ip!, Number(bits), type);
  }
  return bl;
}

/** Random IPv4 values, half of them on or next to the edges of the refused ranges. */
function sampleIpv4(next: () => number, n: number): number[] {
  const edges: number[] = [];
  for (const r of REFUSED_V4) {
    const [ip, bits] = r.split('/');
    const base = ip!.split('.').reduce((a, b) => a * 256 + Number(b), 0);
    const size = 2 ** (32 - Number(bits));
    for (const v of [base - 1, base, base + 1, base + size - 1, base + size]) if (v >= 0 && v <= 0xffffffff) edges.push(v);
  }
  const out = [...edges, 0, 0xffffffff];
  while (out.length < n) out.push(next() % 2 === 0 ? next() >>> 0 : (edges[next() % edges.length]! + (next() % 512) - 256) >>> 0);
  return out;
}

const hex16 = (v: number) => [(v >>> 16).toString(16), (v & 0xffff).toString(16)].join(':');

describe('IP classifier (property checks)', () => {
  const next = rng(0x5eed58);
  const v4s = sampleIpv4(next, 20_000);
  const refusedV4 = blockList(REFUSED_V4, 'ipv4');

  test('IPv4: refused exactly when inside a refused range (checked by net.BlockList)', () => {
    let refused = 0;
    for (const v of v4s) {
      const ip = formatIpv4(v);
      const expected = refusedV4.check(ip, 'ipv4') || ip === '255.255.255.255';
      expect({ ip, refused: !isPublicAddress(ip) }).toEqual({ ip, refused: expected });
      if (expected) refused++;
    }
    // the sample really covers both sides
    expect(refused).toBeGreaterThan(2000);
    expect(v4s.length - refused).toBeGreaterThan(2000);
  });

  test('IPv6 forms that carry an IPv4 address are judged by that address', () => {
    for (const v of v4s.slice(0, 5000)) {
      const ip = formatIpv4(v);
      const pub = isPublicAddress(ip);
      const forms = [
        `::ffff:${ip}`, // mapped, dotted
        `::ffff:${hex16(v)}`, // mapped, as URL parsers print it
        `0:0:0:0:0:ffff:${hex16(v)}`,
        `::ffff:0:${ip}`, // translated
        `64:ff9b::${ip}`, // NAT64
        `64:ff9b::${hex16(v)}`,
        `2002:${hex16(v)}::1`, // 6to4
        `2001:0:${hex16(0x01020304)}:0:0:${hex16(~v >>> 0)}`, // Teredo client (bit-inverted)
      ];
      for (const f of forms) expect({ f, pub: isPublicAddress(f) }).toEqual({ f, pub });
    }
  });

  test('IPv6 outside embedded-IPv4 prefixes: refused exactly inside a refused range', () => {
    const refusedV6 = blockList(REFUSED_V6_PLAIN, 'ipv6');
    const prefixes = [0x2000, 0x2a00, 0x2600, 0xfc00, 0xfd12, 0xfe80, 0xfebf, 0xfec0, 0xff02, 0x0100, 0x2001, 0x3fff, 0x0064, 0x4000];
    for (let i = 0; i < 20_000; i++) {
      const groups = Array.from({ length: 8 }, () => next() & 0xffff);
      groups[0] = prefixes[next() % prefixes.length]!;
      if (next() % 4 === 0) groups[1] = [0, 0xdb8, 0xff9b, 1][next() % 4]!;
      if (next() % 8 === 0) groups.splice(2, 6, 0, 0, 0, 0, 0, next() % 3);
      const ip = groups.map((g) => g.toString(16)).join(':');
      const value = parseIpv6(ip)!;
      const embedsV4 = value >> 96n === 0x20010000n || value >> 112n === 0x2002n || value >> 32n === 0x64ff9b0000000000000000n;
      if (embedsV4 || value >> 32n === 0n) continue;
      const expected = refusedV6.check(ip, 'ipv6') || ip.toLowerCase() === 'fd00:ec2:0:0:0:0:0:254';
      expect({ ip, refused: !isPublicAddress(ip) }).toEqual({ ip, refused: expected });
    }
  });

  test('IPv6 parser agrees with the URL parser on random spellings', () => {
    for (let i = 0; i < 5000; i++) {
      const groups = Array.from({ length: 8 }, () => (next() % 3 === 0 ? 0 : next() & 0xffff));
      let text = groups.map((g) => g.toString(16)).join(':');
      if (next() % 2 === 0) text = text.replace(/(^|:)0(:0)+(:|$)/, '::');
      if (next() % 3 === 0) text = text.toUpperCase();
      const canonical = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      expect(net.isIPv6(text)).toBe(true);
      expect({ text, v: parseIpv6(text) }).toEqual({ text, v: parseIpv6(canonical) });
      const expectedValue = groups.reduce((a, g) => (a << 16n) | BigInt(g), 0n);
      expect(parseIpv6(text)).toBe(expectedValue);
    }
    for (const bad of ['', ':', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1.2.3.4', '::1.2.3', '::256.1.1.1']) {
      expect({ bad, v: parseIpv6(bad) }).toEqual({ bad, v: null });
    }
  });

  test('loose IPv4 (decimal/hex/octal/short forms) reads hosts the way the URL parser does', () => {
    for (const v of v4s.slice(0, 2000)) {
      const a = v >>> 24,
        b = (v >>> 16) & 255,
        c = (v >>> 8) & 255,
        d = v & 255;
      const forms = [
        String(v),
        `0x${v.toString(16)}`,
        `0${v.toString(8)}`,
        `${a}.${v & 0xffffff}`,
        `${a}.${b}.${(c << 8) | d}`,
        `0x${a.toString(16)}.${b}.0${c.toString(8)}.${d}`,
        `${a}.${b}.${c}.${d}.`,
      ];
      for (const f of forms) {
        const viaUrl = new URL(`http://${f}/`).hostname;
        expect({ f, ip: formatIpv4(parseIpv4Loose(f)!) }).toEqual({ f, ip: viaUrl });
      }
    }
    for (const notIp of ['example.com', '1.2.3.4.5', '4294967296', '1.256.0.0', '08', '0x', '1..2']) {
      // '0x' alone is 0 to URL parsers; everything else must not parse as IPv4
      if (notIp === '0x') expect(parseIpv4Loose(notIp)).toBe(0);
      else expect({ notIp, v: parseIpv4Loose(notIp) }).toEqual({ notIp, v: null });
    }
  });
});

describe('IP classifier (named cases)', () => {
  test.each([
    ['127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.0', 'public'],
    ['192.168.0.1', 'private'],
    ['100.64.0.1', 'cgnat'],
    ['100.128.0.1', 'public'],
    ['169.254.169.254', 'metadata'],
    ['169.254.1.1', 'link-local'],
    ['0.0.0.0', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['224.0.0.251', 'multicast'],
    ['8.8.8.8', 'public'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['fd00:ec2::254', 'metadata'],
    ['fd12:3456::1', 'private'],
    ['fe80::1%eth0', 'link-local'],
    ['ff02::1', 'multicast'],
    ['2606:4700:4700::1111', 'public'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::808:808', 'public'],
    ['not-an-ip', 'unparseable'],
    ['010.0.0.1', 'unparseable'],
  ])('%s is %s', (ip, category) => {
    expect(classifyAddress(ip).category).toBe(category);
  });

  test('the reason names the embedded IPv4 address', () => {
    const guard = createAddressGuard();
    expect(guard.checkResolved('x.test', '::ffff:7f00:1')).toBe('refused: resolves to loopback address ::ffff:7f00:1 (embeds 127.0.0.1)');
    expect(guard.checkResolved('x.test', '10.0.0.1')).toBe('refused: resolves to private address 10.0.0.1');
    expect(guard.checkResolved('x.test', '93.184.215.14')).toBeNull();
  });
});

describe('address guard host checks and allowlist', () => {
  test.each([
    ['127.0.0.1', 'refused: loopback address 127.0.0.1'],
    ['2130706433', 'refused: loopback address 127.0.0.1'],
    ['0x7f000001', 'refused: loopback address 127.0.0.1'],
    ['0x7f.1', 'refused: loopback address 127.0.0.1'],
    ['127.1', 'refused: loopback address 127.0.0.1'],
    ['0177.0.0.1', 'refused: loopback address 127.0.0.1'],
    ['[::1]', 'refused: loopback address ::1'],
    ['localhost', 'refused: localhost is a loopback host name'],
    ['LocalHost.', 'refused: localhost is a loopback host name'],
    ['api.localhost', 'refused: api.localhost is a loopback host name'],
    ['metadata.google.internal', 'refused: metadata.google.internal is a cloud metadata host name'],
    ['metadata.google.internal.', 'refused: metadata.google.internal is a cloud metadata host name'],
    ['', 'refused: empty host'],
  ])('host %j is refused before DNS', (host, reason) => {
    expect(createAddressGuard().checkHost(host)).toEqual({ ok: false, reason });
  });

  test('public literals pass and are returned in canonical form; names go on to DNS', () => {
    const guard = createAddressGuard();
    expect(guard.checkHost('0x08080808')).toEqual({ ok: true, ip: '8.8.8.8' });
    expect(guard.checkHost('[2606:4700:4700::1111]')).toEqual({ ok: true, ip: '2606:4700:4700::1111' });
    expect(guard.checkHost('provider.example')).toEqual({ ok: true, ip: null });
  });

  test('allow: addresses, CIDRs (v4 and v6, matching IPv4-mapped forms) and host names', () => {
    const guard = createAddressGuard({ allow: ['127.0.0.1', '10.1.0.0/16', 'fd00::/8', 'internal.lan', 'metadata.google.internal'] });
    expect(guard.checkHost('127.0.0.1')).toEqual({ ok: true, ip: '127.0.0.1' });
    expect(guard.checkHost('127.0.0.2').ok).toBe(false);
    expect(guard.checkHost('[::ffff:7f00:1]').ok).toBe(true);
    expect(guard.checkResolved('a.test', '10.1.200.3')).toBeNull();
    expect(guard.checkResolved('a.test', '10.2.0.1')).toBe('refused: resolves to private address 10.2.0.1');
    expect(guard.checkResolved('a.test', 'fd00:ec2::254')).toBeNull();
    expect(guard.checkResolved('a.test', 'fc00::1')).not.toBeNull();
    expect(guard.checkHost('INTERNAL.lan.')).toEqual({ ok: true, ip: null });
    expect(guard.checkResolved('internal.lan', '192.168.1.9')).toBeNull();
    expect(guard.checkResolved('other.lan', '192.168.1.9')).not.toBeNull();
    expect(guard.checkHost('metadata.google.internal').ok).toBe(true);
  });

  test.each(['10.0.0.0/33', '::/129', '1.2.3.4/x', 'foo/8', 'not a host!', 'http://x.test/'])('bad allow entry %j is a typed error', (entry) => {
    expect(() => createAddressGuard({ allow: [entry] })).toThrow(AddressGuardError);
    try {
      createAddressGuard({ allow: [entry] });
    } catch (err) {
      expect((err as AddressGuardError).code).toBe('ADDRESS_GUARD_BAD_ALLOW_ENTRY');
      expect((err as AddressGuardError).shortMessage).toContain('--probe.allow');
    }
  });
});
