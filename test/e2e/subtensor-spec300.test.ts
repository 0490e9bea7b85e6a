/**
 * The validator's timelocked commit on a real drand-era runtime: node-subtensor spec 300 in Chopsticks
 * (../shared/chain/subtensor-spec300-raw.json). Spec 300 has the Drand pallet and `commit_crv3_weights`
 * but no `CommitRevealWeightsVersion`, so the adapter commits through `commit_crv3_weights` with the
 * legacy payload, filed by the runtime under an epoch and revealed by the runtime itself.
 *
 * THE REVEAL CANNOT RUN HERE. Decrypting a commit needs drand's BLS signature of the round (a pulse in
 * `Drand.Pulses`) and the runtime's BLS12-381 host functions (`ext_host_calls_bls12_381_*`), which
 * Chopsticks does not provide: the chain runs with `allow-unresolved-imports`, no pulse is ever stored,
 * and the runtime drops the commit unrevealed in the block it would reveal it. What runs is everything
 * before: the commit lands, its bytes are stored, the round respects `Drand.LastStoredRound`, and that
 * drop happens in the block the adapter's schedule names. Decryption itself is tested against drand's
 * published signatures and the Python SDK's Rust code (subtensor-timelock, timelock-python tests).
 */
import path from 'node:path';
import type { ApiPromise } from '@polkadot/api';
import type { KeyringPair } from '@polkadot/keyring/types';
import { u8aToHex } from '@polkadot/util';
import { blake2AsHex } from '@polkadot/util-crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSubtensor, type SubtensorClient } from '../../src/chain/subtensor/index.js';
import { primitive, requireStorage, storageItem, toNumber } from '../../src/chain/subtensor/storage.js';
import { adminCalls, sudo } from '../../localnet/sudo.js';
import { encodeLegacyWeightsPayload, timelockEncrypt } from '../../src/chain/subtensor/timelock.js';
import { prepareLocalSubnet, type PreparedSubnet } from '../../localnet/chopsticks.js';
import { capturingLogger, devPair, withLocalChain, type CapturedLogger } from '../support/localChain.js';
import { REPO_ROOT } from '../support/programs.js';

const local = withLocalChain({ chainSpecPath: path.resolve(REPO_ROOT, '../shared/chain/subtensor-spec300-raw.json'), allowUnresolvedImports: true });

/** drand quicknet, written out here rather than imported: genesis time and period (s). */
const QUICKNET_GENESIS = 1692803367;
const QUICKNET_PERIOD = 3;

let alice: KeyringPair;
let validator: KeyringPair;
let miner: KeyringPair;
let sub: SubtensorClient;
let api: ApiPromise;
let subnet: PreparedSubnet;
let logs: CapturedLogger;

type Crv3Commit = [string, string, number]; // (who, commit, reveal_round)

const head = async () => (await api.rpc.chain.getHeader()).number.toNumber();
const lastStoredRound = async () => BigInt(String(primitive(await requireStorage(api, 'lastStoredRound', 'drand')())));
const setLastStoredRound = (round: bigint) => local.chain.setStorage({ Drand: { LastStoredRound: round.toString() } });
/** Every commit of the subnet, by the epoch the runtime filed it under. */
async function storedCommits(): Promise<Map<number, Crv3Commit[]>> {
  const entries = await requireStorage(api, 'crv3WeightCommits').entries(subnet.netuid);
  return new Map(entries.map(([key, value]) => [toNumber(key.args[1]!.toPrimitive(), 'epoch'), primitive(value) as Crv3Commit[]]));
}

/** Spec 300 gives validator permits by stake at each epoch; this subnet has no stake and never started emission. */
const grantPermits = () => local.chain.setStorage({ SubtensorModule: { ValidatorPermit: [[[subnet.netuid], [true, true, true]]] } });

beforeAll(async () => {
  if (local.skipReason) return;
  // Spec 300 is the BABE/PoS build: Chopsticks never enacts a BABE epoch, so from slot 15 on the session
  // would rotate in every block, and a rotation takes the whole block weight: every transaction would be
  // refused (`exhaustsResources`). An epoch index far ahead keeps the first epoch running.
  await local.chain.setStorage({ Babe: { EpochIndex: 1_000_000 } });
  [alice, validator, miner] = (await Promise.all(['//Alice', '//Bob', '//Charlie'].map(devPair))) as [KeyringPair, KeyringPair, KeyringPair];
  logs = capturingLogger();
  sub = await createSubtensor({ endpoint: local.chain.endpoint, logger: logs.logger, hotkey: validator, autoReveal: false });
  api = await sub.api();
  subnet = await prepareLocalSubnet(api, {
    sudoKey: alice,
    tempo: 10,
    weightsRateLimit: 0,
    register: [validator, miner].map((p) => ({ hotkey: p.address, coldkey: alice })),
  });
  await sudo(api, alice, adminCalls.commitRevealEnabled(api, subnet.netuid, true));
});

afterAll(async () => {
  await sub?.close();
});

describe('timelocked commits on the spec-300 runtime (Chopsticks)', () => {
  test('commit_crv3_weights lands (CRV3WeightsCommitted), stores the bytes sent, to a round after Drand.LastStoredRound, revealed in the block the schedule names', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    expect(sub.specVersion()).toBe(300);
    // Timelocked because commit_crv3_weights exists; this runtime counts no CommitRevealWeightsVersion.
    expect(storageItem(api, 'commitRevealWeightsVersion')).toBeNull();
    expect(api.tx.subtensorModule!.commitCrv3Weights).toBeDefined();
    expect(api.tx.subtensorModule!.commitTimelockedWeights).toBeUndefined();
    const hyper = await sub.getHyperparameters(subnet.netuid);
    expect(hyper).toMatchObject({ commitRevealEnabled: true, commitRevealVersion: null });

    // Commit right after an epoch runs, in epoch index 2 or later: the runtime reveals nothing before epoch 2,
    // and a reveal 11 blocks away leaves room for the 24-round margin.
    const tempo = toNumber(primitive(await requireStorage(api, 'tempo')(subnet.netuid)), 'Tempo');
    const span = tempo + 1;
    const shift = subnet.netuid + 1;
    let start = await head();
    while (Math.floor((start + 1 + shift) / span) < 2 || (start + shift) % span !== tempo) start = await local.chain.newBlock();
    await grantPermits();
    const nowRound = BigInt(Math.floor((Date.now() / 1000 - QUICKNET_GENESIS) / QUICKNET_PERIOD));
    await setLastStoredRound(nowRound - 5n); // the chain's latest pulse, a few rounds old
    const uids = [subnet.uids[miner.address]!, subnet.uids[validator.address]!];
    const weights = [60000, 20000];
    const before = { block: await head(), sec: Date.now() / 1000, commits: await storedCommits() };
    const result = await sub.setWeights({ netuid: subnet.netuid, uids, weights, versionKey: 0 });
    const afterSec = Date.now() / 1000;
    expect(result.kind).toBe('committed-timelocked');
    if (result.kind !== 'committed-timelocked') return;
    expect(result.events).toContain('subtensorModule.CRV3WeightsCommitted');
    expect(result.blockNumber).toBe(before.block + 1);
    expect(logs.lines.findLast((l) => l.msg?.startsWith('weights committed (timelocked)'))).toMatchObject({ call: 'commitCrv3Weights', mechanism: null });

    // The bytes in the included extrinsic are the bytes the runtime stored, under the round we chose.
    const block = await api.rpc.chain.getBlock(result.blockHash);
    const sent = block.block.extrinsics.find((x) => x.hash.toHex() === result.txHash)!;
    expect(`${sent.method.section}.${sent.method.method}`).toBe('subtensorModule.commitCrv3Weights');
    const [sentNetuid, sentCommit, sentRound] = sent.method.args;
    expect(sentNetuid!.toPrimitive()).toBe(subnet.netuid);
    expect(BigInt(sentRound!.toString())).toBe(result.revealRound);
    const after = await storedCommits();
    const filedUnder = [...after.keys()].filter((epoch) => (after.get(epoch)?.length ?? 0) > (before.commits.get(epoch)?.length ?? 0));
    expect(filedUnder).toHaveLength(1);
    const [who, storedCommit, storedRound] = after.get(filedUnder[0]!)!.at(-1)!;
    expect(who).toBe(validator.address);
    expect(storedCommit).toBe(u8aToHex(sentCommit!.toU8a(true)));
    expect(BigInt(storedRound)).toBe(result.revealRound);
    // What the validator's /status lists, read back from the chain (after a restart too): this commit, no block on this runtime.
    const listed = await sub.pendingTimelockedCommits(subnet.netuid, validator.address);
    expect(listed.filter((c) => c.revealRound === result.revealRound)).toEqual([
      { netuid: subnet.netuid, epoch: filedUnder[0], commitBlock: null, commitHash: blake2AsHex(storedCommit, 256), revealRound: result.revealRound },
    ]);
    expect(await sub.pendingTimelockedCommits(subnet.netuid, miner.address)).toEqual([]);
    // The event carries BlakeTwo256 of the commit.
    const events = await api.query.system!.events!.at(result.blockHash);
    const committed = (events as unknown as Array<{ event: { section: string; method: string; data: unknown[] } }>).find(
      (e) => e.event.section === 'subtensorModule' && e.event.method === 'CRV3WeightsCommitted',
    )!;
    expect(String(committed.event.data[2])).toBe(blake2AsHex(storedCommit, 256));
    // The legacy payload (no hotkey) this runtime decodes, encrypted: the length says which payload went in.
    expect((storedCommit.length - 2) / 2).toBe(timelockEncrypt(encodeLegacyWeightsPayload({ uids, values: weights, versionKey: 0n }), 1n).length);

    // The schedule, from the chain's own storage: epochs run where (block + netuid + 1) % (tempo + 1) == tempo;
    // a commit is filed under the epoch index of its block (+1 when an epoch runs in it) and revealed in the
    // block where epoch `filed + period − 1` runs.
    const period = Math.max(1, toNumber(primitive(await requireStorage(api, 'revealPeriodEpochs')(subnet.netuid)), 'RevealPeriodEpochs'));
    const inclusion = result.blockNumber;
    const expectedFiled = Math.floor((inclusion + shift) / span) + ((inclusion + shift) % span === tempo ? 1 : 0);
    expect(filedUnder[0]).toBe(expectedFiled);
    const revealBlock = (expectedFiled + period) * span - shift - 1;
    expect(result.revealTargetBlock).toBe(revealBlock);
    // The round: published 24 rounds (72 s) before the reveal block is due at 12 s a block, after the latest stored one.
    const roundAt = (sec: number) => BigInt(Math.floor((sec + (revealBlock - before.block) * 12 - QUICKNET_GENESIS) / QUICKNET_PERIOD)) - 24n;
    expect(result.revealRound).toBeGreaterThanOrEqual(roundAt(before.sec));
    expect(result.revealRound).toBeLessThanOrEqual(roundAt(afterSec));
    expect(result.revealRound).toBeGreaterThanOrEqual(await lastStoredRound());

    // The runtime takes the commit exactly in that block; with no pulse for the round it cannot decrypt it,
    // so the commit leaves storage unrevealed and no weights appear.
    await local.chain.newBlock(revealBlock - 1 - (await head()));
    expect((await storedCommits()).get(expectedFiled)?.some(([, commit]) => commit === storedCommit)).toBe(true);
    await local.chain.newBlock();
    expect((await storedCommits()).get(expectedFiled) ?? []).toEqual([]);
    expect((await sub.pendingTimelockedCommits(subnet.netuid, validator.address)).filter((c) => c.revealRound === result.revealRound)).toEqual([]);
    expect(primitive(await requireStorage(api, 'pulses', 'drand')(result.revealRound))).toBeNull();
    const revealEvents = (await api.query.system!.events!()) as unknown as Array<{ event: { method: string } }>;
    expect(revealEvents.map((e) => e.event.method)).not.toContain('CRV3WeightsRevealed');
    expect(await sub.getWeights(subnet.netuid, subnet.uids[validator.address]!)).toEqual([]);
  });

  test('a Drand.LastStoredRound beyond the round we would choose: refused before sending (InvalidRevealRound); spec 300 itself would take it', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const uids = [subnet.uids[miner.address]!];
    const farAhead = BigInt(Math.floor((Date.now() / 1000 - QUICKNET_GENESIS) / QUICKNET_PERIOD)) + 100_000n;
    await grantPermits();
    await setLastStoredRound(farAhead);
    const start = await head();
    await expect(sub.setWeights({ netuid: subnet.netuid, uids, weights: [1], versionKey: 0 })).rejects.toMatchObject({
      code: 'PRECHECK_FAILED',
      reason: 'InvalidRevealRound',
      details: { lastStoredRound: farAhead.toString() },
    });
    expect(await head()).toBe(start); // nothing was sent

    // The check is this client's: spec 300 has no InvalidRevealRound and stores a commit anyone could open now.
    const forced = await sub.setWeights({ netuid: subnet.netuid, uids, weights: [1], versionKey: 0, skipPrechecks: true });
    expect(forced.kind).toBe('committed-timelocked');
    if (forced.kind === 'committed-timelocked') expect(forced.revealRound).toBeLessThan(farAhead);
  });
});
