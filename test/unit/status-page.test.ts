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
    providerProbes: [],
    claimsComplete: true,
    weights: null,
    submitted: null,
    weightsOutcome: 'all scores are 0: weights not set',
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
    claims: null,
    lastWeightTx: null,
    pendingCommits: { commits: [], error: null },
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

/** A round that probed two providers, a backfill running, a weight transaction and two commits waiting. */
function operatorStatus(): ValidatorStatus {
  const s = status(4, 3);
  const answer = (uid: number, reachable: boolean | null, st: number | null, latencyMs: number | null, accuracy: number | null) => ({
    uid,
    reachable,
    status: st,
    latencyMs,
    accuracy,
  });
  s.lastReport!.providerProbes = [
    {
      provider: { id: 'alpha', name: 'Alpha API', probeUrl: 'https://alpha.example/health', protocol: 'drain' },
      consensus: { reachable: true, status: 200, medianLatencyMs: 120, voters: 2 },
      answers: [answer(1, true, 200, 95, 1), answer(2, true, 200, 145, 1), answer(3, null, null, null, 0)],
    },
    {
      provider: { id: 'beta', name: 'Beta', probeUrl: 'https://beta.example/', protocol: 'drain' },
      consensus: null,
      answers: [answer(1, null, null, null, null), answer(2, null, null, null, null), answer(3, null, null, null, null)],
    },
  ];
  s.lastHead = 101;
  s.claims = {
    completeness: { lastCompleteWindow: null, lastCompleteAt: null, lastRound: null },
    scan: {
      window: { from: 1_000, to: 303_399 },
      coveredBlocks: 111_888,
      running: {
        window: { from: 1_000, to: 303_399 },
        totalBlocks: 302_400,
        doneBlocks: 111_888,
        requests: 56,
        claimsFound: 3,
        elapsedMs: 60_000,
        blocksPerSecond: 1864.8,
        etaMs: 102_160,
      },
    },
  };
  s.lastWeightTx = {
    roundBlock: 100,
    at: Date.UTC(2026, 0, 2, 3, 4, 5),
    kind: 'committed',
    outcome: 'committed',
    blockNumber: 101,
    blockHash: `0x${'b1'.repeat(32)}`,
    txHash: `0x${'7a'.repeat(32)}`,
    commitHash: `0x${'c1'.repeat(32)}`,
    revealRound: null,
    revealTargetBlock: null,
  };
  const none = { commitHash: null, revealFromBlock: null, revealUntilBlock: null, revealEpoch: null, drandRound: null, revealTargetBlock: null };
  s.pendingCommits = {
    error: null,
    commits: [
      { ...none, scheme: 'hash', netuid: 58, commitHash: `0x${'c1'.repeat(32)}`, commitBlock: 101, revealFromBlock: 130, revealUntilBlock: 139 },
      { ...none, scheme: 'timelocked', netuid: 58, commitBlock: 90, drandRound: '23456789', revealTargetBlock: 460 },
      // Read from the chain after a restart: no block, no reveal block known here.
      { ...none, scheme: 'timelocked', netuid: 58, commitHash: `0x${'d2'.repeat(32)}`, commitBlock: null, drandRound: '23456700' },
    ],
  };
  return s;
}

describe('what the operator asks the /status page', () => {
  test('links to /status.json, /metrics and /health, and no script anywhere', () => {
    const html = renderStatusHtml(operatorStatus());
    const links = /<p id="links">([\s\S]*?)<\/p>/.exec(html)![1]!;
    expect([...links.matchAll(/href="([^"]+)"/g)].map((m) => m[1])).toEqual(['status.json', 'metrics', 'health']);
    expect(html).not.toMatch(/<script|javascript:|\son[a-z]+=/i);
    expect(statusToJson(operatorStatus()).links).toEqual({ statusJson: '/status.json', metrics: '/metrics', health: '/health' });
  });

  test('the claims window and the first backfill: percent, blocks/s, time left, covered blocks', () => {
    const html = renderStatusHtml(operatorStatus());
    const claims = /<div id="claims">([\s\S]*?)<\/div>/.exec(html)![1]!;
    expect(claims).toContain('window blocks <b>1000–303399</b> (302,400 blocks) · covered 111,888 (37 %)');
    expect(claims).toMatch(
      /First backfill running: <b>37 %<\/b> of 302,400 blocks[\s\S]*· 1,865 blocks\/s · about 2 min left · running 1 min · 56 requests · 3 claims found/,
    );
    expect(claims).toContain('No complete window yet: claims count 0 until the first backfill ends.');
    // Once it is done: the window it scores with.
    const done = operatorStatus();
    done.claims = {
      completeness: {
        lastCompleteWindow: { from: 1_000, to: 303_399 },
        lastCompleteAt: Date.UTC(2026, 0, 2),
        lastRound: { window: { from: 1_000, to: 303_399 }, complete: true, missingRanges: [], finishedAt: Date.UTC(2026, 0, 2) },
      },
      scan: { window: { from: 1_000, to: 303_399 }, coveredBlocks: 302_400, running: null },
    };
    const after = renderStatusHtml(done);
    expect(after).not.toContain('id="backfill"');
    expect(after).toContain('last complete window: blocks <b>1000–303399</b>, completed 2026-01-02T00:00:00.000Z');
    expect(statusToJson(done).claims).toMatchObject({
      coveredPercent: 100,
      backfill: null,
      lastRound: { complete: true, finishedAt: '2026-01-02T00:00:00.000Z' },
    });
    // A preset without claims has no such section.
    expect(renderStatusHtml(status(3, 1))).not.toContain('Claims window');
  });

  test("each probed provider's consensus and each miner's answer (reachable, status, latency, accuracy)", () => {
    const s = operatorStatus();
    const html = renderStatusHtml(s);
    const table = /<table id="probes">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(table).toContain('<th title="https://alpha.example/health">Alpha API<br>');
    expect(table).toContain(
      '<tr class="consensus"><th>consensus</th><td>reachable · 200 · 120 ms · 2 votes</td><td class="muted">no consensus (no vote)</td></tr>',
    );
    const rows = [.../<tbody>([\s\S]*)<\/tbody>/.exec(table)![1]!.matchAll(/<tr>([\s\S]*?)<\/tr>/g)].map((m) => m[1]);
    expect(rows).toEqual([
      '<td>1</td><td class="ans">✔ 200 · 95 ms · <b>1.00</b></td><td class="muted">no answer</td>',
      '<td>2</td><td class="ans">✔ 200 · 145 ms · <b>1.00</b></td><td class="muted">no answer</td>',
      '<td>3</td><td class="muted">no answer</td><td class="muted">no answer</td>',
    ]);
    const json = JSON.parse(JSON.stringify(statusToJson(s)));
    expect(json.lastRound.providers[0]).toEqual({
      id: 'alpha',
      name: 'Alpha API',
      probeUrl: 'https://alpha.example/health',
      consensus: { reachable: true, status: 200, medianLatencyMs: 120, voters: 2 },
      answers: [
        { uid: 1, reachable: true, status: 200, latencyMs: 95, accuracy: 1 },
        { uid: 2, reachable: true, status: 200, latencyMs: 145, accuracy: 1 },
        { uid: 3, reachable: null, status: null, latencyMs: null, accuracy: 0 },
      ],
    });
    expect(renderStatusHtml(status(3, 1))).toContain('No provider probed in the last round.');
  });

  test('the last weight transaction and the commits waiting for their reveal, with when they reveal', () => {
    const s = operatorStatus();
    const html = renderStatusHtml(s);
    const tx = /<p id="weight-tx">([\s\S]*?)<\/p>/.exec(html)![1]!;
    expect(tx).toContain(`<b>weights committed (hash 0x${'c1'.repeat(32)})</b> in block <b title="0x${'b1'.repeat(32)}">101</b>`);
    expect(tx).toContain(`extrinsic <span class="mono">0x${'7a'.repeat(32)}</span> · round at block 100 · 2026-01-02T03:04:05.000Z`);
    const pending = /<table id="pending-commits">([\s\S]*?)<\/table>/.exec(html)![1]!;
    expect(pending).toContain(
      `<td>hash</td><td class="mono" title="0x${'c1'.repeat(32)}">0xc1c1c1c1c1…c1c1c1c1</td><td>101</td><td>in blocks 130–139, in 29 blocks</td>`,
    );
    expect(pending).toContain(
      '<td>timelocked</td><td class="mono">—</td><td>90</td><td>by the chain at drand round 23456789 (near block 460, in 359 blocks)</td>',
    );
    expect(pending).toContain(
      `<td>timelocked</td><td class="mono" title="0x${'d2'.repeat(32)}">0xd2d2d2d2d2…d2d2d2d2</td><td>on chain</td><td>by the chain at drand round 23456700</td>`,
    );
    const json = statusToJson(s);
    expect(json.pendingCommits.commits.map((c) => c.revealInBlocks)).toEqual([29, 359, null]);
    expect(json.lastWeightTx).toMatchObject({ kind: 'committed', blockNumber: 101, at: '2026-01-02T03:04:05.000Z' });

    s.lastWeightTx = { ...s.lastWeightTx!, kind: 'failed', outcome: 'failed: the chain refused it', blockNumber: null, blockHash: null, txHash: null };
    s.pendingCommits = { commits: [], error: null };
    const failed = renderStatusHtml(s);
    expect(failed).toContain('Last weight transaction <b>failed</b>: failed: the chain refused it');
    expect(failed).toContain('No weight commit waiting for its reveal.');
    // After a restart: the state's record until this process sends one.
    s.lastWeightTx = null;
    s.state.lastWeights = { block: 95, uids: [1], weights: [65535], submitted: true, outcome: 'set' };
    expect(renderStatusHtml(s)).toContain('No weight transaction since the start (before: the round at block 95: set).');
  });

  test('provider names and URLs, errors and pending-commit read failures from outside are escaped in the new sections', () => {
    const evil = '<img src=x onerror=alert(1)>';
    const s = operatorStatus();
    s.lastReport!.providerProbes[0]!.provider = { id: evil, name: evil, probeUrl: `https://x/"${evil}`, protocol: 'drain' };
    s.pendingCommits.error = evil;
    s.lastWeightTx = { ...s.lastWeightTx!, kind: 'failed', outcome: evil };
    const html = renderStatusHtml(s);
    expect(html).not.toContain('<img');
    expect(html).not.toContain('"<');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });
});
