import { describe, expect, test } from 'vitest';
import { pointAtFork } from '../../neurons/rehearse.js';
import { loadValidatorConfig } from '../../neurons/validator.js';
import { subtensorEndpoint } from '../../src/config/load.js';

const operator = () =>
  loadValidatorConfig({
    argv: [
      '--subtensor.chain_endpoint',
      'wss://archive.example:443',
      '--dry-run',
      '--metrics.port',
      '9100',
      '--neuron.state_path',
      '/srv/hs58',
      '--netuid',
      '58',
    ],
    env: { REDIS_URL: 'redis://redis.internal:6379' },
    homeDir: '/home/op',
  });

describe('the validator settings of a rehearsal', () => {
  test("the operator's settings, pointed at the fork: its endpoint, a scratch state folder, no ops port, no Redis, weights sent; each change noted", () => {
    const { validator, notes } = pointAtFork(operator(), 'ws://127.0.0.1:40123', '/tmp/hs58-rehearse-x');
    expect(subtensorEndpoint(validator.config)).toBe('ws://127.0.0.1:40123');
    expect(validator.config).toMatchObject({
      'neuron.state_path': '/tmp/hs58-rehearse-x',
      'metrics.port': 0,
      'redis.url': null,
      'neuron.dry_run': false,
      'neuron.disable_set_weights': false,
      netuid: 58,
    });
    expect(validator.scoring.preset.name).toBe('oracle-v2.1');
    expect(notes).toHaveLength(3);
    expect(notes[1]).toContain('your validator would send no weights');
    expect(notes[2]).toContain('REDIS_URL is set');
    // The operator's own settings are left as they were.
    expect(operator().config['neuron.state_path']).toBe('/srv/hs58');
  });

  test.for(['ws://10.0.0.5:40123', 'wss://archive.example:443', 'ws://localhost:40123'])(
    'refuses to hand the validator %s: only the fork on 127.0.0.1',
    (endpoint) => {
      expect(() => pointAtFork(operator(), endpoint, '/tmp/x')).toThrow(/refusing to run: the validator would connect to .*, not to the fork on 127\.0\.0\.1/);
    },
  );
});
