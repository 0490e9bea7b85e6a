/**
 * The validator's weight transaction and its pending commit on /status, on the real subtensor
 * runtime (Chopsticks) with commit-reveal on: the validator loop runs on the chain's heads with
 * the real chain adapter (metagraph, block hash, commit, automatic reveal); its round commits the
 * weights, `/status` then shows the last weight transaction (committed, its block, extrinsic and
 * commit hash) and the commit waiting for its reveal with the blocks it reveals in; once the
 * adapter has revealed it, the commit leaves the list. The miners' probe answers come from the
 * in-memory queue of the round tests (test/support/roundPorts.ts): the chain side is what is
 * tested here; real miners are in test/e2e/localnet.test.ts.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KeyringPair } from '@polkadot/keyring/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { prepareLocalSubnet, type PreparedSubnet } from '../../localnet/chopsticks.js';
import { createSubtensor, type SubtensorClient } from '../../src/chain/subtensor/index.js';
import { createMemoryStateStore } from '../../src/store/jsonFile.js';
import { createValidator } from '../../src/validator/loop.js';
import type { ValidatorState } from '../../src/validator/state.js';
import { renderStatusHtml, statusToJson } from '../../src/validator/statusPage.js';
import { capturingLogger, devPair, withLocalChain, type CapturedLogger } from '../support/localChain.js';
import { deps, settings } from '../support/roundPorts.js';
import { waitUntil } from '../support/wait.js';

const local = withLocalChain();

let alice: KeyringPair;
let validator: KeyringPair;
let miners: KeyringPair[];
let sub: SubtensorClient;
let subnet: PreparedSubnet;
let logs: CapturedLogger;
let stateDir: string;

beforeAll(async () => {
  if (local.skipReason) return;
  const pairs = await Promise.all(['//Alice', '//Bob', '//Charlie', '//Dave'].map(devPair));
  [alice, validator] = [pairs[0]!, pairs[1]!];
  miners = pairs.slice(2);
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'hs58-validator-commits-'));
  logs = capturingLogger();
  sub = await createSubtensor({
    endpoint: local.chain.endpoint,
    logger: logs.logger,
    hotkey: validator,
    commitStorePath: path.join(stateDir, 'commit-reveal.json'),
  });
  subnet = await prepareLocalSubnet(await sub.api(), {
    sudoKey: alice,
    // A short epoch keeps the reveal a few blocks away.
    tempo: 4,
    weightsRateLimit: 0,
    servingRateLimit: 0,
    commitReveal: true,
    register: [validator, ...miners].map((p) => ({ hotkey: p.address, coldkey: alice })),
  });
  for (const [i, miner] of miners.entries()) await sub.serveAxon({ netuid: subnet.netuid, ip: `10.0.0.${5 + i}`, port: 8091, hotkey: miner });
}, 180_000);

afterAll(async () => {
  await sub?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('weights on /status with commit-reveal on (Chopsticks)', () => {
  test('the round commits: the last weight transaction and the pending commit with its reveal blocks; gone once revealed', {
    timeout: 300_000,
  }, async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const { d } = await deps({ chain: sub, logger: logs.logger });
    const v = await createValidator(
      { ...d, heads: (signal) => sub.heads(signal), pendingCommits: () => sub.pendingCommits(), stateStore: createMemoryStateStore<ValidatorState>() },
      // One round (every head is in the same bucket), probes only: the in-memory miners all answer.
      settings('oracle-v2.1', { netuid: subnet.netuid, hotkey: validator.address, epochLength: 1_000_000, probesPerRound: 1 }),
    );
    const stop = new AbortController();
    const running = v.run(stop.signal);
    try {
      await local.chain.newBlock(1);
      await waitUntil('the round and its commit on /status', () => v.status().pendingCommits.commits.length === 1, 120_000);
      const json = statusToJson(v.status());
      const tx = json.lastWeightTx!;
      expect(json.lastRound!.weightsOutcome).toBe('committed');
      expect(tx).toMatchObject({ kind: 'committed', outcome: 'committed', roundBlock: json.lastRound!.block });
      expect(tx.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      expect(tx.commitHash).toMatch(/^0x[0-9a-f]{64}$/);
      const [pending] = await sub.pendingCommits();
      const commit = json.pendingCommits.commits[0]!;
      expect(commit).toEqual({
        scheme: 'hash',
        netuid: subnet.netuid,
        commitHash: tx.commitHash,
        commitBlock: tx.blockNumber,
        revealFromBlock: pending!.revealFrom,
        revealUntilBlock: pending!.revealUntil,
        revealEpoch: pending!.revealEpoch ?? null,
        drandRound: null,
        revealTargetBlock: null,
        revealInBlocks: pending!.revealFrom! - json.lastHead!,
      });
      expect(commit.revealFromBlock).toBeGreaterThan(tx.blockNumber!);
      expect(commit.revealUntilBlock).toBeGreaterThanOrEqual(commit.revealFromBlock!);
      // Hashes and blocks only: the salt and the committed values stay in the adapter.
      expect(JSON.stringify(json)).not.toContain(JSON.stringify(pending!.salt).slice(1, -1));
      const html = renderStatusHtml(v.status());
      expect(html).toContain(`<b>weights committed (hash ${tx.commitHash})</b> in block <b title="${tx.blockHash}">${tx.blockNumber}</b>`);
      expect(html).toMatch(
        new RegExp(
          `<td>hash</td><td class="mono" title="${tx.commitHash}">[^<]+</td><td>${tx.blockNumber}</td><td>in blocks ${commit.revealFromBlock}–${commit.revealUntilBlock}, in \\d+ blocks</td>`,
        ),
      );

      // The reveal epoch: the adapter reveals by itself; the next head takes the commit off the list.
      const head = await sub.currentBlock();
      await local.chain.newBlock(Math.max(0, commit.revealFromBlock! - 1 - head));
      const revealed = () => logs.lines.some((l) => l.msg === 'weights revealed' && l.commitHash === tx.commitHash);
      await waitUntil('the reveal', revealed, 120_000);
      await local.chain.newBlock(1);
      await waitUntil('the commit off /status', () => v.status().pendingCommits.commits.length === 0, 60_000);
      expect(renderStatusHtml(v.status())).toContain('No weight commit waiting for its reveal.');
      expect(statusToJson(v.status()).lastWeightTx).toEqual(tx);
    } finally {
      stop.abort(new Error('test done'));
      await running;
    }
  });
});
