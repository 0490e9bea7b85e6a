import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { walletCommand } from '../../src/cli/commands/wallet.js';
import { WalletError } from '../../src/wallet/errors.js';
import { createWalletFiles, encodeWalletEnv, writeWalletFiles } from '../../src/wallet/files.js';
import { loadColdkeyPub, loadHotkey, walletPaths } from '../../src/wallet/hotkey.js';
import { initCrypto, verifySr25519 } from '../../src/wallet/sr25519.js';
import { captureContext, tempDir } from '../support/wallet-fixtures.js';

let root: string;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('hs58-walletfiles-'));
  await initCrypto();
});
afterAll(() => cleanup());

const mode = async (p: string) => (await stat(p)).mode & 0o777;
const envOf = (lines: string) =>
  Object.fromEntries(
    lines
      .trim()
      .split('\n')
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

describe('hs58 wallet create | encode | import', () => {
  test('create → encode → import elsewhere: same keys, 0600 files, 0700 dirs', async () => {
    const src = path.join(root, 'src');
    const created = captureContext(['create', '--wallet.name', 'miner1', '--wallet.hotkey', 'hk', '--wallet.path', src]);
    expect(await walletCommand(created.ctx)).toBe(0);
    const [hotLine, coldLine] = created.stdout().trim().split('\n');
    const hotkeyAddress = hotLine!.split(/\s+/)[1]!;
    const coldkeyAddress = coldLine!.split(/\s+/)[1]!;
    expect(created.stderr()).toMatch(/unencrypted/);
    expect(created.stdout()).not.toMatch(/0x[0-9a-f]{64}/); // only addresses are printed
    const loaded = await loadHotkey({ walletPath: src, name: 'miner1', hotkey: 'hk' });
    expect(loaded.address).toBe(hotkeyAddress);
    expect(loaded.derivedFrom).toBe('secretPhrase');
    const keyfile = JSON.parse(await readFile(walletPaths({ walletPath: src, name: 'miner1', hotkey: 'hk' }).hotkey, 'utf8'));
    expect(Object.keys(keyfile).sort()).toEqual(['accountId', 'cryptoType', 'privateKey', 'publicKey', 'secretPhrase', 'secretSeed', 'ss58Address']);
    // every secret form in the written file gives the same key (privateKey is in schnorrkel form)
    for (const only of ['secretSeed', 'privateKey'] as const) {
      const b64 = Buffer.from(JSON.stringify({ [only]: keyfile[only], ss58Address: keyfile.ss58Address })).toString('base64');
      expect((await loadHotkey({ walletPath: src, name: 'x', hotkey: 'y', hotkeyB64: b64 })).address).toBe(hotkeyAddress);
    }

    const encoded = captureContext(['encode', '--wallet.name', 'miner1', '--wallet.hotkey', 'hk', '--wallet.path', src]);
    expect(await walletCommand(encoded.ctx)).toBe(0);
    const env = envOf(encoded.stdout());
    expect(Object.keys(env)).toEqual(['BT_HOTKEY_B64', 'BT_COLDKEYPUB_B64', 'WALLET_NAME', 'HOTKEY_NAME']);
    expect(env).toMatchObject({ WALLET_NAME: 'miner1', HOTKEY_NAME: 'hk' });

    const dst = path.join(root, 'dst');
    const imported = captureContext(['import'], { ...env, BT_WALLET_PATH: dst });
    expect(await walletCommand(imported.ctx)).toBe(0);
    expect(imported.stdout()).toContain(`hotkey  ${hotkeyAddress}`);
    expect(imported.stdout()).toContain(`coldkey ${coldkeyAddress}`);
    const p = walletPaths({ walletPath: dst, name: 'miner1', hotkey: 'hk' });
    for (const file of [p.hotkey, p.hotkeyPub, p.coldkeyPubTxt, p.coldkeyPub]) expect(await mode(file)).toBe(0o600);
    for (const dir of [dst, p.dir, p.hotkeysDir]) expect(await mode(dir)).toBe(0o700);
    await expect(stat(p.coldkey)).rejects.toThrow(); // not asked for
    expect(await readFile(p.hotkey)).toEqual(await readFile(walletPaths({ walletPath: src, name: 'miner1', hotkey: 'hk' }).hotkey));
    const again = await loadHotkey({ walletPath: dst, name: 'miner1', hotkey: 'hk' });
    expect(verifySr25519('x', again.sign('x'), hotkeyAddress)).toBe(true);
    expect((await loadColdkeyPub({ walletPath: dst, name: 'miner1' })).address).toBe(coldkeyAddress);
  });

  test('create keeps an existing coldkey and refuses to replace a hotkey without --overwrite', async () => {
    const walletPath = path.join(root, 'two');
    const first = await createWalletFiles({ walletPath, name: 'w', hotkey: 'a' });
    expect(first.createdColdkey).toBe(true);
    const second = await createWalletFiles({ walletPath, name: 'w', hotkey: 'b' });
    expect(second.createdColdkey).toBe(false);
    expect(second.coldkeyAddress).toBe(first.coldkeyAddress);
    expect(second.hotkeyAddress).not.toBe(first.hotkeyAddress);
    const again = captureContext(['create', '--wallet.name', 'w', '--wallet.hotkey', 'a', '--wallet.path', walletPath]);
    await expect(walletCommand(again.ctx)).rejects.toMatchObject({ code: 'WALLET_FILE_EXISTS' });
    const forced = await createWalletFiles({ walletPath, name: 'w', hotkey: 'a', overwrite: true });
    expect(forced.hotkeyAddress).not.toBe(first.hotkeyAddress);
  });

  test('import: a missing variable exits 2 naming it; nothing is written', async () => {
    const walletPath = path.join(root, 'missing');
    const run = captureContext(['import'], { BT_WALLET_PATH: walletPath, BT_COLDKEYPUB_B64: 'eA==' });
    expect(await walletCommand(run.ctx)).toBe(2);
    expect(run.stderr()).toContain('BT_HOTKEY_B64 is not set');
    expect(run.stderr()).not.toContain('BT_COLDKEYPUB_B64 is not set');
    await expect(stat(walletPath)).rejects.toThrow();
    const none = captureContext(['import'], { BT_WALLET_PATH: walletPath });
    expect(await walletCommand(none.ctx)).toBe(2);
    expect(none.stderr()).toContain('BT_COLDKEYPUB_B64 is not set');
  });

  test('import validates before writing: an encrypted or corrupt hotkey writes nothing', async () => {
    const walletPath = path.join(root, 'invalid');
    const cold = Buffer.from('5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV').toString('base64');
    for (const [hotkeyB64, code] of [
      [Buffer.from(`$NACL${'a'.repeat(50)}`).toString('base64'), 'WALLET_ENCRYPTED'],
      [Buffer.from('{"secretSeed":"0x12"}').toString('base64'), 'WALLET_INVALID'],
      ['%%%', 'WALLET_BAD_BASE64'],
    ] as const) {
      const err = await writeWalletFiles({ walletPath, name: 'w', hotkey: 'h', hotkeyB64, coldkeypubB64: cold }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WalletError);
      expect((err as WalletError).code).toBe(code);
    }
    await expect(stat(walletPath)).rejects.toThrow();
  });

  test('BT_COLDKEY_B64 is written with a notice; encode --with-coldkey warns', async () => {
    const walletPath = path.join(root, 'cold');
    const made = await createWalletFiles({ walletPath, name: 'w', hotkey: 'h' });
    const env = envOf((await encodeWalletEnv({ walletPath, name: 'w', hotkey: 'h', withColdkey: true })).lines.join('\n'));
    expect(Object.keys(env)).toContain('BT_COLDKEY_B64');
    const enc = captureContext(['encode', '--wallet.name', 'w', '--wallet.hotkey', 'h', '--wallet.path', walletPath, '--with-coldkey']);
    expect(await walletCommand(enc.ctx)).toBe(0);
    expect(enc.stderr()).toMatch(/warning: BT_COLDKEY_B64 .*not need/);

    const dst = path.join(root, 'cold-dst');
    const res = await writeWalletFiles({
      walletPath: dst,
      name: 'w',
      hotkey: 'h',
      hotkeyB64: env.BT_HOTKEY_B64!,
      coldkeypubB64: env.BT_COLDKEYPUB_B64!,
      coldkeyB64: env.BT_COLDKEY_B64!,
    });
    expect(res.coldkeyAddress).toBe(made.coldkeyAddress);
    expect(res.notices.join()).toMatch(/do not need the coldkey/);
    expect(await mode(path.join(dst, 'w', 'coldkey'))).toBe(0o600);
  });

  test('import overwrites an older file (restart of a container) and fixes loose modes', async () => {
    const walletPath = path.join(root, 'over');
    const a = await createWalletFiles({ walletPath: path.join(root, 'over-src'), name: 'w', hotkey: 'h' });
    const env = envOf((await encodeWalletEnv({ walletPath: path.join(root, 'over-src'), name: 'w', hotkey: 'h' })).lines.join('\n'));
    const p = walletPaths({ walletPath, name: 'w', hotkey: 'h' });
    await writeWalletFiles({ walletPath, name: 'w', hotkey: 'h', hotkeyB64: env.BT_HOTKEY_B64!, coldkeypubB64: env.BT_COLDKEYPUB_B64! });
    await writeFile(p.hotkey, 'old', { mode: 0o644 });
    await chmod(p.dir, 0o755);
    await writeWalletFiles({ walletPath, name: 'w', hotkey: 'h', hotkeyB64: env.BT_HOTKEY_B64!, coldkeypubB64: env.BT_COLDKEYPUB_B64! });
    expect(await mode(p.hotkey)).toBe(0o600);
    expect(await mode(p.dir)).toBe(0o700);
    expect((await loadHotkey({ walletPath, name: 'w', hotkey: 'h' })).address).toBe(a.hotkeyAddress);
  });

  test('usage errors exit 2', async () => {
    expect(await walletCommand(captureContext([]).ctx)).toBe(2);
    expect(await walletCommand(captureContext(['frobnicate']).ctx)).toBe(2);
    expect(await walletCommand(captureContext(['--help']).ctx)).toBe(0);
    expect(await walletCommand(captureContext(['encode', '--help']).ctx)).toBe(0);
  });
});
