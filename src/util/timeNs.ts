/** Wall-clock nanoseconds, as bittensor's nonces count them: shared by the axon (freshness) and the dendrite (its nonces). */

// Wall-clock nanoseconds with a monotonic tick: Date.now() has ms resolution only.
const HRTIME_OFFSET = process.hrtime.bigint();
const WALL_AT_START = BigInt(Date.now()) * 1_000_000n;

/** Nanoseconds since the epoch, like Python's time.time_ns(). */
export function timeNs(): bigint {
  return process.hrtime.bigint() - HRTIME_OFFSET + WALL_AT_START;
}
