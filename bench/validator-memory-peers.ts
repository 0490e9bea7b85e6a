/**
 * The validator memory benchmark's world, in a process of its own so that none of it counts in
 * the validator's memory (bench/validator-memory.ts starts it):
 *
 * - Chopsticks with the real subtensor runtime: a subnet of `--uids` (256) neurons: the owner
 *   (uid 0), the validator (uid 1, with a validator permit), one real miner (uid 2, served by
 *   the `hs58 miner` the benchmark starts) and synthetic miners whose axons are written into
 *   storage; registered with `burned_register` in `utility.batch_all`s; a block every `--block-ms`.
 * - A Polygon JSON-RPC (eth_chainId, eth_blockNumber, eth_getLogs) holding `--claims`
 *   ChannelClaimed logs of one DrainChannel contract spread over the 7-day window and a bit more,
 *   from 300 provider wallets (the miners' wallets among them, Zipf-like volumes, 10 channels per
 *   wallet); its head moves one block per 2 s, so later rounds scan new blocks with new claims.
 *   A synthetic endpoint, not anvil: a chain with 10⁵ real claim transactions takes hours to build.
 * - A provider registry listing 20 local providers (16 healthy, 2 flaky, 1 slow, 1 down), real
 *   HTTP servers the real miner probes, and a sink for probe alerts.
 *
 * Prints one JSON line with everything the validator and the miner need (see PeersInfo), then
 * runs until SIGTERM.
 */
process.env.LOG_LEVEL ??= 'error';

import { createHash } from 'node:crypto';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { privateKeyToAccount } from 'viem/accounts';
import { CHANNEL_CLAIMED_TOPIC } from '../src/chain/polygon/getLogs.js';
import { adminCalls, sudo } from '../localnet/sudo.js';
import { signAndWatch } from '../src/chain/subtensor/tx.js';
import { resolveChainSpec } from '../localnet/chainSpec.js';
import { startChopsticks } from '../localnet/chopsticks.js';
import { startLocalProvider, startLocalRegistry, type LocalProvider, type ProviderBehaviour } from '../localnet/providers.js';
import { prepareLocalSubnet } from '../localnet/subnet.js';
import { createWalletFiles } from '../src/wallet/files.js';
import { signWalletProof } from '../src/wallet/polygon.js';
import { initCrypto, publicKeyToSs58, sr25519KeypairFromSeed } from '../src/wallet/sr25519.js';
import { mulberry32 } from '../test/support/rng.js';

export interface PeersInfo {
  subtensor: string;
  netuid: number;
  uids: number;
  walletPath: string;
  walletName: string;
  validatorHotkey: string;
  minerHotkey: string;
  minerUid: number;
  /** The real miner's Polygon key (synthetic, local): goes to its environment only. */
  minerPolygonKey: string;
  minerPolygonWallet: string;
  rpcUrl: string;
  chainId: number;
  contract: string;
  registryUrl: string;
  marketplaceUrl: string;
  /** Wallet proofs the synthetic miners answer ProviderCheck with, by hotkey. */
  proofs: Record<string, { wallet: string; proof: string }>;
  /** How each provider behaves, by probe URL (the synthetic miners answer probes accordingly). */
  providers: Record<string, ProviderBehaviour>;
  claims: { total: number; inWindowAtStart: number; windowBlocks: number; headAtStart: number; perBlock: number };
  setupSeconds: number;
}

const { values } = parseArgs({
  options: {
    claims: { type: 'string', default: '150000' },
    uids: { type: 'string', default: '256' },
    'block-ms': { type: 'string', default: '1000' },
    'chain-spec': { type: 'string' },
  },
});
const CLAIMS = Number(values.claims);
const UIDS = Number(values.uids);
const BLOCK_MS = Number(values['block-ms']);
const WINDOW = 7 * 43_200;
const HEAD0 = 70_000_000;
/** Claims also fall in blocks the head reaches later (one every 2 s), at the same density. */
const AHEAD = 20_000;
const CONTRACT = '0x1c1918c99b6dcdc2e8b5d0d8f1a5b3b5e0e0c0de';
const CHAIN_ID = 31337;
const PROVIDER_WALLETS = 300;

const started = performance.now();
const log = (s: string) => process.stderr.write(`[peers ${((performance.now() - started) / 1000).toFixed(1)} s] ${s}\n`);
const closers: (() => Promise<void> | void)[] = [];

/** Deterministic 32-byte values (keys, hashes) from a label. */
const h32 = (label: string) => createHash('sha256').update(label).digest();
const hex32 = (label: string) => `0x${h32(label).toString('hex')}`;

// ---------------------------------------------------------------------------------------------
// Bittensor: Chopsticks with a full subnet

await cryptoWaitReady();
await initCrypto();
const chainSpecPath = await resolveChainSpec({
  explicit: values['chain-spec'] ?? process.env.SUBTENSOR_CHAIN_SPEC ?? null,
  cwd: process.cwd(),
  homeDir: os.homedir(),
});
const chain = await startChopsticks({ chainSpecPath });
closers.push(() => chain.close());
const api = await ApiPromise.create({ provider: new WsProvider(chain.endpoint), noInitWarn: true });
closers.push(() => api.disconnect());
const alice = new Keyring({ type: 'sr25519' }).addFromUri('//Alice');
const walletPath = await mkdtemp(path.join(os.tmpdir(), 'hs58-bench-wallets-'));
closers.push(() => rm(walletPath, { recursive: true, force: true }));
const validatorHotkey = (await createWalletFiles({ walletPath, name: 'bench', hotkey: 'validator' })).hotkeyAddress;
const minerHotkey = (await createWalletFiles({ walletPath, name: 'bench', hotkey: 'miner' })).hotkeyAddress;
// The validator gets its permit at the first epoch; then epochs stop (tempo raised) so the miners
// registered after it do not compete for permits, as on a live subnet whose validators hold stake.
const subnet = await prepareLocalSubnet(api, {
  sudoKey: alice,
  tempo: 10,
  weightsRateLimit: 0,
  servingRateLimit: 0,
  register: [{ hotkey: validatorHotkey, coldkey: alice }],
});
await sudo(api, alice, adminCalls.tempo(api, subnet.netuid, 10_000));
const netuid = subnet.netuid;
const synthetic = Array.from({ length: UIDS - 3 }, (_, i) => publicKeyToSs58(sr25519KeypairFromSeed(h32(`bench hotkey ${i}`)).publicKey));
const miners = [minerHotkey, ...synthetic];
const register = (hotkey: string) => api.tx.subtensorModule!.burnedRegister!(netuid, hotkey);
for (let i = 0; i < miners.length; i += 64) {
  await signAndWatch(api, api.tx.utility!.batchAll!(miners.slice(i, i + 64).map(register)), alice, {
    label: `burnedRegister × ${Math.min(64, miners.length - i)}`,
  });
}
const n = Number((await api.query.subtensorModule!.subnetworkN!(netuid)).toString());
if (n !== UIDS) throw new Error(`subnet has ${n} neurons, expected ${UIDS}`);
const uidOf = async (hotkey: string) => Number((await api.query.subtensorModule!.uids!(netuid, hotkey)).toString());
const minerUid = await uidOf(minerHotkey);
// Synthetic miners "served" their axons: written into storage (serve_axon would need 253 signers).
const ipv4 = (a: number, b: number, c: number, d: number) => ((a << 24) >>> 0) + (b << 16) + (c << 8) + d;
await chain.setStorage({
  SubtensorModule: {
    Axons: synthetic.map((hotkey, i) => [
      [netuid, hotkey],
      { block: 1, version: 10_005_000, ip: ipv4(10, 1, i >> 8, i & 255), port: 8091, ipType: 4, protocol: 4, placeholder1: 0, placeholder2: 0 },
    ]),
  },
});
log(`subnet ${netuid}: ${n} neurons (validator uid ${await uidOf(validatorHotkey)}, real miner uid ${minerUid})`);

// ---------------------------------------------------------------------------------------------
// Polygon: a week of ChannelClaimed logs

const random = mulberry32(58); // the same claims on every run
const minerAccounts = miners.map((_, i) => privateKeyToAccount(hex32(`bench polygon key ${i}`) as `0x${string}`));
const wallets = [
  ...minerAccounts.map((a) => a.address.toLowerCase()),
  ...Array.from({ length: PROVIDER_WALLETS - miners.length }, (_, i) => `0x${h32(`other provider ${i}`).toString('hex').slice(0, 40)}`),
];
// Zipf-like volumes over a shuffled order: a few wallets claim a lot, most a little.
const order = wallets.map((_, i) => i).sort(() => random() - 0.5);
const weights = order.map((_, rank) => 1 / (rank + 1) ** 0.8);
const cumulative: number[] = [];
weights.reduce((s, w, i) => (cumulative[i] = s + w), 0);
const totalWeight = cumulative.at(-1)!;
const pickWallet = () => {
  const x = random() * totalWeight;
  let lo = 0;
  let hi = cumulative.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cumulative[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return order[lo]!;
};
const firstBlock = HEAD0 - WINDOW - 2_000;
const span = WINDOW + 2_000 + AHEAD;
const blocks = new Float64Array(CLAIMS);
for (let i = 0; i < CLAIMS; i++) blocks[i] = firstBlock + Math.floor(random() * span);
blocks.sort();
const provider = new Uint16Array(CLAIMS);
const channel = new Uint8Array(CLAIMS);
const amount = new Uint32Array(CLAIMS);
const logIndex = new Uint16Array(CLAIMS);
for (let i = 0; i < CLAIMS; i++) {
  provider[i] = pickWallet();
  channel[i] = Math.floor(random() * 10);
  amount[i] = 10_000 + Math.floor(random() * 4_990_000); // 0.01 – 5 USDC
  logIndex[i] = i > 0 && blocks[i] === blocks[i - 1] ? logIndex[i - 1]! + 1 : 0;
}
const t0 = Date.now();
const head = () => HEAD0 + Math.floor((Date.now() - t0) / 2_000);
const lowerBound = (b: number) => {
  let lo = 0;
  let hi = CLAIMS;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (blocks[mid]! < b) lo = mid + 1;
    else hi = mid;
  }
  return lo;
};
const q = (x: number) => `0x${x.toString(16)}`;
const word = (x: number) => `0x${x.toString(16).padStart(64, '0')}`;
function logsIn(from: number, to: number) {
  const out: unknown[] = [];
  for (let i = lowerBound(from); i < CLAIMS && blocks[i]! <= to; i++) {
    const wallet = wallets[provider[i]!]!;
    out.push({
      address: CONTRACT,
      topics: [CHANNEL_CLAIMED_TOPIC, hex32(`channel ${wallet} ${channel[i]}`), `0x000000000000000000000000${wallet.slice(2)}`],
      data: word(amount[i]!),
      blockNumber: q(blocks[i]!),
      blockHash: hex32(`block ${blocks[i]}`),
      transactionHash: hex32(`claim ${i}`),
      transactionIndex: q(logIndex[i]!),
      logIndex: q(logIndex[i]!),
      removed: false,
    });
  }
  return out;
}
const rpc = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    const send = (payload: unknown) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
    let call: { id: number; method: string; params: unknown[] };
    try {
      call = JSON.parse(body) as typeof call;
    } catch {
      return send({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse error' } });
    }
    const answer = (result: unknown) => send({ jsonrpc: '2.0', id: call.id, result });
    if (call.method === 'eth_chainId') return answer(q(CHAIN_ID));
    if (call.method === 'eth_blockNumber') return answer(q(head()));
    if (call.method === 'eth_getLogs') {
      const f = call.params[0] as { fromBlock: string; toBlock: string };
      const from = Number(f.fromBlock);
      const to = Math.min(Number(f.toBlock), head());
      if (to - from >= 10_000) return send({ jsonrpc: '2.0', id: call.id, error: { code: -32005, message: 'query exceeds max block range 10000' } });
      return answer(logsIn(from, to));
    }
    send({ jsonrpc: '2.0', id: call.id, error: { code: -32601, message: `method ${call.method} not found` } });
  });
});
await new Promise<void>((resolve) => rpc.listen(0, '127.0.0.1', resolve));
closers.push(() => new Promise<void>((resolve) => rpc.close(() => resolve())));
const rpcUrl = `http://127.0.0.1:${(rpc.address() as { port: number }).port}`;
const inWindow = lowerBound(HEAD0 - 32 + 1) - lowerBound(HEAD0 - 32 - WINDOW + 1);
log(`Polygon RPC ${rpcUrl}: ${CLAIMS} claims, ${inWindow} in the window at the start, ${(CLAIMS / span).toFixed(2)} per block`);

// ---------------------------------------------------------------------------------------------
// Providers, registry, alert sink

const behaviours: ProviderBehaviour[] = [...Array<ProviderBehaviour>(16).fill('healthy'), 'flaky', 'flaky', 'slow', 'down'];
const providers: LocalProvider[] = [];
for (const [i, behaviour] of behaviours.entries()) {
  const p = await startLocalProvider({ id: `p${i}`, behaviour, delayMs: 1_500 });
  providers.push(p);
  closers.push(() => p.close());
}
const registry = await startLocalRegistry(() => providers);
closers.push(() => registry.close());

const proofs: PeersInfo['proofs'] = {};
for (const [i, hotkey] of miners.entries()) {
  if (i === 0) continue; // the real miner proves itself
  proofs[hotkey] = { wallet: minerAccounts[i]!.address, proof: await signWalletProof(minerAccounts[i]!, hotkey) };
}

const stopBlocks = chain.produceBlocks(BLOCK_MS);
closers.push(stopBlocks);
const info: PeersInfo = {
  subtensor: chain.endpoint,
  netuid,
  uids: n,
  walletPath,
  walletName: 'bench',
  validatorHotkey: 'validator',
  minerHotkey: 'miner',
  minerUid,
  minerPolygonKey: hex32('bench polygon key 0'),
  minerPolygonWallet: minerAccounts[0]!.address,
  rpcUrl,
  chainId: CHAIN_ID,
  contract: CONTRACT,
  registryUrl: registry.url,
  marketplaceUrl: registry.url.replace(/\/api\/.*$/, ''),
  proofs,
  providers: Object.fromEntries(providers.map((p) => [p.probeUrl, p.behaviour])),
  claims: { total: CLAIMS, inWindowAtStart: inWindow, windowBlocks: WINDOW, headAtStart: HEAD0, perBlock: CLAIMS / span },
  setupSeconds: (performance.now() - started) / 1000,
};
process.stdout.write(`${JSON.stringify(info)}\n`);

const stop = async () => {
  for (const close of closers.reverse()) {
    try {
      await close();
    } catch {
      // best effort
    }
  }
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
