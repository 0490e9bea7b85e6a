import { Hs58Error } from '../errors.js';
import type { StateStore } from '../store/jsonFile.js';

/**
 * What a validator keeps across restarts (the scan cursor and claims, and the pending
 * commit-reveal salts, have files of their own beside it). Versioned: a file of another
 * version, netuid or hotkey is refused with a clear error rather than half-read.
 */
export const STATE_VERSION = 1;
const HISTORY_ROUNDS = 48;

export interface ValidatorState {
  version: typeof STATE_VERSION;
  netuid: number;
  hotkey: string;
  step: number;
  /** The chain block of the last finished round (its bucket decides when the next one runs). */
  lastRoundBlock: number | null;
  hotkeys: string[];
  scores: number[];
  /** EMA after each of the last rounds, for the status page's chart. */
  history: { block: number; scores: number[] }[];
  lastWeights: { block: number; uids: number[]; weights: number[]; submitted: boolean; outcome: string } | null;
}

export class StateError extends Hs58Error<'STATE_MISMATCH' | 'STATE_INVALID'> {
  override name = 'StateError';
}

export function emptyState(netuid: number, hotkey: string): ValidatorState {
  return { version: STATE_VERSION, netuid, hotkey, step: 0, lastRoundBlock: null, hotkeys: [], scores: [], history: [], lastWeights: null };
}

/** Loads and checks the saved state; a missing file is a fresh start. */
export async function loadValidatorState(store: StateStore<ValidatorState>, netuid: number, hotkey: string): Promise<ValidatorState> {
  const raw = (await store.load()) as unknown;
  if (raw === null) return emptyState(netuid, hotkey);
  const s = raw as Partial<ValidatorState>;
  if (typeof s !== 'object' || s === null || s.version !== STATE_VERSION) {
    throw new StateError(
      'STATE_INVALID',
      `validator state has version ${String((s as { version?: unknown })?.version)}, expected ${STATE_VERSION}; move the file away to start fresh`,
    );
  }
  if (s.netuid !== netuid || s.hotkey !== hotkey) {
    throw new StateError(
      'STATE_MISMATCH',
      `validator state belongs to netuid ${s.netuid} / hotkey ${s.hotkey}, not ${netuid} / ${hotkey}; use another --neuron.state_path`,
    );
  }
  const okArray = (a: unknown, check: (x: unknown) => boolean) => Array.isArray(a) && a.every(check);
  if (!okArray(s.hotkeys, (x) => typeof x === 'string') || !Array.isArray(s.scores)) {
    throw new StateError('STATE_INVALID', 'validator state has malformed hotkeys or scores; move the file away to start fresh');
  }
  // An EMA of rewards in [0, 1] stays in [0, 1]: anything else (1e308 becomes Infinity in float32,
  // then null in JSON) would break every later round.
  const bad = s.scores.findIndex((x) => !isScore(x));
  if (bad >= 0) {
    throw new StateError(
      'STATE_INVALID',
      `validator state: the score of uid ${bad} is ${JSON.stringify(s.scores[bad])}, not a number from 0 to 1; move the file away to start fresh`,
    );
  }
  // The original's fault: a scores array longer or shorter than its hotkeys. Fix the size here;
  // the first metagraph sync then resizes both to n.
  const n = s.hotkeys!.length;
  const scores = s.scores!.slice(0, n);
  while (scores.length < n) scores.push(0);
  return {
    version: STATE_VERSION,
    netuid,
    hotkey,
    step: Number.isSafeInteger(s.step) ? s.step! : 0,
    lastRoundBlock: Number.isSafeInteger(s.lastRoundBlock) ? s.lastRoundBlock! : null,
    hotkeys: s.hotkeys!,
    scores,
    // The chart's history only: entries that are not well-formed are dropped, not fatal.
    history: Array.isArray(s.history) ? s.history.filter((h) => Number.isSafeInteger(h?.block) && okArray(h?.scores, isScore)).slice(-HISTORY_ROUNDS) : [],
    lastWeights: s.lastWeights ?? null,
  };
}

/** Largest score accepted on load: 1 plus float32 rounding. */
const MAX_SCORE = 1 + 1e-6;

function isScore(x: unknown): boolean {
  return typeof x === 'number' && Number.isFinite(x) && x >= 0 && x <= MAX_SCORE;
}

function withHistory(state: ValidatorState, block: number): ValidatorState['history'] {
  return [...state.history, { block, scores: [...state.scores] }].slice(-HISTORY_ROUNDS);
}

export interface RoundOutcome {
  block: number;
  hotkeys: readonly string[];
  /** The EMA scores after the round, one per hotkey. */
  scores: ArrayLike<number>;
  /** The weights the round computed, whether sent and what became of them; null when it computed none. */
  weights: { uids: number[]; weights: number[]; submitted: boolean; outcome: string } | null;
}

/** The state after a round: one step on, its scores and history, its weights (the last ones kept when it computed none). */
export function stateAfterRound(state: ValidatorState, round: RoundOutcome): ValidatorState {
  const next: ValidatorState = { ...state, step: state.step + 1, lastRoundBlock: round.block, hotkeys: [...round.hotkeys], scores: Array.from(round.scores) };
  next.history = withHistory(next, round.block);
  next.lastWeights = round.weights ? { block: round.block, ...round.weights } : state.lastWeights;
  return next;
}
