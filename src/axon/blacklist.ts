/**
 * Who may call the miner, from the metagraph: the Python Subnet 58 miner's blacklist
 * (registered hotkeys only, a validator permit when required) plus an optional minimum
 * stake, and the caller's stake as its priority.
 *
 * The metagraph is re-read periodically (Python: every max(epoch_length·12, 120) s). A caller
 * the table does not know also triggers a re-read, at most once a minute, so a validator that
 * just registered is served within a minute instead of an hour, while unknown keys cannot
 * make the miner hammer the chain. A failed re-read keeps the last table.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { errorMessage, isAbortError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { MinerMetrics } from '../observability/metrics.js';
import type { MetagraphSnapshot, Subtensor } from '../chain/subtensor/types.js';
import type { BlacklistFn, PriorityFn } from './types.js';

/** The reasons the Python miner gives (`Forbidden. Key is blacklisted: {reason}.`), plus ours for stake. */
export const BLACKLIST_REASONS = {
  missingHotkey: 'Missing dendrite or hotkey',
  unregistered: 'Unrecognized hotkey',
  noPermit: 'Non-validator hotkey',
  lowStake: 'Insufficient stake',
  noMetagraph: 'Metagraph not loaded',
} as const;

export interface BlacklistPolicy {
  /** Require a validator permit (Python's `--blacklist.force_validator_permit`; on by default here). */
  forceValidatorPermit: boolean;
  /** Minimum stake in RAO; 0n: none. */
  minStakeRao: bigint;
}

export interface CallerInfo {
  uid: number;
  /** RAO. */
  stake: bigint;
  validatorPermit: boolean;
}

export interface CallerTable {
  block: number;
  n: number;
  byHotkey: ReadonlyMap<string, CallerInfo>;
}

/** The lookup table of a metagraph snapshot. Pure. */
export function buildCallerTable(snapshot: Pick<MetagraphSnapshot, 'block' | 'hotkeys' | 'stake' | 'validatorPermit' | 'uids'>): CallerTable {
  const byHotkey = new Map<string, CallerInfo>();
  snapshot.hotkeys.forEach((hotkey, i) => {
    // A hotkey appears once per subnet; keep the first like Python's `hotkeys.index()`.
    if (byHotkey.has(hotkey)) return;
    byHotkey.set(hotkey, { uid: snapshot.uids[i] ?? i, stake: snapshot.stake[i] ?? 0n, validatorPermit: snapshot.validatorPermit[i] ?? false });
  });
  return { block: snapshot.block, n: snapshot.hotkeys.length, byHotkey };
}

export type Verdict = { blacklisted: false; reason: string; caller: CallerInfo } | { blacklisted: true; reason: string };

/** The decision for one caller. Pure. */
export function judgeCaller(table: CallerTable | null, hotkey: string | null, policy: BlacklistPolicy): Verdict {
  if (hotkey === null || hotkey === '') return { blacklisted: true, reason: BLACKLIST_REASONS.missingHotkey };
  if (table === null) return { blacklisted: true, reason: BLACKLIST_REASONS.noMetagraph };
  const caller = table.byHotkey.get(hotkey);
  if (!caller) return { blacklisted: true, reason: BLACKLIST_REASONS.unregistered };
  if (policy.forceValidatorPermit && !caller.validatorPermit) return { blacklisted: true, reason: BLACKLIST_REASONS.noPermit };
  if (caller.stake < policy.minStakeRao) return { blacklisted: true, reason: BLACKLIST_REASONS.lowStake };
  return { blacklisted: false, reason: 'Hotkey recognized', caller };
}

/** TAO (a float from the config) → RAO, refusing what is not a finite non-negative amount. */
export function taoToRao(tao: number): bigint {
  if (!Number.isFinite(tao) || tao < 0) throw new RangeError(`a stake must be a non-negative number of TAO, got ${tao}`);
  return BigInt(Math.round(tao * 1e9));
}

export interface MetagraphBlacklistOptions extends BlacklistPolicy {
  subtensor: Pick<Subtensor, 'getMetagraph'>;
  netuid: number;
  /** Period of the re-read. */
  refreshMs: number;
  /** An unknown caller re-reads the metagraph at most this often. Default 60 s. */
  unknownRefreshMs?: number;
  logger: Logger;
  metrics?: MinerMetrics | null;
  now?: () => number;
}

export interface MetagraphBlacklistStatus {
  loaded: boolean;
  block: number | null;
  n: number;
  /** ms since the last successful read; null before the first. */
  ageMs: number | null;
  lastError: string | null;
}

export interface MetagraphBlacklist {
  readonly blacklist: BlacklistFn;
  readonly priority: PriorityFn;
  /** Reads the metagraph now; false (and the old table kept) when the read failed. */
  refresh(signal?: AbortSignal): Promise<boolean>;
  /** Re-reads every `refreshMs` (every 15 s while none is loaded) until the signal aborts. */
  run(signal: AbortSignal): Promise<void>;
  status(): MetagraphBlacklistStatus;
}

export function createMetagraphBlacklist(options: MetagraphBlacklistOptions): MetagraphBlacklist {
  const { subtensor, netuid, logger } = options;
  const log = logger.child({ module: 'blacklist' });
  const metrics = options.metrics ?? null;
  const now = options.now ?? Date.now;
  const unknownRefreshMs = options.unknownRefreshMs ?? 60_000;
  const policy: BlacklistPolicy = { forceValidatorPermit: options.forceValidatorPermit, minStakeRao: options.minStakeRao };
  let table: CallerTable | null = null;
  let loadedAt: number | null = null;
  let lastAttempt = -Infinity;
  let lastError: string | null = null;
  let inFlight: Promise<boolean> | null = null;

  function refresh(signal?: AbortSignal): Promise<boolean> {
    inFlight ??= (async () => {
      lastAttempt = now();
      try {
        const snapshot = await subtensor.getMetagraph(netuid);
        if (signal?.aborted) return false;
        const before = table;
        table = buildCallerTable(snapshot);
        loadedAt = now();
        lastError = null;
        metrics?.metagraphSyncs.inc({ outcome: 'ok' });
        const permits = [...table.byHotkey.values()].filter((c) => c.validatorPermit).length;
        if (before === null || before.n !== table.n) log.info({ netuid, block: table.block, n: table.n, validatorPermits: permits }, 'metagraph loaded');
        else log.debug({ netuid, block: table.block, n: table.n }, 'metagraph refreshed');
        return true;
      } catch (err) {
        if (isAbortError(err)) return false;
        lastError = errorMessage(err);
        metrics?.metagraphSyncs.inc({ outcome: 'error' });
        log.warn({ netuid, err: lastError, keptBlock: table?.block ?? null }, 'metagraph refresh failed; keeping the last one');
        return false;
      } finally {
        inFlight = null;
      }
    })();
    return inFlight;
  }

  const blacklist: BlacklistFn = (hotkey) => {
    const verdict = judgeCaller(table, hotkey, policy);
    if (verdict.blacklisted && verdict.reason === BLACKLIST_REASONS.unregistered && now() - lastAttempt >= unknownRefreshMs && inFlight === null) {
      void refresh();
    }
    return verdict;
  };

  const priority: PriorityFn = (hotkey) => {
    const caller = table?.byHotkey.get(hotkey);
    return caller ? Number(caller.stake) / 1e9 : 0;
  };

  return {
    blacklist,
    priority,
    refresh,
    async run(signal) {
      while (!signal.aborted) {
        // Until a first table is loaded every caller is refused: retry sooner.
        const wait = table === null ? Math.min(options.refreshMs, 15_000) : options.refreshMs;
        try {
          await sleep(wait, undefined, { signal });
        } catch {
          return; // aborted
        }
        await refresh(signal);
      }
    },
    status: () => ({
      loaded: table !== null,
      block: table?.block ?? null,
      n: table?.n ?? 0,
      ageMs: loadedAt === null ? null : now() - loadedAt,
      lastError,
    }),
  };
}
