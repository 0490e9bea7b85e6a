/**
 * Switching from the Python validator: its `state.npz` (what HS58-subnet's `save_state` writes
 * with `np.savez(full_path + "/state.npz", step=self.step, scores=self.scores, hotkeys=self.hotkeys)`)
 * becomes this validator's first state, so the EMA scores Yuma already sees go on instead of
 * restarting from 0. Imported once, on the first start (no `state.json` yet); the first round
 * then maps the scores onto the current metagraph (a UID whose hotkey changed since restarts at 0).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { StateStore } from '../store/jsonFile.js';
import { Hs58Error } from '../errors.js';
import { readNpz, type NpyArray } from '../util/npz.js';
import { emptyState, type ValidatorState } from './state.js';

export type PythonStateErrorCode =
  /** The file named by --neuron.import_state does not exist. */
  | 'PYTHON_STATE_NOT_FOUND'
  /** A readable .npz without the arrays the Python validator saves, or of other types. */
  | 'PYTHON_STATE_INVALID'
  /** A score that is NaN, infinite or negative: no EMA can go on from it. */
  | 'PYTHON_STATE_BAD_SCORES';

export class PythonStateError extends Hs58Error<PythonStateErrorCode> {
  override name = 'PythonStateError';
}

export interface PythonValidatorState {
  step: number;
  /** One per hotkey (a longer or shorter scores array is cut or padded with 0, as the state loader does). */
  scores: number[];
  hotkeys: string[];
  /** numpy dtype of the saved scores (`<f4` for the Python validator's float32). */
  scoresDtype: string;
}

/** Where the Python validator keeps its state: bittensor's logging dir (`~/.bittensor/miners`), wallet, hotkey, netuid, neuron name. */
export function pythonStatePath(p: { homeDir: string; walletName: string; walletHotkey: string; netuid: number }): string {
  return path.join(p.homeDir, '.bittensor', 'miners', p.walletName, p.walletHotkey, `netuid${p.netuid}`, 'validator', 'state.npz');
}

function array(arrays: Map<string, NpyArray>, name: string, kind: NpyArray['kind'], ndim: number): NpyArray {
  const a = arrays.get(name);
  if (!a) {
    throw new PythonStateError('PYTHON_STATE_INVALID', `no "${name}" array: not a Python validator's state.npz (it holds step, scores and hotkeys)`, {
      details: { missing: name, found: [...arrays.keys()] },
    });
  }
  // numpy saves an empty list as a float64 array: an empty vector is fine whatever its dtype.
  const emptyVector = ndim === 1 && a.shape.length === 1 && a.shape[0] === 0;
  if ((a.kind !== kind && !emptyVector) || a.shape.length !== ndim) {
    throw new PythonStateError('PYTHON_STATE_INVALID', `"${name}" is a ${a.shape.length}-d ${a.descr} array; expected a ${ndim}-d ${kind} array`, {
      details: { name, descr: a.descr, shape: a.shape },
    });
  }
  return a;
}

/** Reads and checks the bytes of a Python validator's `state.npz`. */
export function parsePythonValidatorState(bytes: Uint8Array): PythonValidatorState {
  const arrays = readNpz(bytes);
  const stepArray = array(arrays, 'step', 'int', 0);
  const scoresArray = array(arrays, 'scores', 'float', 1);
  const hotkeysArray = array(arrays, 'hotkeys', 'unicode', 1);
  const step = (stepArray.values as bigint[])[0]!;
  if (step < 0n || step > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new PythonStateError('PYTHON_STATE_INVALID', `step ${step} is not a usable round count`, { details: { step: step.toString() } });
  }
  const raw = scoresArray.kind === 'float' ? scoresArray.values : new Float64Array(0);
  for (let uid = 0; uid < raw.length; uid++) {
    const s = raw[uid]!;
    if (!Number.isFinite(s) || s < 0) {
      throw new PythonStateError('PYTHON_STATE_BAD_SCORES', `score of uid ${uid} is ${s}: scores must be finite and not negative`, {
        details: { uid, score: String(s) },
      });
    }
  }
  const hotkeys = hotkeysArray.kind === 'unicode' ? hotkeysArray.values : [];
  const scores = Array.from(raw.subarray(0, hotkeys.length));
  while (scores.length < hotkeys.length) scores.push(0);
  return { step: Number(step), scores, hotkeys, scoresDtype: scoresArray.descr };
}

export interface ImportPythonStateParameters {
  /** The validator's own state store: the import happens only while it is empty. */
  store: StateStore<ValidatorState>;
  netuid: number;
  hotkey: string;
  /** `--neuron.import_state`: a path, `none` (never import), or null (look at `defaultPath`). */
  explicitPath: string | null;
  /** The Python validator's default location for this wallet, hotkey and netuid. */
  defaultPath: string;
}

export type ImportPythonStateResult =
  | { kind: 'imported'; path: string; source: 'flag' | 'default'; step: number; uids: number; nonZero: number; scoresDtype: string }
  | { kind: 'skipped'; reason: string };

async function readIfExists(file: string): Promise<Uint8Array | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * On the first start, turns the Python validator's `state.npz` into the saved validator state.
 * A file named by the flag must exist; the default location is used when it exists. A file that
 * is there but cannot be used stops the start with a coded error (move it away or pass
 * `--neuron.import_state none`): silently dropping the scores would cost the operator dividends.
 */
export async function importPythonStateOnFirstStart(p: ImportPythonStateParameters): Promise<ImportPythonStateResult> {
  if ((await p.store.load()) !== null) return { kind: 'skipped', reason: 'this validator has its own saved state' };
  if (p.explicitPath === 'none') return { kind: 'skipped', reason: 'turned off by --neuron.import_state none' };
  const source = p.explicitPath === null ? 'default' : 'flag';
  const file = p.explicitPath ?? p.defaultPath;
  const bytes = await readIfExists(file);
  if (bytes === null) {
    if (source === 'default') return { kind: 'skipped', reason: `no Python validator state at ${file}` };
    throw new PythonStateError('PYTHON_STATE_NOT_FOUND', `--neuron.import_state: ${file} does not exist`, { details: { path: file } });
  }
  let parsed: PythonValidatorState;
  try {
    parsed = parsePythonValidatorState(bytes);
  } catch (err) {
    const code = err instanceof Hs58Error ? err.code : 'PYTHON_STATE_INVALID';
    const message = err instanceof Hs58Error ? err.shortMessage : String(err);
    throw new PythonStateError(
      code === 'PYTHON_STATE_BAD_SCORES' ? 'PYTHON_STATE_BAD_SCORES' : 'PYTHON_STATE_INVALID',
      `cannot import the Python validator state ${file} (${code}: ${message}); move it away or pass --neuron.import_state none to start from zero scores`,
      { cause: err, details: { path: file, code } },
    );
  }
  const state: ValidatorState = { ...emptyState(p.netuid, p.hotkey), step: parsed.step, hotkeys: parsed.hotkeys, scores: parsed.scores };
  await p.store.save(state);
  return {
    kind: 'imported',
    path: file,
    source,
    step: parsed.step,
    uids: parsed.hotkeys.length,
    nonZero: parsed.scores.filter((s) => s > 0).length,
    scoresDtype: parsed.scoresDtype,
  };
}
