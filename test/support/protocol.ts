/**
 * Fixtures for the codec's unit tests: two hotkeys, a stand-in signer, a request builder with
 * fixed values, one valid ProviderProbe request and its body with one field replaced, and a
 * ProtocolError matcher.
 */
import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { encodeRequest, ProtocolError, type EncodedRequest, type SynapseRef } from '../../src/protocol/index.js';

export const ALICE = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY';
export const BOB = '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty';

/** Every message `fakeSign` signed, oldest first (a test empties it before it looks). */
export const signed: string[] = [];

/** A stand-in signer (the real sr25519 one is tested against Python in test/e2e): 64 bytes derived from the message. */
export function fakeSign(message: Uint8Array): Uint8Array {
  signed.push(new TextDecoder().decode(message));
  const h = createHash('sha512').update(message).digest();
  return new Uint8Array(h);
}

/** A request from ALICE to BOB, signed by `fakeSign`, with fixed nonce, uuid and addresses; `overrides` replace any parameter. */
export function request<R extends SynapseRef>(synapse: R, fields: object = {}, overrides: Partial<Parameters<typeof encodeRequest>[0]> = {}): EncodedRequest {
  return encodeRequest({
    synapse,
    fields: fields as never,
    timeoutSec: 30,
    nonce: 1_795_318_990_457_350_190n,
    dendrite: { hotkey: ALICE, uuid: 'd6c1e2f0-0000-11f1-9570-02fc00000001', ip: '203.0.113.7' },
    axon: { hotkey: BOB, ip: '198.51.100.2', port: 8091 },
    sign: fakeSign,
    ...overrides,
  } as Parameters<typeof encodeRequest>[0]);
}

const sign = (m: Uint8Array) => new Uint8Array(createHash('sha512').update(m).digest());

/** One valid ProviderProbe request (the starting point of the malformed-input tables and the fuzz). */
export const valid = encodeRequest({
  synapse: 'ProviderProbe',
  fields: { target_url: 'https://p.example/health' },
  timeoutSec: 30,
  nonce: 1_795_318_990_457_350_190n,
  dendrite: { hotkey: ALICE, uuid: 'uuid-1', ip: '203.0.113.7' },
  axon: { hotkey: BOB, ip: '198.51.100.2', port: 8091 },
  sign,
});

/** The body of `valid` with one key's JSON value replaced (text level, so any JSON can go in). */
export function withField(key: string, json: string): string {
  const obj = JSON.parse(valid.body) as Record<string, unknown>;
  const marker = '"@@VALUE@@"';
  obj[key] = '@@VALUE@@';
  return JSON.stringify(obj).replace(marker, json);
}

/** `fn` throws a ProtocolError with this status (and code, when given). */
export function expectProtocolError(fn: () => unknown, status: number, code?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ProtocolError);
    expect((err as ProtocolError).status).toBe(status);
    if (code) expect((err as ProtocolError).code).toBe(code);
    return;
  }
  expect.unreachable('no ProtocolError thrown');
}
