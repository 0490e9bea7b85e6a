/** The shape of one setting's declaration (src/config/schema.ts). */
export type OptionKind = 'string' | 'int' | 'number' | 'bool' | 'list' | 'enum';
export type Role = 'common' | 'miner' | 'validator' | 'tools';

export interface OptionSpec {
  kind: OptionKind;
  /** Env vars read for this option, first set wins. */
  env?: readonly string[];
  /** No CLI flag: secrets are passed by env or .env only, never on a command line. */
  envOnly?: boolean;
  default: string | number | boolean | readonly string[] | null;
  description: string;
  choices?: readonly string[];
  min?: number;
  max?: number;
  secret?: boolean;
  /** With `choices`: a ws:// or wss:// URL is accepted too (the SDK's --subtensor.network). */
  orWebSocketUrl?: boolean;
  role: Role;
}

/** Declares one option with its literal types kept (the Config type is derived from them). */
export const opt = <const T extends OptionSpec>(o: T): T => o;
