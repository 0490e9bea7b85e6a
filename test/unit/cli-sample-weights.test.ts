import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sampleCommand } from '../../src/cli/commands/sample.js';
import { weightsCommand } from '../../src/cli/commands/weights.js';
import { sampleProviders } from '../../src/scoring/sampler.js';
import { DEFAULT_WEIGHT_PARAMETERS, toU16Weights } from '../../src/scoring/weights.js';
import { runCommand } from '../support/cli.js';
import { REPO_ROOT, requirePython3 } from '../support/programs.js';
import { runPythonOracle } from '../support/python-oracle.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'hs58-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function jsonFile(name: string, value: unknown): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

const HASH = `0x${'3c'.repeat(16)}${'a1'.repeat(16)}`;
const PROVIDERS = Array.from({ length: 12 }, (_, i) => ({
  id: `p${i}`,
  probeUrl: `https://provider-${(i * 7) % 12}.example/${'😀'.repeat(i % 3)}`,
  name: `P${i}`,
}));

describe('hs58 sample', () => {
  test('prints what the Python validator picks for the block hash', async (ctx) => {
    const file = await jsonFile('providers.json', PROVIDERS);
    const run = await runCommand(sampleCommand, ['--providers', file, '--block-hash', HASH]);
    expect(run.stderr).toContain('5 of 12 providers');
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { id: string }[];
    expect(printed).toEqual(sampleProviders(PROVIDERS, HASH, 0, 5));

    const reason = requirePython3();
    if (reason) return ctx.skip(reason);
    const python = runPythonOracle<{ results: string[][] }>('python3', path.join(REPO_ROOT, 'test/interop/sample_oracle.py'), {
      cases: [{ kind: 'providers', providers: PROVIDERS, blockHash: HASH, epochBlock: 0, count: 5 }],
    });
    expect(printed.map((p) => p.id)).toEqual(python.results[0]);
  });

  test('registry shapes, apiUrl fallback, --count, --epoch-block, upper-case hash', async () => {
    const registry = {
      miners: [
        { id: 'a', apiUrl: 'https://a' },
        { id: 'b', probeUrl: 'https://b' },
        { id: 'none', name: 'no url' },
        { id: 'c', probeUrl: '', apiUrl: 'https://c' },
      ],
    };
    const file = await jsonFile('registry.json', registry);
    const all = await runCommand(sampleCommand, ['--providers', file, '--epoch-block', '720', '--count', '10']);
    expect(all.code).toBe(0);
    expect(all.stderr).toContain('skipped 1');
    const ids = (JSON.parse(all.stdout) as { id: string; probeUrl: string }[]).map((p) => p.id);
    const mapped = [
      { id: 'a', probeUrl: 'https://a' },
      { id: 'b', probeUrl: 'https://b' },
      { id: 'c', probeUrl: 'https://c' },
    ];
    expect(ids).toEqual(sampleProviders(mapped, null, 720, 10).map((p) => p.id));

    const upper = await runCommand(sampleCommand, [
      '--providers',
      await jsonFile('p.json', { providers: PROVIDERS }),
      '--block-hash',
      HASH.toUpperCase().replace('0X', '0x'),
      '--count=3',
    ]);
    expect(upper.code).toBe(0);
    expect(JSON.parse(upper.stdout)).toEqual(sampleProviders(PROVIDERS, HASH, 0, 3));
  });

  test('PROBES_PER_ROUND sets the default count', async () => {
    const file = await jsonFile('providers.json', PROVIDERS);
    const run = await runCommand(sampleCommand, ['--providers', file, '--block-hash', HASH], { env: { PROBES_PER_ROUND: '2' } });
    expect(JSON.parse(run.stdout)).toHaveLength(2);
  });

  test('errors: a clear message on stderr and exit 2', async () => {
    const file = await jsonFile('providers.json', PROVIDERS);
    const cases: [string[], RegExp][] = [
      [['--block-hash', HASH], /--providers FILE is required/],
      [['--providers', file], /give --block-hash/],
      [['--providers', file, '--block-hash', '0x1234'], /--block-hash: "0x1234" is not valid; expected 0x followed by 64 hex digits/],
      [['--providers', path.join(dir, 'missing.json'), '--block-hash', HASH], /cannot read .*missing\.json: no such file/],
      [['--providers', await jsonFile('bad.json', '{nope'), '--block-hash', HASH], /is not valid JSON/],
      [['--providers', await jsonFile('obj.json', { services: [] }), '--block-hash', HASH], /"providers" or "miners" array/],
      [['--providers', await jsonFile('num.json', [{ probeUrl: 5 }]), '--block-hash', HASH], /provider 0 has a probeUrl\/apiUrl that is not a string/],
      [['--providers', file, '--block-hash', HASH, '--count', '-1'], /--count/],
      [['--providers', file, '--block-hash', HASH, '--cuont', '3'], /unknown flag --cuont; did you mean --count\?/],
    ];
    for (const [argv, message] of cases) {
      const run = await runCommand(sampleCommand, argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr, argv.join(' ')).toMatch(/^hs58 sample: /);
      expect(run.stderr, argv.join(' ')).toMatch(message);
    }
  });

  test('--help', async () => {
    const run = await runCommand(sampleCommand, ['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Usage: hs58 sample');
  });
});

describe('hs58 weights', () => {
  const SCORES = [0, 0.12, 0.5, 0.5, 0.03, 0, 0.9, 1e-9];

  test('defaults: the SDK conversion with MinAllowedWeights 1, MaxWeightsLimit 65535, exclude_quantile 0', async () => {
    const run = await runCommand(weightsCommand, ['--scores', await jsonFile('scores.json', SCORES)]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout) as { uids: number[]; weights: number[] };
    expect(printed).toEqual(toU16Weights(SCORES, DEFAULT_WEIGHT_PARAMETERS));
    expect(Math.max(...printed.weights)).toBe(65535);
    expect(printed.uids).not.toContain(0); // zero scores are not sent
  });

  test('flags reach the conversion', async () => {
    const file = await jsonFile('scores.json', SCORES);
    const run = await runCommand(weightsCommand, ['--scores', file, '--min-allowed-weights', '3', '--max-weight-limit', '0.2', '--exclude-quantile', '32767']);
    expect(run.code).toBe(0);
    const expected = toU16Weights(SCORES, { minAllowedWeights: 3, maxWeightLimit: 0.2, excludeQuantile: 32767 });
    expect(JSON.parse(run.stdout)).toEqual(expected);
    expect(expected).not.toEqual(toU16Weights(SCORES, DEFAULT_WEIGHT_PARAMETERS));
  });

  test('errors: a clear message on stderr and exit 2', async () => {
    const file = await jsonFile('scores.json', SCORES);
    const cases: [string[], RegExp][] = [
      [[], /--scores FILE is required/],
      [['--scores', await jsonFile('neg.json', [0.5, -0.25, 1])], /weight at index 1 is negative \(-0\.25\)/],
      [['--scores', await jsonFile('str.json', [0.5, '1'])], /the score of uid 1 is "1", not a number/],
      [['--scores', await jsonFile('obj.json', { scores: [] })], /must hold a JSON array of numbers/],
      [['--scores', await jsonFile('big.json', [1e39, 1])], /infinite as a float32/],
      [['--scores', file, '--max-weight-limit', '65535'], /--max-weight-limit: "65535" is not valid; expected a fraction from 0 to 1/],
      [['--scores', file, '--exclude-quantile', '0.1.2'], /--exclude-quantile/],
      [['--scores', file, '--min-allowed-weights', '2.5'], /--min-allowed-weights: "2.5" is not valid; expected an integer/],
      [['--scores', path.join(dir, 'missing.json')], /no such file/],
    ];
    for (const [argv, message] of cases) {
      const run = await runCommand(weightsCommand, argv);
      expect(run.code, argv.join(' ')).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr, argv.join(' ')).toMatch(/^hs58 weights: /);
      expect(run.stderr, argv.join(' ')).toMatch(message);
    }
  });
});
