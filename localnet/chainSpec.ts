import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hs58Error } from '../src/errors.js';
import { withDeadline } from '../src/util/deadline.js';

/**
 * Where the subtensor runtime chain spec comes from, in this order: the flag or
 * SUBTENSOR_CHAIN_SPEC; `../shared/chain/subtensor-spec218-raw.json` beside the checkout;
 * the user cache; otherwise a one-time download of the public file, checked against its
 * sha256 and cached. Offline without it, the error says what to download and where to put it.
 */
export const CHAIN_SPEC_FILE = 'subtensor-spec218-raw.json';
export const CHAIN_SPEC_SHA256 = 'bb2c7e34390f8fb5032750cc7d80d23f91a47f56fdebf4c35a24c7938b96c57c';
export const CHAIN_SPEC_URL = 'https://raw.githubusercontent.com/opentensor/subtensor/e2b8367b8be2d9ce60ae5858c49138fa05f44a68/scripts/specs/raonet.json';

export class ChainSpecError extends Hs58Error<'CHAIN_SPEC_NOT_FOUND' | 'CHAIN_SPEC_BAD_HASH'> {
  override name = 'ChainSpecError';
}

/** The checkout (or install) folder: the nearest one above this module with a package.json, from localnet/ and from dist/ alike. */
function appRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return dir;
    dir = up;
  }
}
const REPO_ROOT = appRoot();

export interface ResolveChainSpecParameters {
  explicit: string | null;
  cwd: string;
  homeDir: string;
  fetch?: typeof globalThis.fetch;
  log?: (message: string) => void;
}

export function chainSpecCandidates(p: Pick<ResolveChainSpecParameters, 'cwd' | 'homeDir'>): { beside: string[]; cache: string } {
  return {
    beside: [...new Set([path.resolve(REPO_ROOT, '..', 'shared', 'chain', CHAIN_SPEC_FILE), path.resolve(p.cwd, '..', 'shared', 'chain', CHAIN_SPEC_FILE)])],
    cache: path.join(p.homeDir, '.cache', 'hs58', CHAIN_SPEC_FILE),
  };
}

export async function resolveChainSpec(p: ResolveChainSpecParameters): Promise<string> {
  if (p.explicit) {
    if (!existsSync(p.explicit))
      throw new ChainSpecError('CHAIN_SPEC_NOT_FOUND', `--subtensor.chain_spec / SUBTENSOR_CHAIN_SPEC: ${p.explicit} does not exist.`);
    return p.explicit;
  }
  const { beside, cache } = chainSpecCandidates(p);
  for (const candidate of [...beside, cache]) if (existsSync(candidate)) return candidate;
  const doFetch = p.fetch ?? globalThis.fetch;
  p.log?.(`chain spec not found locally; downloading it once from ${CHAIN_SPEC_URL}`);
  let bytes: Uint8Array;
  try {
    bytes = await withDeadline(
      120_000,
      async (signal) => {
        const res = await doFetch(CHAIN_SPEC_URL, { signal });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        return new Uint8Array(await res.arrayBuffer());
      },
      { label: 'the chain spec download' },
    );
  } catch (err) {
    throw new ChainSpecError(
      'CHAIN_SPEC_NOT_FOUND',
      `the subtensor chain spec is not on this machine and could not be downloaded (${err instanceof Error ? err.message : String(err)}). ` +
        `Download ${CHAIN_SPEC_URL} (sha256 ${CHAIN_SPEC_SHA256}) and save it as ${cache}, or pass --chain-spec FILE.`,
      { cause: err },
    );
  }
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== CHAIN_SPEC_SHA256) {
    throw new ChainSpecError('CHAIN_SPEC_BAD_HASH', `downloaded chain spec has sha256 ${digest}, expected ${CHAIN_SPEC_SHA256}; not used.`);
  }
  await mkdir(path.dirname(cache), { recursive: true });
  const tmp = `${cache}.${process.pid}.tmp`;
  await writeFile(tmp, bytes);
  await rename(tmp, cache);
  return cache;
}

/** sha256 of a file, for checks. */
export async function sha256File(file: string): Promise<string> {
  return createHash('sha256')
    .update(await readFile(file))
    .digest('hex');
}
