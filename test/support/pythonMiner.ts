import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freeLoopbackPort } from '../../localnet/ports.js';
import type { LocalNetwork } from '../../localnet/network.js';
import { exited, lineReader, lineWith } from './childLines.js';
import { REPO_ROOT } from './programs.js';

/** A miner on the real Python bittensor SDK (test/interop/python_miner.py) serving a hotkey of the local network. */
export interface PythonMiner<Ready, Stats = Record<string, unknown>> {
  uid: number;
  child: ChildProcess;
  /** Its `ready` message (hotkey, wallet, synapses, …). */
  ready: Ready;
  /** Its counters of requests and answers. */
  stats(): Promise<Stats>;
  stop(): Promise<void>;
}

/**
 * Starts the Python miner for `hotkeyName` (one of the network's extra hotkeys) on a free loopback port, waits for
 * it to be ready and serves its axon on chain. `probeBase` is the provider URL it reports; `env` adds to its environment
 * (e.g. POLYGON_PRIVATE_KEY, HS58_PY_MINER_SYNAPSES).
 */
export async function startPythonMiner<Ready extends { hotkey: string }, Stats = Record<string, unknown>>(
  net: LocalNetwork,
  o: { python: string; hotkeyName: string; probeBase: string; env?: Record<string, string> },
): Promise<PythonMiner<Ready, Stats>> {
  const at = net.axonAddress(o.hotkeyName);
  const port = await freeLoopbackPort();
  const child = spawn(
    o.python,
    [
      path.join(REPO_ROOT, 'test/interop/python_miner.py'),
      net.walletPath,
      net.walletName,
      o.hotkeyName,
      String(port),
      at.ip,
      net.hotkeys.validator!,
      o.probeBase,
    ],
    { cwd: REPO_ROOT, env: { ...process.env, ...o.env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  child.stderr!.on('data', (d: Buffer) => stderr.push(d.toString()));
  const out = lineReader(child);
  const readyLine = await out.waitFor(lineWith('@@HS58 {"event": "ready"'), 'the Python miner').catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}\nstderr: ${stderr.join('').slice(-2000)}`);
  });
  const ready = JSON.parse(readyLine.slice(7)) as Ready;
  await at.serve(port);
  return {
    uid: net.uids[o.hotkeyName]!,
    child,
    ready,
    async stats() {
      const from = out.lines.length;
      child.stdin!.write('stats\n');
      return JSON.parse((await out.waitFor(lineWith('@@HS58 {"event": "stats"', from), 'the Python miner stats')).slice(7)) as Stats;
    },
    async stop() {
      child.stdin!.end('stop\n');
      await exited(child).catch(() => child.kill('SIGKILL'));
    },
  };
}
