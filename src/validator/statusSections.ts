/**
 * The parts of `/status` an operator asks about besides the scores: the claims window and the
 * backfill running now, the probes of the last round (each provider's consensus and each miner's
 * answer), the last weight transaction and the commits waiting for their reveal. Each has its JSON
 * (for `/status.json`) and its HTML (server-rendered, no script); every text from outside is escaped.
 */
import type { BlockRange } from '../chain/polygon/ranges.js';
import { backfillPhrase, count, formatDuration, percentDone, timeLeft } from './backfill.js';
import type { ValidatorStatus } from './loop.js';
import type { RoundReport } from './report.js';

export const esc = (v: unknown) => String(v).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const blocks = (w: BlockRange) => `${w.from}–${w.to}`;
const size = (w: BlockRange) => Math.max(0, w.to - w.from + 1);

export function claimsJson(c: ValidatorStatus['claims']) {
  if (!c) return null;
  const { completeness, scan } = c;
  const window = scan?.window ?? completeness.lastRound?.window ?? null;
  const windowBlocks = window ? size(window) : null;
  const covered = scan && window ? scan.coveredBlocks : null;
  const p = scan?.running ?? null;
  const last = completeness.lastRound;
  return {
    window,
    windowBlocks,
    coveredBlocks: covered,
    coveredPercent: covered !== null && windowBlocks ? Math.floor((1000 * covered) / windowBlocks) / 10 : null,
    backfill: p
      ? {
          first: completeness.lastCompleteWindow === null,
          summary: backfillPhrase(scan ?? undefined, completeness),
          percent: percentDone(p),
          doneBlocks: p.doneBlocks,
          totalBlocks: p.totalBlocks,
          blocksPerSecond: Math.round(p.blocksPerSecond),
          etaSec: p.etaMs === null ? null : Math.round(p.etaMs / 1000),
          elapsedSec: Math.round(p.elapsedMs / 1000),
          requests: p.requests,
          claimsFound: p.claimsFound,
        }
      : null,
    lastCompleteWindow: completeness.lastCompleteWindow,
    lastCompleteAt: iso(completeness.lastCompleteAt),
    lastRound: last ? { window: last.window, complete: last.complete, missingRanges: last.missingRanges, finishedAt: iso(last.finishedAt) } : null,
  };
}

export function probesJson(r: RoundReport) {
  return r.providerProbes.map(({ provider, consensus, answers }) => ({
    id: provider.id,
    name: provider.name,
    probeUrl: provider.probeUrl,
    consensus,
    answers: answers.map((a) => ({ uid: a.uid, reachable: a.reachable, status: a.status, latencyMs: a.latencyMs, accuracy: a.accuracy })),
  }));
}

export function weightsJson(s: ValidatorStatus) {
  const tx = s.lastWeightTx;
  const head = s.lastHead;
  return {
    lastWeightTx: tx ? { ...tx, at: iso(tx.at) } : null,
    /** The state's record of the last weights (kept across restarts). */
    lastWeights: s.state.lastWeights
      ? { block: s.state.lastWeights.block, submitted: s.state.lastWeights.submitted, outcome: s.state.lastWeights.outcome }
      : null,
    pendingCommits: {
      error: s.pendingCommits.error,
      commits: s.pendingCommits.commits.map((c) => {
        const at = c.revealFromBlock ?? c.revealTargetBlock;
        return { ...c, revealInBlocks: at !== null && head !== null ? at - head : null };
      }),
    },
  };
}

type Json = { claims: ReturnType<typeof claimsJson>; lastRound: { providers: ReturnType<typeof probesJson> } | null } & ReturnType<typeof weightsJson>;

/** Links to the machine-readable views; relative, so they work behind a proxy that adds a path prefix. */
export function linksLine(): string {
  return '<p id="links"><a href="status.json">/status.json</a> · <a href="metrics">/metrics</a> · <a href="health">/health</a> · the page reloads every 15 s</p>';
}

export function claimsSection(j: Pick<Json, 'claims'>): string {
  const c = j.claims;
  if (!c) return '';
  const parts: string[] = [];
  if (c.window) {
    const pct = c.coveredPercent ?? 0;
    parts.push(
      `<p>window blocks <b>${blocks(c.window)}</b> (${count(c.windowBlocks ?? 0)} blocks) · covered ${c.coveredBlocks === null ? '—' : count(c.coveredBlocks)} (${pct} %)
<span class="meter"><span style="width:${Math.round(Math.min(100, pct))}%"></span></span></p>`,
    );
  } else {
    parts.push('<p class="muted">No scan yet.</p>');
  }
  const b = c.backfill;
  if (b) {
    parts.push(
      `<p id="backfill" class="warn">${b.first ? 'First backfill' : 'Backfill'} running: <b>${b.percent} %</b> of ${count(b.totalBlocks)} blocks
<span class="meter"><span style="width:${b.percent}%"></span></span> · ${count(b.blocksPerSecond)} blocks/s · ${timeLeft(b.etaSec === null ? null : b.etaSec * 1000)} · running ${formatDuration(b.elapsedSec * 1000)} · ${count(b.requests)} requests · ${count(b.claimsFound)} claims found</p>`,
    );
  }
  parts.push(
    c.lastCompleteWindow
      ? `<p>last complete window: blocks <b>${blocks(c.lastCompleteWindow)}</b>${c.lastCompleteAt ? `, completed ${esc(c.lastCompleteAt)}` : ''}: the claims scored</p>`
      : '<p class="warn">No complete window yet: claims count 0 until the first backfill ends.</p>',
  );
  const last = c.lastRound;
  if (last && !last.complete) {
    const missing = last.missingRanges.map((m) => `${m.from}–${m.to}`).join(', ');
    parts.push(`<p class="warn">last scan round incomplete (blocks ${blocks(last.window)}); missing ${esc(missing)}</p>`);
  }
  return `<h2>Claims window</h2><div id="claims">${parts.join('\n')}</div>`;
}

function answerCell(a: ReturnType<typeof probesJson>[number]['answers'][number] | undefined): string {
  if (!a || a.reachable === null) return '<td class="muted">no answer</td>';
  const acc = a.accuracy === null ? '' : ` · <b>${a.accuracy.toFixed(2)}</b>`;
  return `<td class="ans">${a.reachable ? '✔' : '✘'} ${a.status ?? '—'} · ${a.latencyMs ?? '—'} ms${acc}</td>`;
}

export function probesSection(j: Pick<Json, 'lastRound'>): string {
  const providers = j.lastRound?.providers ?? [];
  if (providers.length === 0) return '<h2>Probes of the last round</h2><p class="muted">No provider probed in the last round.</p>';
  const head = providers
    .map((p) => `<th title="${esc(p.probeUrl)}">${esc(p.name || p.id || p.probeUrl)}<br><span class="muted mono url">${esc(p.probeUrl)}</span></th>`)
    .join('');
  const consensus = providers
    .map(({ consensus: c }) =>
      c
        ? `<td>${c.reachable ? 'reachable' : '<span class="warn">unreachable</span>'} · ${c.status ?? '—'} · ${c.medianLatencyMs} ms · ${c.voters} votes</td>`
        : '<td class="muted">no consensus (no vote)</td>',
    )
    .join('');
  const uids = [...new Set(providers.flatMap((p) => p.answers.map((a) => a.uid)))].sort((a, b) => a - b);
  const rows = uids.map((uid) => `<tr><td>${uid}</td>${providers.map((p) => answerCell(p.answers.find((a) => a.uid === uid))).join('')}</tr>`).join('\n');
  return `<h2>Probes of the last round</h2>
<p class="muted">Each miner's answer: reachable, HTTP status, latency, accuracy against the consensus.</p>
<table id="probes"><thead><tr><th>uid</th>${head}</tr><tr class="consensus"><th>consensus</th>${consensus}</tr></thead>
<tbody>${rows}</tbody></table>`;
}

function txLine(j: Pick<Json, 'lastWeightTx' | 'lastWeights'>): string {
  const tx = j.lastWeightTx;
  if (!tx) {
    const before = j.lastWeights ? ` (before: the round at block ${j.lastWeights.block}: ${esc(j.lastWeights.outcome)})` : '';
    return `<p id="weight-tx" class="muted">No weight transaction since the start${before}.</p>`;
  }
  const when = `round at block ${tx.roundBlock} · ${esc(tx.at)}`;
  if (tx.kind === 'failed') return `<p id="weight-tx" class="warn">Last weight transaction <b>failed</b>: ${esc(tx.outcome)} · ${when}</p>`;
  const what =
    tx.kind === 'set'
      ? 'weights set'
      : tx.kind === 'committed'
        ? `weights committed (hash ${esc(tx.commitHash)})`
        : `weights committed, timelocked to drand round ${esc(tx.revealRound)}`;
  return `<p id="weight-tx">Last weight transaction: <b>${what}</b> in block <b title="${esc(tx.blockHash)}">${tx.blockNumber}</b>
· extrinsic <span class="mono">${esc(tx.txHash)}</span> · ${when}</p>`;
}

/** A 32-byte hash shortened for the table; the whole of it in the title (and the JSON). */
function hashCell(hash: string | null): string {
  if (hash === null) return '<td class="mono">—</td>';
  const short = hash.length > 22 ? `${hash.slice(0, 12)}…${hash.slice(-8)}` : hash;
  return `<td class="mono" title="${esc(hash)}">${esc(short)}</td>`;
}

function revealText(c: Json['pendingCommits']['commits'][number]): string {
  const soon = c.revealInBlocks === null ? '' : c.revealInBlocks > 0 ? `, in ${c.revealInBlocks} blocks` : ', due now';
  if (c.scheme === 'timelocked')
    return `by the chain at drand round ${esc(c.drandRound)}${c.revealTargetBlock === null ? '' : ` (near block ${c.revealTargetBlock}${soon})`}`;
  if (c.revealFromBlock !== null) return `in blocks ${c.revealFromBlock}–${c.revealUntilBlock}${soon}`;
  if (c.revealEpoch !== null) return `in subnet epoch ${c.revealEpoch}`;
  return 'once the commit is in a block';
}

export function weightsSection(j: Pick<Json, 'lastWeightTx' | 'lastWeights' | 'pendingCommits'>): string {
  const { commits, error } = j.pendingCommits;
  const rows = commits
    .map(
      (c) =>
        `<tr><td>${c.scheme}</td>${hashCell(c.commitHash)}<td>${c.commitBlock ?? (c.scheme === 'timelocked' ? 'on chain' : 'sending')}</td><td>${revealText(c)}</td></tr>`,
    )
    .join('\n');
  const table = commits.length
    ? `<table id="pending-commits"><thead><tr><th>scheme</th><th>commit hash</th><th>committed in block</th><th>reveals</th></tr></thead><tbody>${rows}</tbody></table>`
    : '<p id="pending-commits" class="muted">No weight commit waiting for its reveal.</p>';
  const failed = error ? `<p class="warn">pending commits not read: ${esc(error)}</p>` : '';
  return `<h2>Weights on chain</h2>${txLine(j)}\n<h3>Pending commits</h3>${table}${failed}`;
}
