/**
 * Differential test against the real thing: the Python axon of bittensor 10.5 (from the interop
 * venv) and our axon run side by side with the same miner hotkey, the same metagraph (the same
 * registered hotkeys, validator permits and stakes) and forwards that fill the same values. Each
 * request of the corpus (test/support/axon-corpus.ts: valid, odd and hostile requests) goes to
 * both, signed anew for each; both must answer with the same status, and with the same message
 * wherever Python's says something. The only allowed differences are listed, with their reasons,
 * in test/support/axon-python-differences.ts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AxonServer } from '../../src/axon/server.js';
import { rawRequest, signerFromSeed, startTestAxon, type NeuronEntry, type TestSigner } from '../support/axon.js';
import { buildCorpus, type CorpusCase, type CorpusTarget, type WireRequest } from '../support/axon-corpus.js';
import { ALLOWED_DIFFERENCES, comparableMessage, isInformative } from '../support/axon-python-differences.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';

const SCRIPT = path.join(REPO_ROOT, 'test/interop/differential_axon.py');
const MINER_SEED = 0x3d;

interface Answer {
  status: number;
  json: Record<string, unknown> | null;
  text: string;
}

let skipReason: string | null = null;
let python: ChildProcessWithoutNullStreams | undefined;
let pythonStderr = '';
let pyTarget: CorpusTarget;
let tsTarget: CorpusTarget;
let ours: AxonServer | undefined;
let corpus: CorpusCase[] = [];

/** Sends one request exactly as given; a dropped connection is status -1. Each on its own connection. */
async function send(port: number, r: WireRequest): Promise<Answer> {
  try {
    const a = await rawRequest(port, { method: r.method, path: r.path, headers: r.headers, body: r.body ?? undefined, timeoutMs: 20_000 });
    return { status: a.status, json: a.json, text: a.body };
  } catch (err) {
    return { status: -1, json: null, text: String(err) };
  }
}

/** Starts the Python axon and resolves with its port and hotkey once it listens. */
function startPythonAxon(interpreter: string, neurons: readonly NeuronEntry[]): Promise<{ port: number; hotkey: string }> {
  const child = spawn(interpreter, [SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  python = child;
  child.stderr.on('data', (d: Buffer) => (pythonStderr = (pythonStderr + d.toString()).slice(-8000)));
  child.stdin.write(
    `${JSON.stringify({ miner_seed: `0x${MINER_SEED.toString(16).padStart(2, '0').repeat(32)}`, neurons: neurons.map((n) => ({ hotkey: n.hotkey, stake: n.stakeTao, permit: n.permit })) })}\n`,
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the Python axon did not start within 90 s: ${pythonStderr}`)), 90_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`differential_axon.py exited with ${code}: ${pythonStderr}`));
    });
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      if (!line.startsWith('@@HS58 ')) return;
      const msg = JSON.parse(line.slice(7)) as { event: string; port: number; hotkey: string };
      if (msg.event !== 'ready') return;
      clearTimeout(timer);
      resolve({ port: msg.port, hotkey: msg.hotkey });
    });
  });
}

beforeAll(async () => {
  const { python: interpreter, reason } = requireInteropPython();
  if (reason || !interpreter) {
    skipReason = reason ?? 'no interop python';
    return;
  }
  const [miner, validator, noPermit, stranger] = (await Promise.all([MINER_SEED, 0x3e, 0x3f, 0x40].map(signerFromSeed))) as [
    TestSigner,
    TestSigner,
    TestSigner,
    TestSigner,
  ];
  const neurons: NeuronEntry[] = [
    { hotkey: miner.address, stakeTao: 0, permit: false },
    { hotkey: validator.address, stakeTao: 1000, permit: true },
    { hotkey: noPermit.address, stakeTao: 10, permit: false },
  ];
  const started = await startTestAxon({
    miner,
    handlers: {
      ProviderCheck: () => ({ polygon_wallet: `0x${'ab'.repeat(20)}`, wallet_proof: `0x${'cd'.repeat(65)}`, api_url: 'https://provider.example/v1' }),
      ProviderProbe: () => ({ probe_latency_ms: 7, probe_status: 200, probe_reachable: true }),
    },
    neurons,
  });
  ours = started.axon;
  tsTarget = { port: started.port, minerHotkey: miner.address };
  const py = await startPythonAxon(interpreter, neurons);
  if (py.hotkey !== miner.address) throw new Error(`the Python axon's hotkey ${py.hotkey} is not ours (${miner.address})`);
  pyTarget = { port: py.port, minerHotkey: py.hotkey };
  corpus = buildCorpus({ validator, noPermit, stranger });
}, 120_000);

afterAll(async () => {
  if (python && python.exitCode === null) {
    python.stdin.end('stop\n');
    const exited = new Promise((resolve) => python!.once('close', resolve));
    const timer = setTimeout(() => python!.kill(), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await ours?.close();
});

const ENVELOPE = new Set(['name', 'timeout', 'total_size', 'header_size', 'dendrite', 'axon', 'computed_body_hash']);

/** What must be equal in two answers that both axons gave with the same status. */
function comparable(a: Answer): unknown {
  if (a.status === 200 && a.json) {
    const own = Object.fromEntries(Object.entries(a.json).filter(([k]) => !ENVELOPE.has(k)));
    const axon = a.json.axon as Record<string, unknown> | undefined;
    return { keys: Object.keys(a.json), own, axon: [axon?.status_code, axon?.status_message] };
  }
  return null;
}

/** Every disagreement of one case, as readable lines (none: the axons agree). */
async function differences(c: CorpusCase): Promise<string[]> {
  const id = `${c.group}: ${c.name}`;
  const py: Answer[] = [];
  for (const r of c.steps(pyTarget)) py.push(await send(pyTarget.port, r));
  const ts: Answer[] = [];
  for (const r of c.steps(tsTarget)) ts.push(await send(tsTarget.port, r));
  const allowed = ALLOWED_DIFFERENCES.find((d) => d.case === id);
  if (allowed) {
    const got = [py.at(-1)!.status, ts.at(-1)!.status];
    return got[0] === allowed.python && got[1] === allowed.ours
      ? []
      : [`${id}: allowed difference ${allowed.python}/${allowed.ours} but Python ${got[0]}, ours ${got[1]} (${ts.at(-1)!.text.slice(0, 200)})`];
  }
  const out: string[] = [];
  py.forEach((p, k) => {
    const t = ts[k]!;
    const step = py.length > 1 ? ` (step ${k + 1})` : '';
    if (p.status !== t.status) return out.push(`${id}${step}: Python ${p.status} ${p.text.slice(0, 200)} | ours ${t.status} ${t.text.slice(0, 200)}`);
    const pm = p.json?.message;
    if (typeof pm === 'string' && isInformative(pm) && comparableMessage(pm) !== comparableMessage(String(t.json?.message))) {
      out.push(`${id}${step}: message\n  Python: ${pm}\n  ours:   ${String(t.json?.message)}`);
    }
    const [pc, tc] = [comparable(p), comparable(t)];
    if (JSON.stringify(pc) !== JSON.stringify(tc)) out.push(`${id}${step}: answer\n  Python: ${JSON.stringify(pc)}\n  ours:   ${JSON.stringify(tc)}`);
  });
  return out;
}

const GROUPS = ['valid', 'signature', 'nonce', 'hotkey', 'uuid', 'headers', 'body', 'paths', 'methods', 'sizes'];

describe('our axon answers like the Python axon of bittensor 10.5', () => {
  test('the corpus covers every group, and every allowed difference is a case of it', (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    expect([...new Set(corpus.map((c) => c.group))]).toEqual(GROUPS);
    const ids = new Set(corpus.map((c) => `${c.group}: ${c.name}`));
    expect(ids.size).toBe(corpus.length);
    expect(ALLOWED_DIFFERENCES.filter((d) => !ids.has(d.case)).map((d) => d.case)).toEqual([]);
  });

  test.for(GROUPS)('%s: the same status (and message) from both, or an allowed difference', async (group, ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const cases = corpus.filter((c) => c.group === group);
    expect(cases.length).toBeGreaterThan(0);
    const found: string[] = [];
    for (const c of cases) found.push(...(await differences(c)));
    expect(found, found.join('\n')).toEqual([]);
  });

  test('a valid request still gets 200 from both after the corpus', async (ctx) => {
    if (skipReason) return ctx.skip(skipReason);
    const valid = corpus.find((c) => c.group === 'valid')!;
    for (const target of [pyTarget, tsTarget]) expect((await send(target.port, valid.steps(target)[0]!)).status).toBe(200);
  });
});
