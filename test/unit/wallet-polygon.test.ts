import { describe, expect, test } from 'vitest';
import { WalletError } from '../../src/wallet/errors.js';
import { loadPolygonAccount, signWalletProof, verifyWalletProof, walletProofMessage } from '../../src/wallet/polygon.js';

// anvil's first dev account: a public test key.
const KEY = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';
const ADDRESS = '0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266';
const OTHER = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const HOTKEY = '5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV';
// eth_account.Account.sign_message(encode_defunct(text='Bittensor Subnet 58 Miner: ' + HOTKEY), KEY).signature.hex(),
// as the Python miner produces it (no 0x); the e2e test re-derives such proofs live.
const PYTHON_PROOF = '5c7228e371344835f5e66ee82027f157f2f60fdd5f6e50e54bd242bb5cdafd7b249b17534002d7722206f574abd01a72208a60ff4328f227dad1a5e5376df88d1b';

function catchErr(fn: () => unknown): WalletError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WalletError);
    return e as WalletError;
  }
  throw new Error('expected a throw');
}

describe('Polygon wallet proof', () => {
  test('the key loads, POLYGON_WALLET matches in any case, 0x optional', () => {
    expect(loadPolygonAccount({ privateKey: KEY }).address).toBe(ADDRESS);
    expect(loadPolygonAccount({ privateKey: KEY.slice(2), expectedWallet: ADDRESS.toLowerCase() }).address).toBe(ADDRESS);
    expect(loadPolygonAccount({ privateKey: ` ${KEY.toUpperCase().replace('0X', '0x')} `, expectedWallet: ADDRESS }).address).toBe(ADDRESS);
  });

  test('mismatch and invalid input are typed errors that never show the key', () => {
    const mismatch = catchErr(() => loadPolygonAccount({ privateKey: KEY, expectedWallet: OTHER }));
    expect(mismatch.code).toBe('POLYGON_WALLET_MISMATCH');
    expect(mismatch.message).toContain('POLYGON_WALLET');
    expect(mismatch.message).toContain(OTHER);
    expect(mismatch.message).toContain(ADDRESS);
    for (const bad of ['', '0x1234', `${KEY}00`, KEY.replace('a', 'g'), `0x${'0'.repeat(64)}`, `0x${'f'.repeat(64)}`]) {
      const err = catchErr(() => loadPolygonAccount({ privateKey: bad }));
      expect(err.code).toBe('POLYGON_KEY_INVALID');
      expect(err.message).not.toContain(KEY.slice(2, 20));
    }
    expect(catchErr(() => loadPolygonAccount({ privateKey: KEY, expectedWallet: '0x1234' })).code).toBe('POLYGON_WALLET_INVALID');
  });

  test('sign → verify; the proof is 65 bytes with v 27/28 and binds hotkey and wallet', async () => {
    const account = loadPolygonAccount({ privateKey: KEY });
    const proof = await signWalletProof(account, HOTKEY);
    expect(proof).toMatch(/^0x[0-9a-f]{130}$/);
    expect(['1b', '1c']).toContain(proof.slice(-2));
    expect(walletProofMessage(HOTKEY)).toBe(`Bittensor Subnet 58 Miner: ${HOTKEY}`);
    expect(await verifyWalletProof({ hotkey: HOTKEY, polygonWallet: ADDRESS, proof })).toBe(true);
    expect(await verifyWalletProof({ hotkey: HOTKEY, polygonWallet: ADDRESS.toLowerCase(), proof: proof.slice(2) })).toBe(true);
    // v as 0/1 (some signers) is the same signature
    const v01 = proof.slice(0, -2) + (proof.endsWith('1b') ? '00' : '01');
    expect(await verifyWalletProof({ hotkey: HOTKEY, polygonWallet: ADDRESS, proof: v01 })).toBe(true);
    expect(await verifyWalletProof({ hotkey: `${HOTKEY}x`, polygonWallet: ADDRESS, proof })).toBe(false);
    expect(await verifyWalletProof({ hotkey: HOTKEY, polygonWallet: OTHER, proof })).toBe(false);
  });

  test('byte-identical to the Python miner (RFC 6979 signatures are deterministic) and its proof verifies', async () => {
    const proof = await signWalletProof(loadPolygonAccount({ privateKey: KEY }), HOTKEY);
    expect(proof).toBe(`0x${PYTHON_PROOF}`);
    expect(await verifyWalletProof({ hotkey: HOTKEY, polygonWallet: ADDRESS, proof: PYTHON_PROOF })).toBe(true);
  });

  test('junk proofs are false, never a throw', async () => {
    const account = loadPolygonAccount({ privateKey: KEY });
    const proof = await signWalletProof(account, HOTKEY);
    const junk: unknown[] = [
      '',
      '0x',
      'zz',
      proof.slice(0, -2),
      `${proof}00`,
      `${proof.slice(0, -2)}05`, // bad v
      `0x${'0'.repeat(130)}`,
      `0x${'f'.repeat(130)}`,
      proof.replace(/[0-9a-f]$/, 'g'),
      null,
      12345,
      { proof },
    ];
    for (const p of junk) expect(await verifyWalletProof({ hotkey: HOTKEY, polygonWallet: ADDRESS, proof: p as string })).toBe(false);
    expect(await verifyWalletProof({ hotkey: HOTKEY, polygonWallet: 'not an address', proof })).toBe(false);
    expect(await verifyWalletProof({ hotkey: null as unknown as string, polygonWallet: ADDRESS, proof })).toBe(false);
  });
});
