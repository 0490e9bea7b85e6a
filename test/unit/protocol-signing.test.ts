/** Signing: the message, the body hash, and the signature text as each side reads it. */
import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import {
  EMPTY_BODY_HASH,
  axonSigningMessage,
  computeBodyHash,
  defineSynapse,
  parseSignatureHex,
  readSignatureText,
  signingMessage,
} from '../../src/protocol/index.js';
import { ALICE, BOB } from '../support/protocol.js';

describe('signing message and body hash', () => {
  test('signingMessage is {nonce}.{dendrite}.{axon}.{uuid}.{body_hash}, None for missing parts', () => {
    expect(signingMessage({ nonce: 17n, dendriteHotkey: ALICE, axonHotkey: BOB, uuid: 'u', bodyHash: EMPTY_BODY_HASH })).toBe(
      `17.${ALICE}.${BOB}.u.${EMPTY_BODY_HASH}`,
    );
    expect(signingMessage({ nonce: null, dendriteHotkey: null, axonHotkey: BOB, uuid: null, bodyHash: null })).toBe(`None.None.${BOB}.None.None`);
    expect(axonSigningMessage({ nonce: 5n, dendriteHotkey: ALICE, axonHotkey: BOB, uuid: 'ax' })).toBe(`5.${ALICE}.${BOB}.ax`);
  });

  test('the body hash of a synapse without hash fields is sha3-256("") (spec value)', () => {
    expect(EMPTY_BODY_HASH).toBe('a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a');
    expect(computeBodyHash('ProviderProbe', { target_url: 'https://anything/' })).toBe(EMPTY_BODY_HASH);
    expect(computeBodyHash('ProviderCheck', {})).toBe(EMPTY_BODY_HASH);
  });

  test('hash fields: sha3(concat(sha3(py_str(v)))) in the declared order', () => {
    const Hashed = defineSynapse({
      name: 'Hashed',
      description: '',
      fields: {
        a: { type: 'string', role: 'request', nullable: false, default: '', maxLength: 10, description: '' },
        b: { type: 'int', role: 'request', nullable: true, default: null, min: 0, max: 9, description: '' },
        c: { type: 'float', role: 'request', nullable: false, default: 0, min: 0, max: 9, description: '' },
        d: { type: 'bool', role: 'request', nullable: false, default: false, description: '' },
      },
      hashFields: ['d', 'a', 'b', 'c'],
    });
    const sha3 = (s: string) => createHash('sha3-256').update(s).digest('hex');
    expect(computeBodyHash(Hashed, { a: 'x', b: null, c: 2, d: true })).toBe(sha3(sha3('True') + sha3('x') + sha3('None') + sha3('2.0')));
    expect(computeBodyHash(Hashed, {})).toBe(sha3(sha3('False') + sha3('') + sha3('None') + sha3('0.0')));
  });

  test('parseSignatureHex', () => {
    expect(parseSignatureHex(`0x${'ab'.repeat(64)}`)).toHaveLength(64);
    expect(parseSignatureHex('ab'.repeat(64))).toHaveLength(64);
    expect(parseSignatureHex(`0x${'ab'.repeat(63)}`)).toBeNull();
    expect(parseSignatureHex(`0x${'zz'.repeat(64)}`)).toBeNull();
    expect(parseSignatureHex(null)).toBeNull();
  });
});

describe('signature text', () => {
  test('signature text read as bittensor_wallet’s Keypair.verify reads it, with its words (from the real one)', () => {
    const sig = 'ab'.repeat(64);
    expect(readSignatureText(`0x${sig}`)).toEqual({ ok: true, bytes: new Uint8Array(64).fill(0xab) });
    expect(readSignatureText(`0x${sig.toUpperCase()}`).ok).toBe(true);
    const error = (text: string) => {
      const r = readSignatureText(text);
      return r.ok ? null : r.error;
    };
    expect(error(sig)).toBe('Invalid signature format. Expected hex string.');
    expect(error(`0X${sig}`)).toBe('Invalid signature format. Expected hex string.');
    expect(error('')).toBe('Invalid signature format. Expected hex string.');
    expect(error('0x')).toBe('Invalid SR25519 signature.');
    expect(error('0xabc')).toBe('Invalid hex string: OddLength');
    expect(error('0xnothex')).toBe("Invalid hex string: InvalidHexCharacter { c: 'n', index: 0 }");
    expect(error(`0x${sig.slice(0, -2)}zz`)).toBe("Invalid hex string: InvalidHexCharacter { c: 'z', index: 126 }");
    expect(error(`0x\u00e9${sig.slice(2)}`)).toBe("Invalid hex string: InvalidHexCharacter { c: 'Ã', index: 0 }");
    expect(error(`0x'${sig.slice(1)}`)).toBe("Invalid hex string: InvalidHexCharacter { c: '\\'', index: 0 }");
    expect(error(`0x\t${sig.slice(1)}`)).toBe("Invalid hex string: InvalidHexCharacter { c: '\\t', index: 0 }");
    expect(error(`0x${'ab'.repeat(63)}`)).toBe('Invalid SR25519 signature.');
    expect(error(`0x${'0'.repeat(5000)}`)).toBe('Invalid SR25519 signature.');
  });
});
