/**
 * Step 1, the metagraph (without it there is nothing to score), and what the other steps read
 * from it: who is queried, who is probed, where each axon is.
 */
import type { MetagraphSnapshot } from '../../chain/subtensor/types.js';
import type { AxonEndpoint } from '../../dendrite/dendrite.js';
import { selectQueriedUids } from '../../scoring/presets.js';
import type { RoundContext, RoundSettings } from './context.js';
import { runStep, type StepResult } from './runStep.js';

export function runMetagraphStep(ctx: RoundContext): Promise<StepResult<MetagraphSnapshot | null>> {
  return runStep(ctx, 'metagraph', null, () => ctx.deps.chain.getMetagraph(ctx.settings.netuid));
}

export interface RoundView {
  mg: MetagraphSnapshot;
  n: number;
  /** The validator's own uid, or -1 when its hotkey is not registered. */
  selfUid: number;
  /** The uids sent ProviderCheck: the preset's selection. */
  queried: number[];
  /** The served uids other than the validator's own: the ones probed. */
  servedUids: number[];
}

export function viewOf(mg: MetagraphSnapshot, settings: Pick<RoundSettings, 'hotkey' | 'preset'>): RoundView {
  const selfUid = mg.hotkeys.indexOf(settings.hotkey);
  const ips = mg.axons.map((a) => a.ip);
  const servedUids = selectQueriedUids(ips, selfUid >= 0 ? selfUid : null, 'active-miners');
  const queried = settings.preset.querySelection === 'all-uids' ? selectQueriedUids(ips, null, 'all-uids') : servedUids;
  return { mg, n: mg.n, selfUid, queried, servedUids };
}

export function axonOf(view: RoundView, uid: number): AxonEndpoint {
  const { hotkeys, axons } = view.mg;
  return { uid, hotkey: hotkeys[uid]!, ip: axons[uid]!.ip, port: axons[uid]!.port };
}
