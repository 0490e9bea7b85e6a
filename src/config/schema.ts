/**
 * The one declaration of every setting: its CLI flag (bittensor's dotted names),
 * the env vars that feed it (first the Python Subnet 58 daemons' name, then the bittensor
 * SDK's `BT_*` name where it means the same; the first one set wins), its default and what it means.
 * CLI parsing, env/.env loading, `.env.example` and the README's table all come
 * from this list.
 */
import { COMMON_OPTIONS } from './options/common.js';
import { MINER_OPTIONS } from './options/miner.js';
import { VALIDATOR_OPTIONS } from './options/validator.js';
import type { OptionSpec } from './spec.js';

export type { OptionKind, OptionSpec, Role } from './spec.js';
export { DEFAULT_POLYGON_RPCS, DEFAULT_REGISTRY_URLS, DRAIN_V1, DRAIN_V2 } from './options/validator.js';

export const OPTIONS = { ...COMMON_OPTIONS, ...MINER_OPTIONS, ...VALIDATOR_OPTIONS } as const satisfies Record<string, OptionSpec>;

export type OptionName = keyof typeof OPTIONS;

type ValueOf<S extends OptionSpec> = S['kind'] extends 'int' | 'number'
  ? number
  : S['kind'] extends 'bool'
    ? boolean
    : S['kind'] extends 'list'
      ? string[]
      : S['kind'] extends 'enum'
        ? S['choices'] extends readonly (infer C)[]
          ? C
          : string
        : string;

type Nullable<S extends OptionSpec> = S['default'] extends null ? null : never;

export type Config = { -readonly [K in OptionName]: ValueOf<(typeof OPTIONS)[K]> | Nullable<(typeof OPTIONS)[K]> };
