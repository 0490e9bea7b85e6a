/**
 * What every step of a round works with: the ports (`RoundDeps`), the settings, and the round's
 * block, signal, logger and step budgets (`RoundContext`).
 */
import type { ClaimsScanStatus, ClaimsSource, RunRoundOptions, ScanRoundResult } from '../../chain/polygon/scanner.js';
import type { Subtensor } from '../../chain/subtensor/types.js';
import type { Logger } from '../../observability/logger.js';
import type { ValidatorMetrics } from '../../observability/metrics.js';
import type { JobQueue } from '../../queue/types.js';
import type { ScoringPreset } from '../../scoring/presets.js';
import type { StepBudgets, StepName } from '../budgets.js';
import type { ValidatorJobHandlers } from '../jobs.js';
import type { Provider, ProviderRegistry } from '../../marketplace/providers.js';

export interface ClaimsScanPort extends ClaimsSource {
  runRound(options?: RunRoundOptions): Promise<ScanRoundResult>;
  /** The window, its covered blocks and the scan running now (the scanner has it; absent: nothing known). */
  scanStatus?(): ClaimsScanStatus;
}

export interface RoundDeps {
  chain: Pick<Subtensor, 'getMetagraph' | 'blockHash' | 'setWeights'>;
  /** Told when each step starts (the validator's /health shows a step running past its budget). */
  onStep?: (step: StepName, budgetMs: number) => void;
  claims: ClaimsScanPort | null;
  registry: ProviderRegistry;
  queue: JobQueue<ValidatorJobHandlers>;
  logger: Logger;
  metrics?: ValidatorMetrics | null;
  /** Fire-and-forget alert for a provider the consensus found unreachable. */
  alertUnreachable?: (provider: Provider) => void;
}

export interface RoundSettings {
  netuid: number;
  /** The validator's own hotkey (never queried, never credited). */
  hotkey: string;
  preset: ScoringPreset;
  probesPerRound: number;
  timeoutSec: number;
  /** Block-number bucket of the sampler's seed (`(block // 360) * 360`). */
  epochLength: number;
  versionKey: bigint;
  /** Compute everything, submit nothing. */
  submit: boolean;
  /** Per-step budgets in ms; defaults from `stepBudgets`. */
  budgets?: Partial<StepBudgets>;
}

export interface RoundContext {
  deps: RoundDeps;
  settings: RoundSettings;
  block: number;
  /** The validator's own signal: aborting it abandons the round. */
  signal: AbortSignal;
  log: Logger;
  budgets: StepBudgets;
}
