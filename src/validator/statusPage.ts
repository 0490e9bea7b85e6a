import type { FastifyInstance } from 'fastify';
import { formatUsdc } from '../chain/polygon/claimsStore.js';
import type { ValidatorStatus } from './loop.js';
import { claimsJson, claimsSection, esc, linksLine, probesJson, probesSection, weightsJson, weightsSection } from './statusSections.js';

/**
 * The validator's `/status`: JSON for machines (`/status.json`, or `/status` with
 * `Accept: application/json`), a small server-rendered page for people, without scripts: the
 * round running, the claims window and backfill, the last round's probes (consensus and each
 * miner's answer), the last weight transaction and pending commits (statusSections.ts), the
 * per-miner scores and weights and an SVG chart of the EMA over the last rounds.
 * Numbers from bigints become strings in one place; no secret is ever part of the status.
 */
export function statusToJson(s: ValidatorStatus) {
  const r = s.lastReport;
  return {
    netuid: s.netuid,
    hotkey: s.hotkey,
    preset: s.preset,
    formula: s.formula,
    scoring: {
      ...s.scoring,
      // The subnet's key as the last round read it: weights are refused while versionKey is below it.
      chainVersionKey: r?.metagraph ? r.metagraph.hyperparameters.weightsVersionKey.toString() : null,
    },
    startedAt: new Date(s.startedAt).toISOString(),
    lastHead: s.lastHead,
    rounds: s.rounds,
    step: s.state.step,
    degraded: s.degraded,
    roundBudgetSec: Math.round(s.roundBudgetMs / 1000),
    links: { statusJson: '/status.json', metrics: '/metrics', health: '/health' },
    claims: claimsJson(s.claims),
    ...weightsJson(s),
    currentRound: s.current
      ? { block: s.current.block, step: s.current.step, stepSec: Math.round(s.current.stepMs / 1000), stepBudgetSec: Math.round(s.current.budgetMs / 1000) }
      : null,
    lastRound: r
      ? {
          block: r.block,
          ok: r.ok,
          durationMs: Math.round(r.durationMs),
          failedSteps: r.failedSteps,
          notes: r.notes,
          claimsComplete: r.claimsComplete,
          sampledProviders: r.sampledProviders.map((p) => ({ id: p.id, name: p.name, probeUrl: p.probeUrl })),
          providers: probesJson(r),
          weights: r.weights,
          weightsOutcome: r.weightsOutcome,
          submitted: r.submitted
            ? {
                kind: r.submitted.kind,
                blockNumber: r.submitted.blockNumber,
                revealRound: r.submitted.kind === 'committed-timelocked' ? r.submitted.revealRound.toString() : null,
              }
            : null,
        }
      : null,
    miners: (r?.rows ?? []).map((row) => ({
      uid: row.uid,
      hotkey: row.hotkey,
      answered: row.answered,
      proof: row.proof,
      wallet: row.wallet,
      claimsBaseUnits: row.claims.toString(),
      claimsUsdc: formatUsdc(row.claims),
      probeAccuracy: row.probeAccuracy,
      reward: row.reward,
      score: row.score,
      weight: row.weight,
    })),
    history: s.state.history,
  };
}

const fmt = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '—' : x.toFixed(d));
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];
/** A chart of 256 lines says nothing: it draws the uids with the highest EMA; the table lists all. */
export const CHART_MAX_SERIES = COLORS.length;

/** The smallest 1, 2, 2.5 or 5 × 10^k at or above `x`: a y-axis top with round tick labels. */
function niceCeil(x: number): number {
  const exp = 10 ** Math.floor(Math.log10(x));
  return ([1, 2, 2.5, 5, 10].find((m) => m * exp >= x * (1 - 1e-9)) ?? 10) * exp;
}

/** The uids the chart draws: highest latest EMA first (ties: lower uid), at most CHART_MAX_SERIES. */
export function chartedUids(history: ValidatorStatus['state']['history']): number[] {
  const last = history.at(-1)?.scores ?? [];
  const uids = Math.max(0, ...history.map((h) => h.scores.length));
  return Array.from({ length: uids }, (_, uid) => uid)
    .sort((a, b) => (last[b] ?? 0) - (last[a] ?? 0) || a - b)
    .slice(0, CHART_MAX_SERIES)
    .sort((a, b) => a - b);
}

function chart(history: ValidatorStatus['state']['history']): string {
  if (history.length === 0) return '<p class="muted">No round yet.</p>';
  const W = 720;
  const H = 260;
  const left = 56;
  const right = 16;
  const top = 14;
  const bottom = 40;
  const uids = Math.max(...history.map((h) => h.scores.length));
  const shown = chartedUids(history);
  const yMax = niceCeil(Math.max(1e-9, ...history.flatMap((h) => shown.map((uid) => h.scores[uid] ?? 0))));
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const x = (i: number) => left + (history.length === 1 ? plotW / 2 : (i * plotW) / (history.length - 1));
  const y = (v: number) => top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  for (let t = 0; t <= 4; t++) {
    const v = (yMax * t) / 4;
    parts.push(
      `<line x1="${left}" y1="${y(v).toFixed(1)}" x2="${W - right}" y2="${y(v).toFixed(1)}" stroke="${t === 0 ? '#888' : '#e5e7eb'}"/>`,
      `<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="11" fill="#555" text-anchor="end">${esc(Number(v.toPrecision(3)))}</text>`,
    );
  }
  const every = Math.max(1, Math.ceil(history.length / 8));
  history.forEach((h, i) => {
    if (i % every !== 0 && i !== history.length - 1) return;
    parts.push(
      `<line x1="${x(i).toFixed(1)}" y1="${top + plotH}" x2="${x(i).toFixed(1)}" y2="${top + plotH + 4}" stroke="#888"/>`,
      `<text x="${x(i).toFixed(1)}" y="${top + plotH + 17}" font-size="11" fill="#555" text-anchor="middle">${esc(h.block)}</text>`,
    );
  });
  parts.push(`<text x="${left + plotW / 2}" y="${H - 4}" font-size="11" fill="#555" text-anchor="middle">block of the round</text>`);
  // Lowest first, so the leaders are drawn on top where lines meet (e.g. several at 0).
  const byLast = [...shown].sort((a, b) => (history.at(-1)!.scores[a] ?? 0) - (history.at(-1)!.scores[b] ?? 0) || b - a);
  for (const uid of byLast) {
    const color = COLORS[shown.indexOf(uid) % COLORS.length];
    const pts = history.map((h, i) => `${x(i).toFixed(1)},${y(h.scores[uid] ?? 0).toFixed(1)}`).join(' ');
    parts.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}" data-uid="${uid}"><title>uid ${uid}</title></polyline>`);
    for (const [i, h] of history.entries()) parts.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(h.scores[uid] ?? 0).toFixed(1)}" r="3" fill="${color}"/>`);
  }
  const last = history.at(-1)!.scores;
  const legend = shown
    .map((uid, k) => `<span class="key"><i style="background:${COLORS[k % COLORS.length]}"></i>uid ${uid} · ${fmt(last[uid] ?? 0)}</span>`)
    .join(' ');
  const caption = uids > shown.length ? `<p class="muted">The ${shown.length} uids with the highest EMA score of ${uids}; the table lists all.</p>` : '';
  return `<svg id="ema-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="EMA score per uid over the last ${history.length} rounds">
${parts.join('\n')}</svg><div class="legend">${legend}</div>${caption}`;
}

function lastRoundSummary(j: ReturnType<typeof statusToJson>): string {
  const r = j.lastRound;
  if (!r) return '<p class="muted">Waiting for the first round.</p>';
  const weights = r.submitted
    ? `weights ${r.submitted.kind === 'set' ? 'set' : r.submitted.kind === 'committed-timelocked' ? `committed (timelocked to drand round ${r.submitted.revealRound})` : 'committed'} in block ${r.submitted.blockNumber}`
    : r.weights
      ? 'weights computed, not submitted'
      : 'no weights';
  const claims = r.claimsComplete === null ? '' : r.claimsComplete ? ' · claims window complete' : ' · <span class="warn">claims window incomplete</span>';
  const probed = r.sampledProviders.length ? ` · probed ${r.sampledProviders.map((p) => esc(p.id || p.name)).join(', ')}` : '';
  const notes = r.notes.length ? `<ul class="muted">${r.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : '';
  return `<p>Last round: block <b>${r.block}</b> · ${(r.durationMs / 1000).toFixed(1)} s · ${weights}${claims}${probed}</p>${notes}`;
}

function scoringSummary(sc: ReturnType<typeof statusToJson>['scoring']): string {
  const chain = sc.chainVersionKey === null ? '' : ` · subnet WeightsVersionKey ${esc(sc.chainVersionKey)}`;
  return `<p id="scoring">preset <b>${esc(sc.preset)}</b> (${esc(sc.presetReason)}) · Python ${esc(sc.pythonGeneration)} · α ${esc(sc.alpha)} (${esc(sc.alphaSource)})
· version key <b>${esc(sc.versionKey)}</b> (${esc(sc.versionKeySource)})${chain} · sends ${esc(sc.synapses.join(', ') || 'nothing')}</p>`;
}

export function renderStatusHtml(s: ValidatorStatus): string {
  const j = statusToJson(s);
  const total = j.miners.reduce((sum, m) => sum + m.weight, 0);
  const rows = j.miners
    .map((m) => {
      const share = total > 0 ? m.weight / total : 0;
      return `<tr><td>${m.uid}</td><td class="mono" title="${esc(m.hotkey)}">${esc(m.hotkey.slice(0, 10))}…</td><td>${m.answered === null ? '—' : m.answered ? 'yes' : 'no'}</td>
<td>${m.proof === null ? '—' : m.proof ? '✔' : '✘'}</td><td class="num">${esc(m.claimsUsdc)}</td><td class="num">${fmt(m.probeAccuracy, 3)}</td>
<td class="num">${fmt(m.reward, 3)}</td><td class="num">${fmt(m.score)}</td><td class="num">${m.weight}</td>
<td class="share"><span class="bar" style="width:${Math.round(share * 80)}px"></span>${(share * 100).toFixed(1)} %</td></tr>`;
    })
    .join('\n');
  const degraded = j.degraded.length ? `<ul class="warn">${j.degraded.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : '<p class="ok">All steps healthy.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<title>hs58 validator · netuid ${j.netuid}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#111;max-width:1100px}h1{margin:0 0 8px}h2{margin:24px 0 8px;font-size:18px}
table{border-collapse:collapse}td,th{padding:4px 9px;border-bottom:1px solid #ddd;text-align:left}th{background:#f3f4f6;font-weight:600;white-space:nowrap}
tbody tr:nth-child(even){background:#fafafa}.num{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,monospace}
.share{white-space:nowrap;font-variant-numeric:tabular-nums}.bar{display:inline-block;height:10px;background:#2563eb;margin-right:6px;vertical-align:middle;border-radius:2px}
.muted{color:#666}.warn{color:#b45309}.ok{color:#15803d}h3{margin:14px 0 6px;font-size:15px}tr.consensus th,tr.consensus td{background:#eef2ff;font-weight:normal}
.ans{font-variant-numeric:tabular-nums;white-space:nowrap}#probes th{white-space:normal}.url{font-size:11px;font-weight:normal;word-break:break-all}.meter{display:inline-block;width:160px;height:10px;background:#e5e7eb;border-radius:2px;vertical-align:middle;margin:0 6px}.meter span{display:block;height:10px;background:#16a34a;border-radius:2px}
.legend{margin:4px 0 0 56px}.legend .key{margin-right:14px;white-space:nowrap;font-variant-numeric:tabular-nums}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}</style></head><body>
<h1>hs58 validator</h1>
<p>netuid <b>${j.netuid}</b> · hotkey <span class="mono">${esc(j.hotkey)}</span> · preset <b>${esc(j.preset)}</b> · head ${j.lastHead ?? '—'} · rounds ${j.rounds}</p>
<p class="muted">${esc(j.formula)}</p>
${linksLine()}
${scoringSummary(j.scoring)}
${degraded}
${currentRound(j)}
${lastRoundSummary(j)}
${claimsSection(j)}
${probesSection(j)}
${weightsSection(j)}
<h2>EMA score over the last rounds</h2>
${chart(s.state.history)}
<h2>Miners</h2>
<table id="miners"><thead><tr><th>uid</th><th>hotkey</th><th>answered</th><th>proof</th><th>claims (USDC)</th><th>probe acc.</th><th>reward</th><th>EMA score</th><th>weight u16</th><th>share</th></tr></thead>
<tbody>${rows || '<tr><td colspan="10" class="muted">No round yet.</td></tr>'}</tbody></table>
</body></html>`;
}

function currentRound(j: ReturnType<typeof statusToJson>): string {
  const c = j.currentRound;
  const budget = `a round may take ${j.roundBudgetSec} s at most`;
  if (!c) return `<p class="muted">No round running; ${budget}.</p>`;
  const step = c.step ? `step <b>${esc(c.step)}</b> for ${c.stepSec} s of its ${c.stepBudgetSec} s` : 'starting';
  return `<p>Round at block <b>${c.block}</b> running: ${step}; ${budget}.</p>`;
}

/** `getStatus` answers null while the validator is still starting (waiting for the chain or Redis): 503 then. */
export function statusRoutes(getStatus: () => ValidatorStatus | null) {
  return (app: FastifyInstance) => {
    const starting = { status: 'starting', detail: 'the validator is not running yet; see /health for what it waits for' };
    app.get('/status.json', async (_req, reply) => {
      const s = getStatus();
      return s ? statusToJson(s) : reply.code(503).send(starting);
    });
    app.get('/status', async (req, reply) => {
      const s = getStatus();
      if (!s) return reply.code(503).send(starting);
      const accept = String(req.headers.accept ?? '');
      if (accept.includes('application/json') && !accept.includes('text/html')) return statusToJson(s);
      return reply.header('content-type', 'text/html; charset=utf-8').send(renderStatusHtml(s));
    });
  };
}
