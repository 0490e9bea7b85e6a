/**
 * Runtime API calls described by the metadata itself (v15+): encode the inputs
 * and decode the output with the runtime's own types. Works the same on a live
 * `ApiPromise` registry and on a bare TypeRegistry built from stored metadata
 * (the finney fixtures), which is how decoding is tested on the live format.
 */
import type { Metadata } from '@polkadot/types';
import type { Codec, Registry } from '@polkadot/types/types';
import { u8aConcat, u8aToHex } from '@polkadot/util';

export interface RuntimeApiMethod {
  /** `SubnetInfoRuntimeApi_get_selective_mechagraph`: the `state_call` method name. */
  callName: string;
  inputs: Array<{ name: string; type: string }>;
  /** Lookup type name of the output, e.g. `Lookup612`, and its id. */
  output: string;
  outputId: number;
  /** True when the output is opaque bytes (`Vec<u8>`), as on spec 218: then the types are not in the metadata. */
  opaque: boolean;
}

/** The method, or null when the runtime (or its metadata version) does not describe it. */
export function findRuntimeApi(registry: Registry, metadata: Metadata, api: string, method: string): RuntimeApiMethod | null {
  const apis = metadata.version === 15 ? metadata.asV15.apis : metadata.version === 16 ? metadata.asV16.apis : null;
  if (!apis) return null;
  const found = apis.find((a) => a.name.toString() === api);
  const m = found?.methods.find((x) => x.name.toString() === method);
  if (!m) return null;
  const outputId = m.output.toNumber();
  const outputDef = registry.lookup.getTypeDef(outputId);
  return {
    callName: `${api}_${method}`,
    inputs: m.inputs.map((i) => ({ name: i.name.toString(), type: registry.createLookupType(i.type.toNumber()) })),
    output: registry.createLookupType(outputId),
    outputId,
    opaque: outputDef.type === 'Bytes' || outputDef.type === 'Vec<u8>',
  };
}

export function encodeRuntimeApiArgs(registry: Registry, method: RuntimeApiMethod, args: readonly unknown[]): `0x${string}` {
  if (args.length !== method.inputs.length) {
    throw new Error(`${method.callName} takes ${method.inputs.length} arguments, got ${args.length}`);
  }
  return u8aToHex(u8aConcat(...method.inputs.map((input, i) => registry.createType(input.type, args[i]).toU8a())));
}

export function decodeRuntimeApiResult(registry: Registry, method: RuntimeApiMethod, bytes: string | Uint8Array): Codec {
  return registry.createType(method.output, bytes);
}
