/**
 * The last step, after the round: the state saved atomically within SAVE_BUDGET_MS. It has no
 * parent signal: a validator that is stopping still saves the round it finished.
 */
import type { StateStore } from '../../store/jsonFile.js';
import { errorMessage } from '../../errors.js';
import type { Logger } from '../../observability/logger.js';
import type { ValidatorMetrics } from '../../observability/metrics.js';
import { withDeadline } from '../../util/deadline.js';
import { SAVE_BUDGET_MS } from '../budgets.js';
import type { ValidatorState } from '../state.js';
import type { FailedStep } from './runStep.js';

export interface SaveStepParameters {
  store: StateStore<ValidatorState>;
  state: ValidatorState;
  log: Logger;
  metrics?: ValidatorMetrics | null;
}

/** Null when saved; otherwise the failure, reported as the step 'save'. */
export async function runSaveStep(p: SaveStepParameters): Promise<FailedStep | null> {
  const began = performance.now();
  try {
    await withDeadline(SAVE_BUDGET_MS, () => p.store.save(p.state), { label: 'saving the state' });
    return null;
  } catch (err) {
    p.log.error({ err: errorMessage(err) }, 'state not saved');
    return { step: 'save', error: `state not saved: ${errorMessage(err)}` };
  } finally {
    p.metrics?.stepSeconds.observe({ step: 'save' }, (performance.now() - began) / 1000);
  }
}
