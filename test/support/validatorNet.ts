/**
 * One local network (anvil + Chopsticks + TS miner daemons + providers + registry, from
 * localnet/network.ts) per test file, and the test's OWN expectation of what a validator
 * should set: rewards written out from the scenario (who proves which wallet, what each
 * wallet claimed, who answers probes), never from the validator's scoring code.
 */
import { createWriteStream, existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect } from 'vitest';
import { startLocalNetwork, type LocalNetwork, type StartLocalNetworkOptions } from '../../localnet/network.js';
import { createLogger } from '../../src/observability/logger.js';
import { startDeadline } from '../../src/util/deadline.js';
import { chainSpecPath } from './localChain.js';
import { missingProgram } from './programs.js';

export interface NetworkFixture {
  /** Set in beforeAll. */
  net: LocalNetwork;
  /** Non-null when the chain spec is missing outside CI. */
  skipReason: string | null;
}

/** Starts the network in beforeAll (then `setup`, if given) and closes it in afterAll. */
export function withLocalNetwork(
  options: Omit<StartLocalNetworkOptions, 'chainSpecPath' | 'logger' | 'signal'>,
  setup?: (net: LocalNetwork) => Promise<void>,
): NetworkFixture {
  const fixture = { skipReason: null } as NetworkFixture;
  const stop = new AbortController();
  beforeAll(async () => {
    const spec = chainSpecPath();
    fixture.skipReason = missingProgram(() => (existsSync(spec) ? null : `the subtensor chain spec at ${spec} (set SUBTENSOR_CHAIN_SPEC)`));
    if (fixture.skipReason) return;
    // HS58_TEST_LOG=<file>: every daemon's log lines (debug) go there, to see why a run went wrong.
    const logFile = process.env.HS58_TEST_LOG;
    const logger = logFile ? createLogger({ level: 'debug', destination: createWriteStream(logFile, { flags: 'a' }) }) : createLogger({ level: 'error' });
    fixture.net = await startLocalNetwork({ ...options, chainSpecPath: spec, logger, signal: stop.signal });
    if (logFile) fixture.net.reader.onNewHead((h) => logger.debug({ chainHead: h.number }, 'chain head'));
    await setup?.(fixture.net);
  }, 180_000);
  afterAll(async () => {
    stop.abort(new Error('tests done'));
    await fixture.net?.close();
  });
  return fixture;
}

/** What one uid does in the scenario, as the test arranged it. */
export interface MinerFacts {
  uid: number;
  /** The wallet whose ownership it proves with a valid proof; null: no wallet, a bad proof, or no answer. */
  provenWallet: string | null;
  /** It answers every probe like an honest miner (so it agrees with the consensus). */
  answersProbes: boolean;
}

export type PresetName = 'hs58' | 'drain-v1' | 'oracle-v2.1';

/**
 * Reward per uid under each preset, from the formulas, for rounds in which every honest
 * miner agrees with the probe consensus (accuracy 1) and the claims are `claimed`:
 * - hs58: proven ? 0.6·claims/top + 0.4·probe : 0, top = largest claims of a proven wallet (one uid per wallet);
 * - drain-v1: proven ? 0.4 + 0.6·claims/max : 0, max = largest claims of ANY claiming address;
 * - oracle-v2.1: probe accuracy (1 or 0).
 */
export function expectedRewards(preset: PresetName, miners: readonly MinerFacts[], claimed: ReadonlyMap<string, bigint>): Map<number, number> {
  const claimsOf = (w: string | null) => (w === null ? 0 : Number(claimed.get(w.toLowerCase()) ?? 0n));
  const out = new Map<number, number>();
  if (preset === 'oracle-v2.1') {
    for (const m of miners) out.set(m.uid, m.answersProbes ? 1 : 0);
    return out;
  }
  if (preset === 'drain-v1') {
    const max = Math.max(0, ...[...claimed.values()].map(Number));
    for (const m of miners) out.set(m.uid, m.provenWallet === null ? 0 : 0.4 + (max > 0 ? (0.6 * claimsOf(m.provenWallet)) / max : 0));
    return out;
  }
  const seen = new Set<string>();
  const credited = [...miners]
    .sort((a, b) => a.uid - b.uid)
    .filter((m) => m.provenWallet !== null && !seen.has(m.provenWallet.toLowerCase()) && seen.add(m.provenWallet.toLowerCase()));
  const top = Math.max(0, ...credited.map((m) => claimsOf(m.provenWallet)));
  for (const m of miners) {
    const isCredited = credited.includes(m);
    out.set(m.uid, isCredited ? (top > 0 ? (0.6 * claimsOf(m.provenWallet)) / top : 0) + 0.4 * (m.answersProbes ? 1 : 0) : 0);
  }
  return out;
}

/**
 * The u16 row a validator stores after rounds with constant rewards from a zero EMA: the EMA
 * is then `reward·(1 − (1 − α)^k)` for every uid, so the row is the rewards max-upscaled to 65535.
 */
export function expectedWeightRow(rewards: ReadonlyMap<number, number>): Map<number, number> {
  const max = Math.max(0, ...rewards.values());
  const row = new Map<number, number>();
  if (max === 0) return row;
  for (const [uid, r] of rewards) if (r > 0) row.set(uid, Math.round((65535 * r) / max));
  return row;
}

/**
 * The stored row equals the expected one within `tolerance` u16 steps (float32 EMA, rounding),
 * uids expected at 0 are absent or 0, and the order agrees: a uid expected clearly above
 * another is above it on chain.
 */
export function expectWeightRow(actual: ReadonlyMap<number, number>, expected: ReadonlyMap<number, number>, uids: readonly number[], tolerance = 2): void {
  const got = Object.fromEntries(uids.map((uid) => [uid, actual.get(uid) ?? 0]));
  const want = Object.fromEntries(uids.map((uid) => [uid, expected.get(uid) ?? 0]));
  for (const uid of uids) {
    const diff = Math.abs(got[uid]! - want[uid]!);
    if (diff > tolerance) expect(got, `uid ${uid}: chain ${got[uid]}, expected ${want[uid]}`).toEqual(want);
  }
  for (const a of uids) {
    for (const b of uids) {
      if (want[a]! > want[b]! + 2 * tolerance) expect(got[a]!, `uid ${a} should rank above uid ${b}`).toBeGreaterThan(got[b]!);
    }
  }
}

/**
 * Stops a validator run that has not finished its rounds by then, so that a stuck run fails its
 * own test (too few rounds) instead of running on into the next test with the same hotkey.
 */
export function deadline(ms = 90_000): AbortSignal {
  return startDeadline(ms, { label: 'the validator run' }).signal;
}

/** The validator's state folder for a given `--neuron.state_path` on this network. */
export function validatorStateDir(net: LocalNetwork, statePath: string): string {
  return path.join(statePath, `${net.walletName}-validator`, `netuid${net.netuid}`);
}

export async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}
