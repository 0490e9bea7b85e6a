/**
 * Today's extrinsics against the live runtime's format: finney spec 424 (metadata v16,
 * ../shared/chain/finney-spec424-metadata-v16.scale). No compiled runtime this new is available
 * offline, so every extrinsic the daemons send is built by the adapter's own call builders, signed
 * through @polkadot/types with this client's extension table (what `signAndWatch` does through
 * @polkadot/api), then read back the way the runtime reads it: from the metadata's own types
 * (test/support/extrinsicDecode.ts), extension by extension, and the signature checked over the
 * payload built with the implicit data the runtime supplies (spec/tx version, genesis, block hash
 * of the era, metadata hash None).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { Metadata, TypeRegistry } from '@polkadot/types';
import { expandMetadata } from '@polkadot/types/metadata';
import type { RuntimeVersion } from '@polkadot/types/interfaces';
import type { Codec } from '@polkadot/types/types';
import { compactStripLength, u8aConcat, u8aToHex } from '@polkadot/util';
import { blake2AsHex, cryptoWaitReady, signatureVerify, xxhashAsU8a } from '@polkadot/util-crypto';
import { beforeAll, describe, expect, test } from 'vitest';
import { commitHash, generateSalt } from '../../src/chain/subtensor/commitReveal.js';
import { assertEncodable, planTransactionExtensions, SUBTENSOR_EXTENSIONS } from '../../src/chain/subtensor/extensions.js';
import { encodeServableIp } from '../../src/chain/subtensor/ip.js';
import { chooseWeightsRoute, mechanismStorageIndex, requireWeightsRoute, weightsCall, type CallSection } from '../../src/chain/subtensor/mechanism.js';
import { burnedRegisterCall } from '../../localnet/register.js';
import { AXON_PROTOCOL_HTTP, DEFAULT_AXON_VERSION, serveAxonCall } from '../../src/chain/subtensor/serve.js';
import { encodeWeightsPayload, timelockEncrypt } from '../../src/chain/subtensor/timelock.js';
import { planTimelockedCommit, timelockedCommitExtrinsic } from '../../src/chain/subtensor/timelockCommit.js';
import { pendingFromEntries } from '../../src/chain/subtensor/timelockPending.js';
import { setWeightsCall, validateWeightsInput } from '../../src/chain/subtensor/weights.js';
import { decodeSignedExtrinsic, signingPayload, type DecodedExtrinsic } from '../support/extrinsicDecode.js';
import { REPO_ROOT } from '../support/programs.js';

const METADATA_FILE = path.resolve(REPO_ROOT, '../shared/chain/finney-spec424-metadata-v16.scale');
const FINNEY_GENESIS = '0x2f0555cc76fc2840a25a6ea3b9637146806f1f44b090c175ffde2a7e5ab36c03';
/** The head a transaction is signed at: the era's birth block and the hash CheckMortality signs. */
const HEAD = { number: 7_301_234, hash: `0x${'5c'.repeat(32)}` };
const ERA_PERIOD = 64;
const NETUID = 58;
const EXTENSIONS_424 = [
  'CheckNonZeroSender',
  'CheckSpecVersion',
  'CheckTxVersion',
  'CheckGenesis',
  'CheckMortality',
  'CheckNonce',
  'CheckWeight',
  'ChargeTransactionPayment',
  'SudoTransactionExtension',
  'CheckShieldedTxValidity',
  'SubtensorTransactionExtension',
  'DrandPriority',
  'CheckMetadataHash',
];
const NO_BYTES = [
  'CheckNonZeroSender',
  'CheckSpecVersion',
  'CheckTxVersion',
  'CheckGenesis',
  'CheckWeight',
  'SudoTransactionExtension',
  'CheckShieldedTxValidity',
  'SubtensorTransactionExtension',
  'DrandPriority',
];

type MetadataJson = { metadata: { v16: { extrinsic: { transactionExtensions: Array<{ identifier: string; type: number; implicit: number }> } } } };

/** The 424 registry with this client's extension table, as `ApiPromise.create({signedExtensions})` sets it up. */
function spec424(edit?: (json: MetadataJson, u64: number) => void) {
  let hex = u8aToHex(readFileSync(METADATA_FILE));
  if (edit) {
    const original = new Metadata(new TypeRegistry(), hex);
    const u64 = original.asV16.lookup.types.find((t) => t.type.def.isPrimitive && t.type.def.asPrimitive.isU64)!.id.toNumber();
    const json = original.toJSON() as unknown as MetadataJson;
    edit(json, u64);
    hex = new Metadata(new TypeRegistry(), json as never).toHex();
  }
  const registry = new TypeRegistry();
  const metadata = new Metadata(registry, hex);
  registry.setMetadata(metadata, undefined, SUBTENSOR_EXTENSIONS, true);
  const decorated = expandMetadata(registry, metadata);
  const version = decorated.consts.system!.version!.toJSON() as { specVersion: number; transactionVersion: number };
  return { registry, metadata, version, tx: decorated.tx.subtensorModule as unknown as CallSection<Codec>, query: decorated.query.subtensorModule! };
}

const live = spec424();
let hotkey: KeyringPair;
let coldkey: KeyringPair;

beforeAll(async () => {
  await cryptoWaitReady();
  const keyring = new Keyring({ type: 'sr25519', ss58Format: 42 });
  hotkey = keyring.addFromUri('//hs58-test-hotkey');
  coldkey = keyring.addFromUri('//hs58-test-coldkey');
});

/**
 * Signs `call` with the options @polkadot/api's `signAndSend(pair, {nonce})` builds (makeEraOptions +
 * makeSignOptions): mortal era of 64 blocks from the head, the head's hash, genesis, runtime version,
 * the registry's extension list; no tip, no metadata hash (mode Disabled).
 */
function sign(call: Codec, signer: KeyringPair, nonce: number): Uint8Array {
  const { registry } = live;
  const ext = registry.createType('Extrinsic', call);
  ext.sign(signer, {
    blockHash: HEAD.hash,
    genesisHash: FINNEY_GENESIS,
    era: registry.createType('ExtrinsicEra', { current: HEAD.number, period: ERA_PERIOD }),
    nonce,
    runtimeVersion: registry.createType('RuntimeVersion', live.version) as unknown as RuntimeVersion,
    signedExtensions: registry.signedExtensions,
  });
  return ext.toU8a();
}

/** What the runtime supplies itself for each extension's implicit part. */
const implicitData = (over: Record<string, unknown> = {}) => ({
  CheckSpecVersion: 424,
  CheckTxVersion: live.version.transactionVersion,
  CheckGenesis: FINNEY_GENESIS,
  CheckMortality: HEAD.hash,
  CheckMetadataHash: null,
  ...over,
});

/** Decodes with the runtime's types and checks everything but the call's arguments. */
function readBack(
  bytes: Uint8Array,
  signer: KeyringPair,
  nonce: number,
  callIndex: [number, number],
): { decoded: DecodedExtrinsic; section: string; method: string; args: unknown[] } {
  const { registry, metadata } = live;
  const decoded = decodeSignedExtrinsic(registry, metadata, bytes);
  expect(decoded.versionByte).toBe(0x84);
  expect(decoded.signer).toBe(signer.address);
  expect(decoded.signatureKind).toBe('Sr25519');
  expect(decoded.extensions.map((e) => e.name)).toEqual(EXTENSIONS_424);
  const ext = Object.fromEntries(decoded.extensions.map((e) => [e.name, e]));
  for (const name of NO_BYTES) expect(ext[name]!.bytes.length, name).toBe(0);
  const era = registry.createType('ExtrinsicEra', ext.CheckMortality!.bytes);
  expect(era.isMortalEra).toBe(true);
  expect(era.asMortalEra.period.toNumber()).toBe(ERA_PERIOD);
  expect(era.asMortalEra.phase.toNumber()).toBe(HEAD.number % ERA_PERIOD);
  expect(era.asMortalEra.birth(HEAD.number)).toBe(HEAD.number);
  expect(ext.CheckNonce!.value.toJSON()).toBe(nonce);
  expect(ext.ChargeTransactionPayment!.value.toJSON()).toBe(0); // tip
  expect(ext.CheckMetadataHash!.value.toJSON()).toEqual({ mode: 'Disabled' });
  expect([...decoded.callBytes.subarray(0, 2)]).toEqual(callIndex);

  // The signature verifies over the payload with the runtime's implicit data, and over nothing else.
  const verifies = (over?: Record<string, unknown>) =>
    signatureVerify(signingPayload(registry, metadata, decoded, implicitData(over)), decoded.signature, signer.address).isValid;
  expect(verifies()).toBe(true);
  expect(verifies({ CheckSpecVersion: 425 })).toBe(false);
  expect(verifies({ CheckTxVersion: live.version.transactionVersion + 1 })).toBe(false);
  expect(verifies({ CheckGenesis: `0x${'00'.repeat(32)}` })).toBe(false);
  expect(verifies({ CheckMortality: FINNEY_GENESIS })).toBe(false); // a mortal era signs the block hash, not genesis
  expect(verifies({ CheckMetadataHash: `0x${'11'.repeat(32)}` })).toBe(false);

  const call = registry.createType('Call', decoded.callBytes);
  return { decoded, section: call.section, method: call.method, args: call.args.map((a) => a.toJSON()) };
}

describe('finney spec 424: the transaction extensions', () => {
  test('thirteen extensions in the runtime order, each one encoded by @polkadot/api or by this client table', () => {
    expect(live.version).toMatchObject({ specVersion: 424 });
    const plan = planTransactionExtensions(live.registry, live.metadata);
    expect(plan.problems).toEqual([]);
    expect(plan.extensions.map((e) => e.name)).toEqual(EXTENSIONS_424);
    expect(live.registry.signedExtensions).toEqual(EXTENSIONS_424);
    const by = Object.fromEntries(plan.extensions.map((e) => [e.name, e]));
    for (const name of ['SudoTransactionExtension', 'CheckShieldedTxValidity', 'SubtensorTransactionExtension', 'DrandPriority']) {
      expect(by[name], name).toMatchObject({ encodedBy: 'hs58', explicit: [], implicit: [] });
    }
    expect(by.CheckMortality).toMatchObject({ encodedBy: 'polkadot-js', implicit: ['[u8;32]'] });
    expect(by.CheckNonce).toMatchObject({ encodedBy: 'polkadot-js', explicit: ['compact'] });
    expect(by.ChargeTransactionPayment).toMatchObject({ encodedBy: 'polkadot-js', explicit: ['compact'], implicit: [] });
    expect(by.CheckMetadataHash).toMatchObject({ encodedBy: 'polkadot-js', implicit: ['Option<[u8;32]>'] });
    expect(() => assertEncodable(plan, 424)).not.toThrow();
  });

  test('an extension whose shape this client cannot encode makes every transaction refuse with TX_ENCODING_UNSUPPORTED', () => {
    const expectRefused = (edit: (json: MetadataJson, u64: number) => void, problem: RegExp) => {
      const changed = spec424(edit);
      const plan = planTransactionExtensions(changed.registry, changed.metadata);
      expect(plan.problems).toEqual([expect.stringMatching(problem)]);
      let thrown: unknown;
      try {
        assertEncodable(plan, 424);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({ code: 'TX_ENCODING_UNSUPPORTED', details: { problems: plan.problems } });
    };
    const extension = (json: MetadataJson, name: string) => json.metadata.v16.extrinsic.transactionExtensions.find((e) => e.identifier === name)!;
    // One of subtensor's own extensions starts carrying data.
    expectRefused(
      (json, u64) => (extension(json, 'CheckShieldedTxValidity').type = u64),
      /^CheckShieldedTxValidity: the runtime encodes \[u64\] \/ \[\] but this client would send \[\] \/ \[\]/,
    );
    // A standard name with another shape: @polkadot/api would write a compact nonce where the runtime reads a u64.
    expectRefused(
      (json, u64) => (extension(json, 'CheckNonce').type = u64),
      /^CheckNonce: the runtime encodes \[u64\] \/ \[\] but @polkadot\/api would send its standard \[compact\]/,
    );
    expectRefused((json, u64) => (extension(json, 'CheckGenesis').implicit = u64), /^CheckGenesis: the runtime encodes \[\] \/ \[u64\]/);
    // An extension nobody knows, with data.
    expectRefused(
      (json, u64) => ((extension(json, 'DrandPriority').identifier = 'MevShieldPriority'), (extension(json, 'MevShieldPriority').type = u64)),
      /^MevShieldPriority: unknown extension carrying data \[u64\]/,
    );
  });
});

describe('finney spec 424: every extrinsic the daemons send, signed and read back', () => {
  const input = validateWeightsInput([0, 5, 9, 300], [65535, 30000, 1, 0], 21706n);

  test('set_weights on a single-mechanism subnet; set_mechanism_weights for mechanism 0 where the subnet has two', () => {
    const plain = setWeightsCall(live.tx, NETUID, input, 1);
    expect(plain.route).toEqual({ call: 'setWeights', mechanism: null });
    const a = readBack(sign(plain.call, hotkey, 5), hotkey, 5, [7, 0]);
    expect([a.section, a.method]).toEqual(['subtensorModule', 'setWeights']);
    expect(a.args).toEqual([NETUID, input.uids, input.weights, 21706]);

    const mech = setWeightsCall(live.tx, NETUID, input, 2);
    expect(mech.route).toEqual({ call: 'setMechanismWeights', mechanism: 0 });
    const b = readBack(sign(mech.call, hotkey, 6), hotkey, 6, [7, 119]);
    expect(b.method).toBe('setMechanismWeights');
    expect(b.args).toEqual([NETUID, 0, input.uids, input.weights, 21706]);
  });

  test('hash commit and reveal (commit-reveal v2), plain and for mechanism 0', () => {
    const salt = generateSalt();
    const hash = commitHash({ hotkey: hotkey.publicKey, netuid: NETUID, uids: input.uids, values: input.weights, salt, versionKey: input.versionKey });
    const cases = [
      { count: 1, commit: ['commitWeights', [7, 96]], reveal: ['revealWeights', [7, 97]], mech: [] },
      { count: 2, commit: ['commitMechanismWeights', [7, 115]], reveal: ['revealMechanismWeights', [7, 116]], mech: [0] },
    ] as const;
    let nonce = 10;
    for (const c of cases) {
      const commitRoute = requireWeightsRoute(live.tx, 'commit', c.count);
      const committed = readBack(sign(weightsCall(live.tx, commitRoute, NETUID, [hash]), hotkey, nonce), hotkey, nonce++, [...c.commit[1]]);
      expect(committed.method).toBe(c.commit[0]);
      expect(committed.args).toEqual([NETUID, ...c.mech, hash]);

      const revealRoute = requireWeightsRoute(live.tx, 'reveal', c.count);
      const call = weightsCall(live.tx, revealRoute, NETUID, [input.uids, input.weights, salt, input.versionKey]);
      const revealed = readBack(sign(call, hotkey, nonce), hotkey, nonce++, [...c.reveal[1]]);
      expect(revealed.method).toBe(c.reveal[0]);
      expect(revealed.args).toEqual([NETUID, ...c.mech, input.uids, input.weights, salt, 21706]);
    }
  });

  test('timelocked commits (commit-reveal v4): commit_timelocked_weights, and its mechanism variant for mechanism 0', () => {
    const round = 25_123_456n;
    const commit = timelockEncrypt(
      encodeWeightsPayload({ hotkey: hotkey.publicKey, uids: input.uids, values: input.weights, versionKey: input.versionKey }),
      round,
    );
    const cases = [
      { count: 1, method: 'commitTimelockedWeights', index: [7, 113], mech: [] },
      { count: 2, method: 'commitTimelockedMechanismWeights', index: [7, 118], mech: [0] },
    ] as const;
    let nonce = 20;
    for (const c of cases) {
      const plan = planTimelockedCommit(live.tx, { commitRevealEnabled: true, commitRevealVersion: 4 }, c.count)!;
      expect(plan).toMatchObject({ version: 4, payload: 'hotkey', route: { call: c.method } });
      const back = readBack(sign(timelockedCommitExtrinsic(live.tx, plan, NETUID, commit, round), hotkey, nonce), hotkey, nonce++, [...c.index]);
      expect(back.decoded.callBytes.length).toBeGreaterThan(256); // the signed payload is hashed: that path too
      expect(back.method).toBe(c.method);
      expect(back.args).toEqual([NETUID, ...c.mech, u8aToHex(commit), Number(round), 4]);
    }
  });

  test("serve_axon with the miner's address, and burned_register signed by the coldkey", () => {
    const { ip, ipType } = encodeServableIp('10.0.0.5');
    const serve = serveAxonCall(live.tx, NETUID, { version: DEFAULT_AXON_VERSION, ip, port: 8091, ipType, protocol: AXON_PROTOCOL_HTTP });
    const served = readBack(sign(serve, hotkey, 30), hotkey, 30, [7, 4]);
    expect(served.method).toBe('serveAxon');
    expect(served.args).toEqual([NETUID, DEFAULT_AXON_VERSION, Number(ip), 8091, 4, AXON_PROTOCOL_HTTP, 0, 0]);

    const registered = readBack(sign(burnedRegisterCall(live.tx, NETUID, hotkey.address), coldkey, 0), coldkey, 0, [7, 7]);
    expect(registered.method).toBe('burnedRegister');
    expect(registered.args).toEqual([NETUID, hotkey.address]);
  });
});

describe('finney spec 424: mechanisms', () => {
  const key = (pallet: string, item: string, ...parts: Uint8Array[]) => u8aToHex(u8aConcat(xxhashAsU8a(pallet, 128), xxhashAsU8a(item, 128), ...parts));
  const le = (v: number | bigint, bytes: number) => {
    const out = new Uint8Array(bytes);
    let x = BigInt(v);
    for (let i = 0; i < bytes; i++, x >>= 8n) out[i] = Number(x & 0xffn);
    return out;
  };
  const storageKey = (entry: (...args: unknown[]) => Uint8Array, ...args: unknown[]) => u8aToHex(compactStripLength(entry(...args))[1]);

  test('mechanism rows are keyed by NetUidStorageIndex = mechanism · 4096 + netuid; mechanism 0 keeps the netuid', () => {
    expect(mechanismStorageIndex(NETUID, 0)).toBe(NETUID);
    expect(mechanismStorageIndex(NETUID, 1)).toBe(4154);
    expect(mechanismStorageIndex(4095, 15)).toBe(65535); // the whole u16 is used, and no more
    expect(() => mechanismStorageIndex(NETUID, 16)).toThrow(/mechanism 16/);
    expect(() => mechanismStorageIndex(4096, 0)).toThrow(/netuid 4096/);

    // The keys the adapter reads (getWeights: Weights(index, uid)) as the 424 runtime lays them out.
    const q = live.query as unknown as Record<string, (...args: unknown[]) => Uint8Array>;
    const index = mechanismStorageIndex(NETUID, 1);
    expect(storageKey(q.weights!, index, 7)).toBe(key('SubtensorModule', 'Weights', le(4154, 2), le(7, 2))); // Identity, Identity
    expect(storageKey(q.weights!, mechanismStorageIndex(NETUID, 0), 7)).toBe(key('SubtensorModule', 'Weights', le(NETUID, 2), le(7, 2)));
    expect(storageKey(q.lastUpdate!, index)).toBe(key('SubtensorModule', 'LastUpdate', le(4154, 2)));
    const twox64 = (b: Uint8Array) => u8aConcat(xxhashAsU8a(b, 64), b);
    expect(storageKey(q.timelockedWeightCommits!, index, 99)).toBe(key('SubtensorModule', 'TimelockedWeightCommits', twox64(le(4154, 2)), twox64(le(99, 8))));
    // The count the route is chosen from is per netuid, 1 by default.
    expect(storageKey(q.mechanismCountCurrent!, NETUID)).toBe(key('SubtensorModule', 'MechanismCountCurrent', twox64(le(NETUID, 2))));
    const entry = (live.query as unknown as Record<string, { meta: { fallback: Codec } }>).mechanismCountCurrent!;
    expect(entry.meta.fallback.toHex()).toBe('0x01');
  });

  test('pending timelocked commits: TimelockedWeightCommits values as 424 lays them out, (hotkey, commit block, commit, round)', () => {
    const { registry } = live;
    const entry = (live.query as unknown as Record<string, { meta: { type: { asMap: { value: { toNumber(): number } } } } }>).timelockedWeightCommits!;
    const valueType = registry.createLookupType(entry.meta.type.asMap.value.toNumber());
    const other = coldkey.address;
    const value = registry.createType(valueType, [
      [hotkey.address, 7_301_100, '0xdeadbeef', 23_456_789],
      [other, 7_301_101, '0x0102', 23_456_790],
    ]);
    // The bytes, as a node would answer them: decoded again from SCALE.
    const stored = registry.createType(valueType, value.toU8a());
    const epochKey = (epoch: number) => [registry.createType('u16', NETUID), registry.createType('u64', epoch)] as const;
    const pending = pendingFromEntries(
      'timelockedWeightCommits',
      [
        [epochKey(12), stored],
        [epochKey(11), registry.createType(valueType, [[hotkey.address, 7_300_000, '0xaa', 23_400_000]])],
      ],
      { netuid: NETUID, hotkey: hotkey.address },
    );
    expect(pending).toEqual([
      { netuid: NETUID, epoch: 11, commitBlock: 7_300_000, commitHash: blake2AsHex('0xaa', 256), revealRound: 23_400_000n },
      { netuid: NETUID, epoch: 12, commitBlock: 7_301_100, commitHash: blake2AsHex('0xdeadbeef', 256), revealRound: 23_456_789n },
    ]);
  });

  test('the route: plain calls for one mechanism, the mechanism variant for several or where no plain call exists', () => {
    expect(chooseWeightsRoute(live.tx, 'set', 1)).toEqual({ call: 'setWeights', mechanism: null });
    expect(chooseWeightsRoute(live.tx, 'set', 3)).toEqual({ call: 'setMechanismWeights', mechanism: 0 });
    expect(chooseWeightsRoute(live.tx, 'timelocked', 2)).toEqual({ call: 'commitTimelockedMechanismWeights', mechanism: 0 });
    // Spec 424 dropped commit_crv3_weights but kept its mechanism variant.
    expect(chooseWeightsRoute(live.tx, 'crv3', 1)).toEqual({ call: 'commitCrv3MechanismWeights', mechanism: 0 });
    // Runtimes without mechanisms (no MechanismCountCurrent, no mechanism calls: spec 218, 300) keep the plain call.
    const { setMechanismWeights: _m, ...withoutMechanisms } = live.tx as Record<string, unknown>;
    expect(chooseWeightsRoute(withoutMechanisms as CallSection, 'set', null)).toEqual({ call: 'setWeights', mechanism: null });
    expect(chooseWeightsRoute({}, 'set', null)).toBeNull();
    expect(() => requireWeightsRoute({}, 'reveal', null)).toThrow(/neither SubtensorModule.revealWeights nor revealMechanismWeights/);
  });
});
