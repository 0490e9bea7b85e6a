import { describe, expect, test } from 'vitest';
import { CHART_MAX_SERIES, chartedUids, renderStatusHtml, statusToJson } from '../../src/validator/statusPage.js';
import type { MinerRow, RoundReport } from '../../src/validator/report.js';
import type { ValidatorStatus } from '../../src/validator/loop.js';
import { loadConfig } from '../../src/config/load.js';
import { chooseScoring, summarizeScoring } from '../../src/validator/scoringChoice.js';
import { hyperparameters } from '../support/hyperparameters.js';

// The page's structure and escaping from plain status objects; the page as served by a running
// validator and rendered by Chromium is checked in test/e2e/localnet.test.ts.

function status(n: number, rounds: number, overrides: Partial<RoundReport> = {}): ValidatorStatus {
  const score = (uid: number, round: number) => (((uid * 37) % 101) / 1000) * ((round + 1) / rounds);
  const rows: MinerRow[] = Array.from({ length: n }, (_, uid) => ({
    uid,
    hotkey: `5Hotkey${uid}`,
    answered: true,
    proof: uid % 2 === 0,
    wallet: null,
    claims: BigInt(uid) * 1_000_000n,
    probeAccuracy: 1,
    reward: 0.5,
    score: score(uid, rounds - 1),
    weight: uid % 3 === 0 ? 0 : uid,
  }));
  const history = Array.from({ length: rounds }, (_, r) => ({ block: 100 + 5 * r, scores: Array.from({ length: n }, (_, uid) => score(uid, r)) }));
  const report: RoundReport = {
    block: 100 + 5 * (rounds - 1),
    ok: true,
    failedSteps: [],
    notes: [],
    metagraph: null,
    rows,
    sampledProviders: [],
    claimsComplete: true,
    weights: null,
    submitted: null,
    durationMs: 1234,
    ...overrides,
  };
  return {
    netuid: 58,
    hotkey: '5Validator',
    preset: 'hs58',
    formula: 'reward = f(claims, proof)',
    scoring: defaultScoring(),
    startedAt: 0,
    lastHead: report.block + 1,
    rounds,
    current: null,
    roundBudgetMs: 400_000,
    lastReport: report,
    state: {
      version: 1,
      netuid: 58,
      hotkey: '5Validator',
      step: rounds,
      lastRoundBlock: report.block,
      hotkeys: rows.map((r) => r.hotkey),
      scores: rows.map((r) => r.score),
      history,
      lastWeights: null,
    },
    degraded: [],
  };
}

/** What a validator started with no scoring flag reports. */
function defaultScoring() {
  const { config, sources } = loadConfig({ argv: ['--subtensor.network', 'finney'] });
  return summarizeScoring(chooseScoring(config, sources));
}

describe('the /status page', () => {
  test('a full subnet: one table row per uid; the chart draws only the highest EMA scores and says so', () => {
    const s = status(256, 12);
    const html = renderStatusHtml(s);
    const body = /<tbody>([\s\S]*?)<\/tbody>/.exec(html)![1]!;
    expect([...body.matchAll(/<tr><td>(\d+)<\/td>/g)].map((m) => Number(m[1]))).toEqual(Array.from({ length: 256 }, (_, i) => i));
    const charted = [...html.matchAll(/data-uid="(\d+)"/g)].map((m) => Number(m[1])).sort((a, b) => a - b);
    const last = s.state.history.at(-1)!.scores;
    const top = Array.from({ length: 256 }, (_, uid) => uid)
      .sort((a, b) => last[b]! - last[a]! || a - b)
      .slice(0, CHART_MAX_SERIES);
    expect(charted).toEqual(top.sort((a, b) => a - b));
    expect(chartedUids(s.state.history)).toEqual(charted);
    expect(html).toContain(`The ${CHART_MAX_SERIES} uids with the highest EMA score of 256`);
    // Every line has one point per round.
    for (const m of html.matchAll(/<polyline [^>]*points="([^"]+)"/g)) expect(m[1]!.split(' ')).toHaveLength(12);
  });

  test('a small subnet charts every uid, without the caption; a first round is one point per line', () => {
    const html = renderStatusHtml(status(6, 1));
    expect([...html.matchAll(/data-uid="(\d+)"/g)]).toHaveLength(6);
    expect(html).not.toContain('the table lists all');
    for (const m of html.matchAll(/<polyline [^>]*points="([^"]+)"/g)) expect(m[1]!.split(' ')).toHaveLength(1);
  });

  test('text from miners, registries and errors is escaped', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const s = status(3, 2, {
      notes: [evil],
      failedSteps: [{ step: 'probes', error: evil }],
      sampledProviders: [{ id: evil, name: evil, probeUrl: 'http://x', protocol: 'drain' }],
      submitted: { kind: 'set', txHash: '0x', blockHash: '0x', blockNumber: 111, events: [] },
    });
    s.degraded = [evil];
    s.lastReport!.rows[0]!.hotkey = evil;
    const html = renderStatusHtml(s);
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('weights set in block 111');
  });

  test('before the first round', () => {
    const s = status(0, 1);
    s.lastReport = null;
    s.rounds = 0;
    s.state.history = [];
    const html = renderStatusHtml(s);
    expect(html).toContain('Waiting for the first round.');
    expect(html).toContain('No round yet.');
    expect(html).not.toContain('<svg');
  });

  test('which preset runs and why, its α, the version key and where it came from, the synapses sent and the subnet key (HTML and JSON)', () => {
    const metagraph = { hyperparameters: hyperparameters({ weightsVersionKey: 2011n }) } as unknown as RoundReport['metagraph'];
    const s = status(3, 1, { metagraph });
    const json = JSON.parse(JSON.stringify(statusToJson(s)));
    expect(json.scoring).toEqual({
      preset: 'oracle-v2.1',
      presetReason: 'default: the live Subnet 58 validators run HS58-subnet 2.1.1, which computes oracle-v2.1',
      pythonGeneration: 'HS58-subnet 2.1.1 (generation C, network oracle)',
      formula: expect.stringContaining('0.4·[reachable = consensus]'),
      alpha: 0.3,
      alphaSource: "the oracle-v2.1 preset's",
      versionKey: '2011',
      versionKeySource: "the oracle-v2.1 preset's (HS58-subnet 2.1.1 spec_version)",
      synapses: ['ProviderProbe'],
      chainVersionKey: '2011',
    });
    const line = /<p id="scoring">([\s\S]*?)<\/p>/.exec(renderStatusHtml(s))![1]!;
    expect(line).toContain('preset <b>oracle-v2.1</b> (default: the live Subnet 58 validators run HS58-subnet 2.1.1');
    expect(line).toContain('α 0.3');
    expect(line).toContain('version key <b>2011</b>');
    expect(line).toContain('subnet WeightsVersionKey 2011');
    expect(line).toContain('sends ProviderProbe');
    expect(line).not.toContain('ProviderCheck');

    // Before any round the subnet key is not known yet.
    expect(statusToJson(status(3, 1)).scoring.chainVersionKey).toBeNull();
  });

  test('how the last weights went out: set, hash-committed, or timelocked to a drand round (also in the JSON)', () => {
    const receipt = { txHash: '0x01', blockHash: '0x02', blockNumber: 321, events: [] };
    expect(renderStatusHtml(status(4, 2, { submitted: { kind: 'set', ...receipt } }))).toContain('weights set in block 321');
    const timelocked = status(4, 2, { submitted: { kind: 'committed-timelocked', revealRound: 23_456_789n, revealTargetBlock: 700, ...receipt } });
    expect(renderStatusHtml(timelocked)).toContain('weights committed (timelocked to drand round 23456789) in block 321');
    expect(JSON.parse(JSON.stringify(statusToJson(timelocked))).lastRound.submitted).toEqual({
      kind: 'committed-timelocked',
      blockNumber: 321,
      revealRound: '23456789',
    });
  });
});
