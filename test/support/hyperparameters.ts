import type { Hyperparameters } from '../../src/chain/subtensor/types.js';

/** Subnet hyperparameters for pure tests of the chain adapter: small defaults, override what a test is about. */
export function hyperparameters(over: Partial<Hyperparameters> = {}): Hyperparameters {
  return {
    tempo: 10,
    weightsRateLimit: 100,
    weightsVersionKey: 0n,
    minAllowedWeights: 1,
    maxWeightsLimit: 65535,
    activityCutoff: 5000,
    servingRateLimit: 50,
    commitRevealEnabled: false,
    commitRevealPeriod: 1,
    commitRevealVersion: null,
    ...over,
  };
}
