/** The synapse declarations and their registry. */
import { describe, expect, test } from 'vitest';
import {
  ProtocolError,
  ProviderProbe,
  defaultFields,
  defineSynapse,
  getSynapse,
  isKnownSynapse,
  resolveSynapse,
  synapseNames,
  type SynapseRef,
} from '../../src/protocol/index.js';

describe('registry', () => {
  test('known synapses; prototype names are not synapses', () => {
    expect(synapseNames()).toEqual(['ProviderCheck', 'ProviderProbe']);
    expect(isKnownSynapse('ProviderProbe')).toBe(true);
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'providerprobe', '']) expect(isKnownSynapse(name)).toBe(false);
    expect(getSynapse('ProviderProbe')).toBe(ProviderProbe);
    expect(() => resolveSynapse('__proto__' as SynapseRef)).toThrow(ProtocolError);
    expect(defaultFields(ProviderProbe)).toEqual({ target_url: '', probe_latency_ms: null, probe_status: null, probe_reachable: null });
  });

  test('defineSynapse refuses bad declarations', () => {
    const field = { type: 'string', role: 'request', nullable: false, default: '', maxLength: 1, description: '' } as const;
    expect(() => defineSynapse({ name: 'X', description: '', fields: { timeout: field }, hashFields: [] })).toThrow(/not allowed/);
    expect(() => defineSynapse({ name: 'X', description: '', fields: { 'a-b': field }, hashFields: [] })).toThrow(/not allowed/);
    expect(() => defineSynapse({ name: 'X', description: '', fields: { a: field }, hashFields: ['b'] })).toThrow(/hash field/);
    expect(() => defineSynapse({ name: 'X y', description: '', fields: {}, hashFields: [] })).toThrow(/class name/);
    expect(() => defineSynapse({ name: 'X', description: '', fields: { a: { ...field, default: null } }, hashFields: [] })).toThrow(/null default/);
  });
});
