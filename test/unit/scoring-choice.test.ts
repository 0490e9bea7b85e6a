import { describe, expect, test } from 'vitest';
import { SubtensorError } from '../../src/chain/subtensor/errors.js';
import { loadConfig } from '../../src/config/load.js';
import { chooseScoring, summarizeScoring } from '../../src/validator/scoringChoice.js';
import { asVersionKeyError, versionKeyTooLow } from '../../src/validator/versionKey.js';

const choose = (argv: string[] = [], env: Record<string, string> = {}, dotenv?: string) => {
  const { config, sources } = loadConfig({ argv, env, dotenv });
  return summarizeScoring(chooseScoring(config, sources));
};

describe('which scoring a validator runs, and why', () => {
  test('no scoring flag, on any network: oracle-v2.1 as the live 2.1.1 validators (α 0.3, version key 2011, ProviderProbe only)', () => {
    for (const argv of [[], ['--subtensor.network', 'finney'], ['--subtensor.network', 'test'], ['--subtensor.chain_endpoint', 'wss://node.example:443']]) {
      expect(choose(argv), argv.join(' ')).toEqual({
        preset: 'oracle-v2.1',
        presetReason: 'default: the live Subnet 58 validators run HS58-subnet 2.1.1, which computes oracle-v2.1',
        pythonGeneration: 'HS58-subnet 2.1.1 (generation C, network oracle)',
        formula: expect.stringContaining('HS58-subnet 2.1.x'),
        alpha: 0.3,
        alphaSource: "the oracle-v2.1 preset's",
        versionKey: '2011',
        versionKeySource: "the oracle-v2.1 preset's (HS58-subnet 2.1.1 spec_version)",
        synapses: ['ProviderProbe'],
      });
    }
  });

  test('an explicit preset is authoritative, and says where it was set; each preset carries its Python key and synapses', () => {
    expect(choose(['--scoring.preset', 'hs58'])).toMatchObject({
      preset: 'hs58',
      presetReason: 'set by --scoring.preset',
      alpha: 0.1,
      versionKey: '2011',
      versionKeySource: "the hs58 preset's (HS58-subnet 2.1.1 spec_version)",
      synapses: ['ProviderCheck', 'ProviderProbe'],
    });
    expect(choose([], { SCORING_PRESET: 'drain-v1' })).toMatchObject({
      preset: 'drain-v1',
      presetReason: 'set by SCORING_PRESET (environment)',
      pythonGeneration: 'HS58-subnet 1.0.0 (generation A, DRAIN scoring)',
      alpha: 0.1,
      versionKey: '1000',
      synapses: ['ProviderCheck'],
    });
    expect(choose([], {}, 'SCORING_PRESET=oracle-v2.1\n')).toMatchObject({ preset: 'oracle-v2.1', presetReason: 'set by SCORING_PRESET (.env file)' });
  });

  test('an explicit version key or α wins over the preset’s', () => {
    expect(choose(['--neuron.weights_version', '2010', '--neuron.moving_average_alpha', '0.5'])).toMatchObject({
      preset: 'oracle-v2.1',
      versionKey: '2010',
      versionKeySource: 'set by --neuron.weights_version',
      alpha: 0.5,
      alphaSource: 'set by --neuron.moving_average_alpha',
    });
    expect(choose(['--scoring.preset', 'drain-v1'], { WEIGHTS_VERSION_KEY: '2011' })).toMatchObject({
      versionKey: '2011',
      versionKeySource: 'set by WEIGHTS_VERSION_KEY (environment)',
    });
  });
});

describe('the version key against the subnet’s WeightsVersionKey', () => {
  test('refused below it (0 on chain accepts anything), naming the flag and the key needed', () => {
    expect(versionKeyTooLow(2011n, 0n)).toBeNull();
    expect(versionKeyTooLow(2011n, 2011n)).toBeNull();
    expect(versionKeyTooLow(2012n, 2011n)).toBeNull();
    const err = versionKeyTooLow(1000n, 2011n)!;
    expect(err.code).toBe('VERSION_KEY_TOO_LOW');
    expect(err.shortMessage).toContain(
      "version key 1000 is below the subnet's WeightsVersionKey 2011; set --neuron.weights_version (env WEIGHTS_VERSION_KEY) to 2011",
    );
  });

  test("the chain adapter's IncorrectWeightVersionKey becomes VERSION_KEY_TOO_LOW; other errors pass through", () => {
    const precheck = new SubtensorError('PRECHECK_FAILED', 'x', { reason: 'IncorrectWeightVersionKey', details: { chainVersionKey: '2011' } });
    expect(asVersionKeyError(precheck, 1000n)).toMatchObject({ code: 'VERSION_KEY_TOO_LOW', details: { chainVersionKey: '2011' } });
    const dispatched = new SubtensorError('TX_DISPATCH_FAILED', 'x', { reason: 'IncorrectWeightVersionKey' });
    expect(asVersionKeyError(dispatched, 1000n)).toMatchObject({
      code: 'VERSION_KEY_TOO_LOW',
      shortMessage: expect.stringContaining('--neuron.weights_version'),
    });
    const other = new SubtensorError('PRECHECK_FAILED', 'x', { reason: 'SettingWeightsTooFast' });
    expect(asVersionKeyError(other, 1000n)).toBe(other);
  });
});
