import { describe, expect, test } from 'vitest';
import type { MetagraphSnapshot } from '../../src/chain/subtensor/types.js';
import type { ForkExtrinsic } from '../../src/rehearse/readBack.js';
import { buildVerdict, formatTao, formatVerdict, verdictJson, weightsExtrinsic, type RehearsalFacts } from '../../src/rehearse/verdict.js';
import type { MinerRow, RoundReport } from '../../src/validator/report.js';
import type { ScoringSummary } from '../../src/validator/scoringChoice.js';
import { hyperparameters } from '../support/hyperparameters.js';

const HOTKEYS = [
  '5Validator000000000000000000000000000000000000000',
  '5MinerOne00000000000000000000000000000000000000',
  '5MinerTwo00000000000000000000000000000000000000',
  '5Silent0000000000000000000000000000000000000000',
];
const SELF = HOTKEYS[0]!;

function metagraph(over: Partial<MetagraphSnapshot> = {}): MetagraphSnapshot {
  return {
    netuid: 58,
    block: 7_000_000,
    blockHash: `0x${'ab'.repeat(32)}`,
    n: HOTKEYS.length,
    uids: HOTKEYS.map((_, uid) => uid),
    hotkeys: HOTKEYS,
    coldkeys: HOTKEYS,
    axons: HOTKEYS.map((_, uid) => ({ ip: `10.0.0.${uid}`, port: 8091, ipType: 4, version: 1, protocol: 4, block: 1 })),
    stake: HOTKEYS.map(() => 0n),
    validatorPermit: [true, false, false, false],
    lastUpdate: [6_999_950, 0, 0, 0],
    active: HOTKEYS.map(() => true),
    hyperparameters: hyperparameters({ weightsVersionKey: 2011n, weightsRateLimit: 100 }),
    source: 'selective-metagraph',
    ...over,
  };
}

function report(over: Partial<RoundReport> = {}): RoundReport {
  const scores = [0, 0.3, 0.15, 0];
  const u16 = [0, 65535, 32768, 0];
  const rows: MinerRow[] = HOTKEYS.map((hotkey, uid) => ({
    uid,
    hotkey,
    answered: null,
    proof: null,
    wallet: null,
    claims: 0n,
    probeAccuracy: null,
    reward: null,
    score: scores[uid]!,
    weight: u16[uid]!,
  }));
  return {
    block: 7_000_001,
    ok: true,
    failedSteps: [],
    notes: [],
    metagraph: metagraph(),
    rows,
    sampledProviders: [],
    providerProbes: [],
    claimsComplete: null,
    weights: { uids: [0, 1, 2, 3], weights: u16 },
    submitted: null,
    weightsOutcome: 'not submitted (dry run or set weights disabled)',
    durationMs: 12_345,
    ...over,
  };
}

const SCORING: ScoringSummary = {
  preset: 'oracle-v2.1',
  presetReason: 'default: the live Subnet 58 validators run HS58-subnet 2.1.1, which computes oracle-v2.1',
  pythonGeneration: 'HS58-subnet 2.1.x',
  formula: '…',
  alpha: 0.3,
  alphaSource: "the oracle-v2.1 preset's",
  versionKey: '2011',
  versionKeySource: "the oracle-v2.1 preset's (HS58-subnet 2.1.1 spec_version)",
  synapses: ['ProviderProbe'],
};

function extrinsic(over: Partial<ForkExtrinsic> = {}): ForkExtrinsic {
  return {
    block: 7_000_003,
    blockHash: `0x${'cd'.repeat(32)}`,
    index: 2,
    txHash: `0x${'ef'.repeat(32)}`,
    call: 'SubtensorModule.set_weights',
    success: true,
    events: ['SubtensorModule.WeightsSet', 'TransactionPayment.TransactionFeePaid', 'System.ExtrinsicSuccess'],
    error: null,
    fee: { actualRao: 0n, tipRao: 0n },
    ...over,
  };
}

function facts(over: Partial<RehearsalFacts> = {}): RehearsalFacts {
  return {
    network: 'finney',
    upstream: 'wss://entrypoint-finney.opentensor.ai:443',
    forkedAt: { number: 7_000_000, hash: `0x${'ab'.repeat(32)}` },
    forkEndpoint: 'ws://127.0.0.1:40123',
    netuid: 58,
    hotkey: SELF,
    scoring: SCORING,
    report: report(),
    runError: null,
    extrinsics: [extrinsic()],
    storedRow: new Map([
      [1, 65535],
      [2, 32768],
    ]),
    settingsNotes: [],
    ...over,
  };
}

describe('the rehearsal verdict', () => {
  test('accepted: the preset, both version keys, the extrinsic and its events, the fee, the uids above 0 with what the fork stores', () => {
    const v = buildVerdict(facts());
    expect(v).toMatchObject({ accepted: true, uid: 0, validatorPermit: true, zeroWeights: 2, wouldHaveFailed: [] });
    expect(v.scoring).toMatchObject({ preset: 'oracle-v2.1', versionKey: '2011', chainVersionKey: '2011' });
    expect(v.weights).toEqual([
      { uid: 1, hotkey: HOTKEYS[1], score: 0.3, u16: 65535, stored: 65535 },
      { uid: 2, hotkey: HOTKEYS[2], score: 0.15, u16: 32768, stored: 32768 },
    ]);
    const text = formatVerdict(v);
    expect(text).toBe(
      [
        'hs58 rehearse: ACCEPTED, the fork took the weights (nothing was sent to wss://entrypoint-finney.opentensor.ai:443)',
        '',
        `network     finney (wss://entrypoint-finney.opentensor.ai:443), forked at block 7,000,000 0x${'ab'.repeat(32)}; the fork ran on ws://127.0.0.1:40123`,
        `hotkey      ${SELF}, uid 0 on subnet 58, validator permit`,
        'preset      oracle-v2.1 (default: the live Subnet 58 validators run HS58-subnet 2.1.1, which computes oracle-v2.1), EMA α 0.3',
        "version key 2011, the oracle-v2.1 preset's (HS58-subnet 2.1.1 spec_version); the subnet's WeightsVersionKey: 2011",
        'round       at block 7,000,001, 12.3 s, every step ran',
        `extrinsic   SubtensorModule.set_weights in fork block 7,000,003, tx 0x${'ef'.repeat(32)}`,
        'outcome     accepted: SubtensorModule.WeightsSet, TransactionPayment.TransactionFeePaid, System.ExtrinsicSuccess',
        'fee         0.000000000 τ (TransactionFeePaid; tip 0.000000000 τ)',
        '',
        'weights: 2 uids above 0, 2 at 0 not shown',
        '  uid   hotkey              score      u16  stored on fork',
        '  1     5MinerOne000000000  0.300000  65535           65535',
        '  2     5MinerTwo000000000  0.150000  32768           32768',
        '',
        'what would have failed:',
        '  nothing',
        '',
      ].join('\n'),
    );
    // JSON for machines: the same verdict, bigints as strings.
    expect(JSON.parse(verdictJson(v))).toEqual(v);
  });

  test("a version key below the subnet's: named with the flag to set, once, whether the round reported it or not", () => {
    const chainKey = { hyperparameters: hyperparameters({ weightsVersionKey: 5000n }) };
    const beforeWeights = buildVerdict(
      facts({
        report: report({ metagraph: metagraph(chainKey), weights: null, ok: false, failedSteps: [{ step: 'rewards', error: 'boom' }] }),
        extrinsics: [],
      }),
    );
    expect(beforeWeights.accepted).toBe(false);
    expect(beforeWeights.wouldHaveFailed).toEqual([
      "VERSION_KEY_TOO_LOW: weights not sent: version key 2011 is below the subnet's WeightsVersionKey 5000; set --neuron.weights_version (env WEIGHTS_VERSION_KEY) to 5000 or run the preset of the Python release the subnet expects",
      'rewards: boom',
    ]);
    const refused =
      "VERSION_KEY_TOO_LOW: weights not sent: version key 2011 is below the subnet's WeightsVersionKey 5000; set --neuron.weights_version (env WEIGHTS_VERSION_KEY) to 5000";
    const v = buildVerdict(
      facts({ report: report({ metagraph: metagraph(chainKey), ok: false, failedSteps: [{ step: 'weights', error: refused }] }), extrinsics: [] }),
    );
    expect(v.wouldHaveFailed).toEqual([`weights: ${refused}`]);
    expect(v.extrinsic).toBeNull();
    const text = formatVerdict(v);
    expect(text.split('\n')[0]).toBe(`hs58 rehearse: NOT ACCEPTED, weights: ${refused}`);
    expect(text).toContain('extrinsic   none went in\n\nweights: 2 uids above 0');
    expect(text).not.toContain('stored on fork');
  });

  test('the fork refused the extrinsic: its runtime error by name, and when it is the rate limit, the block to rehearse again from', () => {
    const failed = extrinsic({
      success: false,
      events: ['TransactionPayment.TransactionFeePaid', 'System.ExtrinsicFailed'],
      error: { name: 'SettingWeightsTooFast', docs: 'rate limit' },
      fee: { actualRao: 1_234_567_891_234n, tipRao: 5n },
    });
    const v = buildVerdict(facts({ extrinsics: [failed] }));
    expect(v.accepted).toBe(false);
    expect(v.extrinsic).toMatchObject({ outcome: 'failed', error: 'SettingWeightsTooFast (rate limit)', fee: { actualRao: '1234567891234', tipRao: '5' } });
    expect(v.wouldHaveFailed).toEqual(["the fork's runtime refused SubtensorModule.set_weights: SettingWeightsTooFast (rate limit)"]);
    expect(v.notes).toEqual([
      "your hotkey last set weights at block 6999950 and the subnet takes them once every 100 blocks: rehearse again from block 7000050 (your live validator's own submission is what blocks this one)",
    ]);
    const text = formatVerdict(v);
    expect(text).toContain('outcome     failed: SettingWeightsTooFast (rate limit)\n');
    expect(text).toContain('fee         1,234.567891234 τ (TransactionFeePaid; tip 0.000000005 τ)\n');
  });

  test('the hotkey not registered, or without a validator permit, is named', () => {
    const stranger = buildVerdict(facts({ hotkey: '5Stranger', extrinsics: [], storedRow: null }));
    expect(stranger.uid).toBeNull();
    expect(stranger.wouldHaveFailed[0]).toBe('hotkey 5Stranger is not registered on subnet 58: the chain refuses its weights (HotKeyNotRegisteredInSubNet)');
    expect(formatVerdict(stranger)).toContain('hotkey      5Stranger, not registered on subnet 58\n');
    const noPermit = buildVerdict(facts({ report: report({ metagraph: metagraph({ validatorPermit: [false, false, false, false] }) }), extrinsics: [] }));
    expect(noPermit.wouldHaveFailed[0]).toMatch(/^uid 0 has no validator permit: the chain refuses its weights \(NeuronNoValidatorPermit\)/);
    expect(formatVerdict(noPermit)).toContain(', NO validator permit\n');
  });

  test('a commit is accepted without a stored row; the settings the rehearsal changed are noted', () => {
    const commit = extrinsic({
      call: 'SubtensorModule.commit_timelocked_weights',
      events: ['SubtensorModule.TimelockedWeightsCommitted', 'System.ExtrinsicSuccess'],
    });
    const v = buildVerdict(facts({ extrinsics: [commit], settingsNotes: ['dry run was on'] }));
    expect(v.accepted).toBe(true);
    expect(v.weights.every((w) => w.stored === null)).toBe(true);
    expect(v.notes).toEqual([
      'dry run was on',
      'SubtensorModule.commit_timelocked_weights is a commit: the weights are stored when revealed, which the rehearsal does not wait for',
    ]);
  });

  test('no round: the validator error leads the verdict', () => {
    const v = buildVerdict(facts({ report: null, runError: 'CONNECT_FAILED: no answer', extrinsics: [] }));
    expect(v).toMatchObject({
      accepted: false,
      uid: null,
      round: null,
      weights: [],
      zeroWeights: 0,
      wouldHaveFailed: ['the validator stopped: CONNECT_FAILED: no answer'],
    });
    expect(formatVerdict(v)).toMatch(/^hs58 rehearse: NOT ACCEPTED, the validator stopped: CONNECT_FAILED: no answer\n[^]*round {7}none ran\n/);
    expect(buildVerdict(facts({ report: null, extrinsics: [] })).wouldHaveFailed).toEqual(['no round ran']);
  });

  test('the weights extrinsic is the last one about weights; TAO keeps its 9 decimals', () => {
    const serve = extrinsic({ call: 'SubtensorModule.serve_axon', block: 9 });
    const first = extrinsic({ block: 5, success: false });
    const second = extrinsic({ block: 7 });
    expect(weightsExtrinsic([first, second, serve])).toBe(second);
    expect(weightsExtrinsic([serve])).toBeNull();
    expect(formatTao(0n)).toBe('0.000000000 τ');
    expect(formatTao(1_000_000_000n)).toBe('1.000000000 τ');
    expect(formatTao(12_345_678_000_000_001n)).toBe('12,345,678.000000001 τ');
  });
});
