/**
 * `hs58 rehearse` against a local network that stands in for finney (the real subtensor runtime in
 * Chopsticks, TypeScript miner daemons, local providers behind a registry): Chopsticks forks that
 * chain at its head, the validator runs one round against the fork with the operator's hotkey and
 * flags, and the verdict is read back from the fork. The original chain never sees the weights:
 * its stored row and the hotkey's nonce stay as they were, and the operator's state folder is
 * not touched. Axons are on chain at their loopback addresses (127.0.0.N), so the validator reaches
 * them with no address mapping, in this process and through the real `hs58` command alike.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiPromise, WsProvider } from '@polkadot/api';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { describe, expect, test } from 'vitest';
import { startRehearsal } from '../../neurons/rehearse.js';
import { createSubtensor } from '../../src/chain/subtensor/index.js';
import { adminCalls, sudo } from '../../localnet/sudo.js';
import { runCli } from '../../src/cli/main.js';
import type { Verdict } from '../../src/rehearse/verdict.js';
import { loadHotkey } from '../../src/wallet/hotkey.js';
import { runCommand } from '../support/cli.js';
import { capturingLogger } from '../support/localChain.js';
import { REPO_ROOT } from '../support/programs.js';
import { validatorStateDir, withLocalNetwork } from '../support/validatorNet.js';

const EPOCH_LENGTH = 5;
const RAISED_KEY = 5000;

const fx = withLocalNetwork({
  miners: 2,
  claimsUsdc: [],
  withoutWallet: [0, 1],
  providers: [
    { id: 'alpha', behaviour: 'healthy' },
    { id: 'omega', behaviour: 'down' },
  ],
  axonAddressing: 'loopback',
  blockIntervalMs: 1000,
});

/** The operator's settings as `hs58 validator` takes them, pointed at the local chain that stands in for finney. */
async function operatorArgv(): Promise<{ argv: string[]; statePath: string }> {
  const statePath = await mkdtemp(path.join(fx.net.workDir, 'operator-state-'));
  return { argv: fx.net.validatorArgv({ preset: undefined, statePath, epochLength: EPOCH_LENGTH, timeoutSec: 4 }), statePath };
}

/** `hs58 rehearse` in this process, its validator's log lines captured. */
async function rehearse(argv: string[]) {
  const { logger, lines } = capturingLogger('info');
  const run = await runCommand((ctx) => startRehearsal(ctx, { logger }), argv);
  return { ...run, logLines: lines };
}

/** `node bin/hs58.js rehearse …` as an operator runs it (asynchronously: the chain it forks runs in this process). */
function rehearseCommand(argv: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { LOG_LEVEL: _ignored, ...inherited } = process.env;
  const child = spawn(process.execPath, ['bin/hs58.js', 'rehearse', ...argv], {
    cwd: REPO_ROOT,
    env: { ...inherited, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** Every file under `dir` with its bytes and mtime. */
async function snapshot(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const file = path.join(entry.parentPath, entry.name);
    const s = await stat(file);
    out[path.relative(dir, file)] = entry.isFile() ? `${s.mtimeMs} ${await readFile(file, 'utf8')}` : 'dir';
  }
  return out;
}

async function withOriginalApi<T>(fn: (api: ApiPromise) => Promise<T>): Promise<T> {
  const api = await ApiPromise.create({ provider: new WsProvider(fx.net.chain.endpoint), noInitWarn: true });
  try {
    return await fn(api);
  } finally {
    await api.disconnect();
  }
}

const nonceOf = (address: string) => withOriginalApi(async (api) => ((await api.query.system!.account!(address)).toJSON() as { nonce: number }).nonce);

describe('hs58 rehearse', () => {
  test('a round against a fork of the chain: the fork accepts the weights, the original chain and the operator state stay untouched', async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    const { net } = fx;
    const validator = net.hotkeys.validator!;
    // The operator's live validator already set a row on the real chain: only miner1.
    const { pair } = await loadHotkey({ walletPath: net.walletPath, name: net.walletName, hotkey: 'validator' });
    const live = await createSubtensor({ endpoint: net.chain.endpoint, hotkey: pair, logger: capturingLogger().logger });
    try {
      await live.setWeights({ netuid: net.netuid, uids: [net.uids.miner1!], weights: [65535], versionKey: 2011 });
    } finally {
      await live.close();
    }
    const rowBefore = await net.weightsOnChain();
    expect(rowBefore).toEqual(new Map([[net.uids.miner1!, 65535]]));
    const nonceBefore = await nonceOf(validator);
    const { argv, statePath } = await operatorArgv();
    const stateDir = validatorStateDir(net, statePath);
    await mkdir(stateDir, { recursive: true });
    await writeFile(path.join(stateDir, 'state.json'), '{"operator":"do not touch"}\n');
    await writeFile(path.join(stateDir, 'commit-reveal.json'), '[]\n');
    const stateBefore = await snapshot(statePath);

    const r = await rehearse(argv);
    expect(r.code, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out.split('\n')[0]).toBe(`hs58 rehearse: ACCEPTED, the fork took the weights (nothing was sent to ${net.chain.endpoint})`);
    expect(out).toMatch(/preset {6}oracle-v2\.1 \(default: the live Subnet 58 validators run HS58-subnet 2\.1\.1/);
    expect(out).toMatch(/version key 2011, the oracle-v2\.1 preset's .*; the subnet's WeightsVersionKey: 0/);
    expect(out).toMatch(/extrinsic {3}SubtensorModule\.set_weights in fork block \d/);
    expect(out).toMatch(/outcome {5}accepted: .*SubtensorModule\.WeightsSet/);
    expect(out).toMatch(/fee {9}\d+\.\d{9} τ \(TransactionFeePaid; tip 0\.000000000 τ\)/);
    expect(out).toContain(`hotkey      ${validator}, uid ${net.uids.validator} on subnet ${net.netuid}, validator permit`);
    expect(out).toMatch(/what would have failed:\n {2}nothing/);

    // The weight table lists both miners (the healthy provider answered through both: equal top
    // weights), and the fork stores what was sent.
    for (const m of ['miner1', 'miner2']) {
      const row = new RegExp(`^  ${net.uids[m]} +${net.hotkeys[m]!.slice(0, 18)} +0\\.\\d{6} +(\\d+) +(\\d+)$`, 'm').exec(out);
      expect(row, `${m} in\n${out}`).not.toBeNull();
      expect(Number(row![1])).toBe(65535);
      expect(Number(row![2])).toBe(65535);
    }

    // The validator was only ever given the fork: a loopback endpoint that is not the original chain.
    const forkEndpoint = /the fork ran on (ws:\/\/127\.0\.0\.1:\d+)/.exec(out)![1]!;
    expect(forkEndpoint).not.toBe(net.chain.endpoint);
    const running = r.logLines.filter((l) => l.msg === 'validator running');
    expect(running.map((l) => l.endpoint)).toEqual([forkEndpoint]);

    // Nothing reached the original chain, and the operator's state folder is as it was.
    expect(await net.weightsOnChain()).toEqual(rowBefore);
    expect(await nonceOf(validator)).toBe(nonceBefore);
    expect(await snapshot(statePath)).toEqual(stateBefore);
  });

  test("the hs58 command, behind a proxy that refuses everything: a version key below the chain's WeightsVersionKey is exit 1, nothing sent, the verdict names the flag to set", async (ctx) => {
    if (fx.skipReason) return ctx.skip(fx.skipReason);
    const { net } = fx;
    await cryptoWaitReady();
    await withOriginalApi((api) =>
      sudo(api, new Keyring({ type: 'sr25519' }).addFromUri('//Alice'), adminCalls.weightsVersionKey(api, net.netuid, RAISED_KEY)),
    );
    const rowBefore = await net.weightsOnChain();
    const { argv } = await operatorArgv();

    // Chopsticks installs a process-wide proxy agent; the rehearsal, like the validator, uses no proxy.
    const proxy = 'http://127.0.0.1:9';
    const r = await rehearseCommand([...argv, '--json'], { HTTP_PROXY: proxy, HTTPS_PROXY: proxy, HS58_ENV_FILE: path.join(net.workDir, 'no.env') });
    expect(r.code, r.stderr).toBe(1);
    const v = JSON.parse(r.stdout) as Verdict;
    expect(v.accepted).toBe(false);
    expect(v.scoring).toMatchObject({ preset: 'oracle-v2.1', versionKey: '2011', chainVersionKey: String(RAISED_KEY) });
    expect(v.extrinsic).toBeNull();
    expect(v.wouldHaveFailed.join('\n')).toMatch(
      new RegExp(
        `weights: .*version key 2011 is below the subnet's WeightsVersionKey ${RAISED_KEY}; set --neuron\\.weights_version \\(env WEIGHTS_VERSION_KEY\\) to ${RAISED_KEY}`,
      ),
    );
    // The round reached the miners and computed the weights it would have sent.
    expect(v.weights.map((w) => [w.uid, w.u16])).toEqual([net.uids.miner1!, net.uids.miner2!].sort((a, b) => a - b).map((uid) => [uid, 65535]));
    expect(await net.weightsOnChain()).toEqual(rowBefore);
  });

  test('bad flags: exit 2 with a message, nothing forked', async () => {
    const daemons = { rehearse: async () => (await import('../../neurons/rehearse.js')).runRehearse };
    const cli = (argv: string[]) => runCommand((ctx) => runCli(ctx, { daemons }), argv);
    const badBlock = await cli(['rehearse', '--rehearse.block', 'soon']);
    expect(badBlock.code).toBe(2);
    expect(badBlock.stderr).toBe('hs58 rehearse: --rehearse.block: "soon" is not valid; expected an integer from 0 to 9007199254740991.\n');
    const typo = await cli(['rehearse', '--rehearse.blok', '5']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown flag --rehearse.blok; did you mean --rehearse.block?');
    const worker = await cli(['rehearse', '--neuron.worker']);
    expect(worker.code).toBe(2);
    expect(worker.stderr).toContain('not a worker');
  });

  test('without Chopsticks installed: one line saying what to install, exit 2', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', './test/support/hide-packages.mjs', 'bin/hs58.js', 'rehearse', '--subtensor.chain_endpoint', 'ws://127.0.0.1:9'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, HS58_HIDE_PACKAGES: '@acala-network/chopsticks' },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toBe('hs58 rehearse: Chopsticks is not installed: npm install @acala-network/chopsticks@1.5\n');
    expect(r.stdout).toBe('');
  });
});
