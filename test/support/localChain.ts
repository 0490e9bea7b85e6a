/**
 * Chopsticks with the real subtensor runtime for e2e tests: one instance per test
 * file (`withLocalChain()` registers beforeAll/afterAll), plus dev keys and a
 * logger whose lines a test can read.
 */
// Chopsticks reads LOG_LEVEL once, when first imported (lazily, by startChopsticks).
process.env.LOG_LEVEL ??= 'warn';

import { existsSync } from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { startChopsticks, type LocalChain, type StartChopsticksOptions } from '../../localnet/chopsticks.js';
import { createLogger, type Logger } from '../../src/observability/logger.js';
import { missingProgram, REPO_ROOT } from './programs.js';

/** `--subtensor.chain_spec` / SUBTENSOR_CHAIN_SPEC, else ../shared/chain/subtensor-spec218-raw.json beside the repository. */
export function chainSpecPath(): string {
  const { config } = loadConfig({ env: process.env });
  return config['subtensor.chain_spec'] ?? path.resolve(REPO_ROOT, '../shared/chain/subtensor-spec218-raw.json');
}

export interface LocalChainFixture {
  /** Set in beforeAll; tests read it after. */
  chain: LocalChain;
  /** Non-null when the chain spec is missing outside CI: tests skip with this reason. */
  skipReason: string | null;
}

/** Starts Chopsticks on `chainSpecPath` (default: {@link chainSpecPath}, spec 218) for the test file. */
export function withLocalChain(options: Partial<StartChopsticksOptions> = {}): LocalChainFixture {
  const fixture = { skipReason: null } as LocalChainFixture;
  beforeAll(async () => {
    const spec = options.chainSpecPath ?? chainSpecPath();
    fixture.skipReason = missingProgram(() => (existsSync(spec) ? null : `the subtensor chain spec at ${spec} (set SUBTENSOR_CHAIN_SPEC)`));
    if (fixture.skipReason) return;
    fixture.chain = await startChopsticks({ chainSpecPath: spec, ...options });
  });
  afterAll(async () => {
    await fixture.chain?.close();
  });
  return fixture;
}

let keyring: Keyring | null = null;

/** sr25519 pair from a dev URI (`//Alice`) or a mnemonic. */
export async function devPair(uri: string): Promise<KeyringPair> {
  await cryptoWaitReady();
  keyring ??= new Keyring({ type: 'sr25519', ss58Format: 42 });
  return keyring.addFromUri(uri);
}

export interface CapturedLogger {
  logger: Logger;
  /** Parsed JSON log lines so far. */
  lines: Array<Record<string, unknown> & { msg?: string; level?: number }>;
  messages(): string[];
}

export function capturingLogger(level: 'debug' | 'info' = 'info'): CapturedLogger {
  const lines: CapturedLogger['lines'] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as CapturedLogger['lines'][number]);
      cb();
    },
  });
  return { logger: createLogger({ level, destination }), lines, messages: () => lines.map((l) => String(l.msg)) };
}
