import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/load.js';
import { errorMessage, Hs58Error } from '../../errors.js';
import { DEFAULT_WEIGHT_PARAMETERS, toU16Weights, U16_MAX } from '../../scoring/weights.js';
import type { Command } from '../context.js';

/**
 * `hs58 weights`: float scores → the u16 uids/weights the Python SDK would submit
 * (process_weights_for_netuid + convert_weights_and_uids_for_emit). JSON on stdout.
 */

const HELP = `Usage: hs58 weights --scores FILE [--min-allowed-weights N] [--max-weight-limit X] [--exclude-quantile Q]

Prints {"uids": [...], "weights": [...]}: the u16 weights the bittensor SDK makes of these scores
(process_weights_for_netuid then convert_weights_and_uids_for_emit, bit for bit).

  --scores FILE              JSON array of non-negative numbers, index = uid
  --min-allowed-weights N    subnet hyperparameter MinAllowedWeights (default ${DEFAULT_WEIGHT_PARAMETERS.minAllowedWeights})
  --max-weight-limit X       MaxWeightsLimit as the SDK passes it: a fraction u16/65535 from 0 to 1
                             (default ${DEFAULT_WEIGHT_PARAMETERS.maxWeightLimit}, i.e. 65535: the runtime's constant)
  --exclude-quantile Q       the SDK's exclude_quantile, in u16 units 0..65535 (default ${DEFAULT_WEIGHT_PARAMETERS.excludeQuantile})

Exit: 0 printed, 2 bad flags or input.
`;

function numberFlag(extra: Record<string, string | true>, name: string, check: (n: number) => boolean, what: string): number | undefined {
  const v = extra[name];
  if (v === undefined) return undefined;
  const n = v === true ? NaN : Number(v);
  if (v === true || v.trim() === '' || !Number.isFinite(n) || !check(n)) {
    throw new ConfigError('CONFIG_INVALID', `--${name}: ${JSON.stringify(v === true ? '' : v)} is not valid; expected ${what}.`);
  }
  return n;
}

async function readScores(file: string, shown: string): Promise<number[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('CONFIG_INVALID', `--scores: cannot read ${shown}${code === 'ENOENT' ? ': no such file' : `: ${code ?? errorMessage(err)}`}.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('CONFIG_INVALID', `--scores: ${shown} is not valid JSON (${errorMessage(err)}).`);
  }
  if (!Array.isArray(json)) throw new ConfigError('CONFIG_INVALID', `--scores: ${shown} must hold a JSON array of numbers (index = uid).`);
  json.forEach((x: unknown, uid) => {
    if (typeof x !== 'number') throw new ConfigError('CONFIG_INVALID', `--scores: the score of uid ${uid} is ${JSON.stringify(x)}, not a number.`);
  });
  return json as number[];
}

export const weightsCommand: Command = async (ctx) => {
  if (ctx.argv.includes('--help') || ctx.argv.includes('-h')) {
    ctx.stdout.write(HELP);
    return 0;
  }
  try {
    const { rest } = loadConfig({
      argv: ctx.argv,
      env: ctx.env,
      dotenv: ctx.dotenv,
      homeDir: ctx.homeDir,
      extraFlags: ['scores', 'min-allowed-weights', 'max-weight-limit', 'exclude-quantile'],
    });
    if (rest.positional.length > 0)
      throw new ConfigError('CONFIG_INVALID', `unexpected argument ${JSON.stringify(rest.positional[0])}; see \`hs58 weights --help\`.`);
    const file = rest.extra.scores;
    if (file === undefined || file === true)
      throw new ConfigError('CONFIG_MISSING_VALUE', '--scores FILE is required (a JSON array of scores, index = uid); see `hs58 weights --help`.');
    const minAllowedWeights =
      numberFlag(rest.extra, 'min-allowed-weights', (n) => Number.isSafeInteger(n) && n >= 0 && n <= U16_MAX, `an integer from 0 to ${U16_MAX}`) ??
      DEFAULT_WEIGHT_PARAMETERS.minAllowedWeights;
    const maxWeightLimit =
      numberFlag(rest.extra, 'max-weight-limit', (n) => n >= 0 && n <= 1, 'a fraction from 0 to 1 (MaxWeightsLimit / 65535, e.g. 1 for 65535)') ??
      DEFAULT_WEIGHT_PARAMETERS.maxWeightLimit;
    const excludeQuantile =
      numberFlag(rest.extra, 'exclude-quantile', (n) => n >= 0 && n <= U16_MAX, `a value in u16 units from 0 to ${U16_MAX} (e.g. 6553 for 10%)`) ??
      DEFAULT_WEIGHT_PARAMETERS.excludeQuantile;
    const scores = await readScores(path.resolve(ctx.cwd, file), file);
    const result = toU16Weights(scores, { minAllowedWeights, maxWeightLimit, excludeQuantile });
    ctx.stdout.write(`${JSON.stringify({ uids: result.uids, weights: result.weights })}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof Hs58Error)) throw err;
    ctx.stderr.write(`hs58 weights: ${err.shortMessage}\n`);
    return 2;
  }
};
