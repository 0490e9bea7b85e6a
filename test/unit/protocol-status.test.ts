/** The status messages, in the Python axon's words. */
import { describe, expect, test } from 'vitest';
import { VERIFY_ERRORS, blacklistedMessage, notVerifiedMessage, priorityTimeoutMessage, unknownSynapseMessage } from '../../src/protocol/index.js';
import { pyFormatFixed2 } from '../../src/protocol/python.js';

describe('Python status messages', () => {
  test('Python status messages', () => {
    expect(blacklistedMessage('Hotkey not registered')).toBe('Forbidden. Key is blacklisted: Hotkey not registered.');
    expect(notVerifiedMessage(VERIFY_ERRORS.missingSignature)).toBe('Not Verified with error: Missing Signature');
    expect(VERIFY_ERRORS.nonceTooOld(16, 60.123)).toBe('Nonce is too old: acceptable delta is 16.00 seconds but request was 60.12 seconds old');
    expect(priorityTimeoutMessage(12)).toBe('Response timeout after: 12.0s');
    expect(unknownSynapseMessage('Nope', ['Synapse', 'ProviderProbe'])).toBe("Synapse name 'Nope' not found. Available synapses ['Synapse', 'ProviderProbe']");
  });

  test('seconds print as CPython’s f"{x:.2f}" (values from CPython 3.11)', () => {
    const cases: Array<[number, string]> = [
      [0.125, '0.12'],
      [0.375, '0.38'],
      [-0.125, '-0.12'],
      [16.125, '16.12'],
      [60.123, '60.12'],
      [1e30, '1000000000000000019884624838656.00'],
      [-2.5e21, '-2500000000000000000000.00'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
      [NaN, 'nan'],
    ];
    for (const [x, text] of cases) expect(pyFormatFixed2(x), String(x)).toBe(text);
  });
});
