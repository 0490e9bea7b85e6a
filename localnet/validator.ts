/**
 * The local network's validator: `hs58 validator` in this process against the network, with the
 * argv that points it at the network's chains, registry and wallet, and after each round the
 * weights it stored read back from the chain.
 */
import type { SubtensorClient } from '../src/chain/subtensor/index.js';
import type { BuildInfo } from '../src/cli/context.js';
import { formatUsdc } from '../src/chain/polygon/claimsStore.js';
import { errorMessage } from '../src/errors.js';
import type { Logger } from '../src/observability/logger.js';
import { linkSignals } from '../src/util/deadline.js';
import type { RoundReport } from '../src/validator/report.js';
import type { ValidatorState } from '../src/validator/state.js';
import { startValidator, type ValidatorHooks } from '../neurons/validator.js';
import { daemonContext } from './daemonContext.js';

export interface LocalRoundRow {
  uid: number;
  hotkey: string;
  claimsUsdc: string;
  proof: boolean | null;
  probeAccuracy: number | null;
  score: number;
  /** u16 weight stored on chain for this uid by the validator (0 when absent). */
  chainWeight: number;
}

export interface LocalRound {
  round: number;
  report: RoundReport;
  /** The validator's state as saved after this round. */
  state: ValidatorState;
  rows: LocalRoundRow[];
  statusUrl: string | null;
}

export interface ValidatorArgvOptions {
  /** `--scoring.preset`; undefined: not passed (the validator's own default). */
  preset: string | undefined;
  /** `--neuron.state_path`. */
  statePath: string;
  epochLength: number;
  /** `--neuron.timeout` seconds (default 6). */
  timeoutSec?: number;
  probesPerRound?: number;
  /** 0: no /health, /metrics, /status server (default). */
  statusPort?: number;
  /** Polygon RPC endpoint (default: anvil itself). */
  polygonRpcUrl?: string;
}

export interface RunLocalValidatorOptions {
  argv: string[];
  env?: Record<string, string>;
  maxRounds?: number;
  signal?: AbortSignal;
  logger?: Logger;
  /** Receives what the validator prints (the `--neuron.dry_run` table). */
  stdout?: (text: string) => void;
  statusUrl?: string | null;
  onRound?: (round: LocalRound) => void;
  /** Replaces the validator's job handlers (a test records what the miners answered). */
  jobHandlers?: ValidatorHooks['jobHandlers'];
  /** The validator's home folder (where it looks for a Python validator's state); default: the user's. */
  homeDir?: string;
  /** What `hs58_build_info` reports (the CLI passes the program's); default: unknown. */
  build?: BuildInfo;
}

/** What the validator's argv points at. */
export interface LocalValidatorTargets {
  netuid: number;
  endpoint: string;
  walletPath: string;
  walletName: string;
  anvilUrl: string;
  drain: string;
  chainId: number;
  registryUrl: string;
}

export function localValidatorArgv(t: LocalValidatorTargets, o: ValidatorArgvOptions): string[] {
  return [
    '--netuid',
    String(t.netuid),
    '--subtensor.chain_endpoint',
    t.endpoint,
    '--wallet.path',
    t.walletPath,
    '--wallet.name',
    t.walletName,
    '--wallet.hotkey',
    'validator',
    '--polygon.rpc_url',
    o.polygonRpcUrl ?? t.anvilUrl,
    '--polygon.contracts',
    t.drain,
    '--polygon.chain_id',
    String(t.chainId),
    '--polygon.confirmations',
    '2',
    '--registry.urls',
    t.registryUrl,
    '--neuron.epoch_length',
    String(o.epochLength),
    '--neuron.timeout',
    String(o.timeoutSec ?? 6),
    '--neuron.state_path',
    o.statePath,
    '--metrics.host',
    '127.0.0.1',
    '--metrics.port',
    String(o.statusPort ?? 0),
    ...(o.preset !== undefined ? ['--scoring.preset', o.preset] : []),
    '--marketplace.url',
    t.registryUrl.replace(/\/api\/.*$/, ''),
    ...(o.probesPerRound !== undefined ? ['--scoring.probes_per_round', String(o.probesPerRound)] : []),
  ];
}

export interface LocalValidatorDeps {
  /** The validator's stored weight row, uid → u16. */
  weightsOnChain(): Promise<Map<number, number>>;
  resolveAddress(ip: string, port: number): { host: string; port: number };
  /** The network's logger: the validator logs to a child of it unless told otherwise. */
  logger: Logger;
  /** The network stopping stops the validator. */
  signal: AbortSignal;
}

/** Runs `startValidator` in this process; resolves when it returned, with the rounds it made (weights read back from chain). */
export async function runLocalValidator(deps: LocalValidatorDeps, o: RunLocalValidatorOptions): Promise<{ code: number; rounds: LocalRound[] }> {
  const log = deps.logger.child({ module: 'localnet' });
  const rounds: LocalRound[] = [];
  let reading = Promise.resolve();
  const signal = o.signal ? linkSignals([o.signal, deps.signal]).signal : deps.signal;
  const code = await startValidator(
    { ...daemonContext(o.argv, o.env ?? {}, signal, o.stdout), ...(o.homeDir ? { homeDir: o.homeDir } : {}), ...(o.build ? { build: o.build } : {}) },
    {
      logger: o.logger ?? deps.logger.child({ module: 'validator' }),
      resolveAddress: deps.resolveAddress,
      jobHandlers: o.jobHandlers,
      maxRounds: o.maxRounds,
      onRound: (report: RoundReport, state: ValidatorState) => {
        // Read the weights now, in order: the next round is at least an epoch away.
        reading = reading.then(async () => {
          let onChain = new Map<number, number>();
          try {
            onChain = await deps.weightsOnChain();
          } catch (err) {
            log.warn({ err: errorMessage(err) }, 'weights not read back');
          }
          const round: LocalRound = { round: rounds.length + 1, report, state, rows: roundRows(report, onChain), statusUrl: o.statusUrl ?? null };
          rounds.push(round);
          o.onRound?.(round);
        });
      },
    },
  );
  await reading;
  return { code, rounds };
}

function roundRows(report: RoundReport, onChain: Map<number, number>): LocalRoundRow[] {
  return report.rows.map((r) => ({
    uid: r.uid,
    hotkey: r.hotkey,
    claimsUsdc: formatUsdc(r.claims),
    proof: r.proof,
    probeAccuracy: r.probeAccuracy,
    score: r.score,
    chainWeight: onChain.get(r.uid) ?? 0,
  }));
}

/** Reads a validator's stored weights as a third party. */
export function weightsReader(reader: SubtensorClient, netuid: number, validatorUid: number): () => Promise<Map<number, number>> {
  return async () => new Map(await reader.getWeights(netuid, validatorUid));
}
