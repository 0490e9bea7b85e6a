import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bip39ToMiniSecret } from '@polkadot/wasm-crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WalletError } from '../../src/wallet/errors.js';
import { COLDKEY_IGNORED_NOTICE, loadColdkeyPub, loadHotkey, loadWallet } from '../../src/wallet/hotkey.js';
import { initCrypto, publicKeyToSs58, sr25519KeypairFromSeed, verifySr25519 } from '../../src/wallet/sr25519.js';
import { hex, schnorrkelFromPolkadotSecret, tempDir } from '../support/wallet-fixtures.js';

const PHRASE = 'bottom drive obey lake curtain smoke basket hold race lonely fit walk';
const ADDRESS = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV';
const OTHER_ADDRESS = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY'; // //Alice

let root: string;
let cleanup: () => Promise<void>;
let seed: Uint8Array;
let keypair: ReturnType<typeof sr25519KeypairFromSeed>;

async function putFile(rel: string, content: string | object): Promise<string> {
  const file = path.join(root, rel);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

async function expectWalletError(p: Promise<unknown>, code: string): Promise<WalletError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WalletError);
  expect((err as WalletError).code).toBe(code);
  return err as WalletError;
}

beforeAll(async () => {
  ({ dir: root, cleanup } = await tempDir('hs58-wallet-'));
  await initCrypto();
  seed = bip39ToMiniSecret(PHRASE, '');
  keypair = sr25519KeypairFromSeed(seed);
});
afterAll(() => cleanup());

describe('loadHotkey', () => {
  test('the three secret forms load to the same key; sign verifies', async () => {
    const pub = { accountId: hex(keypair.publicKey), publicKey: hex(keypair.publicKey), ss58Address: ADDRESS };
    const privateKey = hex(schnorrkelFromPolkadotSecret(keypair.secretKey));
    await putFile('w/hotkeys/phrase', { ...pub, secretPhrase: PHRASE, secretSeed: hex(seed), privateKey, cryptoType: 1 });
    await putFile('w/hotkeys/seed', { ...pub, secretSeed: hex(seed) });
    await putFile('w/hotkeys/priv', { privateKey, ss58Address: ADDRESS });
    const forms = { phrase: 'secretPhrase', seed: 'secretSeed', priv: 'privateKey' } as const;
    for (const [name, from] of Object.entries(forms)) {
      const hk = await loadHotkey({ walletPath: root, name: 'w', hotkey: name });
      expect(hk.address).toBe(ADDRESS);
      expect(hk.derivedFrom).toBe(from);
      expect(hk.pair.address).toBe(ADDRESS);
      expect(hk.source).toBe(path.join(root, 'w', 'hotkeys', name));
      const sig = hk.sign('hello');
      expect(verifySr25519('hello', sig, ADDRESS)).toBe(true);
      expect(hk.pair.verify('hello', sig, hk.publicKey)).toBe(true);
      expect(verifySr25519('hello', hk.pair.sign('hello'), ADDRESS)).toBe(true);
      // nothing serializable carries the secret
      expect(JSON.stringify(hk)).not.toContain(privateKey.slice(2, 20));
    }
  });

  test('secretPhrase wins over a (wrong) secretSeed, as in bittensor_wallet', async () => {
    await putFile('w/hotkeys/order', { secretPhrase: PHRASE, secretSeed: hex(new Uint8Array(32).fill(1)), ss58Address: ADDRESS });
    expect((await loadHotkey({ walletPath: root, name: 'w', hotkey: 'order' })).address).toBe(ADDRESS);
  });

  test('a mismatching ss58Address or publicKey fails naming the file and both addresses, never the secret', async () => {
    const file = await putFile('w/hotkeys/bad', { secretPhrase: PHRASE, ss58Address: OTHER_ADDRESS });
    const err = await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'bad' }), 'WALLET_ADDRESS_MISMATCH');
    expect(err.message).toContain(file);
    expect(err.message).toContain(ADDRESS);
    expect(err.message).toContain(OTHER_ADDRESS);
    expect(err.message).not.toContain('bottom drive');

    const other = sr25519KeypairFromSeed(new Uint8Array(32).fill(8));
    await putFile('w/hotkeys/badpk', { secretSeed: hex(seed), publicKey: hex(other.publicKey) });
    const e2 = await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'badpk' }), 'WALLET_ADDRESS_MISMATCH');
    expect(e2.message).not.toContain(hex(seed).slice(2));
  });

  test('a privateKey that does not belong to its public key is refused', async () => {
    const other = sr25519KeypairFromSeed(new Uint8Array(32).fill(8));
    await putFile('w/hotkeys/privbad', { privateKey: hex(schnorrkelFromPolkadotSecret(other.secretKey)), ss58Address: ADDRESS });
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'privbad' }), 'WALLET_ADDRESS_MISMATCH');
    await putFile('w/hotkeys/privnopub', { privateKey: hex(schnorrkelFromPolkadotSecret(keypair.secretKey)) });
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'privnopub' }), 'WALLET_INVALID');
  });

  test('BT_HOTKEY_B64 is decoded in memory and wins over the file', async () => {
    const b64 = Buffer.from(JSON.stringify({ secretSeed: hex(seed), ss58Address: ADDRESS })).toString('base64');
    const hk = await loadHotkey({ walletPath: path.join(root, 'nowhere'), name: 'x', hotkey: 'y', hotkeyB64: b64 });
    expect(hk.address).toBe(ADDRESS);
    expect(hk.source).toBe('BT_HOTKEY_B64');
    // URL-safe alphabet and line breaks are tolerated
    const wrapped = `${b64.slice(0, 20)}\n${b64.slice(20)}`.replace(/\+/g, '-').replace(/\//g, '_');
    expect((await loadHotkey({ walletPath: root, name: 'x', hotkey: 'y', hotkeyB64: wrapped })).address).toBe(ADDRESS);
    await expectWalletError(loadHotkey({ walletPath: root, name: 'x', hotkey: 'y', hotkeyB64: 'not base64!' }), 'WALLET_BAD_BASE64');
    const raw = await expectWalletError(loadHotkey({ walletPath: root, name: 'x', hotkey: 'y', hotkeyB64: '{"secretSeed":"0x00"}' }), 'WALLET_BAD_BASE64');
    expect(raw.message).toContain('hs58 wallet encode');
    const notJson = Buffer.from('hello').toString('base64');
    const e = await expectWalletError(loadHotkey({ walletPath: root, name: 'x', hotkey: 'y', hotkeyB64: notJson }), 'WALLET_INVALID');
    expect(e.message).toContain('BT_HOTKEY_B64');
  });

  test('encrypted hotkeys are refused with a clear message', async () => {
    for (const prefix of ['$NACL', '$ANSIBLE_VAULT;1.1;AES256', 'gAAAAABk']) {
      await putFile('w/hotkeys/enc', `${prefix}${'x'.repeat(80)}`);
      const err = await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'enc' }), 'WALLET_ENCRYPTED');
      expect(err.message).toMatch(/must be unencrypted/);
    }
    const b64 = Buffer.from(`$NACL${'y'.repeat(60)}`).toString('base64');
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'zz', hotkeyB64: b64 }), 'WALLET_ENCRYPTED');
  });

  test('missing file: the error names the path and both fixes', async () => {
    const err = await expectWalletError(loadHotkey({ walletPath: root, name: 'none', hotkey: 'hk' }), 'WALLET_FILE_MISSING');
    expect(err.message).toContain(path.join(root, 'none', 'hotkeys', 'hk'));
    expect(err.message).toContain('btcli');
    expect(err.message).toContain('BT_HOTKEY_B64');
  });

  test('pub-only files, junk and unsafe names are typed errors', async () => {
    await putFile('w/hotkeys/pubonly', { accountId: hex(keypair.publicKey), publicKey: hex(keypair.publicKey), ss58Address: ADDRESS });
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'pubonly' }), 'WALLET_NO_SECRET');
    await putFile('w/hotkeys/junk', 'not json at all');
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'junk' }), 'WALLET_INVALID');
    await putFile('w/hotkeys/badphrase', { secretPhrase: 'one two three', ss58Address: ADDRESS });
    const e = await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'badphrase' }), 'WALLET_INVALID');
    expect(e.message).not.toContain('one two three');
    await putFile('w/hotkeys/shortseed', { secretSeed: '0x1234', ss58Address: ADDRESS });
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'shortseed' }), 'WALLET_INVALID');
    await putFile('w/hotkeys/ed', { secretSeed: hex(seed), cryptoType: 0 });
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: 'ed' }), 'WALLET_INVALID');
    await expectWalletError(loadHotkey({ walletPath: root, name: '..', hotkey: 'x' }), 'WALLET_INVALID');
    await expectWalletError(loadHotkey({ walletPath: root, name: 'w', hotkey: '../../etc/passwd' }), 'WALLET_INVALID');
  });
});

describe('loadColdkeyPub and loadWallet', () => {
  test('coldkeypub from file (JSON or bare address) or base64; mismatch inside the file is refused', async () => {
    const cold = sr25519KeypairFromSeed(new Uint8Array(32).fill(21));
    const coldAddress = publicKeyToSs58(cold.publicKey);
    const json = { accountId: hex(cold.publicKey), publicKey: hex(cold.publicKey), ss58Address: coldAddress };
    await putFile('c1/coldkeypub.txt', json);
    expect((await loadColdkeyPub({ walletPath: root, name: 'c1' })).address).toBe(coldAddress);
    await putFile('c2/coldkeypub.txt', coldAddress);
    expect((await loadColdkeyPub({ walletPath: root, name: 'c2' })).address).toBe(coldAddress);
    const b64 = Buffer.from(JSON.stringify(json)).toString('base64');
    const fromEnv = await loadColdkeyPub({ walletPath: root, name: 'absent', coldkeypubB64: b64 });
    expect(fromEnv).toMatchObject({ address: coldAddress, source: 'BT_COLDKEYPUB_B64' });
    await putFile('c3/coldkeypub.txt', { ...json, ss58Address: ADDRESS });
    await expectWalletError(loadColdkeyPub({ walletPath: root, name: 'c3' }), 'WALLET_ADDRESS_MISMATCH');
    const missing = await expectWalletError(loadColdkeyPub({ walletPath: root, name: 'c4' }), 'WALLET_FILE_MISSING');
    expect(missing.message).toContain('BT_COLDKEYPUB_B64');
  });

  test('a supplied coldkey secret is ignored with a notice', async () => {
    await putFile('full/hotkeys/h', { secretSeed: hex(seed), ss58Address: ADDRESS });
    const plain = await loadWallet({ walletPath: root, name: 'full', hotkey: 'h' });
    expect(plain.notices).toEqual([]);
    expect(plain.coldkeyPub).toBeNull();

    await putFile('full/coldkey', '$NACL...');
    await putFile('full/coldkeypub.txt', ADDRESS);
    const withCold = await loadWallet({ walletPath: root, name: 'full', hotkey: 'h', coldkeyB64: 'JE5BQ0w=' });
    expect(withCold.hotkey.address).toBe(ADDRESS);
    expect(withCold.coldkeyPub?.address).toBe(ADDRESS);
    expect(withCold.notices).toHaveLength(2);
    for (const n of withCold.notices) expect(n).toContain(COLDKEY_IGNORED_NOTICE);
  });
});
