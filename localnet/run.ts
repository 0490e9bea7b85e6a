/**
 * `hs58 localnet`'s run: the local network (network.ts) and one validator, a table printed
 * after each round with the weights read back from the chain.
 */
import path from 'node:path';
import type { Logger } from '../src/observability/logger.js';
import { startLocalNetwork } from './network.js';
import type { LocalRound } from './validator.js';

export interface LocalNetworkOptions {
  chainSpecPath: string;
  miners: number;
  /** Stop after this many validator rounds; undefined: until the signal. */
  epochs?: number;
  preset: string;
  /** Validator round every this many blocks. */
  epochLength: number;
  /** Chopsticks builds a block this often (it has no timer of its own). */
  blockIntervalMs: number;
  /** USDC each miner's wallet claims (index = miner); miners past the list claim 0. */
  claimsUsdc: number[];
  /** Miners (index) that run without a Polygon key: no wallet proof. */
  withoutWallet: number[];
  statusPort: number;
  logger: Logger;
  out: (line: string) => void;
  signal: AbortSignal;
  onRound?: (row: LocalRound) => void;
}

export const DEFAULT_LOCALNET: Omit<LocalNetworkOptions, 'chainSpecPath' | 'logger' | 'out' | 'signal'> = {
  miners: 4,
  preset: 'hs58',
  epochLength: 5,
  blockIntervalMs: 1000,
  claimsUsdc: [30, 10, 0, 5],
  withoutWallet: [3],
  statusPort: 9180,
};

export async function runLocalNetwork(opts: LocalNetworkOptions): Promise<LocalRound[]> {
  const started = Date.now();
  const net = await startLocalNetwork({
    chainSpecPath: opts.chainSpecPath,
    miners: opts.miners,
    claimsUsdc: opts.claimsUsdc,
    withoutWallet: opts.withoutWallet,
    blockIntervalMs: opts.blockIntervalMs,
    logger: opts.logger,
    signal: opts.signal,
  });
  try {
    const statusUrl = opts.statusPort > 0 ? `http://127.0.0.1:${opts.statusPort}/status` : null;
    opts.out(
      `local network ready in ${((Date.now() - started) / 1000).toFixed(1)} s · netuid ${net.netuid} · ${opts.miners} miners · preset ${opts.preset}${statusUrl ? ` · status ${statusUrl}` : ''}\n`,
    );
    const { code, rounds } = await net.runValidator({
      argv: net.validatorArgv({ preset: opts.preset, statePath: path.join(net.workDir, 'state'), epochLength: opts.epochLength, statusPort: opts.statusPort }),
      maxRounds: opts.epochs,
      signal: opts.signal,
      statusUrl,
      onRound: (round) => {
        opts.out(renderRound(round));
        opts.onRound?.(round);
      },
    });
    if (code !== 0 && !opts.signal.aborted) throw new Error(`validator exited with code ${code}`);
    return rounds;
  } finally {
    await net.close();
  }
}

export function renderRound(r: LocalRound): string {
  const lines = [
    `\nround ${r.round} · block ${r.report.block}${r.report.ok ? '' : ` · degraded: ${r.report.failedSteps.map((f) => f.step).join(', ')}`}`,
    'uid  hotkey            claims USDC   proof  probe acc  EMA score   weight on chain',
  ];
  for (const row of r.rows) {
    lines.push(
      `${String(row.uid).padEnd(4)} ${row.hotkey.slice(0, 16).padEnd(17)} ${row.claimsUsdc.padStart(11)}   ${(row.proof === null ? '-' : row.proof ? 'yes' : 'no').padEnd(5)}  ${(row.probeAccuracy === null ? '-' : row.probeAccuracy.toFixed(3)).padStart(9)}  ${row.score.toFixed(6).padStart(9)}  ${String(row.chainWeight).padStart(15)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
