/**
 * Our wallet code against the real bittensor_wallet (and eth_account) in the interop venv:
 * keyfiles both ways, sr25519 signatures both ways, the generation-A wallet proof both ways.
 * One Python process serves the whole file.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, test, type TestContext } from 'vitest';
import { walletCommand } from '../../src/cli/commands/wallet.js';
import { loadWallet } from '../../src/wallet/hotkey.js';
import { loadPolygonAccount, signWalletProof, verifyWalletProof, walletProofMessage } from '../../src/wallet/polygon.js';
import { initCrypto, verifySr25519 } from '../../src/wallet/sr25519.js';
import { REPO_ROOT, requireInteropPython } from '../support/programs.js';
import { captureContext, tempDir } from '../support/wallet-fixtures.js';

type Reply = Record<string, unknown> & { ok_: boolean; error?: string };

class PythonPeer {
  private readonly pending: { resolve: (r: Reply) => void; reject: (e: Error) => void }[] = [];
  private exited: Error | null = null;
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (line) => this.pending.shift()?.resolve(JSON.parse(line) as Reply));
    child.once('exit', (code) => {
      this.exited = new Error(`wallet_interop.py exited ${code}`);
      for (const p of this.pending.splice(0)) p.reject(this.exited);
    });
  }
  static start(python: string): PythonPeer {
    const child = spawn(python, [path.join(REPO_ROOT, 'test/interop/wallet_interop.py')], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.on('data', (d: Buffer) => process.stderr.write(`[wallet_interop.py] ${d.toString()}`));
    return new PythonPeer(child);
  }
  async call<T = Record<string, unknown>>(req: Record<string, unknown>): Promise<T> {
    if (this.exited) throw this.exited;
    const reply = await new Promise<Reply>((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.child.stdin.write(`${JSON.stringify(req)}\n`);
    });
    if (!reply.ok_) throw new Error(`python ${String(req.op)}: ${reply.error}`);
    return reply as T;
  }
  stop(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

const hexOf = (b: Uint8Array | string) => Buffer.from(b).toString('hex');
const MESSAGES = ['', 'hello', '1732260000000000000.5Dfh.5Grw.9b2f-uuid.a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a', 'ü 🚀'];

let peer: PythonPeer | null = null;
let root: string;
let cleanup: () => Promise<void> = async () => {};

function python(ctx: TestContext): PythonPeer | null {
  const { python: exe, reason } = requireInteropPython();
  if (reason || !exe) {
    ctx.skip(reason ?? 'no interop python');
    return null;
  }
  peer ??= PythonPeer.start(exe);
  return peer;
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('hs58-wallet-py-'));
  await initCrypto();
});
afterAll(async () => {
  peer?.stop();
  await cleanup();
});

describe('wallet ↔ bittensor_wallet (Python SDK)', () => {
  test('a wallet made by Python loads here with the same addresses; signatures verify both ways', async (ctx) => {
    const py = python(ctx);
    if (!py) return;
    const walletPath = path.join(root, 'py');
    const made = await py.call<{ hotkey: string; coldkey: string }>({ op: 'create', path: walletPath, name: 'pyw', hotkey: 'pyh' });
    const { hotkey, coldkeyPub, notices } = await loadWallet({ walletPath, name: 'pyw', hotkey: 'pyh' });
    expect(hotkey.address).toBe(made.hotkey);
    expect(hotkey.derivedFrom).toBe('secretPhrase');
    expect(coldkeyPub?.address).toBe(made.coldkey);
    expect(notices.join()).toContain('coldkey secret not needed'); // Python wrote a coldkey file

    for (const m of MESSAGES) {
      const ours = hexOf(hotkey.sign(m));
      expect((await py.call<{ ok: boolean }>({ op: 'verify', ss58: made.hotkey, message: hexOf(m), signature: ours })).ok).toBe(true);
      expect((await py.call<{ ok: boolean }>({ op: 'verify', ss58: made.hotkey, message: hexOf(`${m}!`), signature: ours })).ok).toBe(false);
      const theirs = (await py.call<{ signature: string }>({ op: 'sign', path: walletPath, name: 'pyw', hotkey: 'pyh', message: hexOf(m) })).signature;
      expect(verifySr25519(m, theirs, made.hotkey)).toBe(true);
      expect(verifySr25519(m, `0x${theirs}`, hotkey.publicKey)).toBe(true);
      expect(verifySr25519(`${m}!`, theirs, made.hotkey)).toBe(false);
      // the @polkadot/keyring pair (extrinsic signing) agrees with Python too
      expect((await py.call<{ ok: boolean }>({ op: 'verify', ss58: made.hotkey, message: hexOf(m), signature: hexOf(hotkey.pair.sign(m)) })).ok).toBe(true);
    }

    // secretSeed-only and privateKey-only files cut from Python's keyfile load to the same key
    const keyfile = JSON.parse(await readFile(path.join(walletPath, 'pyw', 'hotkeys', 'pyh'), 'utf8')) as Record<string, string>;
    const fromPrivate = await py.call<{ ss58: string; signature: string }>({ op: 'from_private_key', privateKey: keyfile.privateKey, message: hexOf('pk') });
    expect(fromPrivate.ss58).toBe(made.hotkey);
    for (const only of ['secretSeed', 'privateKey'] as const) {
      const dir = path.join(walletPath, `only-${only}`, 'hotkeys');
      await mkdir(dir, { recursive: true });
      await writeFile(path.join(dir, 'h'), JSON.stringify({ [only]: keyfile[only], ss58Address: keyfile.ss58Address }));
      const loaded = await loadWallet({ walletPath, name: `only-${only}`, hotkey: 'h' });
      expect(loaded.hotkey.address).toBe(made.hotkey);
      expect(loaded.hotkey.derivedFrom).toBe(only);
      const sig = hexOf(loaded.hotkey.sign('pk'));
      expect((await py.call<{ ok: boolean }>({ op: 'verify', ss58: made.hotkey, message: hexOf('pk'), signature: sig })).ok).toBe(true);
      expect(verifySr25519('pk', fromPrivate.signature, loaded.hotkey.publicKey)).toBe(true);
    }
  });

  test('`hs58 wallet create` and `import` write files Python loads', async (ctx) => {
    const py = python(ctx);
    if (!py) return;
    const walletPath = path.join(root, 'ours');
    const created = captureContext(['create', '--wallet.name', 'tsw', '--wallet.hotkey', 'tsh', '--wallet.path', walletPath]);
    expect(await walletCommand(created.ctx)).toBe(0);
    const [hot, cold] = created
      .stdout()
      .trim()
      .split('\n')
      .map((l) => l.split(/\s+/)[1]);
    expect(await py.call({ op: 'load', path: walletPath, name: 'tsw', hotkey: 'tsh' })).toMatchObject({ hotkey: hot, coldkey: cold });
    const theirs = (await py.call<{ signature: string }>({ op: 'sign', path: walletPath, name: 'tsw', hotkey: 'tsh', message: hexOf('x') })).signature;
    expect(verifySr25519('x', theirs, hot!)).toBe(true);
    // Python accepts our privateKey field (schnorrkel form) as the same key
    const keyfile = JSON.parse(await readFile(path.join(walletPath, 'tsw', 'hotkeys', 'tsh'), 'utf8')) as Record<string, string>;
    expect((await py.call<{ ss58: string }>({ op: 'from_private_key', privateKey: keyfile.privateKey, message: '' })).ss58).toBe(hot);

    const encoded = captureContext(['encode', '--wallet.name', 'tsw', '--wallet.hotkey', 'tsh', '--wallet.path', walletPath]);
    expect(await walletCommand(encoded.ctx)).toBe(0);
    const env = Object.fromEntries(
      encoded
        .stdout()
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const imported = path.join(root, 'imported');
    expect(await walletCommand(captureContext(['import'], { ...env, BT_WALLET_PATH: imported }).ctx)).toBe(0);
    expect(await py.call({ op: 'load', path: imported, name: 'tsw', hotkey: 'tsh' })).toMatchObject({ hotkey: hot, coldkey: cold });
  });

  test('wallet proof: ours recovers in eth_account, eth_account’s verifies here', async (ctx) => {
    const py = python(ctx);
    if (!py) return;
    const privateKey = '0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d'; // anvil dev account 1
    const account = loadPolygonAccount({ privateKey, expectedWallet: '0x70997970c51812dc3a010c7d01b50e0d17dc79c8' });
    for (const hotkey of ['5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV', '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY']) {
      const text = walletProofMessage(hotkey);
      const ours = await signWalletProof(account, hotkey);
      expect((await py.call<{ address: string }>({ op: 'eth_recover', text, proof: ours })).address).toBe(account.address);
      const theirs = (await py.call<{ proof: string }>({ op: 'eth_sign', text, privateKey })).proof;
      expect(theirs).not.toMatch(/^0x/); // the Python miner sends it without 0x
      expect(await verifyWalletProof({ hotkey, polygonWallet: account.address, proof: theirs })).toBe(true);
      expect(`0x${theirs}`).toBe(ours);
    }
  });
});
