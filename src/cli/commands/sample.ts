import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../config/load.js';
import { errorMessage, Hs58Error } from '../../errors.js';
import { providerSampleSeed, sampleProviders } from '../../scoring/sampler.js';
import type { Command } from '../context.js';

/**
 * `hs58 sample`: the providers every validator probes for a block hash, picked exactly as
 * the Python validator does (CPython's random.Random(seed).sample). JSON on stdout.
 */

const HELP = `Usage: hs58 sample --providers FILE (--block-hash 0x… | --epoch-block N) [--count N]

Prints, as a JSON array, the providers a validator probes in the round of that block:
sorted by probeUrl, then random.Random(int(sha256(block_hash))).sample(providers, min(count, n)),
bit for bit what the Python validator (2.1.x) picks.

  --providers FILE    JSON: an array of providers, or a registry answer {"providers": [...]} or
                      {"miners": [...]}; each item's URL is probeUrl, else apiUrl (as the Python
                      validator maps them); items with neither are skipped
  --block-hash 0x…    hash of the epoch block (0x + 64 hex digits; upper case is lowered, as the
                      chain reports it)
  --epoch-block N     the seed when the block hash is not known (what the Python validator falls
                      back to); with --block-hash it is ignored
  --count N           providers per round (default --scoring.probes_per_round / PROBES_PER_ROUND, 5)

Exit: 0 printed, 2 bad flags or input.
`;

interface ProviderItem {
  probeUrl: string;
  [key: string]: unknown;
}

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** The registry's item list and the Python mapping `probeUrl or apiUrl`; items without a URL are skipped like the Python validator does. */
export function providersFromJson(json: unknown, source: string): { providers: ProviderItem[]; skipped: number } {
  const list = Array.isArray(json)
    ? json
    : isRecord(json) && Array.isArray(json.providers)
      ? json.providers
      : isRecord(json) && Array.isArray(json.miners)
        ? json.miners
        : null;
  if (list === null)
    throw new ConfigError('CONFIG_INVALID', `${source}: expected a JSON array of providers, or an object with a "providers" or "miners" array.`);
  const providers: ProviderItem[] = [];
  let skipped = 0;
  list.forEach((item: unknown, index) => {
    if (!isRecord(item)) throw new ConfigError('CONFIG_INVALID', `${source}: provider ${index} is not an object.`);
    const url = item.probeUrl || item.apiUrl;
    if (!url) {
      skipped++;
      return;
    }
    if (typeof url !== 'string') throw new ConfigError('CONFIG_INVALID', `${source}: provider ${index} has a probeUrl/apiUrl that is not a string.`);
    providers.push({ ...item, probeUrl: url });
  });
  return { providers, skipped };
}

async function readJsonFile(file: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ConfigError('CONFIG_INVALID', `${flag}: cannot read ${file}${code === 'ENOENT' ? ': no such file' : `: ${code ?? errorMessage(err)}`}.`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new ConfigError('CONFIG_INVALID', `${flag}: ${file} is not valid JSON (${errorMessage(err)}).`);
  }
}

function stringFlag(extra: Record<string, string | true>, name: string): string | undefined {
  const v = extra[name];
  if (v === true) throw new ConfigError('CONFIG_MISSING_VALUE', `--${name} needs a value; see \`hs58 sample --help\`.`);
  return v;
}

function nonNegativeIntegerFlag(extra: Record<string, string | true>, name: string, what: string): number | undefined {
  const v = stringFlag(extra, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v)))
    throw new ConfigError('CONFIG_INVALID', `--${name}: ${JSON.stringify(v)} is not valid; expected ${what}.`);
  return Number(v);
}

export const sampleCommand: Command = async (ctx) => {
  if (ctx.argv.includes('--help') || ctx.argv.includes('-h')) {
    ctx.stdout.write(HELP);
    return 0;
  }
  try {
    const { config, rest } = loadConfig({
      argv: ctx.argv,
      env: ctx.env,
      dotenv: ctx.dotenv,
      homeDir: ctx.homeDir,
      extraFlags: ['block-hash', 'providers', 'count', 'epoch-block'],
    });
    if (rest.positional.length > 0)
      throw new ConfigError('CONFIG_INVALID', `unexpected argument ${JSON.stringify(rest.positional[0])}; see \`hs58 sample --help\`.`);
    const file = stringFlag(rest.extra, 'providers');
    if (file === undefined)
      throw new ConfigError('CONFIG_MISSING_VALUE', '--providers FILE is required (a JSON array of providers with probeUrl); see `hs58 sample --help`.');
    const hashRaw = stringFlag(rest.extra, 'block-hash');
    const epochBlock = nonNegativeIntegerFlag(rest.extra, 'epoch-block', 'a block number');
    const count = nonNegativeIntegerFlag(rest.extra, 'count', 'a non-negative integer') ?? config['scoring.probes_per_round'];
    if (hashRaw !== undefined && !/^0x[0-9a-fA-F]{64}$/.test(hashRaw)) {
      throw new ConfigError('CONFIG_INVALID', `--block-hash: ${JSON.stringify(hashRaw)} is not valid; expected 0x followed by 64 hex digits.`);
    }
    if (hashRaw === undefined && epochBlock === undefined) {
      throw new ConfigError('CONFIG_MISSING_VALUE', 'give --block-hash 0x… (the epoch block hash), or --epoch-block N when the hash is not known.');
    }
    // Python hashes the string the chain client returns, which is lower case.
    const blockHash = hashRaw === undefined ? null : hashRaw.toLowerCase();
    const resolved = path.resolve(ctx.cwd, file);
    const { providers, skipped } = providersFromJson(await readJsonFile(resolved, '--providers'), file);
    const chosen = sampleProviders(providers, blockHash, epochBlock ?? 0, count);
    const seed = providerSampleSeed(blockHash, epochBlock ?? 0);
    ctx.stderr.write(
      `hs58 sample: ${chosen.length} of ${providers.length} providers, seed ${blockHash === null ? `epoch block ${seed}` : `sha256(${blockHash})`}` +
        `${skipped > 0 ? `; skipped ${skipped} without probeUrl/apiUrl` : ''}\n`,
    );
    ctx.stdout.write(`${JSON.stringify(chosen, null, 2)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof Hs58Error)) throw err;
    ctx.stderr.write(`hs58 sample: ${err.shortMessage}\n`);
    return 2;
  }
};
