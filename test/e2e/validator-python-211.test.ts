/**
 * Both directions with HS58-subnet 2.1.1 peers, on ONE local network (the real subtensor runtime in
 * Chopsticks, TypeScript miner daemons, local providers, axons on loopback addresses) whose
 * WeightsVersionKey is 2011, as the live 2.1.1 validators' key:
 *
 * - A Python miner on the REAL bittensor axon built like 2.1.1 (ProviderProbe only: ProviderCheck
 *   gets 404) is scored by our validator started with no scoring flag; the weights it sets on chain
 *   are exactly those of the Python 2.1.1 computation (test/interop/validator_211.py) on the answers
 *   the validator got, and it never sends ProviderCheck.
 * - A validator built like 2.1.1 on the REAL bittensor dendrite (ProviderProbe only, deserialize=True)
 *   queries our miner daemons with the validator's hotkey: they answer with Python types and score
 *   what the Python miner scores.
 * - The subnet's key raised above ours: the weights are refused before sending, /health says which
 *   flag to set; with the flag set, they go out.
 * - A Python validator's state.npz (written by numpy, one hotkey replaced since) is imported on the
 *   first start, from the Python default location and from --neuron.import_state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp } from 'node:fs/promises';
import path from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { afterAll, describe, expect, test } from 'vitest';
import { createAxonServer, type AxonServer } from '../../src/axon/server.js';
import { adminCalls, sudo } from '../../localnet/sudo.js';
import { freeLoopbackPort } from '../../localnet/ports.js';
import { createLogger } from '../../src/observability/logger.js';
import { createValidatorJobHandlers, type ProbeJobOutcome, type ValidatorJobHandlers } from '../../src/validator/jobs.js';
import type { LocalRound, RunLocalValidatorOptions } from '../../localnet/validator.js';
import { startPythonMiner } from '../support/pythonMiner.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { runPythonOracle } from '../support/python-oracle.js';
import { deadline, withLocalNetwork } from '../support/validatorNet.js';

const EPOCH_LENGTH = 3;
const TIMEOUT_SEC = 4;
const CHAIN_KEY = 2011;

type Answer = [boolean | null, number | null, number | null] | null;
interface PyRound {
  sampled: string[];
  rewards: number[] | null;
  scores: number[];
  weights: { uids: number[]; weights: number[] } | null;
}

let python: { uid: number; stats(): Promise<{ ProviderCheck: number; ProviderProbe: number }>; synapses: string[]; stop(): Promise<void> } | null = null;
let pythonPath: string | null = null;
let pythonSkip: string | null = null;
const children: ChildProcess[] = [];
const axons: AxonServer[] = [];

const fx = withLocalNetwork(
  {
    miners: 3,
    claimsUsdc: [],
    withoutWallet: [0, 1, 2],
    providers: [
      { id: 'alpha', behaviour: 'healthy' },
      { id: 'beta', behaviour: 'slow', delayMs: 300 },
      { id: 'omega', behaviour: 'down' },
    ],
    extraHotkeys: ['python', 'liar'],
    axonAddressing: 'loopback',
    blockIntervalMs: 1000,
  },
  async (net) => {
    await setChainKey(net.chain.endpoint, net.netuid, CHAIN_KEY);
    // A miner that answers every probe "reachable, 200, 100 ms" without probing: it disagrees on the
    // provider that is down, so the weights are not all equal.
    const l = net.axonAddress('liar');
    const liar = createAxonServer({
      hotkey: { address: net.hotkeys.liar! },
      handlers: { ProviderProbe: () => ({ probe_reachable: true, probe_status: 200, probe_latency_ms: 100 }) },
      blacklist: (hotkey) =>
        hotkey === net.hotkeys.validator ? { blacklisted: false, reason: 'Hotkey recognized' } : { blacklisted: true, reason: 'Unrecognized hotkey' },
      priorityFn: () => 0,
      logger: createLogger({ level: 'silent' }),
    });
    axons.push(liar);
    await l.serve((await liar.listen({ host: l.host, port: 0 })).port);
    const { python: py, reason } = requireInteropPython();
    if (reason || !py) {
      pythonSkip = reason ?? 'no interop Python';
      return;
    }
    pythonPath = py;
    const miner = await startPythonMiner<{ hotkey: string; synapses: string[] }, { ProviderCheck: number; ProviderProbe: number }>(net, {
      python: py,
      hotkeyName: 'python',
      probeBase: net.providers[0]!.probeUrl,
      env: { HS58_PY_MINER_SYNAPSES: 'ProviderProbe' },
    });
    children.push(miner.child);
    expect(miner.ready.hotkey).toBe(net.hotkeys.python);
    python = { uid: miner.uid, synapses: miner.ready.synapses, stats: miner.stats, stop: miner.stop };
  },
);

afterAll(async () => {
  await Promise.all(axons.map((a) => a.close()));
  await python?.stop();
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

async function setChainKey(endpoint: string, netuid: number, key: number): Promise<void> {
  await cryptoWaitReady();
  const api = await ApiPromise.create({ provider: new WsProvider(endpoint), noInitWarn: true });
  try {
    await sudo(api, new Keyring({ type: 'sr25519' }).addFromUri('//Alice'), adminCalls.weightsVersionKey(api, netuid, key));
  } finally {
    await api.disconnect();
  }
}

const newDir = (prefix: string) => mkdtemp(path.join(fx.net.workDir, prefix));
/** `hs58 validator` argv with no scoring flag (the defaults), plus `extra`. */
const defaultsArgv = async (extra: string[] = []) => [
  ...fx.net.validatorArgv({ preset: undefined, statePath: await newDir('state-'), epochLength: EPOCH_LENGTH, timeoutSec: TIMEOUT_SEC }),
  ...extra,
];

/** Job handlers that record every probe answer in order (and count ProviderCheck jobs). */
function recording() {
  const probes: { uid: number; url: string; answer: Answer }[] = [];
  let checks = 0;
  const jobHandlers = (dendrite: Parameters<NonNullable<RunLocalValidatorOptions['jobHandlers']>>[0]): ValidatorJobHandlers => {
    const real = createValidatorJobHandlers(dendrite);
    return {
      providerCheck: async (job, signal) => {
        checks += 1;
        return real.providerCheck(job, signal);
      },
      probe: async (job, signal) => {
        let r: ProbeJobOutcome | null = null;
        try {
          r = await real.probe(job, signal);
          return r;
        } finally {
          probes.push({ uid: job.axon.uid, url: job.targetUrl, answer: r?.ok ? [r.reachable, r.status, r.latencyMs] : null });
        }
      },
    };
  };
  return { jobHandlers, probes, checks: () => checks };
}

/** The rounds as validator_211.py reads them, from the reports and the recorded answers (in job order). */
async function asRecordedRounds(rounds: LocalRound[], probes: { uid: number; url: string; answer: Answer }[]) {
  const out = [];
  let at = 0;
  for (const r of rounds) {
    const mg = r.report.metagraph!;
    const jobs = r.report.sampledProviders.length * mg.axons.filter((a, uid) => a.ip !== '0.0.0.0' && mg.hotkeys[uid] !== fx.net.hotkeys.validator).length;
    const answers: Record<string, Answer[]> = {};
    for (const p of probes.slice(at, at + jobs)) (answers[p.url] ??= new Array(mg.n).fill(null))[p.uid] = p.answer;
    at += jobs;
    const epochBlock = Math.floor(r.report.block / EPOCH_LENGTH) * EPOCH_LENGTH;
    out.push({
      block: r.report.block,
      epochBlockHash: await fx.net.reader.blockHash(epochBlock),
      hotkeys: mg.hotkeys,
      axonIps: mg.axons.map((a) => a.ip),
      answers,
    });
  }
  expect(at).toBe(probes.length);
  return out;
}

describe('HS58-subnet 2.1.1 peers, both directions', () => {
  test('our validator on its defaults scores a 2.1.1 Python miner (ProviderProbe only) as the 2.1.1 validator would: the same u16 weights on chain', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    if (!python || !pythonPath) return ctx.skip(pythonSkip ?? 'no Python miner');
    const { net } = fx;
    expect(python.synapses).not.toContain('ProviderCheck');
    const before = await python.stats();
    const rec = recording();
    const statusPort = await freeLoopbackPort();
    let status: Promise<Record<string, unknown>> | null = null;
    const argv = [...(await defaultsArgv()), '--metrics.port', String(statusPort)];
    const { code, rounds } = await net.runValidator({
      argv,
      maxRounds: 2,
      signal: deadline(),
      jobHandlers: rec.jobHandlers,
      onRound: (r) => {
        if (r.round === 1) status = fetch(`http://127.0.0.1:${statusPort}/status.json`).then((res) => res.json() as Promise<Record<string, unknown>>);
      },
    });
    expect(code).toBe(0);
    expect(rounds).toHaveLength(2);
    for (const r of rounds) expect(r.report.failedSteps, `round ${r.round}`).toEqual([]);

    // Defaults: oracle-v2.1, ProviderProbe only, version key 2011 (the chain's).
    expect(rec.checks()).toBe(0);
    const after = await python.stats();
    expect(after.ProviderCheck).toBe(0);
    expect(after.ProviderProbe - before.ProviderProbe).toBe(2 * net.providers.length);
    expect((await status!).scoring).toMatchObject({
      preset: 'oracle-v2.1',
      presetReason: expect.stringContaining('HS58-subnet 2.1.1'),
      versionKey: '2011',
      chainVersionKey: '2011',
      synapses: ['ProviderProbe'],
    });

    // The Python 2.1.1 computation on the answers the validator got.
    const recorded = await asRecordedRounds(rounds, rec.probes);
    const providers = rounds[0]!.report.sampledProviders;
    expect(providers.map((p) => p.id).sort()).toEqual(['alpha', 'beta', 'omega']);
    const py = runPythonOracle<{ specVersion: number; rounds: PyRound[] }>(pythonPath, path.join(REPO_ROOT, 'test/interop/validator_211.py'), {
      netuid: net.netuid,
      epochLength: EPOCH_LENGTH,
      validatorUid: net.uids.validator,
      providers,
      rounds: recorded,
    });
    expect(py.specVersion).toBe(CHAIN_KEY);
    for (const [i, r] of rounds.entries()) {
      expect(
        r.report.sampledProviders.map((p) => p.id),
        `round ${i + 1}`,
      ).toEqual(py.rounds[i]!.sampled);
      expect(r.state.scores, `round ${i + 1}`).toEqual(py.rounds[i]!.scores);
      const theirs = py.rounds[i]!.weights!;
      expect(new Map(r.rows.filter((row) => row.chainWeight > 0).map((row) => [row.uid, row.chainWeight])), `round ${i + 1} on chain`).toEqual(
        new Map(theirs.uids.map((uid, k) => [uid, theirs.weights[k]!])),
      );
    }
    // The 2.1.1 miner agrees with the consensus like the TypeScript miners: the same top weight; the
    // liar is right on two providers of three (0.4 + 0.3 + 0.3 of the latency band on the down one).
    const onChain = await net.weightsOnChain();
    expect(onChain.get(python.uid)).toBe(65535);
    for (const m of ['miner1', 'miner2', 'miner3']) expect(onChain.get(net.uids[m]!), m).toBe(65535);
    expect(rounds.at(-1)!.report.rows.find((row) => row.uid === net.uids.liar)!.probeAccuracy).toBeCloseTo(2.3 / 3, 6);
    expect(onChain.get(net.uids.liar!)).toBeGreaterThan(40_000);
    expect(onChain.get(net.uids.liar!)).toBeLessThan(65_535);
  });

  test('a 2.1.1-style Python validator (real dendrite, ProviderProbe only) queries our miners: Python types, full accuracy, 404 from the 2.1.1 miner on ProviderCheck', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    if (!python || !pythonPath) return ctx.skip(pythonSkip ?? 'no Python miner');
    const { net } = fx;
    const mg = await net.reader.getMetagraph(net.netuid);
    const names = ['miner1', 'miner2', 'miner3', 'python'];
    const miners = names.map((name) => {
      const uid = net.uids[name]!;
      return { uid, ip: mg.axons[uid]!.ip, port: mg.axons[uid]!.port, hotkey: mg.hotkeys[uid]! };
    });
    const run = await runScript(pythonPath, 'test/interop/validator_211_dendrite.py', {
      walletPath: net.walletPath,
      walletName: net.walletName,
      hotkey: 'validator',
      miners,
      providers: net.providers.map((p) => ({ id: p.id, probeUrl: p.probeUrl })),
      checkUids: [python.uid, net.uids.miner1],
      timeout: 12,
    });
    expect(run.validator).toBe(net.hotkeys.validator);
    for (const probe of run.probes) {
      for (const name of names.slice(0, 3)) {
        const a = probe.answers[String(net.uids[name])]!;
        expect(a.probe_reachable!.type, `${name} ${probe.id}`).toBe('bool');
        expect(a.probe_status!.type, `${name} ${probe.id}`).toBe('int');
        expect(a.probe_latency_ms!.type, `${name} ${probe.id}`).toBe('int');
      }
    }
    expect(run.probes.find((p) => p.id === 'alpha')!.consensus).toMatchObject({ reachable: true, status: 200 });
    expect(run.probes.find((p) => p.id === 'omega')!.consensus).toMatchObject({ reachable: false, status: 0 });
    for (const m of miners) expect(run.rewards[String(m.uid)], m.hotkey).toBeCloseTo(1, 6);
    // The 2.1.1 miner serves ProviderProbe only; our miner still serves ProviderCheck (to generation A validators).
    expect(run.checks[String(python.uid)]!.status_code).toBe(404);
    expect(run.checks[String(net.uids.miner1)]!.status_code).toBe(200);
  });

  test('a Python validator’s state.npz is imported on the first start, from the Python default location and from the flag; a replaced hotkey restarts at 0', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    if (!pythonPath) return ctx.skip(pythonSkip ?? 'no interop Python');
    const { net } = fx;
    const mg = await net.reader.getMetagraph(net.netuid);
    const replaced = net.uids.miner2!;
    const oldHotkeys = [...mg.hotkeys];
    oldHotkeys[replaced] = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'; // who held the uid when Python saved
    const oldScores = oldHotkeys.map((_, uid) => (uid === 0 ? 0 : 0.01 * (uid + 1)));
    const home = await newDir('home-');
    const npzDir = path.join(home, '.bittensor', 'miners', net.walletName, 'validator', `netuid${net.netuid}`, 'validator');
    await mkdir(npzDir, { recursive: true });
    const written = runPythonOracle<{ files: Record<string, { loaded: { step: number } }> }>(pythonPath, path.join(REPO_ROOT, 'test/interop/npz_state.py'), {
      dir: npzDir,
      files: [{ name: 'state.npz', kind: 'state', step: 41, scores: oldScores, hotkeys: oldHotkeys }],
    });
    expect(written.files['state.npz']!.loaded.step).toBe(41);

    const elsewhere = await newDir('elsewhere-');
    for (const [how, extra, homeDir] of [
      ['default location', [] as string[], home],
      ['--neuron.import_state', ['--neuron.import_state', path.join(npzDir, 'state.npz')], elsewhere],
    ] as const) {
      const { code, rounds } = await net.runValidator({ argv: await defaultsArgv([...extra]), maxRounds: 1, signal: deadline(), homeDir });
      expect(code, how).toBe(0);
      const [r] = rounds as [LocalRound];
      expect(r.report.failedSteps, how).toEqual([]);
      expect(r.state.step, how).toBe(42);
      expect(r.report.notes, how).toContain(`replaced hotkeys reset to 0: uids ${replaced}`);
      const rewards = r.report.rows.map((row) => row.reward ?? 0);
      const next = runPythonOracle<{ files: Record<string, { ema: number[] }> }>(pythonPath, path.join(REPO_ROOT, 'test/interop/npz_state.py'), {
        dir: npzDir,
        files: [{ name: 'state.npz', kind: 'keep', next_round: { hotkeys: mg.hotkeys, rewards, alpha: 0.3 } }],
      });
      expect(r.state.scores, how).toEqual(next.files['state.npz']!.ema);
      // Continued, not restarted: an honest miner's EMA is above what one round from 0 gives (α·1).
      expect(r.state.scores[net.uids.miner3!]!, how).toBeGreaterThan(0.3);
      expect(r.state.scores[replaced]!, how).toBe(Math.fround(Math.fround(0.3) * Math.fround(rewards[replaced]!))); // from 0
    }
  });

  test('the subnet raises WeightsVersionKey above ours: refused before sending, /health names the flag; with the flag the weights go out', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    const { net } = fx;
    await setChainKey(net.chain.endpoint, net.netuid, 2012);
    try {
      const rowBefore = await net.weightsOnChain();
      const statusPort = await freeLoopbackPort();
      let health: Promise<{ status: string; parts: Record<string, { ok: boolean; detail?: string }> }> | null = null;
      const refused = await net.runValidator({
        argv: [...(await defaultsArgv()), '--metrics.port', String(statusPort)],
        maxRounds: 2,
        signal: deadline(),
        onRound: (r) => {
          if (r.round === 1) health = fetch(`http://127.0.0.1:${statusPort}/health`).then((res) => res.json() as never);
        },
      });
      expect(refused.code).toBe(0);
      for (const r of refused.rounds) {
        expect(r.report.failedSteps, `round ${r.round}`).toEqual([
          {
            step: 'weights',
            error:
              "VERSION_KEY_TOO_LOW: weights not sent: version key 2011 is below the subnet's WeightsVersionKey 2012; set --neuron.weights_version (env WEIGHTS_VERSION_KEY) to 2012 or run the preset of the Python release the subnet expects",
          },
        ]);
        expect(r.report.submitted).toBeNull();
      }
      const h = await health!;
      expect(h.status).toBe('degraded');
      expect(h.parts.weights).toEqual({ ok: false, detail: expect.stringContaining('set --neuron.weights_version (env WEIGHTS_VERSION_KEY) to 2012') });
      await net.chain.newBlock();
      expect(await net.weightsOnChain()).toEqual(rowBefore);

      const allowed = await net.runValidator({ argv: await defaultsArgv(['--neuron.weights_version', '2012']), maxRounds: 1, signal: deadline() });
      expect(allowed.code).toBe(0);
      expect(allowed.rounds[0]!.report.failedSteps).toEqual([]);
      expect(allowed.rounds[0]!.report.submitted).toMatchObject({ kind: 'set' });
    } finally {
      await setChainKey(net.chain.endpoint, net.netuid, CHAIN_KEY);
    }
  });
});

interface DendriteRun {
  validator: string;
  probes: { id: string; answers: Record<string, Record<string, { type: string; value: unknown }>>; consensus: { reachable: boolean; status: number } | null }[];
  rewards: Record<string, number>;
  checks: Record<string, { status_code: number; status_message: string }>;
}

function runScript(python: string, script: string, job: unknown): Promise<DendriteRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(python, [path.join(REPO_ROOT, script)], { cwd: REPO_ROOT, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
    children.push(child);
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill(), 120_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('@@HS58 '));
      if (!line) reject(new Error(`${script} failed (${code}): ${stderr.slice(-3000)}`));
      else resolve(JSON.parse(line.slice(7)) as DendriteRun);
    });
    child.stdin.end(`${JSON.stringify(job)}\n`);
  });
}
