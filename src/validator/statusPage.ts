import type { FastifyInstance } from 'fastify';
import { formatUsdc } from '../chain/polygon/claimsStore.js';
import type { ValidatorStatus } from './validator.js';

/**
 * The validator's `/status`: JSON for machines (`/status.json`, or `/status` with
 * `Accept: application/json`), a small server-rendered page for people (table of
 * per-miner scores and weights, an SVG chart of the EMA over the last rounds).
 * Numbers from bigints become strings in one place; no secret is ever part of the status.
 */
export function statusToJson(s: ValidatorStatus) {
  const r = s.lastReport;
  return {
    netuid: s.netuid,
    hotkey: s.hotkey,
    preset: s.preset,
    formula: s.formula,
    startedAt: new Date(s.startedAt).toISOString(),
    lastHead: s.lastHead,
    rounds: s.rounds,
    step: s.state.step,
    degraded: s.degraded,
    lastRound: r
      ? {
          block: r.block,
          ok: r.ok,
          durationMs: Math.round(r.durationMs),
          failedSteps: r.failedSteps,
          notes: r.notes,
          claimsComplete: r.claimsComplete,
          sampledProviders: r.sampledProviders.map((p) => ({ id: p.id, name: p.name, probeUrl: p.probeUrl })),
          weights: r.weights,
          submitted: r.submitted ? { kind: r.submitted.kind, blockNumber: r.submitted.blockNumber } : null,
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

const esc = (v: unknown) =>
  String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const fmt = (x: number | null | undefined, d = 4) => (x === null || x === undefined ? '—' : x.toFixed(d));
const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04', '#db2777'];

function chart(history: ValidatorStatus['state']['history']): string {
  const W = 640;
  const H = 220;
  const pad = 36;
  if (history.length === 0) return '<p class="muted">No round yet.</p>';
  const uids = Math.max(...history.map((h) => h.scores.length));
  const max = Math.max(1e-9, ...history.flatMap((h) => h.scores));
  const x = (i: number) => pad + (history.length === 1 ? (W - 2 * pad) / 2 : (i * (W - 2 * pad)) / (history.length - 1));
  const y = (v: number) => H - pad - (v / max) * (H - 2 * pad);
  const lines: string[] = [];
  for (let uid = 0; uid < uids; uid++) {
    const pts = history.map((h, i) => `${x(i).toFixed(1)},${y(h.scores[uid] ?? 0).toFixed(1)}`).join(' ');
    const color = COLORS[uid % COLORS.length];
    lines.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"><title>uid ${uid}</title></polyline>`);
    for (const [i, h] of history.entries()) lines.push(`<circle cx="${x(i).toFixed(1)}" cy="${y(h.scores[uid] ?? 0).toFixed(1)}" r="3" fill="${color}"/>`);
  }
  const legend = Array.from({ length: uids }, (_, uid) => `<span class="key"><i style="background:${COLORS[uid % COLORS.length]}"></i>uid ${uid}</span>`).join(' ');
  return `<svg id="ema-chart" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="EMA score per uid over rounds">
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#999"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="#999"/>
<text x="${pad}" y="${pad - 8}" font-size="11" fill="#555">${fmt(max)}</text><text x="${pad - 4}" y="${H - pad + 14}" font-size="11" fill="#555">0</text>
<text x="${W - pad}" y="${H - 8}" font-size="11" fill="#555" text-anchor="end">block ${esc(history[history.length - 1]!.block)}</text>
${lines.join('\n')}</svg><div class="legend">${legend}</div>`;
}

export function renderStatusHtml(s: ValidatorStatus): string {
  const j = statusToJson(s);
  const rows = j.miners
    .map(
      (m) => `<tr><td>${m.uid}</td><td class="mono" title="${esc(m.hotkey)}">${esc(m.hotkey.slice(0, 10))}…</td><td>${m.answered === null ? '—' : m.answered ? 'yes' : 'no'}</td>
<td>${m.proof === null ? '—' : m.proof ? '✔' : '✘'}</td><td class="num">${esc(m.claimsUsdc)}</td><td class="num">${fmt(m.probeAccuracy, 3)}</td>
<td class="num">${fmt(m.reward, 3)}</td><td class="num">${fmt(m.score)}</td><td class="num">${m.weight}</td></tr>`,
    )
    .join('\n');
  const degraded = j.degraded.length ? `<ul class="warn">${j.degraded.map((d) => `<li>${esc(d)}</li>`).join('')}</ul>` : '<p class="ok">All steps healthy.</p>';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<title>hs58 validator · netuid ${j.netuid}</title>
<style>body{font:14px system-ui,sans-serif;margin:24px;color:#111}table{border-collapse:collapse}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}
.num{text-align:right;font-variant-numeric:tabular-nums}.mono{font-family:ui-monospace,monospace}.muted{color:#777}.warn{color:#b45309}.ok{color:#15803d}
.legend .key{margin-right:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}</style></head><body>
<h1>hs58 validator</h1>
<p>netuid <b>${j.netuid}</b> · hotkey <span class="mono">${esc(j.hotkey)}</span> · preset <b>${esc(j.preset)}</b> · head ${j.lastHead ?? '—'} · rounds ${j.rounds}</p>
<p class="muted">${esc(j.formula)}</p>
${degraded}
<h2>Miners</h2>
<table id="miners"><thead><tr><th>uid</th><th>hotkey</th><th>answered</th><th>proof</th><th>claims (USDC)</th><th>probe accuracy</th><th>reward</th><th>EMA score</th><th>weight (u16)</th></tr></thead>
<tbody>${rows || '<tr><td colspan="9" class="muted">No round yet.</td></tr>'}</tbody></table>
<h2>EMA over rounds</h2>
${chart(s.state.history)}
</body></html>`;
}

export function statusRoutes(getStatus: () => ValidatorStatus) {
  return (app: FastifyInstance) => {
    app.get('/status.json', async () => statusToJson(getStatus()));
    app.get('/status', async (req, reply) => {
      const accept = String(req.headers.accept ?? '');
      if (accept.includes('application/json') && !accept.includes('text/html')) return statusToJson(getStatus());
      return reply.header('content-type', 'text/html; charset=utf-8').send(renderStatusHtml(getStatus()));
    });
  };
}
