/**
 * Reads a signed extrinsic the way a runtime does, from its metadata alone (v16 lookup types), not
 * from @polkadot/types' extension table: address, signature, each transaction extension's explicit
 * data in the runtime's order, then the call. `signingPayload` builds the bytes the runtime checks
 * the signature against from the same types, with the implicit data the runtime supplies itself.
 * Pure logic over real metadata: used by the encoding tests of a runtime Chopsticks cannot run.
 */
import type { Metadata, TypeRegistry } from '@polkadot/types';
import type { Codec } from '@polkadot/types/types';
import { compactFromU8a, u8aConcat } from '@polkadot/util';
import { blake2AsU8a, encodeAddress } from '@polkadot/util-crypto';

export interface DecodedExtension {
  name: string;
  value: Codec;
  bytes: Uint8Array;
}

export interface DecodedExtrinsic {
  /** The version byte: 0x84 for a signed v4 extrinsic. */
  versionByte: number;
  signer: string;
  signatureKind: string;
  signature: Uint8Array;
  extensions: DecodedExtension[];
  callBytes: Uint8Array;
}

interface Extension {
  name: string;
  explicitType: number;
  implicitType: number;
}

/** The extensions a signed v4 extrinsic carries: extension version 0 of `transactionExtensionsByVersion`. */
export function v4Extensions(metadata: Metadata): Extension[] {
  const ex = metadata.asV16.extrinsic;
  const indexes = ex.transactionExtensionsByVersion.get(ex.transactionExtensionsByVersion.keys().next().value!);
  if (!indexes) throw new Error('the metadata lists no transaction extension version');
  return [...indexes].map((i) => {
    const e = ex.transactionExtensions[i.toNumber()]!;
    return { name: e.identifier.toString(), explicitType: e.type.toNumber(), implicitType: e.implicit.toNumber() };
  });
}

export function decodeSignedExtrinsic(registry: TypeRegistry, metadata: Metadata, bytes: Uint8Array): DecodedExtrinsic {
  const ex = metadata.asV16.extrinsic;
  const [offset, length] = compactFromU8a(bytes);
  if (offset + length.toNumber() !== bytes.length) throw new Error(`length prefix ${length.toNumber()} does not match ${bytes.length - offset} bytes`);
  let at = offset;
  const take = (typeId: number) => {
    const value = registry.createType(registry.createLookupType(typeId), bytes.subarray(at));
    const taken = bytes.subarray(at, at + value.encodedLength);
    at += value.encodedLength;
    return { value, bytes: taken };
  };
  const versionByte = bytes[at++]!;
  const address = take(ex.addressType.toNumber()).value as Codec & { type: string; value: Codec };
  if (address.type !== 'Id') throw new Error(`the signer is a MultiAddress::${address.type}, not an Id`);
  const signature = take(ex.signatureType.toNumber()).value as Codec & { type: string; value: Codec };
  const extensions = v4Extensions(metadata).map(({ name, explicitType }) => ({ name, ...take(explicitType) }));
  const call = take(ex.callType.toNumber());
  if (at !== bytes.length) throw new Error(`${bytes.length - at} bytes left after the call`);
  return {
    versionByte,
    signer: encodeAddress(address.value.toU8a(), 42),
    signatureKind: signature.type,
    signature: signature.value.toU8a(),
    extensions,
    callBytes: call.bytes,
  };
}

/**
 * `call ‖ explicit… ‖ implicit…`, blake2-256 hashed when longer than 256 bytes: what the signature
 * covers. `implicit` gives each extension's implicit value by name (absent: the empty value).
 */
export function signingPayload(registry: TypeRegistry, metadata: Metadata, decoded: DecodedExtrinsic, implicit: Record<string, unknown>): Uint8Array {
  const implicitBytes = v4Extensions(metadata).map(({ name, implicitType }) =>
    registry.createType(registry.createLookupType(implicitType), implicit[name]).toU8a(),
  );
  const payload = u8aConcat(decoded.callBytes, ...decoded.extensions.map((e) => e.bytes), ...implicitBytes);
  return payload.length > 256 ? blake2AsU8a(payload, 256) : payload;
}
