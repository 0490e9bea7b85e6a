/**
 * The miner's /health: down until the axon listens (while it waits for registration, say);
 * degraded while the chain connection, the metagraph or serving has a problem; ok otherwise.
 */
import { BLACKLIST_REASONS, type MetagraphBlacklist } from '../axon/blacklist.js';
import type { AxonServer } from '../axon/server.js';
import type { Subtensor } from '../chain/subtensor/types.js';
import type { HealthReport } from '../observability/server.js';
import type { AxonServing } from './serving.js';

export interface MinerHealthParts {
  axon: Pick<AxonServer, 'stats'> | null;
  blacklist: Pick<MetagraphBlacklist, 'status'> | null;
  serving: Pick<AxonServing, 'status'> | null;
  subtensor: Pick<Subtensor, 'state'> | null;
  /** What the miner is doing, shown while the axon is not up. */
  phase: string;
}

export function minerHealth(parts: MinerHealthParts): HealthReport {
  const report: HealthReport = { status: 'ok', parts: {} };
  const axonStats = parts.axon?.stats();
  report.parts.axon = axonStats?.listening
    ? { ok: true, detail: `answered ${axonStats.answered}, queued ${axonStats.queued}, verify threads ${axonStats.verifyThreads}` }
    : { ok: false, detail: parts.phase };
  if (parts.subtensor) report.parts.chain = { ok: parts.subtensor.state === 'connected', detail: parts.subtensor.state };
  if (parts.blacklist) {
    const s = parts.blacklist.status();
    report.parts.metagraph = s.loaded
      ? {
          ok: s.lastError === null,
          detail: `block ${s.block}, n ${s.n}, ${Math.round((s.ageMs ?? 0) / 1000)} s old${s.lastError ? `; last refresh failed: ${s.lastError}` : ''}`,
        }
      : { ok: false, detail: s.lastError ?? BLACKLIST_REASONS.noMetagraph };
  }
  if (parts.serving) {
    const s = parts.serving.status();
    report.parts.serving = {
      ok: s.lastError === null && s.servedIp !== null,
      detail: s.lastError ?? (s.servedIp ? `${s.servedIp}:${s.port}` : `resolving ${s.externalHost}`),
    };
  }
  if (!report.parts.axon.ok) report.status = 'down';
  else if (Object.values(report.parts).some((p) => !p.ok)) report.status = 'degraded';
  return report;
}
