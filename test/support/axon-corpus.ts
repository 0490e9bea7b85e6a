/**
 * The requests of the differential test (test/e2e/axon-python-differential.test.ts): valid signed
 * requests as a Python dendrite sends them, then systematic mutations of their signatures, nonces,
 * hotkeys, uuids, headers, bodies, paths, methods and sizes.
 *
 * A case builds its requests for one axon at a time (`steps(target)`): each axon keeps its own
 * nonces, so a request meant to be fresh is signed anew for each, with the same logical mutation.
 * A case of several steps (a replay) sends them in order and every answer is compared.
 */
import { encodeRequest } from '../../src/protocol/index.js';
import { timeNs } from '../../src/util/timeNs.js';
import type { TestSigner } from './axon.js';

export interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[]>;
  body: Buffer | null;
}

export interface CorpusTarget {
  port: number;
  /** The axon's hotkey (the same for both axons). */
  minerHotkey: string;
}

export interface CorpusActors {
  /** Registered with a validator permit: the only caller both axons serve. */
  validator: TestSigner;
  /** Registered without a permit. */
  noPermit: TestSigner;
  /** Not registered. */
  stranger: TestSigner;
}

export interface CorpusCase {
  group: string;
  name: string;
  steps(target: CorpusTarget): WireRequest[];
}

type Synapse = 'ProviderCheck' | 'ProviderProbe';

interface SignOptions {
  signer?: TestSigner;
  /** The hotkey claimed in the headers (default: the signer's). */
  as?: string;
  synapse?: Synapse;
  fields?: Record<string, unknown>;
  timeoutSec?: number;
  nonce?: bigint;
  version?: number;
  /** The axon hotkey signed over (default: the target's). */
  axonHotkey?: string;
}

/** A request being built: mutable headers and body, and what was signed. */
interface Draft extends WireRequest {
  headers: Record<string, string>;
  nonce: bigint;
  uuid: string;
  hotkey: string;
  bodyHash: string;
  signer: TestSigner;
}

const enc = new TextEncoder();
const sig = (signer: TestSigner, message: string) => `0x${Buffer.from(signer.sign(enc.encode(message))).toString('hex')}`;

export function buildCorpus(actors: CorpusActors): CorpusCase[] {
  const { validator, noPermit, stranger } = actors;
  const cases: CorpusCase[] = [];
  let group = '';
  const add = (name: string, steps: (t: CorpusTarget, uuid: string) => WireRequest | WireRequest[]) => {
    const uuid = `diff-${cases.length}`;
    cases.push({ group, name, steps: (t) => [steps(t, uuid)].flat() });
  };

  /** A request exactly as a Python dendrite sends it, signed by `signer` (the validator by default). */
  const signed = (t: CorpusTarget, uuid: string, o: SignOptions = {}): Draft => {
    const signer = o.signer ?? validator;
    const nonce = o.nonce ?? timeNs();
    const req = encodeRequest({
      synapse: o.synapse ?? 'ProviderCheck',
      fields: (o.fields ?? (o.synapse === 'ProviderProbe' ? { target_url: 'https://p.example/v1' } : {})) as never,
      timeoutSec: o.timeoutSec ?? 12,
      nonce,
      dendrite: { hotkey: o.as ?? signer.address, uuid, ip: '127.0.0.1', version: o.version },
      axon: { hotkey: o.axonHotkey ?? t.minerHotkey, ip: '127.0.0.1', port: t.port },
      sign: (m) => signer.sign(m),
    });
    return {
      method: 'POST',
      path: req.path,
      headers: { ...req.headers },
      body: Buffer.from(req.body),
      nonce,
      uuid,
      hotkey: o.as ?? signer.address,
      bodyHash: req.bodyHash,
      signer,
    };
  };
  /** Headers replaced (null: removed). */
  const set = (d: Draft, headers: Record<string, string | null>): Draft => {
    for (const [k, v] of Object.entries(headers)) {
      if (v === null) delete d.headers[k];
      else d.headers[k] = v;
    }
    return d;
  };
  /** Signs again over the message a Python axon will build from these (textual) parts. */
  const resign = (t: CorpusTarget, d: Draft, parts: { nonce?: string; uuid?: string; hash?: string; signer?: TestSigner } = {}): Draft => {
    const message = `${parts.nonce ?? d.nonce}.${d.hotkey}.${t.minerHotkey}.${parts.uuid ?? d.uuid}.${parts.hash ?? d.bodyHash}`;
    d.headers.bt_header_dendrite_signature = sig(parts.signer ?? d.signer, message);
    return d;
  };
  const withBody = (d: Draft, body: string | Buffer | null): Draft => {
    d.body = body === null ? null : Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
    return d;
  };
  /** The body's JSON with one change (the header values stay as signed). */
  const editBody = (d: Draft, edit: (o: Record<string, unknown>) => void): Draft => {
    const o = JSON.parse(d.body!.toString('utf8')) as Record<string, unknown>;
    edit(o);
    return withBody(d, JSON.stringify(o));
  };
  const dendriteIn = (o: Record<string, unknown>) => o.dendrite as Record<string, unknown>;

  group = 'valid';
  add('ProviderCheck, POST', (t, u) => signed(t, u));
  add('ProviderProbe, POST', (t, u) => signed(t, u, { synapse: 'ProviderProbe' }));
  add('ProviderCheck, GET', (t, u) => ({ ...signed(t, u), method: 'GET' }));
  add('a query string', (t, u) => ({ ...signed(t, u), path: '/ProviderCheck?x=1&y' }));
  add('a percent-encoded path', (t, u) => ({ ...signed(t, u), path: '/Provider%43heck' }));
  add('dendrite version 6.0 with a nonce a minute old', (t, u) => signed(t, u, { version: 6_000_000, nonce: timeNs() - 60_000_000_000n }));
  add('a nonce an hour ahead', (t, u) => signed(t, u, { nonce: timeNs() + 3_600_000_000_000n }));
  add('header names in upper case', (t, u) => {
    const d = signed(t, u);
    d.headers = Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k.toUpperCase(), v]));
    return d;
  });
  add('an unknown extra header', (t, u) => set(signed(t, u), { 'x-extra': 'yes', bt_header_dendrite_extra: 'x' }));
  add('an unknown extra body field', (t, u) => editBody(signed(t, u), (o) => (o.extra = [1, { a: null }])));
  add('a body of {}', (t, u) => withBody(signed(t, u), '{}'));
  add('ProviderProbe without target_url in the body', (t, u) => withBody(signed(t, u, { synapse: 'ProviderProbe' }), '{}'));
  add('content-type with charset', (t, u) => set(signed(t, u), { 'content-type': 'application/json; charset=utf-8' }));
  add('content-type application/vnd+json', (t, u) => set(signed(t, u), { 'content-type': 'application/vnd.x+json' }));
  add('no timeout header', (t, u) => set(signed(t, u), { timeout: null }));
  add('no uuid header, signed over None', (t, u) => resign(t, set(signed(t, u), { bt_header_dendrite_uuid: null }), { uuid: 'None' }));
  add('an empty uuid, signed over it', (t, u) => resign(t, set(signed(t, u), { bt_header_dendrite_uuid: '' }), { uuid: '' }));
  add('signature hex in upper case', (t, u) => {
    const d = signed(t, u);
    return set(d, { bt_header_dendrite_signature: `0x${d.headers.bt_header_dendrite_signature!.slice(2).toUpperCase()}` });
  });
  add('signature without 0x', (t, u) => {
    const d = signed(t, u);
    return set(d, { bt_header_dendrite_signature: d.headers.bt_header_dendrite_signature!.slice(2) });
  });

  group = 'signature';
  add('missing', (t, u) => set(signed(t, u), { bt_header_dendrite_signature: null }));
  add('empty in header and body', (t, u) => editBody(set(signed(t, u), { bt_header_dendrite_signature: '' }), (o) => (dendriteIn(o).signature = '')));
  add('empty in the header only', (t, u) => set(signed(t, u), { bt_header_dendrite_signature: '' }));
  add('not hex', (t, u) => set(signed(t, u), { bt_header_dendrite_signature: '0xnothex' }));
  add('63 bytes', (t, u) => set(signed(t, u), { bt_header_dendrite_signature: `0x${'ab'.repeat(63)}` }));
  add('65 bytes', (t, u) => set(signed(t, u), { bt_header_dendrite_signature: `0x${'ab'.repeat(65)}` }));
  add('300 characters', (t, u) => set(signed(t, u), { bt_header_dendrite_signature: `0x${'a'.repeat(298)}` }));
  add('64 zero bytes', (t, u) => set(signed(t, u), { bt_header_dendrite_signature: `0x${'00'.repeat(64)}` }));
  add('by another key than the hotkey claimed', (t, u) => signed(t, u, { signer: stranger, as: validator.address }));
  add('for another axon', (t, u) => signed(t, u, { axonHotkey: stranger.address }));
  add('over another body hash than the header', (t, u) => set(signed(t, u), { computed_body_hash: 'ab'.repeat(32) }));
  add('signed over a body hash that does not match the body', (t, u) =>
    resign(t, set(signed(t, u), { computed_body_hash: 'ab'.repeat(32) }), { hash: 'ab'.repeat(32) }),
  );
  add('an empty computed_body_hash, signed over it', (t, u) => resign(t, set(signed(t, u), { computed_body_hash: '' }), { hash: '' }));
  add('no computed_body_hash header', (t, u) => set(signed(t, u), { computed_body_hash: null }));
  add('unsigned, from an unregistered hotkey', (t, u) => set(signed(t, u, { signer: stranger }), { bt_header_dendrite_signature: null }));

  group = 'nonce';
  add('missing', (t, u) => set(signed(t, u), { bt_header_dendrite_nonce: null }));
  add('empty', (t, u) => set(signed(t, u), { bt_header_dendrite_nonce: '' }));
  add('20 s old (first of its uuid)', (t, u) => signed(t, u, { nonce: timeNs() - 20_000_000_000n }));
  add('10 s old, no timeout header', (t, u) => set(signed(t, u, { nonce: timeNs() - 10_000_000_000n }), { timeout: null }));
  add('10 s old, timeout 12', (t, u) => signed(t, u, { nonce: timeNs() - 10_000_000_000n }));
  add('replayed', (t, u) => {
    const d = signed(t, u);
    return [d, { ...d }];
  });
  add('older after newer', (t, u) => {
    const nonce = timeNs();
    return [signed(t, u, { nonce }), signed(t, u, { nonce: nonce - 1n }), signed(t, u, { nonce: nonce + 1n })];
  });
  add('not a number', (t, u) => set(signed(t, u), { bt_header_dendrite_nonce: 'abc' }));
  add('a float', (t, u) => set(signed(t, u), { bt_header_dendrite_nonce: '1.5e18' }));
  add('negative, signed', (t, u) => resign(t, set(signed(t, u), { bt_header_dendrite_nonce: '-5' }), { nonce: '-5' }));
  add('2^64, signed', (t, u) => resign(t, set(signed(t, u), { bt_header_dendrite_nonce: String(2n ** 64n) }), { nonce: String(2n ** 64n) }));
  add('2^64, unsigned', (t, u) => set(signed(t, u), { bt_header_dendrite_nonce: String(2n ** 64n), bt_header_dendrite_signature: null }));
  add('10^30, unregistered caller', (t, u) => set(signed(t, u, { signer: stranger }), { bt_header_dendrite_nonce: `1${'0'.repeat(30)}` }));
  add('5000 digits', (t, u) => set(signed(t, u), { bt_header_dendrite_nonce: '9'.repeat(5000) }));
  add('with spaces around, signed', (t, u) => {
    const d = signed(t, u);
    return set(d, { bt_header_dendrite_nonce: ` ${d.nonce} ` });
  });
  add('with a plus sign and underscores, signed', (t, u) => {
    const d = signed(t, u);
    const text = String(d.nonce);
    return set(d, { bt_header_dendrite_nonce: `+${text.slice(0, 4)}_${text.slice(4)}` });
  });
  add('given twice (the same value)', (t, u) => {
    const d = signed(t, u);
    return { ...d, headers: { ...d.headers, bt_header_dendrite_nonce: [String(d.nonce), String(d.nonce)] } };
  });

  group = 'hotkey';
  add('missing', (t, u) => set(signed(t, u), { bt_header_dendrite_hotkey: null }));
  add('empty', (t, u) => set(signed(t, u), { bt_header_dendrite_hotkey: '' }));
  add('unregistered, signed', (t, u) => signed(t, u, { signer: stranger }));
  add('registered without a permit, signed', (t, u) => signed(t, u, { signer: noPermit }));
  add('not SS58', (t, u) => set(signed(t, u), { bt_header_dendrite_hotkey: 'not-a-hotkey' }));
  add('80 characters', (t, u) => set(signed(t, u), { bt_header_dendrite_hotkey: 'x'.repeat(80) }));
  add('5000 characters', (t, u) => set(signed(t, u), { bt_header_dendrite_hotkey: '5'.repeat(5000) }));
  add('latin-1 characters', (t, u) => set(signed(t, u), { bt_header_dendrite_hotkey: `${validator.address}\u00e9` }));
  add('the validator’s, in lower case', (t, u) => set(signed(t, u), { bt_header_dendrite_hotkey: validator.address.toLowerCase() }));

  group = 'uuid';
  add('80 characters, unsigned', (t, u) => set(signed(t, u), { bt_header_dendrite_uuid: 'u'.repeat(80), bt_header_dendrite_signature: null }));
  add('80 characters, signed', (t, u) =>
    resign(t, set(signed(t, u), { bt_header_dendrite_uuid: `${u}-${'u'.repeat(80)}` }), { uuid: `${u}-${'u'.repeat(80)}` }),
  );
  add('latin-1 characters, unsigned', (t, u) => set(signed(t, u), { bt_header_dendrite_uuid: 'caf\u00e9', bt_header_dendrite_signature: null }));

  group = 'headers';
  const headerValue = (name: string, value: string) => (t: CorpusTarget, u: string) => set(signed(t, u), { [name]: value });
  add('timeout not a number', headerValue('timeout', 'soon'));
  add('timeout empty', headerValue('timeout', ''));
  add('timeout negative', headerValue('timeout', '-1'));
  add('timeout 0', headerValue('timeout', '0'));
  add('timeout nan', headerValue('timeout', 'nan'));
  add('timeout 1e9', headerValue('timeout', '1e9'));
  add('total_size not a number', headerValue('total_size', 'abc'));
  add('total_size negative', headerValue('total_size', '-1'));
  add('header_size a float', headerValue('header_size', '1.5'));
  add('dendrite port not a number', headerValue('bt_header_dendrite_port', 'abc'));
  add('dendrite port 99999', headerValue('bt_header_dendrite_port', '99999'));
  add('dendrite version not a number', headerValue('bt_header_dendrite_version', 'abc'));
  add('dendrite version negative', headerValue('bt_header_dendrite_version', '-1'));
  add('dendrite ip 100 characters', headerValue('bt_header_dendrite_ip', 'i'.repeat(100)));
  add('axon port -1', headerValue('bt_header_axon_port', '-1'));
  add('axon hotkey 100 characters', headerValue('bt_header_axon_hotkey', 'h'.repeat(100)));
  add('axon status_code not a number', headerValue('bt_header_axon_status_code', 'abc'));
  add('axon process_time not a number', headerValue('bt_header_axon_process_time', 'abc'));
  add('a header name that contains bt_header_axon_port', headerValue('x_bt_header_axon_port', 'abc'));
  add('dendrite status_message anything', headerValue('bt_header_dendrite_status_message', 'anything at all'));
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  add('input_obj of a field: wrong JSON type', (t, u) => set(signed(t, u, { synapse: 'ProviderProbe' }), { bt_header_input_obj_target_url: b64('5') }));
  add('input_obj of a field: null for a str field', (t, u) => set(signed(t, u, { synapse: 'ProviderProbe' }), { bt_header_input_obj_target_url: b64('null') }));
  add('input_obj of an optional field: a string', (t, u) => set(signed(t, u), { bt_header_input_obj_polygon_wallet: b64('"x"') }));
  add('input_obj not base64', headerValue('bt_header_input_obj_target_url', '!!!'));
  add('input_obj base64 of non-JSON', headerValue('bt_header_input_obj_target_url', b64('{nope')));
  add('input_obj of an unknown field', headerValue('bt_header_input_obj_nope', b64('[1,2]')));

  group = 'body';
  add('not JSON', (t, u) => withBody(signed(t, u), 'not json'));
  add('truncated JSON', (t, u) => {
    const d = signed(t, u);
    return withBody(d, d.body!.subarray(0, 40));
  });
  add('empty', (t, u) => withBody(signed(t, u), ''));
  add('not UTF-8', (t, u) => withBody(signed(t, u), Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
  add('a JSON array', (t, u) => withBody(signed(t, u), '[1,2]'));
  add('a JSON string', (t, u) => withBody(signed(t, u), '"x"'));
  add('a field of the wrong type', (t, u) => editBody(signed(t, u, { synapse: 'ProviderProbe' }), (o) => (o.target_url = 5)));
  add('null for a str field', (t, u) => editBody(signed(t, u, { synapse: 'ProviderProbe' }), (o) => (o.target_url = null)));
  add('dendrite not an object', (t, u) => editBody(signed(t, u), (o) => (o.dendrite = 'x')));
  add('timeout a string', (t, u) => editBody(signed(t, u), (o) => (o.timeout = 'soon')));
  add('not JSON, no content-type', (t, u) => withBody(set(signed(t, u), { 'content-type': null }), 'not json'));
  add('JSON, no content-type', (t, u) => set(signed(t, u), { 'content-type': null }));
  add('JSON, content-type text/plain', (t, u) => set(signed(t, u), { 'content-type': 'text/plain' }));
  add('not JSON, unregistered caller', (t, u) => withBody(signed(t, u, { signer: stranger }), 'not json'));
  add('not JSON, unsigned', (t, u) => withBody(set(signed(t, u), { bt_header_dendrite_signature: null }), 'not json'));

  group = 'paths';
  add('/ProviderCheck/x', (t, u) => ({ ...signed(t, u), path: '/ProviderCheck/x' }));
  add('/ProviderCheck/x, unregistered caller', (t, u) => ({ ...signed(t, u, { signer: stranger }), path: '/ProviderCheck/x' }));
  add('/ProviderCheck/', (t, u) => ({ ...signed(t, u), path: '/ProviderCheck/' }));
  add('/providercheck', (t, u) => ({ ...signed(t, u), path: '/providercheck' }));
  add('/Unknown', (t, u) => ({ ...signed(t, u), path: '/Unknown' }));
  add('/', (t, u) => ({ ...signed(t, u), path: '/' }));
  add('//ProviderCheck', (t, u) => ({ ...signed(t, u), path: '//ProviderCheck' }));
  add('/Synapse (Python’s default ping)', (t, u) => ({ ...signed(t, u), path: '/Synapse' }));
  add('/%2FProviderCheck', (t, u) => ({ ...signed(t, u), path: '/%2FProviderCheck' }));
  add('/Provider%00Check', (t, u) => ({ ...signed(t, u), path: '/Provider%00Check' }));
  add('a 3000-character path', (t, u) => ({ ...signed(t, u), path: `/${'A'.repeat(3000)}` }));

  group = 'methods';
  for (const method of ['HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    add(method, (t, u) => ({ ...signed(t, u), method }));
    add(`${method}, unregistered caller`, (t, u) => ({ ...signed(t, u, { signer: stranger }), method }));
  }

  group = 'sizes';
  add('a 70 KB body', (t, u) => editBody(signed(t, u), (o) => (o.pad = 'x'.repeat(70_000))));
  add('a 70 KB body, unregistered caller', (t, u) => editBody(signed(t, u, { signer: stranger }), (o) => (o.pad = 'x'.repeat(70_000))));
  add('a 20 KB header', (t, u) => set(signed(t, u), { 'x-pad': 'y'.repeat(20_000) }));
  add('a 10 KB ProviderProbe target_url', (t, u) =>
    editBody(signed(t, u, { synapse: 'ProviderProbe' }), (o) => (o.target_url = `https://p.example/${'a'.repeat(10_000)}`)),
  );

  return cases;
}
