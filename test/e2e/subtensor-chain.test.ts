/**
 * The subtensor adapter against the real runtime (spec 218) in Chopsticks: one
 * chain for the whole file, prepared once (subnet with tempo 10, three hotkeys).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApiPromise } from '@polkadot/api';
import type { Metadata } from '@polkadot/types';
import type { KeyringPair } from '@polkadot/keyring/types';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSubtensor, isSubtensorError, maxUpscaleU16, type SubtensorClient, type WeightsEvent } from '../../src/chain/subtensor/index.js';
import { adminCalls, sudo } from '../../localnet/sudo.js';
import { primitive, requireStorage, toNumber } from '../../src/chain/subtensor/storage.js';
import { planMetagraph, runtimeCall } from '../../src/chain/subtensor/metagraph.js';
import { findRuntimeApi } from '../../src/chain/subtensor/runtimeApi.js';
import { prepareLocalSubnet, type PreparedSubnet } from '../../localnet/chopsticks.js';
import { capturingLogger, devPair, withLocalChain, type CapturedLogger } from '../support/localChain.js';
import { waitUntil } from '../support/wait.js';

const local = withLocalChain();

let alice: KeyringPair;
let validator: KeyringPair;
let miner1: KeyringPair;
let miner2: KeyringPair;
let stranger: KeyringPair;
let sub: SubtensorClient;
let api: ApiPromise;
let subnet: PreparedSubnet;
let logs: CapturedLogger;
let stateDir: string;
/** What `sub` told its `onWeights` listener. */
const weightEvents: WeightsEvent[] = [];

/** Expects `fn` to fail with a SubtensorError of this code and runtime error name. */
async function expectReason(fn: () => Promise<unknown>, code: string, reason: string): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (!isSubtensorError(err)) throw err;
    expect({ code: err.code, reason: err.reason }).toEqual({ code, reason });
    return;
  }
  throw new Error(`expected ${code} ${reason}, but the call succeeded`);
}

beforeAll(async () => {
  if (local.skipReason) return;
  [alice, validator, miner1, miner2, stranger] = (await Promise.all(['//Alice', '//Bob', '//Charlie', '//Dave', '//Ferdie'].map(devPair))) as [
    KeyringPair,
    KeyringPair,
    KeyringPair,
    KeyringPair,
    KeyringPair,
  ];
  stateDir = await mkdtemp(path.join(os.tmpdir(), 'hs58-subtensor-'));
  logs = capturingLogger();
  sub = await createSubtensor({
    endpoint: local.chain.endpoint,
    logger: logs.logger,
    hotkey: validator,
    commitStorePath: path.join(stateDir, 'weight-commits.json'),
    reconnectDelayMs: 200,
    reconnectMaxDelayMs: 1_000,
    onWeights: (e) => weightEvents.push(e),
  });
  api = await sub.api();
  subnet = await prepareLocalSubnet(api, {
    sudoKey: alice,
    fund: [stranger.address],
    tempo: 10,
    weightsRateLimit: 0,
    servingRateLimit: 0,
    register: [validator, miner1, miner2].map((p) => ({ hotkey: p.address, coldkey: alice })),
  });
});

afterAll(async () => {
  await sub?.close();
  if (stateDir) await rm(stateDir, { recursive: true, force: true });
});

describe('subtensor adapter on the spec-218 runtime (Chopsticks)', () => {
  test('connect: logs the spec version and the transaction extensions of the runtime; picks storage reads for spec 218', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    expect(sub.specVersion()).toBe(218);
    const connected = logs.lines.find((l) => l.msg === 'connected to subtensor');
    expect(connected).toMatchObject({ specVersion: 218, specName: 'node-subtensor' });
    expect(connected?.extensions).toEqual(expect.arrayContaining(['CheckMortality', 'CheckNonce', 'ChargeTransactionPayment', 'SubtensorSignedExtension']));
    expect(subnet.created).toBe(true);
    // Spec 218's neuron APIs answer opaque bytes, so the metagraph comes from storage; typed APIs go through state_call.
    const metadata = api.runtimeMetadata as Metadata;
    expect(planMetagraph(api.registry, metadata).source).toBe('storage');
    expect(findRuntimeApi(api.registry, metadata, 'NeuronInfoRuntimeApi', 'get_neurons_lite')?.opaque).toBe(true);
    const cost = findRuntimeApi(api.registry, metadata, 'SubnetRegistrationRuntimeApi', 'get_network_registration_cost')!;
    const head = (await api.rpc.chain.getHeader()).hash.toHex();
    const ours = await runtimeCall(api, cost, [], head);
    expect(ours.toString()).toBe((await api.call.subnetRegistrationRuntimeApi!.getNetworkRegistrationCost!()).toString());
    expect(BigInt(ours.toString())).toBeGreaterThanOrEqual(10n ** 9n);
  });

  test('three registered hotkeys and two served axons (IPv4, IPv6) are read back in the metagraph', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const served1 = await sub.serveAxon({ netuid: subnet.netuid, ip: '10.0.0.5', port: 8091, hotkey: miner1 });
    const served2 = await sub.serveAxon({ netuid: subnet.netuid, ip: '[2001:db8::7]', port: 8092, hotkey: miner2 });
    expect(served1.kind).toBe('served');
    expect(served2.kind).toBe('served');

    const mg = await sub.getMetagraph(subnet.netuid);
    expect(mg.source).toBe('storage');
    expect(mg.n).toBe(4); // the owner's hotkey holds uid 0
    for (const pair of [validator, miner1, miner2]) {
      const uid = subnet.uids[pair.address]!;
      expect(mg.hotkeys[uid]).toBe(pair.address);
      expect(mg.coldkeys[uid]).toBe(alice.address);
      expect(await sub.isRegistered(subnet.netuid, pair.address)).toBe(true);
    }
    expect(mg.axons[subnet.uids[miner1.address]!]).toMatchObject({
      ip: '10.0.0.5',
      port: 8091,
      ipType: 4,
      protocol: 4,
      block: served1.kind === 'served' ? served1.blockNumber : -1,
    });
    expect(mg.axons[subnet.uids[miner2.address]!]).toMatchObject({ ip: '2001:db8::7', port: 8092, ipType: 6 });
    expect(mg.axons[subnet.uids[validator.address]!]).toMatchObject({ ip: '0.0.0.0', port: 0, ipType: 0 });
    expect(mg.validatorPermit.every(Boolean)).toBe(true);
    expect(mg.hyperparameters).toMatchObject({ tempo: 10, weightsRateLimit: 0, commitRevealEnabled: false, servingRateLimit: 0 });
    expect(mg.uids).toEqual([0, 1, 2, 3]);
    expect(await sub.isRegistered(subnet.netuid, stranger.address)).toBe(false);
  });

  test('serveAxon: skips identical info, refuses loopback, respects the serving rate limit', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const before = await sub.currentBlock();
    const again = await sub.serveAxon({ netuid: subnet.netuid, ip: '10.0.0.5', port: 8091, hotkey: miner1 });
    expect(again.kind).toBe('unchanged');
    await expect(sub.serveAxon({ netuid: subnet.netuid, ip: '127.0.0.1', port: 8091, hotkey: miner1 })).rejects.toThrow(
      /loopback address 127\.0\.0\.1.*--axon\.external_ip/,
    );
    await expect(sub.serveAxon({ netuid: subnet.netuid, ip: '::1', port: 8091, hotkey: miner1 })).rejects.toThrow(/loopback/);
    expect(await sub.currentBlock()).toBe(before); // nothing was sent

    await sudo(api, alice, adminCalls.servingRateLimit(api, subnet.netuid, 50));
    await expectReason(
      () => sub.serveAxon({ netuid: subnet.netuid, ip: '10.0.0.6', port: 8091, hotkey: miner1 }),
      'PRECHECK_FAILED',
      'ServingRateLimitExceeded',
    );
    await expectReason(
      () => sub.serveAxon({ netuid: subnet.netuid, ip: '10.0.0.6', port: 8091, hotkey: miner1, skipPrechecks: true }),
      'TX_DISPATCH_FAILED',
      'ServingRateLimitExceeded',
    );
    await sudo(api, alice, adminCalls.servingRateLimit(api, subnet.netuid, 0));
  });

  test('weights set by the validator hotkey are stored with the ratios of the u16 vector sent', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const uids = [subnet.uids[miner1.address]!, subnet.uids[miner2.address]!, subnet.uids[validator.address]!];
    const weights = [65535, 21845, 1000];
    const told = weightEvents.length;
    const result = await sub.setWeights({ netuid: subnet.netuid, uids, weights, versionKey: 0 });
    expect(result.kind).toBe('set');
    if (result.kind === 'set') expect(result.events).toContain('subtensorModule.WeightsSet');
    // The listener (the validator's metrics) hears of it once, with the block that included it.
    expect(weightEvents.slice(told)).toEqual([{ kind: 'set', netuid: subnet.netuid, blockNumber: result.blockNumber }]);

    const row = new Map(await sub.getWeights(subnet.netuid, subnet.uids[validator.address]!));
    expect(uids.map((u) => row.get(u))).toEqual(maxUpscaleU16(weights));
    uids.forEach((u, i) => expect(row.get(u)! / row.get(uids[0]!)!).toBeCloseTo(weights[i]! / weights[0]!, 4));
    // Spec 218 has no mechanisms: the plain call, and no mechanism beyond the subnet itself.
    expect(logs.lines.findLast((l) => l.msg === 'weights set')).toMatchObject({ call: 'setWeights', mechanism: null });
    expect(new Map(await sub.getWeights(subnet.netuid, subnet.uids[validator.address]!, { mechanism: 0 }))).toEqual(row);
    await expect(sub.getWeights(subnet.netuid, subnet.uids[validator.address]!, { mechanism: 1 })).rejects.toMatchObject({ code: 'UNSUPPORTED_RUNTIME' });
    const mg = await sub.getMetagraph(subnet.netuid);
    expect(mg.lastUpdate[subnet.uids[validator.address]!]).toBe(result.blockNumber);
  });

  test('SettingWeightsTooFast, IncorrectWeightVersionKey, HotKeyNotRegisteredInSubNet: predicted locally, and returned by the chain by name; pool refusals too', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const netuid = subnet.netuid;
    const uids = [subnet.uids[miner1.address]!, subnet.uids[miner2.address]!];
    const weights = [100, 200];

    await sudo(api, alice, adminCalls.weightsSetRateLimit(api, netuid, 1000));
    await sub.setWeights({ netuid, uids, weights, versionKey: 0, skipPrechecks: true }).catch(() => undefined); // make sure last_update is recent
    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 0 }), 'PRECHECK_FAILED', 'SettingWeightsTooFast');
    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 0, skipPrechecks: true }), 'TX_DISPATCH_FAILED', 'SettingWeightsTooFast');

    await sudo(api, alice, [adminCalls.weightsSetRateLimit(api, netuid, 0), adminCalls.weightsVersionKey(api, netuid, 100)]);
    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 99 }), 'PRECHECK_FAILED', 'IncorrectWeightVersionKey');
    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 99, skipPrechecks: true }), 'TX_DISPATCH_FAILED', 'IncorrectWeightVersionKey');
    expect((await sub.setWeights({ netuid, uids, weights, versionKey: 100 })).kind).toBe('set');

    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 100, hotkey: stranger }), 'PRECHECK_FAILED', 'HotKeyNotRegisteredInSubNet');
    await expectReason(
      () => sub.setWeights({ netuid, uids, weights, versionKey: 100, hotkey: stranger, skipPrechecks: true }),
      'TX_DISPATCH_FAILED',
      'HotKeyNotRegisteredInSubNet',
    );

    // Spec 218 refuses weights below WeightsMinStake already in the pool (SubtensorSignedExtension, custom code 3).
    await sudo(api, alice, adminCalls.weightsMinStake(api, 10n ** 15n));
    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 100, skipPrechecks: true }), 'TX_INVALID', 'Custom error: 3');
    await sudo(api, alice, adminCalls.weightsMinStake(api, 0));
  });

  test('commit-reveal on: set_weights answers CommitRevealEnabled; the commit survives a restart of the adapter and is revealed in its epoch; at most 10 pending', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const netuid = subnet.netuid;
    const uids = [subnet.uids[miner1.address]!, subnet.uids[miner2.address]!, subnet.uids[validator.address]!];
    const weights = [30000, 60000, 15000];
    // A shorter epoch keeps the wait for the reveal epoch under 3 s of blocks.
    await sudo(api, alice, [adminCalls.commitRevealEnabled(api, netuid, true), adminCalls.tempo(api, netuid, 4)]);

    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 100, mode: 'direct' }), 'PRECHECK_FAILED', 'CommitRevealEnabled');
    await expectReason(
      () => sub.setWeights({ netuid, uids, weights, versionKey: 100, mode: 'direct', skipPrechecks: true }),
      'TX_DISPATCH_FAILED',
      'CommitRevealEnabled',
    );

    // Commit with an adapter that will not reveal, then close it: the salt must come from the store.
    // Its weights listener throws after recording: logged, and the commit goes on.
    const storePath = path.join(stateDir, 'restart-commits.json');
    const told: WeightsEvent[] = [];
    const first = await createSubtensor({
      endpoint: local.chain.endpoint,
      logger: logs.logger,
      hotkey: validator,
      commitStorePath: storePath,
      autoReveal: false,
      onWeights: (e) => {
        told.push(e);
        throw new Error('listener broke');
      },
    });
    const committed = await first.setWeights({ netuid, uids, weights, versionKey: 100 });
    await first.close();
    expect(committed.kind).toBe('committed');
    if (committed.kind !== 'committed') return;
    expect(told).toEqual([{ kind: 'committed', netuid, blockNumber: committed.blockNumber }]);
    expect(logs.lines.findLast((l) => l.msg === 'the weights listener failed')).toMatchObject({ err: 'listener broke' });
    const { commit } = committed;
    expect(commit.revealFrom).toBeGreaterThan(committed.blockNumber);
    const stored = JSON.parse(await readFile(storePath, 'utf8')) as { commits: Array<{ commitHash: string; salt: number[] }> };
    expect(stored.commits).toEqual([expect.objectContaining({ commitHash: commit.commitHash, salt: commit.salt })]);
    const onChain = primitive(await requireStorage(api, 'weightCommits')(netuid, validator.address)) as unknown[][];
    expect(onChain.map((c) => c[0])).toEqual([commit.commitHash]);

    // A new adapter over the same store reveals by itself once the reveal epoch starts, and tells its listener.
    const second = await createSubtensor({
      endpoint: local.chain.endpoint,
      logger: logs.logger,
      hotkey: validator,
      commitStorePath: storePath,
      onWeights: (e) => told.push(e),
    });
    try {
      expect(await second.pendingCommits()).toHaveLength(1);
      const head = await second.currentBlock();
      await local.chain.newBlock(Math.max(0, commit.revealFrom! - 1 - head));
      // The commit leaves the store when the reveal is included; the log line follows the read that confirms it.
      const revealedLine = () => logs.lines.find((l) => l.msg === 'weights revealed' && l.commitHash === commit.commitHash);
      await waitUntil('the reveal', async () => (await second.pendingCommits()).length === 0 && revealedLine() !== undefined);
      const row = new Map(await second.getWeights(netuid, subnet.uids[validator.address]!));
      expect(uids.map((u) => row.get(u))).toEqual(maxUpscaleU16(weights));
      expect(revealedLine()!.confirmed).toBe(true);
      // Told once, although every new head asks for the reveals (they join the one running).
      expect(told.slice(1)).toEqual([{ kind: 'revealed', netuid, blockNumber: revealedLine()!.block }]);
      expect(told[1]!.blockNumber).toBeGreaterThanOrEqual(commit.revealFrom!);
      expect(primitive(await requireStorage(api, 'weightCommits')(netuid, validator.address))).toBeNull();
    } finally {
      await second.close();
    }

    // At most 10 unrevealed commits: give miner1 ten (far from their reveal window) and try an eleventh.
    const head = await sub.currentBlock();
    const fakeHash = (i: number) => `0x${i.toString(16).padStart(64, '0')}`;
    await local.chain.setStorage({
      SubtensorModule: { WeightCommits: [[[netuid, miner1.address], Array.from({ length: 10 }, (_, i) => [fakeHash(i + 1), head, head + 50, head + 54])]] },
    });
    await expectReason(() => sub.setWeights({ netuid, uids, weights, versionKey: 100, hotkey: miner1 }), 'PRECHECK_FAILED', 'TooManyUnrevealedCommits');
    await expectReason(
      () => sub.setWeights({ netuid, uids, weights, versionKey: 100, hotkey: miner1, skipPrechecks: true }),
      'TX_DISPATCH_FAILED',
      'TooManyUnrevealedCommits',
    );
    expect((await sub.pendingCommits()).filter((c) => c.hotkey === miner1.address)).toEqual([]); // refused commits leave no salt behind

    await sudo(api, alice, [adminCalls.commitRevealEnabled(api, netuid, false), adminCalls.tempo(api, netuid, 10)]);
  });

  test('block clock: heads as an async iterator that ends on abort; the runtime steps the subnet in the block epochInfo predicts', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const abort = new AbortController();
    const seen: number[] = [];
    const start = await sub.currentBlock();
    const reading = (async () => {
      for await (const head of sub.heads(abort.signal)) {
        seen.push(head.number);
        expect(await sub.blockHash(head.number)).toBe(head.hash);
        if (head.number === start + 2) abort.abort();
      }
    })();
    await waitUntil('the current head', () => seen.length === 1); // a subscription starts with the current head
    await local.chain.newBlock();
    await waitUntil('a new head', () => seen.length === 2);
    await local.chain.newBlock();
    await reading; // the loop ends by itself once aborted
    expect(seen).toEqual([start, start + 1, start + 2]);

    // A local network ticks by itself when asked to.
    const stopTicking = local.chain.produceBlocks(200);
    await waitUntil('two ticked blocks', async () => (await sub.currentBlock()) >= start + 4);
    stopTicking();
    await new Promise((r) => setTimeout(r, 800)); // a block being built when stopped may still land
    const stopped = await sub.currentBlock();
    await new Promise((r) => setTimeout(r, 800));
    expect(await sub.currentBlock()).toBe(stopped);

    const info = await sub.epochInfo(subnet.netuid);
    expect(info.tempo).toBe(10);
    expect(info.nextEpochBlock).toBe(info.block + info.blocksUntilNextEpoch!);
    await local.chain.newBlock(info.nextEpochBlock! - info.block);
    const lastStep = toNumber(primitive(await requireStorage(api, 'lastMechansimStepBlock')(subnet.netuid)), 'LastMechansimStepBlock');
    expect(lastStep).toBe(info.nextEpochBlock);
    // The epoch runs in the last block of an epoch index; the next block starts the next index.
    const atStep = await sub.epochInfo(subnet.netuid);
    expect(atStep).toMatchObject({ block: info.nextEpochBlock, blocksUntilNextEpoch: 0, index: info.index });
    await local.chain.newBlock();
    const after = await sub.epochInfo(subnet.netuid);
    expect(after).toMatchObject({ index: info.index + 1, blocksUntilNextEpoch: 10, nextEpochBlock: info.nextEpochBlock! + 11 });
  });

  test('after the node restarts, the adapter reconnects by itself (logged once) and the next calls work', async (ctx) => {
    if (local.skipReason) return ctx.skip(local.skipReason);
    const heads: number[] = [];
    const stop = sub.onNewHead((h) => heads.push(h.number));
    await local.chain.newBlock();
    await waitUntil('a head', () => heads.length > 0);

    await local.chain.restart({ downMs: 1_500 });
    await waitUntil('reconnection', () => sub.state === 'connected' && logs.messages().includes('subtensor reconnected'), 20_000);

    const block = await sub.currentBlock();
    expect(block).toBeGreaterThan(0);
    const mg = await sub.getMetagraph(subnet.netuid);
    expect(mg.n).toBe(4);
    const seen = heads.length;
    await local.chain.newBlock();
    await waitUntil('a head after the restart', () => heads.length > seen);
    expect(heads.at(-1)).toBe(block + 1);
    const result = await sub.setWeights({ netuid: subnet.netuid, uids: [subnet.uids[miner1.address]!], weights: [1], versionKey: 100 });
    expect(result.kind).toBe('set');
    stop();

    expect(logs.messages().filter((m) => m === 'subtensor disconnected; reconnecting')).toHaveLength(1);
    expect(logs.messages().filter((m) => m === 'subtensor reconnected')).toHaveLength(1);
  });
});
