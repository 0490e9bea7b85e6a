/**
 * Thousands of malformed requests against the real axon (seeded: HS58_TEST_SEED reproduces a
 * run): broken JSON, wrong types, huge and deep bodies, missing or junk headers, odd methods and
 * paths, and bytes that are not HTTP at all. Every one must get a 4xx with a message (never a
 * 5xx, never a hang), and valid signed requests interleaved with them must keep getting 200.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createVerifyPool, type SignatureVerifier } from '../../src/axon/verifyPool.js';
import { encodeRequest, type EncodedRequest } from '../../src/protocol/index.js';
import { timeNs } from '../../src/util/timeNs.js';
import { signerFromSeed, startTestAxon, type TestSigner } from '../support/axon.js';
import { testRng, testSeed } from '../support/python-oracle.js';

const SEED = testSeed(5858);
const rng = testRng(SEED);

let verifier: SignatureVerifier;
let miner: TestSigner;
let validator: TestSigner;
let port: number;
let close: () => Promise<void>;

beforeAll(async () => {
  [miner, validator] = (await Promise.all([21, 22].map(signerFromSeed))) as [TestSigner, TestSigner];
  verifier = await createVerifyPool({ threads: 1 });
  const started = await startTestAxon({
    miner,
    handlers: {
      ProviderCheck: () => ({ polygon_wallet: `0x${'11'.repeat(20)}`, wallet_proof: null, api_url: 'https://x.example' }),
      ProviderProbe: () => ({ probe_latency_ms: 3, probe_status: 200, probe_reachable: true }),
    },
    neurons: [{ hotkey: validator.address, stakeTao: 1, permit: true }],
    verifier,
  });
  port = started.port;
  close = () => started.axon.close();
});

afterAll(async () => {
  await close?.();
  await verifier?.close();
});

let uuidCounter = 0;
function valid(synapse: 'ProviderCheck' | 'ProviderProbe' = 'ProviderCheck'): EncodedRequest {
  return encodeRequest({
    synapse,
    fields: synapse === 'ProviderProbe' ? { target_url: 'https://p.example' } : {},
    timeoutSec: 12,
    nonce: timeNs(),
    dendrite: { hotkey: validator.address, uuid: `fuzz-${uuidCounter++}`, ip: '127.0.0.1' },
    axon: { hotkey: miner.address, ip: '127.0.0.1', port },
    sign: (m) => validator.sign(m),
  });
}

const JUNK_VALUES = [
  'null',
  'true',
  '1e999',
  '-1',
  '18446744073709551616',
  '"x"',
  '[]',
  '{}',
  '1.5',
  '"\\ud800"',
  `"${'a'.repeat(5000)}"`,
  '9'.repeat(5000),
  `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`,
];
const FIELDS = [
  'target_url',
  'probe_latency_ms',
  'probe_status',
  'probe_reachable',
  'polygon_wallet',
  'timeout',
  'total_size',
  'header_size',
  'dendrite',
  'axon',
  'computed_body_hash',
  'name',
];
const HEADERS = [
  'timeout',
  'bt_header_dendrite_nonce',
  'bt_header_dendrite_version',
  'bt_header_dendrite_hotkey',
  'bt_header_dendrite_uuid',
  'bt_header_dendrite_signature',
  'computed_body_hash',
  'bt_header_axon_port',
  'bt_header_dendrite_port',
  'content-type',
];
const HEADER_VALUES = [
  '',
  'abc',
  '-5',
  '1e3',
  '99999999999999999999999',
  '0x',
  `0x${'00'.repeat(64)}`,
  'None',
  ' 12 ',
  'nan',
  'inf',
  '12.0.0',
  'x'.repeat(300),
];

interface Mutant {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** One malformed request derived from a valid one. */
function mutant(): Mutant {
  const base = valid(rng.next() < 0.5 ? 'ProviderCheck' : 'ProviderProbe');
  const m: Mutant = { method: 'POST', path: base.path, headers: { ...base.headers }, body: Buffer.from(base.body) };
  const kind = rng.int(0, 9);
  switch (kind) {
    case 0: // random bytes
      m.body = Buffer.from(rng.hex(rng.int(0, 400)), 'hex');
      break;
    case 1: // truncated JSON
      m.body = m.body.subarray(0, rng.int(0, m.body.length - 1));
      break;
    case 2: {
      // a field of the wrong type
      const field = rng.pick(FIELDS);
      const obj = JSON.parse(base.body) as Record<string, unknown>;
      const text = JSON.stringify(obj).replace(new RegExp(`"${field}":(null|"[^"]*"|[^,}{]+|\\{[^}]*\\})`), `"${field}":${rng.pick(JUNK_VALUES)}`);
      m.body = Buffer.from(text);
      break;
    }
    case 3: // not an object
      m.body = Buffer.from(rng.pick(['[]', '"str"', '42', 'null', 'true', '', ' ', '\u0000']));
      break;
    case 4: // deep nesting
      m.body = Buffer.from('['.repeat(rng.int(33, 5000)) + ']'.repeat(rng.int(0, 50)));
      break;
    case 5: {
      // junk header values
      for (let i = rng.int(1, 3); i > 0; i--) m.headers[rng.pick(HEADERS)] = rng.pick(HEADER_VALUES);
      break;
    }
    case 6: // missing headers
      for (let i = rng.int(1, 4); i > 0; i--) delete m.headers[rng.pick(HEADERS)];
      break;
    case 7: // odd paths
      m.path = rng.pick([
        '/',
        '/providercheck',
        '/ProviderCheck/x',
        '/%E0%A4%A',
        '/Provider%00Check',
        `/${'A'.repeat(3000)}`,
        '/../ProviderCheck',
        '/__proto__',
        '/constructor',
        '/Synapse',
      ]);
      break;
    case 8: // odd methods
      m.method = rng.pick(['PUT', 'DELETE', 'PATCH', 'OPTIONS']);
      break;
    case 9: // big bodies
      m.body = Buffer.alloc(rng.int(60_000, 200_000), 0x20);
      break;
  }
  return m;
}

function send(agent: http.Agent, m: Mutant): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: m.method, path: m.path, agent, headers: { ...m.headers, 'content-length': String(m.body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.setTimeout(10_000, () => req.destroy(new Error('no answer within 10 s')));
    req.on('error', reject);
    req.end(m.body);
  });
}

/** Bytes that are not valid HTTP on a raw socket: the server must answer 4xx or close, and stay up. */
function rawGarbage(bytes: Buffer): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let got = '';
    s.setTimeout(5_000, () => s.destroy());
    s.on('data', (d: Buffer) => (got += d.toString('latin1')));
    s.on('error', () => resolve(got));
    s.on('close', () => resolve(got));
    s.on('connect', () => s.end(bytes));
  });
}

test(`${'3000'} malformed requests over keep-alive, valid ones still answered (seed ${SEED})`, async () => {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const statuses = new Map<number, number>();
  let validOk = 0;
  let validSent = 0;
  try {
    for (let round = 0; round < 150; round++) {
      const batch = Array.from({ length: 20 }, mutant);
      const answers = await Promise.all(batch.map((m) => send(agent, m).catch((err: Error) => ({ status: -1, body: err.message }))));
      answers.forEach((a, i) => {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        // A connection the server closed on a huge upload can surface as a reset on the client; anything else must be an answer.
        if (a.status === -1) expect(batch[i]!.body.length, `no answer: ${a.body}`).toBeGreaterThan(65_536);
        else if (a.status === 200) {
          // A mutation that left the request valid (a dropped optional header, a junk value in a field the axon overwrites).
          expect((JSON.parse(a.body) as { axon?: { status_code?: unknown } }).axon?.status_code).toBe(200);
        } else {
          const what = `${batch[i]!.method} ${batch[i]!.path.slice(0, 40)} → ${a.status} ${a.body.slice(0, 200)}`;
          expect(a.status >= 400 && a.status < 500, what).toBe(true);
          expect(typeof (JSON.parse(a.body) as { message?: unknown }).message, what).toBe('string');
        }
      });
      const ok = await send(agent, {
        method: 'POST',
        ...(() => {
          const v = valid();
          return { path: v.path, headers: v.headers, body: Buffer.from(v.body) };
        })(),
      });
      validSent++;
      if (ok.status === 200) validOk++;
    }
  } finally {
    agent.destroy();
  }
  expect(validOk).toBe(validSent);
  expect([...statuses.keys()].every((s) => s === -1 || s === 200 || (s >= 400 && s < 500))).toBe(true);
  // Most mutants are refused.
  expect((statuses.get(200) ?? 0) / 3000).toBeLessThan(0.2);
  // The fuzzer reached the different refusals, not one wall.
  for (const s of [400, 403, 404, 413]) expect(statuses.get(s) ?? 0, `status ${s} seen`).toBeGreaterThan(0);
});

test('bytes that are not HTTP: 4xx or a closed connection, and the server stays up', async () => {
  const garbage = [
    Buffer.from('GARBAGE\r\n\r\n'),
    Buffer.from('POST /ProviderCheck HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n{}'),
    Buffer.from('POST /ProviderCheck HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n'),
    Buffer.from('POST /ProviderCheck HTTP/1.1\r\nhost: x\r\nbad header line\r\n\r\n'),
    Buffer.from('POST /ProviderCheck HTTP/1.1\r\nhost: x\r\nx: a\u0000b\r\n\r\n', 'latin1'),
    Buffer.from('POST /ProviderCheck HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello'),
    Buffer.from(`POST /${'x'.repeat(100_000)} HTTP/1.1\r\n\r\n`),
    Buffer.from(rng.hex(2000), 'hex'),
  ];
  for (let i = 0; i < 25; i++) {
    for (const g of garbage) {
      const answer = await rawGarbage(g);
      if (answer !== '') expect(answer).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
  }
  const v = valid();
  const ok = await send(new http.Agent(), { method: 'POST', path: v.path, headers: v.headers, body: Buffer.from(v.body) });
  expect(ok.status).toBe(200);
});
