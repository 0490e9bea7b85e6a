/**
 * A validator on its defaults (no scoring flag) against a subnet configured like the live Subnet 58
 * (256 UIDs, epoch length 360, five providers probed per round) sets the same u16 weights, with the
 * same version key, as the Python HS58-subnet 2.1.1 validator on the same miner answers.
 *
 * The answers are test/fixtures/sn58-answers.json (five rounds, see make-sn58-answers.ts). Our side:
 * the config defaults → chooseScoring → runRound, round after round, over ports that hand out the
 * recorded answers and capture what would be sent to the chain. The Python side:
 * test/interop/validator_211.py (CPython's random for the sample, numpy float32 scores, the bittensor
 * SDK's convert_and_normalize_weights_and_uids). Compared exactly, round by round.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import type { MetagraphSnapshot, SetWeightsParameters } from '../../src/chain/subtensor/types.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/observability/logger.js';
import { createInProcessQueue } from '../../src/queue/inProcess.js';
import type { ProbeJob } from '../../src/validator/jobs.js';
import type { Provider } from '../../src/marketplace/providers.js';
import { runRound } from '../../src/validator/round.js';
import type { RoundDeps } from '../../src/validator/steps/context.js';
import { chooseScoring } from '../../src/validator/scoringChoice.js';
import { emptyState, type ValidatorState } from '../../src/validator/state.js';
import { hyperparameters } from '../support/hyperparameters.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { runPythonOracle } from '../support/python-oracle.js';

type Answer = [boolean | null, number | null, number | null] | null;
interface FixtureRound {
  block: number;
  epochBlockHash: string | null;
  hotkeys: string[];
  axonIps: string[];
  answers: Record<string, Answer[]>;
}
interface Fixture {
  netuid: number;
  epochLength: number;
  validatorUid: number;
  providers: Provider[];
  rounds: FixtureRound[];
}
interface PyRound {
  sampled: string[];
  rewards: number[] | null;
  scores: number[];
  weights: { uids: number[]; weights: number[] } | null;
}
interface PyAnswer {
  bittensor: string;
  numpy: string;
  specVersion: number;
  rounds: PyRound[];
}

const FIXTURE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test/fixtures/sn58-answers.json'), 'utf8')) as Fixture;

function metagraphOf(round: FixtureRound): MetagraphSnapshot {
  const n = round.hotkeys.length;
  return {
    netuid: FIXTURE.netuid,
    block: round.block,
    blockHash: `0x${'00'.repeat(32)}`,
    n,
    uids: round.hotkeys.map((_, uid) => uid),
    hotkeys: round.hotkeys,
    coldkeys: round.hotkeys,
    axons: round.axonIps.map((ip) => ({ ip, port: 8091, ipType: 4, version: 1, protocol: 4, block: 1 })),
    stake: round.hotkeys.map(() => 0n),
    validatorPermit: round.hotkeys.map((_, uid) => uid === FIXTURE.validatorUid),
    lastUpdate: round.hotkeys.map(() => 0),
    active: round.hotkeys.map(() => true),
    // Like finney's SN58: tempo 360, a version key the 2.1.1 validators meet, MinAllowedWeights that the
    // Python path (scores / sum → set_weights) never consults.
    hyperparameters: hyperparameters({ tempo: 360, weightsRateLimit: 100, weightsVersionKey: 2011n, minAllowedWeights: 8, maxWeightsLimit: 65535 }),
    source: 'storage',
  };
}

/** Ports that answer from the fixture's round and record what the round asks and sends. */
function recordedPorts(round: FixtureRound, log: { probed: Map<string, Set<number>>; sent: SetWeightsParameters[]; checks: number }): RoundDeps {
  const handlers = {
    providerCheck: async () => {
      log.checks += 1;
      throw new Error('ProviderCheck sent');
    },
    probe: async (job: ProbeJob) => {
      const asked = log.probed.get(job.targetUrl) ?? new Set<number>();
      asked.add(job.axon.uid);
      log.probed.set(job.targetUrl, asked);
      const a = round.answers[job.targetUrl]![job.axon.uid] ?? null;
      if (a === null) return { uid: job.axon.uid, ok: false, statusCode: 408, reachable: null, status: null, latencyMs: null };
      return { uid: job.axon.uid, ok: true, statusCode: 200, reachable: a[0], status: a[1], latencyMs: a[2] };
    },
  };
  const epochBlock = Math.floor(round.block / FIXTURE.epochLength) * FIXTURE.epochLength;
  return {
    chain: {
      getMetagraph: async () => metagraphOf(round),
      blockHash: async (b: number) => {
        if (b !== epochBlock) throw new Error(`asked for block ${b}, not the epoch block ${epochBlock}`);
        if (round.epochBlockHash === null) throw new Error('block hash not available');
        return round.epochBlockHash;
      },
      setWeights: async (p: SetWeightsParameters) => {
        log.sent.push(p);
        return { kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: round.block + 1, events: [] };
      },
    },
    claims: null,
    registry: { fetchProviders: async () => ({ providers: [...FIXTURE.providers], source: 'fixture', failures: [] }) },
    queue: createInProcessQueue(handlers as never, { concurrency: 64 }),
    logger: createLogger({ level: 'silent' }),
  };
}

describe('a validator on its defaults == the Python 2.1.1 validator, on recorded answers of a 256-uid subnet', () => {
  test('five rounds: the same sampled providers, EMA scores, u16 weights and version key, exactly', async (ctx) => {
    const { python, reason } = requireInteropPython();
    if (reason || !python) return ctx.skip(reason ?? 'no interop python');
    const py = runPythonOracle<PyAnswer>(python, path.join(REPO_ROOT, 'test/interop/validator_211.py'), FIXTURE);
    const where = `bittensor ${py.bittensor}, numpy ${py.numpy}`;

    // The defaults of `hs58 validator --netuid 58` on finney.
    const { config, sources } = loadConfig({ argv: ['--netuid', '58', '--subtensor.network', 'finney'] });
    const scoring = chooseScoring(config, sources);
    expect(scoring.preset.name).toBe('oracle-v2.1');
    expect(scoring.versionKey).toBe(BigInt(py.specVersion));
    const settings = {
      netuid: config.netuid,
      hotkey: FIXTURE.rounds[0]!.hotkeys[FIXTURE.validatorUid]!,
      preset: scoring.preset,
      probesPerRound: config['scoring.probes_per_round'],
      timeoutSec: config['neuron.timeout'],
      epochLength: config['neuron.epoch_length'],
      versionKey: scoring.versionKey,
      submit: true,
    };
    expect(settings.epochLength).toBe(FIXTURE.epochLength);

    let state: ValidatorState = emptyState(settings.netuid, settings.hotkey);
    let sentWeights = 0;
    for (const [i, round] of FIXTURE.rounds.entries()) {
      const theirs = py.rounds[i]!;
      const log = { probed: new Map<string, Set<number>>(), sent: [] as SetWeightsParameters[], checks: 0 };
      const { report, state: next } = await runRound(recordedPorts(round, log), settings, state, round.block, new AbortController().signal);
      state = next;
      const label = `round ${i + 1} (${where})`;
      expect(report.failedSteps, label).toEqual([]);
      expect(log.checks, `${label}: ProviderCheck must not be sent`).toBe(0);
      expect(
        report.sampledProviders.map((p) => p.id),
        label,
      ).toEqual(theirs.sampled);
      // Every served miner but the validator itself, for each sampled provider.
      const served = round.axonIps.flatMap((ip, uid) => (ip !== '0.0.0.0' && uid !== FIXTURE.validatorUid ? [uid] : []));
      for (const p of report.sampledProviders)
        expect(
          [...log.probed.get(p.probeUrl)!].sort((a, b) => a - b),
          label,
        ).toEqual(served);
      expect(theirs.rewards === null ? null : report.rows.map((r) => r.reward ?? 0), label).toEqual(theirs.rewards);
      expect(state.scores, label).toEqual(theirs.scores);
      expect(report.weights, label).toEqual(theirs.weights);
      expect(
        log.sent.map((s) => ({ uids: s.uids, weights: s.weights, versionKey: s.versionKey })),
        label,
      ).toEqual(theirs.weights ? [{ ...theirs.weights, versionKey: BigInt(py.specVersion) }] : []);
      sentWeights += log.sent.length;
    }
    // The fixture exercises what it claims to: replaced hotkeys, a round seeded by the block number,
    // a round without any consensus (the EMA stands still, weights still go out).
    expect(py.rounds.map((r) => r.rewards === null)).toEqual([false, false, false, false, true]);
    expect(py.rounds[4]!.scores).toEqual(py.rounds[3]!.scores);
    expect(sentWeights).toBe(5);
    const distinct = new Set(py.rounds[3]!.weights!.weights);
    expect(distinct.size).toBeGreaterThan(20);
  });
});
