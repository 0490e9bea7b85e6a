import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createFileStateStore } from '../../src/store/jsonFile.js';
import type { MetagraphSnapshot } from '../../src/chain/subtensor/types.js';
import { createLogger } from '../../src/observability/logger.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import { getPreset } from '../../src/scoring/presets.js';
import { NpzError, readNpz } from '../../src/util/npz.js';
import type { ProbeJob } from '../../src/validator/jobs.js';
import { importPythonStateOnFirstStart, parsePythonValidatorState, pythonStatePath, PythonStateError } from '../../src/validator/pythonState.js';
import { runRound } from '../../src/validator/round.js';
import type { RoundDeps } from '../../src/validator/steps/context.js';
import { loadValidatorState, type ValidatorState } from '../../src/validator/state.js';
import { hyperparameters } from '../support/hyperparameters.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { runPythonOracle, testRng, testSeed } from '../support/python-oracle.js';

// The Python validator's state.npz, written by numpy itself (np.savez / np.savez_compressed as
// HS58-subnet's save_state calls them, and the .npy format versions 2 and 3), read by our reader
// and compared with what np.load gives; then imported and carried through a first round.

const SEED = testSeed(58_2011);
const rng = testRng(SEED);
const ss58 = () => `5${Array.from({ length: 47 }, () => rng.pick([...'123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'])).join('')}`;
const HOTKEYS = Array.from({ length: 256 }, ss58);
const SCORES = HOTKEYS.map((_, uid) => (uid % 7 === 0 ? 0 : Math.fround(rng.next() * 0.02)));

interface Loaded {
  step: number;
  scores: (number | string)[];
  hotkeys: string[];
  dtype: string;
}
interface PyFile {
  loaded: Loaded | { error: string } | null;
  ema: number[] | null;
}
interface PyAnswer {
  numpy: string;
  files: Record<string, PyFile>;
}
type Spec = { name: string; kind: string } & Record<string, unknown>;

const FILES: Spec[] = [
  { name: 'savez.npz', kind: 'state', step: 12_345, scores: SCORES, hotkeys: HOTKEYS },
  { name: 'compressed.npz', kind: 'state', step: 7, scores: SCORES, hotkeys: HOTKEYS, compressed: true },
  { name: 'npy-v2.npz', kind: 'state', step: 1, scores: SCORES.slice(0, 9), hotkeys: HOTKEYS.slice(0, 9), npy_version: [2, 0] },
  { name: 'npy-v3-deflated.npz', kind: 'state', step: 2, scores: SCORES.slice(0, 9), hotkeys: HOTKEYS.slice(0, 9), npy_version: [3, 0], compressed: true },
  { name: 'float64.npz', kind: 'state', step: 4, scores: [0.1, 0.2, 1e-300], hotkeys: ['5A', '5B', '5C'], dtype: 'float64' },
  { name: 'unicode.npz', kind: 'state', step: 5, scores: [0.5, 0.5], hotkeys: ['5Gö€', '5F\u{1F600}x'] },
  { name: 'big-endian.npz', kind: 'big_endian', scores: [0.5, 0.125], hotkeys: ['5A', '5B'] },
  { name: 'empty.npz', kind: 'state', step: 0, scores: [], hotkeys: [] },
  { name: 'object.npz', kind: 'object' },
  { name: 'two-d.npz', kind: 'two_d', scores: [0.1, 0.2, 0.3, 0.4], hotkeys: ['5A', '5B', '5C', '5D'] },
  { name: 'no-step.npz', kind: 'no_step' },
  { name: 'nan.npz', kind: 'state', scores: [0.5, 'nan'], hotkeys: ['5A', '5B'] },
  { name: 'inf.npz', kind: 'state', scores: ['inf', 0.5], hotkeys: ['5A', '5B'] },
  { name: 'negative.npz', kind: 'state', scores: [0.5, -0.25], hotkeys: ['5A', '5B'] },
];

let dir: string;
let py: { python: string; answer: PyAnswer } | null = null;
let skipReason: string | null = null;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hs58-npz-'));
  const { python, reason } = requireInteropPython();
  if (reason || !python) {
    skipReason = reason ?? 'no interop python';
    return;
  }
  py = { python, answer: runPythonOracle<PyAnswer>(python, path.join(REPO_ROOT, 'test/interop/npz_state.py'), { dir, files: FILES }) };
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function need(ctx: { skip: (reason: string) => void }): PyAnswer {
  if (skipReason || !py) {
    ctx.skip(skipReason ?? 'no interop python');
    throw new Error('skipped');
  }
  return py.answer;
}

const bytesOf = (name: string) => readFile(path.join(dir, name));
const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? String(err);
  }
  return 'no error';
};

describe('reading a Python validator state.npz written by numpy', () => {
  test.for(['savez.npz', 'compressed.npz', 'npy-v2.npz', 'npy-v3-deflated.npz', 'float64.npz', 'unicode.npz', 'big-endian.npz', 'empty.npz'])(
    '%s: step, scores and hotkeys are exactly what np.load gives',
    async (name, ctx) => {
      const answer = need(ctx);
      const loaded = answer.files[name]!.loaded as Loaded;
      const state = parsePythonValidatorState(await bytesOf(name));
      expect(state.step, `numpy ${answer.numpy}`).toBe(loaded.step);
      expect(state.scores).toEqual(loaded.scores);
      expect(state.hotkeys).toEqual(loaded.hotkeys);
      expect(state.scoresDtype).toBe(loaded.dtype);
    },
  );

  test('the arrays themselves: dtypes and shapes as numpy wrote them (0-d step, <f4 scores, <U48 hotkeys)', async (ctx) => {
    need(ctx);
    const arrays = readNpz(await bytesOf('savez.npz'));
    expect([...arrays.keys()].sort()).toEqual(['hotkeys', 'scores', 'step']);
    expect(arrays.get('step')).toMatchObject({ descr: '<i8', shape: [], kind: 'int', values: [12_345n] });
    expect(arrays.get('scores')).toMatchObject({ descr: '<f4', shape: [256], kind: 'float' });
    expect(arrays.get('hotkeys')).toMatchObject({ descr: '<U48', shape: [256], kind: 'unicode' });
  });

  test('an object array (a pickle) is refused and never unpickled; numpy without allow_pickle refuses it too', async (ctx) => {
    const answer = need(ctx);
    expect(answer.files['object.npz']!.loaded).toEqual({ error: 'ValueError' });
    const bytes = await bytesOf('object.npz');
    expect(codeOf(() => readNpz(bytes))).toBe('NPZ_PICKLE_REFUSED');
    expect(() => parsePythonValidatorState(bytes)).toThrow(/object array \(a pickle\): refused, never unpickled/);
  });

  test('arrays the Python validator never writes are refused by name', async (ctx) => {
    need(ctx);
    const twoD = await bytesOf('two-d.npz');
    expect(codeOf(() => parsePythonValidatorState(twoD))).toBe('NPZ_UNSUPPORTED');
    const noStep = await bytesOf('no-step.npz');
    expect(codeOf(() => parsePythonValidatorState(noStep))).toBe('PYTHON_STATE_INVALID');
    expect(() => parsePythonValidatorState(noStep)).toThrow(/no "step" array/);
  });

  test.for(['nan.npz', 'inf.npz', 'negative.npz'])('%s: refused with PYTHON_STATE_BAD_SCORES', async (name, ctx) => {
    need(ctx);
    const bytes = await bytesOf(name);
    expect(codeOf(() => parsePythonValidatorState(bytes))).toBe('PYTHON_STATE_BAD_SCORES');
  });

  test('malformed files: truncated, a flipped byte (CRC), not a zip, empty', async (ctx) => {
    need(ctx);
    const good = await bytesOf('savez.npz');
    const truncated = good.subarray(0, Math.floor(good.length / 2));
    const flipped = Buffer.from(good);
    const inScores = good.indexOf(Buffer.from("'descr': '<f4'")) + 200; // past its 128-byte header: in the data
    flipped[inScores] = flipped[inScores]! ^ 0x40;
    const deflated = Buffer.from(await bytesOf('compressed.npz'));
    deflated[120] = deflated[120]! ^ 0xff;
    for (const [label, bytes] of [
      ['truncated', truncated],
      ['flipped', flipped],
      ['deflated and flipped', deflated],
      ['not a zip', Buffer.from('{"step": 1, "scores": [0.5]}'.repeat(4))],
      ['empty', Buffer.alloc(0)],
    ] as const) {
      expect(
        codeOf(() => readNpz(bytes)),
        label,
      ).toBe('NPZ_INVALID');
    }
    expect(() => readNpz(flipped)).toThrow(NpzError);
  });
});

describe('importing it on the first start', () => {
  test('from the flag, once: later starts keep their own state; the default location is used when the flag is unset', async (ctx) => {
    const answer = need(ctx);
    const work = await mkdtemp(path.join(dir, 'import-'));
    const store = createFileStateStore<ValidatorState>(path.join(work, 'state.json'));
    const base = { store, netuid: 58, hotkey: '5Validator', defaultPath: path.join(work, 'nothing-here.npz') };

    expect(await importPythonStateOnFirstStart({ ...base, explicitPath: null })).toEqual({
      kind: 'skipped',
      reason: `no Python validator state at ${base.defaultPath}`,
    });
    expect(await importPythonStateOnFirstStart({ ...base, explicitPath: 'none' })).toMatchObject({ kind: 'skipped' });
    const missing = importPythonStateOnFirstStart({ ...base, explicitPath: path.join(work, 'typo.npz') });
    await expect(missing).rejects.toMatchObject({ code: 'PYTHON_STATE_NOT_FOUND' });
    await expect(missing).rejects.toThrow(/--neuron.import_state: .*typo\.npz does not exist/);
    expect(await store.load()).toBeNull();

    const file = path.join(dir, 'savez.npz');
    const result = await importPythonStateOnFirstStart({ ...base, explicitPath: file });
    expect(result).toEqual({
      kind: 'imported',
      path: file,
      source: 'flag',
      step: 12_345,
      uids: 256,
      nonZero: SCORES.filter((s) => s > 0).length,
      scoresDtype: '<f4',
    });
    const state = await loadValidatorState(store, 58, '5Validator');
    const loaded = answer.files['savez.npz']!.loaded as Loaded;
    expect(state).toMatchObject({ step: 12_345, lastRoundBlock: null, hotkeys: loaded.hotkeys, scores: loaded.scores });

    // A second start: its own state.json exists, nothing is imported over it.
    expect(await importPythonStateOnFirstStart({ ...base, explicitPath: path.join(dir, 'compressed.npz') })).toMatchObject({ kind: 'skipped' });
    expect((await loadValidatorState(store, 58, '5Validator')).step).toBe(12_345);

    // The default location (flag unset).
    const fresh = createFileStateStore<ValidatorState>(path.join(work, 'fresh', 'state.json'));
    const viaDefault = await importPythonStateOnFirstStart({ ...base, store: fresh, explicitPath: null, defaultPath: path.join(dir, 'compressed.npz') });
    expect(viaDefault).toMatchObject({ kind: 'imported', source: 'default', step: 7 });
  });

  test('an unusable file at the default location stops the start with a coded error that says how to go on', async (ctx) => {
    need(ctx);
    const work = await mkdtemp(path.join(dir, 'bad-'));
    const store = createFileStateStore<ValidatorState>(path.join(work, 'state.json'));
    const bad = path.join(work, 'state.npz');
    await writeFile(bad, (await bytesOf('savez.npz')).subarray(0, 300));
    const attempt = importPythonStateOnFirstStart({ store, netuid: 58, hotkey: '5V', explicitPath: null, defaultPath: bad });
    await expect(attempt).rejects.toBeInstanceOf(PythonStateError);
    await expect(attempt).rejects.toThrow(/NPZ_INVALID: .*move it away or pass --neuron.import_state none/);
    const nan = importPythonStateOnFirstStart({ store, netuid: 58, hotkey: '5V', explicitPath: path.join(dir, 'nan.npz'), defaultPath: bad });
    await expect(nan).rejects.toMatchObject({ code: 'PYTHON_STATE_BAD_SCORES' });
    expect(await store.load()).toBeNull();
  });

  test('the Python default location is bittensor’s logging dir / wallet / hotkey / netuid / validator', () => {
    expect(pythonStatePath({ homeDir: '/home/op', walletName: 'hs58', walletHotkey: 'validator', netuid: 58 })).toBe(
      '/home/op/.bittensor/miners/hs58/validator/netuid58/validator/state.npz',
    );
  });

  test('the first round continues the imported EMA as the Python validator would; a hotkey that changed since restarts at 0', async (ctx) => {
    const answer = need(ctx);
    const n0 = 12;
    const file = 'small.npz';
    const oldHotkeys = HOTKEYS.slice(0, n0);
    const oldScores = SCORES.slice(1, n0 + 1);
    const w = runPythonOracle<PyAnswer>(py!.python, path.join(REPO_ROOT, 'test/interop/npz_state.py'), {
      dir,
      files: [{ name: file, kind: 'state', step: 41, scores: oldScores, hotkeys: oldHotkeys }],
    });
    expect(w.files[file]!.loaded).toMatchObject({ step: 41 });

    const work = await mkdtemp(path.join(dir, 'round-'));
    const store = createFileStateStore<ValidatorState>(path.join(work, 'state.json'));
    await importPythonStateOnFirstStart({ store, netuid: 58, hotkey: oldHotkeys[0]!, explicitPath: path.join(dir, file), defaultPath: '' });
    const state = await loadValidatorState(store, 58, oldHotkeys[0]!);

    // Since the Python validator stopped: uid 5 was replaced by a new hotkey, two uids were added.
    const hotkeys = [...oldHotkeys, ss58(), ss58()];
    hotkeys[5] = ss58();
    const { report, state: next } = await runRound(roundDeps(hotkeys), roundSettings(oldHotkeys[0]!), state, 1_000, new AbortController().signal);
    expect(report.failedSteps).toEqual([]);
    expect(report.notes).toContain('replaced hotkeys reset to 0: uids 5');
    expect(next.step).toBe(42);

    const rewards = report.rows.map((r) => r.reward ?? 0);
    expect(new Set(rewards).size).toBeGreaterThan(2); // agreeing, disagreeing, silent miners
    const python = runPythonOracle<PyAnswer>(py!.python, path.join(REPO_ROOT, 'test/interop/npz_state.py'), {
      dir,
      files: [{ name: file, kind: 'keep', next_round: { hotkeys, rewards, alpha: 0.3 } }],
    });
    expect(next.scores, `numpy ${answer.numpy}, HS58_TEST_SEED=${SEED}`).toEqual(python.files[file]!.ema);
    expect(next.scores[5]).toBe(Math.fround(Math.fround(0.3) * Math.fround(rewards[5]!))); // from 0, not from its old score
  });
});

/** Ports for one oracle-v2.1 round: uid 0 is the validator (unserved); miners answer one probe each. */
function roundDeps(hotkeys: string[]): RoundDeps {
  const n = hotkeys.length;
  const metagraph: MetagraphSnapshot = {
    netuid: 58,
    block: 1_000,
    blockHash: `0x${'ab'.repeat(32)}`,
    n,
    uids: hotkeys.map((_, uid) => uid),
    hotkeys,
    coldkeys: hotkeys,
    axons: hotkeys.map((_, uid) => ({ ip: uid === 0 ? '0.0.0.0' : `10.0.0.${uid}`, port: 8091, ipType: 4, version: 1, protocol: 4, block: 1 })),
    stake: hotkeys.map(() => 0n),
    validatorPermit: hotkeys.map((_, uid) => uid === 0),
    lastUpdate: hotkeys.map(() => 0),
    active: hotkeys.map(() => true),
    hyperparameters: hyperparameters({ weightsRateLimit: 0 }),
    source: 'storage',
  };
  const answer = (uid: number) => {
    if (uid % 5 === 4) return { reachable: null, status: null, latencyMs: null, ok: false }; // silent
    if (uid % 3 === 2) return { reachable: true, status: 500, latencyMs: 80, ok: true }; // disagrees on status
    return { reachable: true, status: 200, latencyMs: 40 + uid, ok: true };
  };
  const handlers = {
    providerCheck: async () => {
      throw new Error('oracle-v2.1 sends no ProviderCheck');
    },
    probe: async (job: ProbeJob) => ({ uid: job.axon.uid, statusCode: 200, ...answer(job.axon.uid) }),
  };
  return {
    chain: {
      getMetagraph: async () => metagraph,
      blockHash: async () => `0x${'11'.repeat(32)}`,
      setWeights: async () => ({ kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: 1_001, events: [] }),
    },
    claims: null,
    registry: {
      fetchProviders: async () => ({ providers: [{ id: 'p', probeUrl: 'https://p.example/health', name: 'p', protocol: 'drain' }], source: 'x', failures: [] }),
    },
    queue: createInProcessQueue(handlers as never, { concurrency: 4 }),
    logger: createLogger({ level: 'silent' }),
  };
}

function roundSettings(hotkey: string) {
  return { netuid: 58, hotkey, preset: getPreset('oracle-v2.1'), probesPerRound: 5, timeoutSec: 1, epochLength: 360, versionKey: 2011n, submit: true };
}
