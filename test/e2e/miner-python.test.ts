/**
 * The REAL Python bittensor dendrite (SDK 10.x in .venv-interop) queries the TypeScript miner's
 * axon over 127.0.0.1 with both synapses: it must get correctly filled synapses back (Python
 * types, a wallet proof that recovers like the Python validator checks it), and Python's status
 * codes and messages for permit-less, unregistered, stale and replayed requests.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createVerifyPool, type SignatureVerifier } from '../../src/axon/verifyPool.js';
import { loadPolygonAccount } from '../../src/wallet/polygon.js';
import { initCrypto } from '../../src/wallet/sr25519.js';
import { signerFromSeed, startTestMiner, type TestSigner } from '../support/axon.js';
import { startLocalServer, type LocalServer } from '../support/httpServer.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';

const POLYGON_KEY = '0x8da4ef21b864d2cc526dbdb2a120bd2874c36c9d0a1fb7f8c63d7f7a8b41de8f';

interface Typed {
  type: string;
  value: unknown;
}
interface PyResult {
  dendrite_status_code: number | null;
  dendrite_status_message: string | null;
  axon_status_code: number | null;
  fields: Record<string, Typed>;
  proof_valid?: boolean;
}

let verifier: SignatureVerifier;
let miner: TestSigner;
let provider: LocalServer;
let port: number;
let close: () => Promise<void>;
let results: PyResult[] | null = null;
let skipReason: string | null = null;
const ALL_CALLS: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  const { python, reason } = requireInteropPython();
  if (reason || !python) {
    skipReason = reason ?? 'no interop python';
    return;
  }
  await initCrypto();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  const [alice, bob] = ['//Alice', '//Bob'].map((uri) => keyring.addFromUri(uri).address) as [string, string];
  miner = await signerFromSeed(41);
  verifier = await createVerifyPool({ threads: 1 });
  provider = await startLocalServer((_req, res) => {
    res.writeHead(402);
    res.end('pay first');
  });
  const started = await startTestMiner({
    miner,
    polygonKey: POLYGON_KEY,
    apiUrl: 'https://provider.example/v1',
    probe: { allow: ['127.0.0.1'] },
    neurons: [
      { hotkey: alice, stakeTao: 100, permit: true },
      { hotkey: bob, stakeTao: 5, permit: false },
    ],
    verifier,
  });
  port = started.port;
  close = () => started.axon.close();

  const fixedNonce = (BigInt(Date.now()) * 1_000_000n).toString();
  ALL_CALLS.push(
    { uri: '//Alice', synapse: 'ProviderCheck', fields: {} },
    { uri: '//Alice', synapse: 'ProviderProbe', fields: { target_url: `${provider.origin}/v1/chat` } },
    { uri: '//Alice', synapse: 'ProviderProbe', fields: { target_url: '' } },
    { uri: '//Alice', synapse: 'ProviderProbe', fields: { target_url: 'http://169.254.169.254/latest/meta-data/' } },
    { uri: '//Bob', synapse: 'ProviderCheck', fields: {} },
    { uri: '//Eve', synapse: 'ProviderProbe', fields: { target_url: provider.origin } },
    {
      uri: '//Alice',
      dendrite: 'alice-stale',
      synapse: 'ProviderCheck',
      fields: {},
      timeout: 10.0,
      nonce_ns: (BigInt(Date.now() - 30_000) * 1_000_000n).toString(),
    },
    { uri: '//Alice', dendrite: 'alice-replay', synapse: 'ProviderCheck', fields: {}, nonce_ns: fixedNonce },
    { uri: '//Alice', dendrite: 'alice-replay', synapse: 'ProviderCheck', fields: {}, nonce_ns: fixedNonce },
  );
  // Asynchronous: the axon answering the Python dendrite runs in this very process.
  const run = await runPython(
    python,
    path.join(REPO_ROOT, 'test/interop/miner_dendrite.py'),
    `${JSON.stringify({ port, miner_hotkey: miner.address, calls: ALL_CALLS })}\n`,
  );
  const line = run.stdout.split('\n').find((l) => l.startsWith('@@HS58 '));
  if (!line) throw new Error(`miner_dendrite.py failed (${run.code}): ${run.stderr.slice(-3000)}`);
  results = (JSON.parse(line.slice(7)) as { results: PyResult[] }).results;
}, 120_000);

afterAll(async () => {
  await close?.();
  await verifier?.close();
  await provider?.close();
});

function runPython(python: string, script: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [script], { env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill(), 90_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

function result(i: number, ctx: { skip: (reason: string) => void }): PyResult {
  if (skipReason) {
    ctx.skip(skipReason);
    throw new Error('skipped');
  }
  return results![i]!;
}

describe('a Python dendrite gets filled synapses', () => {
  test('ProviderCheck: str fields, and the proof recovers to the wallet as the Python validator checks it', (ctx) => {
    const r = result(0, ctx);
    expect(r.dendrite_status_code).toBe(200);
    expect(r.dendrite_status_message).toBe('Success');
    expect(r.fields.polygon_wallet).toEqual({ type: 'str', value: loadPolygonAccount({ privateKey: POLYGON_KEY }).address });
    expect(r.fields.wallet_proof!.type).toBe('str');
    expect(r.fields.api_url).toEqual({ type: 'str', value: 'https://provider.example/v1' });
    expect(r.proof_valid).toBe(true);
  });

  test('ProviderProbe: int status and latency, bool reachable (402 is an answer)', (ctx) => {
    const r = result(1, ctx);
    expect(r.dendrite_status_code).toBe(200);
    expect(r.fields.probe_reachable).toEqual({ type: 'bool', value: true });
    expect(r.fields.probe_status).toEqual({ type: 'int', value: 402 });
    expect(r.fields.probe_latency_ms!.type).toBe('int');
    expect(provider.hits.some((h) => h.url === '/v1/chat')).toBe(true);
  });

  test('ProviderProbe of an empty or forbidden target: False, 0, 0 (the Python miner’s answer to an exception)', (ctx) => {
    for (const i of [2, 3]) {
      const r = result(i, ctx);
      expect(r.dendrite_status_code).toBe(200);
      expect(r.fields.probe_reachable).toEqual({ type: 'bool', value: false });
      expect(r.fields.probe_status).toEqual({ type: 'int', value: 0 });
      expect(r.fields.probe_latency_ms).toEqual({ type: 'int', value: 0 });
    }
  });
});

describe('a Python dendrite gets Python’s refusals', () => {
  test('permit-less caller: 403 Non-validator hotkey', (ctx) => {
    const r = result(4, ctx);
    expect(r.dendrite_status_code).toBe(403);
    expect(r.dendrite_status_message).toBe('Forbidden. Key is blacklisted: Non-validator hotkey.');
    expect(r.fields.polygon_wallet).toEqual({ type: 'NoneType', value: null });
  });

  test('unregistered caller: 403 Unrecognized hotkey', (ctx) => {
    const r = result(5, ctx);
    expect(r.dendrite_status_code).toBe(403);
    expect(r.dendrite_status_message).toBe('Forbidden. Key is blacklisted: Unrecognized hotkey.');
  });

  test('a first nonce older than 4 s + timeout: 401 with the nonce window message', (ctx) => {
    const r = result(6, ctx);
    expect(r.dendrite_status_code).toBe(401);
    expect(r.dendrite_status_message).toMatch(
      /^Not Verified with error: Nonce is too old: acceptable delta is 14\.00 seconds but request was 3\d\.\d\d seconds old$/,
    );
  });

  test('the same nonce twice from one dendrite: 200 then 401 Nonce is too old', (ctx) => {
    const first = result(7, ctx);
    const second = result(8, ctx);
    expect(first.dendrite_status_code).toBe(200);
    expect(second.dendrite_status_code).toBe(401);
    expect(second.dendrite_status_message).toBe('Not Verified with error: Nonce is too old, a newer one was last processed');
  });
});
