/**
 * The axon's request pipeline: parse → blacklist → verify → body → admit → handle (stages.ts), in
 * Python's order; the first refusal ends it. Each stage is timed into `hs58_axon_stage_seconds{stage}`.
 */
import type { MinerMetrics } from '../observability/metrics.js';
import { DEFAULT_TIMEOUT_SEC, type EncodedResponse, type SynapseName } from '../protocol/index.js';
import { Refusal } from './refusal.js';
import { admit, blacklist, body, handle, parse, priorityOf, STAGES, verify, type IncomingRequest, type PipelineContext, type StageTimers } from './stages.js';

/** The stage histogram's children, bound once per server; null without metrics. */
export function stageTimers(metrics: MinerMetrics | null): StageTimers | null {
  if (!metrics) return null;
  return Object.fromEntries(STAGES.map((stage) => [stage, metrics.stageSeconds.labels(stage)])) as unknown as StageTimers;
}

/** The seconds since `since` into `timer`; returns now, when the next stage starts. */
function lap(timer: { observe(seconds: number): void } | undefined, since: number): number {
  if (timer === undefined) return since;
  const now = performance.now();
  timer.observe((now - since) / 1000);
  return now;
}

/** How long a request may wait, seconds: its `timeout` header up to our cap; the default when it names no usable duration. */
function budgetSeconds(timeoutSec: number | null, maxSec: number): number {
  if (timeoutSec === null || Number.isNaN(timeoutSec) || timeoutSec <= 0) return Math.min(DEFAULT_TIMEOUT_SEC, maxSec);
  return Math.min(timeoutSec, maxSec);
}

/**
 * The whole pipeline for one request to a served synapse's path (`exact`: nothing after the name);
 * `startedAt` is when the request arrived (`performance.now()`). Never throws for a bad request.
 */
export async function runPipeline(
  ctx: PipelineContext,
  name: SynapseName,
  exact: boolean,
  req: IncomingRequest,
  startedAt: number,
): Promise<EncodedResponse | Refusal> {
  const timers = ctx.timers ?? undefined;
  const t0 = timers === undefined ? 0 : performance.now();
  const head = parse(name, req.raw.headersDistinct);
  const t1 = lap(timers?.parse, t0);
  if (head instanceof Refusal) return head;

  const caller = blacklist(ctx, head, name);
  const t2 = lap(timers?.blacklist, t1);
  if (caller instanceof Refusal) return caller;

  const deadline = startedAt + budgetSeconds(head.timeoutSec, ctx.limits.maxTimeoutSec) * 1000;
  const priority = priorityOf(ctx, caller);
  const unverified = await verify(ctx, head, caller, priority, deadline);
  const t3 = lap(timers?.verify, t2);
  if (unverified) return unverified;

  const request = await body(ctx, req, head, exact);
  const t4 = lap(timers?.body, t3);
  if (request instanceof Refusal) return request;

  const turn = await admit(ctx, request, priority, deadline);
  const t5 = lap(timers?.admit, t4);
  if (turn instanceof Refusal) return turn;
  try {
    return await handle(ctx, name, request, caller, deadline, startedAt);
  } finally {
    turn.release();
    lap(timers?.handle, t5);
  }
}
