/**
 * Decoding and transaction encoding on the live network's format: the metadata of
 * finney spec 343 and real answers recorded from finney at block 6,852,690
 * (../shared/chain/finney-spec343-*). Chopsticks can only run spec 218 here, so
 * this is where the live runtime's types are exercised.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { Metadata, TypeRegistry } from '@polkadot/types';
import { expandMetadata } from '@polkadot/types/metadata';
import type { ExtDef } from '@polkadot/types/extrinsic/signedExtensions/types';
import type { RuntimeVersion } from '@polkadot/types/interfaces';
import { u8aToHex } from '@polkadot/util';
import { cryptoWaitReady, signatureVerify } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { planTransactionExtensions, SUBTENSOR_EXTENSIONS } from '../../src/chain/subtensor/extensions.js';
import { metagraphFromNeuronsLite, metagraphFromSelective, planMetagraph, selectiveArgs, SELECTIVE_FIELDS } from '../../src/chain/subtensor/metagraph.js';
import { decodeRuntimeApiResult, encodeRuntimeApiArgs, findRuntimeApi, type RuntimeApiMethod } from '../../src/chain/subtensor/runtimeApi.js';
import { primitive, toBigInt } from '../../src/chain/subtensor/storage.js';
import { REPO_ROOT } from '../support/programs.js';

const CHAIN_DIR = path.resolve(REPO_ROOT, '../shared/chain');
const metadataHex = readFileSync(path.join(CHAIN_DIR, 'finney-spec343-metadata-v15.hex'), 'utf8').trim() as `0x${string}`;
type Recorded = Record<string, Record<string, Record<string, { result: unknown }>>>;
const recorded = JSON.parse(readFileSync(path.join(CHAIN_DIR, 'finney-spec343-recorded.json'), 'utf8')) as Recorded;
/** Only the `metagraph` section was recorded under spec 343 (block 6,852,690). */
const liveCalls = Object.entries(recorded.metagraph!.state_call!).map(([params, answer]) => {
  const [method, args, at] = JSON.parse(params) as [string, string, string];
  return { method, args, at, result: answer.result as string };
});
const liveCall = (method: string) => liveCalls.find((c) => c.method === method)!;
const runtimeVersion = Object.values(recorded.metagraph!.state_getRuntimeVersion!)[0]!.result as { specVersion: number; transactionVersion: number };
const header = Object.values(recorded.metagraph!.chain_getHeader!)[0]!.result as { number: string };
const AT = { block: Number.parseInt(header.number, 16), blockHash: liveCall('SubnetInfoRuntimeApi_get_selective_mechagraph').at };

function liveRegistry(extensions: ExtDef | undefined = SUBTENSOR_EXTENSIONS, hex: `0x${string}` = metadataHex): { registry: TypeRegistry; metadata: Metadata } {
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, hex);
  registry.setMetadata(metadata, undefined, extensions, true);
  return { registry, metadata };
}

describe('finney spec 343: metagraph decoding from recorded answers', () => {
  const { registry, metadata } = liveRegistry();
  const method = (api: string, name: string): RuntimeApiMethod => {
    const m = findRuntimeApi(registry, metadata, api, name);
    if (!m) throw new Error(`${api}.${name} missing`);
    return m;
  };

  test('the plan picks the selective mechagraph, asking for its fields by their runtime index', () => {
    expect(runtimeVersion.specVersion).toBe(343);
    const plan = planMetagraph(registry, metadata);
    expect(plan.source).toBe('selective-mechagraph');
    // Index = field position in SelectiveMetagraph (the runtime's SelectiveMetagraphIndex order).
    expect(Object.fromEntries(SELECTIVE_FIELDS.map((f, i) => [f, plan.indexes![i]]))).toMatchObject({
      tempo: 8,
      min_allowed_weights: 24,
      weights_version: 26,
      weights_rate_limit: 27,
      serving_rate_limit: 45,
      commit_reveal_weights_enabled: 46,
      commit_reveal_period: 47,
      hotkeys: 52,
      coldkeys: 53,
      axons: 55,
      active: 56,
      validator_permit: 57,
      last_update: 59,
      total_stake: 69,
    });
    // Our argument encoding reproduces the SDK's recorded request byte for byte (all 74 indexes).
    const sdkRequest = liveCall('SubnetInfoRuntimeApi_get_selective_mechagraph').args;
    const all = Array.from({ length: 74 }, (_, i) => i);
    expect(encodeRuntimeApiArgs(registry, plan.neurons!, [1, 0, all])).toBe(`0x${sdkRequest}`);
    expect(encodeRuntimeApiArgs(registry, plan.neurons!, selectiveArgs(plan, 1)).startsWith('0x010000')).toBe(true);
  });

  test('get_selective_mechagraph of netuid 1 decodes into a 1,024-neuron snapshot with its hyperparameters', () => {
    const m = method('SubnetInfoRuntimeApi', 'get_selective_mechagraph');
    const snap = metagraphFromSelective(
      1,
      primitive(decodeRuntimeApiResult(registry, m, liveCall('SubnetInfoRuntimeApi_get_selective_mechagraph').result)),
      AT,
      4,
    );
    expect(snap.n).toBe(1024);
    expect(snap.block).toBe(6_852_690);
    expect(snap.hyperparameters).toEqual({
      tempo: 99,
      weightsRateLimit: 100,
      weightsVersionKey: 21706n,
      minAllowedWeights: 1,
      maxWeightsLimit: 65535,
      activityCutoff: 5000,
      servingRateLimit: 10,
      commitRevealEnabled: true,
      commitRevealPeriod: 1,
      commitRevealVersion: 4,
    });
    expect(snap.hotkeys[0]).toBe('5DkMmXtWf16RNdusZGCrJ7ca7ADPgRnZLVWCWbgA7s7sy1AQ');
    expect(snap.coldkeys[0]).toBe('5EhQWxcFdYAk7B9tNdQnJQFzww5N3964rbsMk55SujcX3PwM');
    // u128 3235789677 = 0xC0DE3B6D
    expect(snap.axons[0]).toEqual({ ip: '192.222.59.109', port: 6028, ipType: 4, version: 9011001, protocol: 4, block: 6575906 });
    expect(snap.lastUpdate[0]).toBe(2543521);
    expect(snap.stake[0]).toBe(2557172316n);
    expect(new Set(snap.hotkeys).size).toBe(1024);
    expect(snap.validatorPermit.filter(Boolean).length).toBeGreaterThan(0);
    expect(snap.validatorPermit.filter(Boolean).length).toBeLessThanOrEqual(256);
    expect(snap.axons.every((a) => a.ipType === 0 || a.ipType === 4 || a.ipType === 6)).toBe(true);
  });

  test('get_neurons_lite of netuid 1 (1,024 neurons) decodes to the same neurons as the selective mechagraph', () => {
    const lite = method('NeuronInfoRuntimeApi', 'get_neurons_lite');
    const call = liveCall('NeuronInfoRuntimeApi_get_neurons_lite');
    expect(encodeRuntimeApiArgs(registry, lite, [1])).toBe(`0x${call.args}`);
    const selective = method('SubnetInfoRuntimeApi', 'get_selective_mechagraph');
    const selectiveValue = primitive(decodeRuntimeApiResult(registry, selective, liveCall('SubnetInfoRuntimeApi_get_selective_mechagraph').result)) as Record<
      string,
      unknown[]
    >;
    const fromSelective = metagraphFromSelective(1, selectiveValue, AT, null);

    const fromLite = metagraphFromNeuronsLite(1, primitive(decodeRuntimeApiResult(registry, lite, call.result)), fromSelective.hyperparameters, AT);
    expect(fromLite.n).toBe(1024);
    for (const key of ['hotkeys', 'coldkeys', 'axons', 'active', 'validatorPermit', 'lastUpdate', 'uids'] as const) {
      expect(fromLite[key]).toEqual(fromSelective[key]);
    }
    // neurons_lite's stake entries are another measure than alpha_stake; they agree for most neurons (1,013 of 1,024 here).
    const alpha = selectiveValue.alphaStake!.map((s) => toBigInt(s, 'alpha_stake'));
    expect(fromLite.stake.filter((s, uid) => s === alpha[uid]).length).toBe(1013);
  });

  test('a Weights storage row (Vec<(u16, u16)>) from the recording decodes with the live storage type', () => {
    const { query } = expandMetadata(registry, metadata);
    const entry = query.subtensorModule!.weights!;
    const [key, value] = Object.entries(recorded.weights!.state_queryStorageAt!).map(
      ([, a]) => (a.result as Array<{ changes: string[][] }>)[0]!.changes[0]!,
    )[0]!;
    expect(key!.startsWith(u8aToHex(entry.keyPrefix()))).toBe(true);
    expect(registry.createType(registry.createLookupType(entry.meta.type.asMap.value), value).toJSON()).toEqual([[10, 65535]]);
  });
});

describe('finney spec 343: transaction extensions and signed transactions', () => {
  beforeAll(() => cryptoWaitReady());

  test('every extension of the live runtime is one this client encodes (or one that carries no bytes)', () => {
    const { registry, metadata } = liveRegistry();
    const plan = planTransactionExtensions(registry, metadata);
    expect(plan.problems).toEqual([]);
    expect(plan.extensions.map((e) => e.name)).toEqual([
      'CheckNonZeroSender',
      'CheckSpecVersion',
      'CheckTxVersion',
      'CheckGenesis',
      'CheckMortality',
      'CheckNonce',
      'CheckWeight',
      'ChargeTransactionPayment',
      'SubtensorTransactionExtension',
      'DrandPriority',
      'CheckMetadataHash',
    ]);
    expect(plan.extensions.find((e) => e.name === 'ChargeTransactionPayment')).toMatchObject({ encodedBy: 'polkadot-js', explicit: ['compact'], implicit: [] });
    expect(plan.extensions.find((e) => e.name === 'SubtensorTransactionExtension')).toMatchObject({ encodedBy: 'hs58', explicit: [], implicit: [] });
  });

  /** Signs set_weights with the given registry; returns the bare extrinsic bytes and the call bytes. */
  async function signSetWeights(registry: TypeRegistry, metadata: Metadata) {
    const pair = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
    const call = expandMetadata(registry, metadata).tx.subtensorModule!.setWeights!(1, [0, 5, 9], [65535, 30000, 1], 21706n);
    const ext = registry.createType('Extrinsic', call);
    const blockHash = AT.blockHash;
    const genesisHash = `0x${'2f'.repeat(32)}`;
    const era = registry.createType('ExtrinsicEra', { current: AT.block, period: 64 });
    ext.sign(pair, {
      blockHash,
      genesisHash,
      era,
      nonce: 5,
      tip: 0,
      runtimeVersion: registry.createType('RuntimeVersion', runtimeVersion) as unknown as RuntimeVersion,
      signedExtensions: registry.signedExtensions,
    });
    const payload = registry.createType(
      'ExtrinsicPayload',
      { method: call.toHex(), blockHash, genesisHash, era, nonce: 5, tip: 0, specVersion: 343, transactionVersion: runtimeVersion.transactionVersion },
      { version: 4 },
    );
    return { pair, bytes: ext.toU8a(true), callBytes: call.toU8a(), ext, payload };
  }

  test('set_weights signed for spec 343: era, nonce, tip and metadata-hash mode in metadata order, signature over the live payload', async () => {
    const { registry, metadata } = liveRegistry();
    const { pair, bytes, callBytes, ext, payload } = await signSetWeights(registry, metadata);
    // v4 signed: 0x84, MultiAddress::Id (0x00 + 32), MultiSignature::Sr25519 (0x01 + 64), then the extensions.
    expect(bytes[0]).toBe(0x84);
    expect(bytes[1]).toBe(0x00);
    expect(bytes[34]).toBe(0x01);
    const extra = bytes.slice(99, bytes.length - callBytes.length);
    expect(extra.length).toBe(5); // era (2 bytes, mortal) + nonce Compact(5) + tip Compact(0) + CheckMetadataHash mode
    expect(extra[2]).toBe(5 << 2);
    expect(extra[3]).toBe(0x00);
    expect(extra[4]).toBe(0x00);
    expect(u8aToHex(bytes.slice(bytes.length - callBytes.length))).toBe(u8aToHex(callBytes));

    const decoded = registry.createType('Extrinsic', ext.toHex());
    expect(decoded.signer.toString()).toBe(pair.address);
    expect(decoded.nonce.toNumber()).toBe(5);
    expect(`${decoded.method.section}.${decoded.method.method}`).toBe('subtensorModule.setWeights');
    expect(decoded.method.args.map((a) => a.toJSON())).toEqual([1, [0, 5, 9], [65535, 30000, 1], 21706]);
    expect(signatureVerify(payload.toU8a({ method: true }), decoded.signature.toU8a(), pair.address).isValid).toBe(true);
  });

  test('ChargeTransactionPaymentWrapper (spec 425) carries the tip: encoded with this client table, flagged without it', async () => {
    // The live metadata with the payment extension renamed as spec 425 names it (same Compact<Balance> shape).
    const json = new Metadata(new TypeRegistry(), metadataHex).toJSON() as {
      metadata: { v15: { extrinsic: { signedExtensions: Array<{ identifier: string }> } } };
    };
    const renamed = json.metadata.v15.extrinsic.signedExtensions.find((e) => e.identifier === 'ChargeTransactionPayment')!;
    renamed.identifier = 'ChargeTransactionPaymentWrapper';
    const wrapperHex = new Metadata(new TypeRegistry(), json as never).toHex();

    const ours = liveRegistry(SUBTENSOR_EXTENSIONS, wrapperHex);
    expect(ours.registry.signedExtensions).toContain('ChargeTransactionPaymentWrapper');
    expect(planTransactionExtensions(ours.registry, ours.metadata).problems).toEqual([]);
    const withTable = await signSetWeights(ours.registry, ours.metadata);
    expect(withTable.bytes.length - withTable.callBytes.length - 99).toBe(5); // tip byte present

    const bare = liveRegistry({}, wrapperHex);
    const problems = planTransactionExtensions(bare.registry, bare.metadata, {}).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^ChargeTransactionPaymentWrapper: unknown extension carrying data \[compact\]/);
    const withoutTable = await signSetWeights(bare.registry, bare.metadata);
    expect(withoutTable.bytes.length - withoutTable.callBytes.length - 99).toBe(4); // what @polkadot/api alone would send: no tip
  });

  test('an extension whose shape differs from this client table is reported, not silently mis-encoded', () => {
    const { registry, metadata } = liveRegistry();
    const table: ExtDef = { ...SUBTENSOR_EXTENSIONS, DrandPriority: { extrinsic: { round: 'u64' }, payload: {} } };
    const { problems } = planTransactionExtensions(registry, metadata, table);
    expect(problems).toEqual([expect.stringMatching(/^DrandPriority: the runtime encodes \[\] \/ \[\] but this client would send \[u64\]/)]);
  });
});
