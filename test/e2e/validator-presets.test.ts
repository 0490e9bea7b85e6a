/**
 * The validator daemon (neurons/validator.ts) end to end, on ONE local network: the real
 * subtensor runtime in Chopsticks, real anvil with the DRAIN contract, four TypeScript miner
 * daemons, local providers (healthy, slow, down) behind a registry, and four axons that
 * misbehave: one answers garbage, one never answers, one lies about its wallet (a proof signed
 * by another key), one replays another miner's valid proof and serves no probes.
 *
 * - For each preset, after two rounds the weight row ON CHAIN is what the test expects from
 *   the scenario alone (who proves which wallet, what each wallet claimed, who answers probes);
 *   the misbehaving axons get 0 for what they fail and the honest miners are not disturbed.
 * - A validator stopped in the middle of a round and started again with the same state path
 *   continues its EMA and step, does not scan covered blocks again, and counts no claim twice.
 */
import http from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { createAxonServer, type AxonServer } from '../../src/axon/server.js';
import type { ClaimsStateJSON } from '../../src/chain/polygon/claimsStore.js';
import { createProber } from '../../src/miner/probe.js';
import { createLogger } from '../../src/observability/logger.js';
import type { ValidatorState } from '../../src/validator/state.js';
import { walletProofMessage } from '../../src/wallet/polygon.js';
import { freeLoopbackPort } from '../../localnet/ports.js';
import { readClaimsDatabase } from '../support/claimsDatabase.js';
import { startFaultProxy } from '../support/faultProxy.js';
import {
  deadline,
  expectedRewards,
  expectedWeightRow,
  expectWeightRow,
  readJson,
  validatorStateDir,
  withLocalNetwork,
  type MinerFacts,
  type PresetName,
} from '../support/validatorNet.js';

const EPOCH_LENGTH = 3;
const TIMEOUT_SEC = 2;
const PROBES_PER_ROUND = 2;

interface HangServer {
  port: number;
  requests: () => number;
  close: () => Promise<void>;
}

/** A server that counts the requests it gets and handles them with `handle` (by default: never answers). */
async function startCountingServer(host: string, handle: http.RequestListener = () => undefined): Promise<HangServer> {
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests += 1;
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as { port: number }).port,
    requests: () => requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Takes requests and never answers them. */
const startHangServer = (host: string) => startCountingServer(host);

/** Answers every synapse with 200 and a body no dendrite can use. */
const startGarbageServer = (host: string) =>
  startCountingServer(host, (req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.includes('ProviderCheck')) {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"polygon_wallet": 7, "wallet_proof": {"r": 1}, "api_url": [');
      } else {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(Buffer.from([0xff, 0x00, 0xfe, 0x7b]));
      }
    });
  });

let hang: HangServer;
let garbage: HangServer;
const axons: AxonServer[] = [];

const fx = withLocalNetwork(
  {
    miners: 4,
    // miner4 runs without its key, yet its wallet claims the most: drain-v1's max counts it, hs58's top does not.
    claimsUsdc: [30, 10, 0, 50],
    withoutWallet: [3],
    providers: [
      { id: 'alpha', behaviour: 'healthy' },
      { id: 'beta', behaviour: 'slow', delayMs: 300 },
      { id: 'omega', behaviour: 'down' },
    ],
    extraHotkeys: ['garbage', 'hang', 'liar', 'replay'],
    blockIntervalMs: 1000,
  },
  async (net) => {
    const silent = createLogger({ level: 'silent' });
    const onlyValidator = (hotkey: string | null) =>
      hotkey === net.hotkeys.validator ? { blacklisted: false, reason: 'Hotkey recognized' } : { blacklisted: true, reason: 'Unrecognized hotkey' };
    const miner1Wallet = net.minerWallets[0]!;
    const stranger = await net.polygonAccount(1);

    const g = net.axonAddress('garbage');
    garbage = await startGarbageServer(g.host);
    await g.serve(garbage.port);
    const h = net.axonAddress('hang');
    hang = await startHangServer(h.host);
    await h.serve(hang.port);

    // The liar claims miner1's wallet (30 USDC) with a proof over its own hotkey signed by a key that is not that wallet's; it probes honestly.
    const liarProof = await stranger.signMessage({ message: walletProofMessage(net.hotkeys.liar!) });
    const prober = createProber({ timeoutMs: 3_000, allow: ['127.0.0.1'] });
    const l = net.axonAddress('liar');
    const liar = createAxonServer({
      hotkey: { address: net.hotkeys.liar! },
      handlers: {
        ProviderCheck: () => ({ polygon_wallet: miner1Wallet.address, wallet_proof: liarProof, api_url: 'http://127.0.0.1:1/v1' }),
        ProviderProbe: async (req, ctx) => {
          const o = await prober.probe(req.fields.target_url, ctx.signal);
          return { probe_reachable: o.probe_reachable, probe_status: o.probe_status, probe_latency_ms: o.probe_latency_ms };
        },
      },
      blacklist: onlyValidator,
      priorityFn: () => 0,
      logger: silent,
    });
    axons.push(liar);
    await l.serve((await liar.listen({ host: l.host, port: 0 })).port);

    // The replayer sends miner1's own valid proof (signed over miner1's hotkey) and serves no ProviderProbe.
    const miner1Proof = await miner1Wallet.signMessage({ message: walletProofMessage(net.hotkeys.miner1!) });
    const r = net.axonAddress('replay');
    const replay = createAxonServer({
      hotkey: { address: net.hotkeys.replay! },
      handlers: { ProviderCheck: () => ({ polygon_wallet: miner1Wallet.address, wallet_proof: miner1Proof, api_url: null }) },
      blacklist: onlyValidator,
      priorityFn: () => 0,
      logger: silent,
    });
    axons.push(replay);
    await r.serve((await replay.listen({ host: r.host, port: 0 })).port);
  },
);

afterAll(async () => {
  await Promise.all([...axons.map((a) => a.close()), hang?.close(), garbage?.close()]);
});

/** The scenario as the test arranged it: who proves which wallet, who answers probes honestly. */
function scenario(): MinerFacts[] {
  const { net } = fx;
  const wallet = (i: number) => net.minerWallets[i]!.address.toLowerCase();
  return [
    { uid: net.uids.miner1!, provenWallet: wallet(0), answersProbes: true },
    { uid: net.uids.miner2!, provenWallet: wallet(1), answersProbes: true },
    { uid: net.uids.miner3!, provenWallet: wallet(2), answersProbes: true },
    { uid: net.uids.miner4!, provenWallet: null, answersProbes: true },
    { uid: net.uids.garbage!, provenWallet: null, answersProbes: false },
    { uid: net.uids.hang!, provenWallet: null, answersProbes: false },
    { uid: net.uids.liar!, provenWallet: null, answersProbes: true },
    { uid: net.uids.replay!, provenWallet: null, answersProbes: false },
  ];
}

/** Every uid of the subnet (owner, validator, miners, misbehaving axons). */
function allUids(): number[] {
  return Object.values(fx.net.uids)
    .concat(0)
    .sort((a, b) => a - b);
}

function argv(preset: PresetName, statePath: string, polygonRpcUrl?: string, statusPort?: number): string[] {
  return fx.net.validatorArgv({
    preset,
    statePath,
    epochLength: EPOCH_LENGTH,
    timeoutSec: TIMEOUT_SEC,
    probesPerRound: PROBES_PER_ROUND,
    polygonRpcUrl,
    statusPort,
  });
}

const BUILD = { version: '9.8.7-test', commit: '0123456789ab', node: process.version };

/** The value of the one line of a /metrics text that starts with `series ` (name and labels). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const newStatePath = () => mkdtemp(path.join(fx.net.workDir, 'validator-state-'));

describe('the validator on a local subnet with honest and misbehaving miners', () => {
  test.for(['hs58', 'drain-v1', 'oracle-v2.1'] as const)(
    '%s: after two rounds the weights on chain rank the miners as the scenario implies',
    async (preset, ctx) => {
      if (fx.skipReason) return ctx.skip(fx.skipReason);
      const { net } = fx;
      const statusPort = await freeLoopbackPort();
      const startedAt = Date.now() / 1000;
      // /metrics while the validator waits for its second round.
      let scraped: Promise<{ text: string; at: number }> | null = null;
      const { code, rounds } = await net.runValidator({
        argv: argv(preset, await newStatePath(), undefined, statusPort),
        build: BUILD,
        maxRounds: 2,
        signal: deadline(),
        onRound: (r) => {
          if (r.round === 1) scraped = fetch(`http://127.0.0.1:${statusPort}/metrics`).then(async (res) => ({ text: await res.text(), at: Date.now() / 1000 }));
        },
      });
      expect(code).toBe(0);
      expect(rounds).toHaveLength(2);
      for (const r of rounds) expect(r.report.failedSteps, `round ${r.round}`).toEqual([]);

      // What a dashboard reads after the first round: the build, the process, the weights set and when, the RPC.
      const { text, at } = await scraped!;
      expect(sample(text, `hs58_build_info{version="9.8.7-test",commit="0123456789ab",node="${process.version}"}`)).toBe(1);
      expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10 * 1024 * 1024);
      expect(sample(text, 'nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
      const first = rounds[0]!.report.submitted;
      expect(first?.kind).toBe('set');
      expect(sample(text, 'hs58_validator_weights_last_block{event="set"}')).toBe(first!.blockNumber);
      const setAt = sample(text, 'hs58_validator_weights_last_timestamp_seconds{event="set"}')!;
      expect(setAt).toBeGreaterThanOrEqual(Math.floor(startedAt));
      expect(setAt).toBeLessThanOrEqual(at);
      expect(text).not.toContain('hs58_validator_weights_last_block{event="committed"}');
      expect(sample(text, 'hs58_validator_rounds_total{outcome="ok"}')).toBe(1);
      expect(sample(text, 'hs58_validator_step_seconds_count{step="weights"}')).toBe(1);
      if (preset !== 'oracle-v2.1')
        expect(sample(text, `hs58_polygon_rpc_requests_total{endpoint="${new URL(net.anvilUrl).origin}",outcome="ok"}`)).toBeGreaterThan(0);

      const onChain = await net.weightsOnChain();
      const want = expectedWeightRow(expectedRewards(preset, scenario(), net.claimed));
      expectWeightRow(onChain, want, allUids());
      // What the validator read back after its last round is what is on chain now.
      const last = rounds.at(-1)!;
      expect(new Map(last.rows.filter((r) => r.chainWeight > 0).map((r) => [r.uid, r.chainWeight]))).toEqual(new Map([...onChain].filter(([, w]) => w > 0)));

      // Each misbehaving axon gets 0 for the part it fails; the honest miners' probes agree with the consensus.
      const row = (name: string) => last.report.rows.find((r) => r.uid === net.uids[name])!;
      if (preset !== 'oracle-v2.1') {
        for (const name of ['garbage', 'hang', 'liar', 'replay']) expect(row(name).proof, name).toBe(false);
        expect(row('liar').answered).toBe(true);
        expect(row('replay').answered).toBe(true);
        expect(row('hang').answered).toBe(false);
        expect(row('garbage').answered).toBe(false);
        expect(row('miner1').claims).toBe(net.claimed.get(net.minerWallets[0]!.address.toLowerCase()));
      }
      if (preset !== 'drain-v1') {
        for (const name of ['miner1', 'miner2', 'miner3', 'miner4', 'liar']) expect(row(name).probeAccuracy, name).toBeCloseTo(1, 6);
        for (const name of ['garbage', 'hang', 'replay']) expect(row(name).probeAccuracy, name).toBe(0);
      }
      expect(hang.requests()).toBeGreaterThan(0);
      expect(garbage.requests()).toBeGreaterThan(0);
    },
  );

  test('stopped mid-round and restarted: the EMA and step continue, covered blocks are not scanned again, no claim counts twice', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    const { net } = fx;
    const preset = 'drain-v1';
    const statePath = await newStatePath();
    const dir = validatorStateDir(net, statePath);
    const totals = () => new Map([...net.claimed].map(([a, v]) => [a, v.toString()]));
    const storedTotals = (s: ClaimsStateJSON) => new Map(Object.entries(s.lastComplete?.providers ?? {}).map(([a, p]) => [a, p.amount]));

    // First run: one full round, then stopped while the second round waits on the axon that never answers.
    const first = await startFaultProxy({ upstream: net.anvilUrl });
    const stopFirst = new AbortController();
    let hangBefore = Infinity;
    const watcher = setInterval(() => {
      if (hang.requests() > hangBefore) stopFirst.abort(new Error('stopped mid-round'));
    }, 20);
    const a = await net.runValidator({
      argv: argv(preset, statePath, first.url),
      signal: AbortSignal.any([stopFirst.signal, deadline()]),
      onRound: () => (hangBefore = hang.requests()),
    });
    clearInterval(watcher);
    await first.close();
    expect(a.code).toBe(0);
    expect(stopFirst.signal.aborted).toBe(true);
    expect(a.rounds).toHaveLength(1);
    const afterA = await readJson<ValidatorState>(path.join(dir, 'state.json'));
    // The interrupted round left nothing behind: the state is that of the finished round.
    expect(afterA.step).toBe(1);
    expect(afterA.lastRoundBlock).toBe(a.rounds[0]!.report.block);
    expect(afterA.scores).toEqual(a.rounds[0]!.state.scores);
    const scanA = readClaimsDatabase(path.join(dir, 'drain-claims.sqlite'))!;
    expect(storedTotals(scanA)).toEqual(totals());
    const coveredUpTo = Math.max(...scanA.covered.map(([, to]) => to));

    // While it is stopped, miner2's wallet is paid 40 USDC more: now it leads the proven wallets.
    await net.pay(net.minerWallets[1]!, 40);

    // Second run, same state path.
    const second = await startFaultProxy({ upstream: net.anvilUrl });
    const b = await net.runValidator({ argv: argv(preset, statePath, second.url), maxRounds: 2, signal: deadline() });
    await second.close();
    expect(b.code).toBe(0);
    expect(b.rounds.map((r) => r.state.step)).toEqual([2, 3]);
    // Covered blocks are not asked for again.
    expect(second.counts.byMethod.eth_getLogs).toBeGreaterThan(0);
    expect(second.counts.lowestFrom).toBeGreaterThan(coveredUpTo);

    // The EMA went on from the saved scores with the rewards of the new claims (α 0.1).
    const rewards = expectedRewards(preset, scenario(), net.claimed);
    const [b1, b2] = b.rounds as [(typeof b.rounds)[number], (typeof b.rounds)[number]];
    for (const m of scenario()) {
      const before = afterA.scores[m.uid]!;
      const r = rewards.get(m.uid)!;
      expect(b1.state.scores[m.uid], `uid ${m.uid} after the restart`).toBeCloseTo(0.9 * before + 0.1 * r, 5);
      expect(b2.state.scores[m.uid], `uid ${m.uid} one round later`).toBeCloseTo(0.9 * (0.9 * before + 0.1 * r) + 0.1 * r, 5);
    }
    expect(b1.state.scores[net.uids.miner1!]!).toBeGreaterThan(0.1); // not a fresh EMA: one round from 0 gives at most α

    // Every claim counted once: the stored totals and the claim list are the ground truth.
    const scanB = readClaimsDatabase(path.join(dir, 'drain-claims.sqlite'))!;
    expect(storedTotals(scanB)).toEqual(totals());
    expect(scanB.claims).toHaveLength(net.claimCount());
    expect(new Set(scanB.claims.map((c) => `${c.tx}:${c.logIndex}`)).size).toBe(net.claimCount());
    const proven = scenario().filter((m) => m.provenWallet !== null);
    for (const m of proven) {
      const row = b2.report.rows.find((r) => r.uid === m.uid)!;
      expect(row.claims, `uid ${m.uid}`).toBe(net.claimed.get(m.provenWallet!) ?? 0n);
    }
  });
});
