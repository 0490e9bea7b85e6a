import path from 'node:path';
import {
  createClaimsScanner,
  formatUsdc,
  legacyClaimsFileInPlace,
  totalsToJSON,
  windowBlocksFor,
  type ScanProgress,
  type ScanRoundResult,
} from '../../chain/polygon/index.js';
import { ConfigError, loadConfig } from '../../config/load.js';
import { DEFAULT_POLYGON_RPCS, type Config } from '../../config/schema.js';
import { createLogger } from '../../observability/logger.js';
import type { Command, CommandContext } from '../context.js';

/**
 * `hs58 scan`: DRAIN ChannelClaimed totals per provider as JSON on stdout; progress on stderr
 * (a bar on a terminal, plain lines otherwise). Exit 0 when the whole window was covered,
 * 3 when ranges are missing (they are listed in the JSON), 2 on bad flags, 130 on Ctrl-C.
 */

const HELP = `Usage: hs58 scan [--rpc URL[,URL…]] [--contract ADDR[,ADDR…]] [--from N [--to M] | --days D] [flags]

Sums DRAIN ChannelClaimed amounts per provider and prints them as JSON.

  --rpc URL[,URL…]        Polygon JSON-RPC endpoints (repeatable; default POLYGON_RPC_URL or public RPCs)
  --contract ADDR[,…]     DrainChannel contracts (repeatable; default both mainnet contracts)
  --from N --to M         fixed block window (--to defaults to the confirmed head)
  --days D                rolling window of D days ending at the confirmed head (default --polygon.window_days)
  --state FILE            keep claims and progress in FILE (an SQLite database): a rerun fetches only new blocks,
                          a killed scan resumes; a JSON state FILE of an earlier version is imported once
  --chain-id N|any        chain id every endpoint must serve (default --polygon.chain_id, 137)
  --fallbacks true|false  public Polygon RPCs behind an explicit --rpc list, used only while it cannot serve
                          (default true with --chain-id 137)
  --polygon.confirmations N, --polygon.log_chunk_size N, --polygon.concurrency N, --polygon.blocks_per_day N

Exit: 0 complete, 3 some ranges could not be fetched (listed in "missingRanges"), 2 bad flags, 130 interrupted.
`;

const ALIASES: Record<string, string> = { '--rpc': '--polygon.rpc_url', '--contract': '--polygon.contracts', '--contracts': '--polygon.contracts' };

/** `--rpc` / `--contract` are short names of the list options, so they repeat and validate alike. */
function expandAliases(argv: readonly string[]): string[] {
  return argv.map((tok) => {
    const eq = tok.indexOf('=');
    const name = eq >= 0 ? tok.slice(0, eq) : tok;
    const target = ALIASES[name];
    return target ? target + (eq >= 0 ? tok.slice(eq) : '') : tok;
  });
}

function integerFlag(extra: Record<string, string | true>, name: string): number | undefined {
  const v = extra[name];
  if (v === undefined) return undefined;
  if (v === true || !/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new ConfigError(
      'CONFIG_INVALID',
      `--${name}: ${JSON.stringify(v === true ? '' : v)} is not valid; expected a block number (a non-negative integer).`,
    );
  }
  return Number(v);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** A bar redrawn in place on a terminal; a line every few seconds elsewhere (logs, CI). */
export function createProgressReporter(stream: CommandContext['stderr'], now: () => number = Date.now) {
  const tty = stream.isTTY === true;
  let lastLine = 0;
  let drawn = false;
  return {
    update(p: ScanProgress) {
      const pct = p.totalBlocks === 0 ? 100 : (100 * p.doneBlocks) / p.totalBlocks;
      const left = p.etaMs === null ? '?' : duration(p.etaMs);
      const done = p.doneBlocks >= p.totalBlocks;
      if (tty) {
        if (!done && now() - lastLine < 100) return;
        lastLine = now();
        const width = 24;
        const filled = Math.round((pct / 100) * width);
        stream.write(
          `\r\x1b[K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${pct.toFixed(0).padStart(3)}%  ${fmt(p.doneBlocks)}/${fmt(p.totalBlocks)} blocks  ${fmt(p.blocksPerSecond)} blocks/s  ${left} left  ${p.requests} requests`,
        );
        drawn = true;
      } else {
        if (!done && now() - lastLine < 5_000) return;
        lastLine = now();
        stream.write(
          `scan: ${fmt(p.doneBlocks)}/${fmt(p.totalBlocks)} blocks (${pct.toFixed(0)}%), ${fmt(p.blocksPerSecond)} blocks/s, ${left} left, ${p.requests} requests\n`,
        );
      }
    },
    finish() {
      if (tty && drawn) stream.write('\n');
    },
  };
}

interface ScanFlags {
  config: Config;
  from: number | undefined;
  to: number | undefined;
  days: number;
  chainId: number | null;
  statePath: string | null;
  fallbackUrls: string[];
}

/** The config and the flags of `hs58 scan`, checked; a bad one is a ConfigError naming it. */
function scanFlags(ctx: CommandContext): ScanFlags {
  const { config, sources, rest } = loadConfig({
    argv: expandAliases(ctx.argv),
    env: ctx.env,
    dotenv: ctx.dotenv,
    homeDir: ctx.homeDir,
    extraFlags: ['from', 'to', 'days', 'state', 'chain-id', 'fallbacks'],
  });
  if (rest.positional.length > 0)
    throw new ConfigError('CONFIG_INVALID', `unexpected argument ${JSON.stringify(rest.positional[0])}; see \`hs58 scan --help\`.`);
  const from = integerFlag(rest.extra, 'from');
  const to = integerFlag(rest.extra, 'to');
  const daysRaw = rest.extra.days;
  if (to !== undefined && from === undefined) throw new ConfigError('CONFIG_INVALID', '--to needs --from.');
  if (from !== undefined && to !== undefined && to < from) throw new ConfigError('CONFIG_INVALID', `--from ${from} is after --to ${to}.`);
  if (daysRaw !== undefined && from !== undefined) throw new ConfigError('CONFIG_INVALID', 'use either --from/--to or --days, not both.');
  let days = config['polygon.window_days'];
  if (daysRaw !== undefined) {
    days = Number(daysRaw);
    if (daysRaw === true || !(days > 0) || !Number.isFinite(days))
      throw new ConfigError('CONFIG_INVALID', `--days: ${JSON.stringify(daysRaw === true ? '' : daysRaw)} is not valid; expected a positive number of days.`);
  }
  const chainRaw = rest.extra['chain-id'];
  let chainId: number | null = config['polygon.chain_id'];
  if (chainRaw === 'any') chainId = null;
  else if (chainRaw !== undefined) {
    if (chainRaw === true || !/^\d+$/.test(chainRaw))
      throw new ConfigError('CONFIG_INVALID', `--chain-id: ${JSON.stringify(chainRaw === true ? '' : chainRaw)} is not valid; expected a chain id or "any".`);
    chainId = Number(chainRaw);
  }
  const statePath = typeof rest.extra.state === 'string' ? path.resolve(ctx.cwd, rest.extra.state) : null;
  if (rest.extra.state === true) throw new ConfigError('CONFIG_INVALID', '--state needs a file path.');
  // Public RPCs back up an explicit list on mainnet unless --fallbacks false.
  const fallbacksRaw = rest.extra.fallbacks;
  if (fallbacksRaw !== undefined && fallbacksRaw !== true && !/^(true|false)$/i.test(fallbacksRaw)) {
    throw new ConfigError('CONFIG_INVALID', `--fallbacks: ${JSON.stringify(fallbacksRaw)} is not valid; expected true or false.`);
  }
  const wantFallbacks = fallbacksRaw === undefined ? chainId === 137 : fallbacksRaw === true || fallbacksRaw.toLowerCase() === 'true';
  const fallbackUrls = wantFallbacks && sources['polygon.rpc_url'] !== 'default' ? [...DEFAULT_POLYGON_RPCS] : [];
  return { config, from, to, days, chainId, statePath, fallbackUrls };
}

/** The JSON `hs58 scan` prints. */
function scanReport(flags: ScanFlags, result: ScanRoundResult, endpoints: string[]) {
  const { config } = flags;
  let amount = 0n;
  let claims = 0;
  for (const t of result.totals.values()) {
    amount += t.amount;
    claims += t.claims;
  }
  return {
    chainId: flags.chainId,
    head: result.head,
    confirmations: config['polygon.confirmations'],
    window: result.window,
    windowBlocks: flags.from === undefined ? windowBlocksFor(flags.days, config['polygon.blocks_per_day']) : undefined,
    complete: result.complete,
    missingRanges: result.missingRanges,
    contracts: [...new Set(config['polygon.contracts'].map((c) => c.toLowerCase()))],
    endpoints,
    blocksFetched: result.blocksFetched,
    requests: result.requests,
    durationMs: result.durationMs,
    totals: { amount: amount.toString(), usdc: formatUsdc(amount), claims, providers: result.totals.size },
    providers: totalsToJSON(result.totals),
  };
}

export const scanCommand: Command = async (ctx) => {
  if (ctx.argv.includes('--help') || ctx.argv.includes('-h')) {
    ctx.stdout.write(HELP);
    return 0;
  }
  const flags = scanFlags(ctx);
  const { config, statePath } = flags;
  const logger = createLogger({
    level: config['logging.trace'] ? 'trace' : config['logging.debug'] ? 'debug' : 'warn',
    destination: ctx.stderr,
    name: 'hs58-scan',
  });
  const progress = createProgressReporter(ctx.stderr);
  const { scanner, pool, close } = createClaimsScanner(
    { ...config, 'polygon.window_days': flags.days },
    {
      logger,
      chainId: flags.chainId,
      fallbackUrls: flags.fallbackUrls,
      // Interactive: rest a failing endpoint for 5 s, not the daemon's 30 s, so a dead list fails fast.
      cooldownMs: 5_000,
      databasePath: statePath,
      legacyState: statePath ? legacyClaimsFileInPlace(statePath) : null,
      onProgress: (p) => progress.update(p),
    },
  );
  try {
    const result = await scanner.runRound({ signal: ctx.signal, window: flags.from !== undefined ? { from: flags.from, to: flags.to } : undefined });
    progress.finish();
    ctx.stdout.write(`${JSON.stringify(scanReport(flags, result, pool.labels), null, 2)}\n`);
    if (!result.complete) ctx.stderr.write(`hs58 scan: ${result.missingRanges.length} block range(s) could not be fetched; totals are incomplete.\n`);
    return result.complete ? 0 : 3;
  } catch (err) {
    progress.finish();
    if (ctx.signal.aborted) {
      ctx.stderr.write(`hs58 scan: interrupted${statePath ? `; finished ranges are saved in ${statePath} and a rerun resumes` : ''}.\n`);
      return 130;
    }
    throw err;
  } finally {
    close();
  }
};
