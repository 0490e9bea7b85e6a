/**
 * Transaction extensions: what each signed transaction carries besides the call.
 * @polkadot/api knows the standard ones; subtensor adds its own, and a client that
 * encodes one of them wrongly (e.g. drops the tip of `ChargeTransactionPaymentWrapper`,
 * spec 425) gets every transaction rejected. So the extension list is read from the
 * metadata at connect and each one is checked to be encodable by this client.
 */
import type { Metadata } from '@polkadot/types';
import type { Registry } from '@polkadot/types/types';
import { allExtensions } from '@polkadot/types/extrinsic/signedExtensions';
import type { ExtDef } from '@polkadot/types/extrinsic/signedExtensions/types';
import { u8aConcat, u8aEq } from '@polkadot/util';
import { SubtensorError } from './errors.js';

/**
 * Subtensor's own extensions, as @polkadot/api must encode them. Passed to
 * `ApiPromise.create({signedExtensions})`; a name absent from a runtime is ignored.
 * The empty ones are listed so that a future change of their shape is caught by
 * `planTransactionExtensions` rather than silently encoded as nothing.
 */
export const SUBTENSOR_EXTENSIONS: ExtDef = {
  ChargeTransactionPaymentWrapper: { extrinsic: { tip: 'Compact<Balance>' }, payload: {} },
  SubtensorTransactionExtension: { extrinsic: {}, payload: {} },
  SubtensorSignedExtension: { extrinsic: {}, payload: {} },
  CommitmentsSignedExtension: { extrinsic: {}, payload: {} },
  DrandPriority: { extrinsic: {}, payload: {} },
  SudoTransactionExtension: { extrinsic: {}, payload: {} },
  CheckShieldedTxValidity: { extrinsic: {}, payload: {} },
};

export interface ExtensionInfo {
  name: string;
  /** Who encodes it: @polkadot/api's built-in table, this module's table, or nobody (carries no bytes). */
  encodedBy: 'polkadot-js' | 'hs58' | 'none';
  /** Shape of the bytes it adds to the extrinsic / to the signed payload, read from metadata. */
  explicit: string[];
  implicit: string[];
}

export interface ExtensionPlan {
  extensions: ExtensionInfo[];
  /** Non-empty when some extension cannot be encoded: every transaction would be refused. */
  problems: string[];
}

/** Extensions with their metadata type ids, from whichever metadata version the runtime serves. */
export function readExtensions(metadata: Metadata): Array<{ name: string; explicitType: number; implicitType: number }> {
  const version = metadata.version;
  if (version === 14 || version === 15) {
    const extrinsic = version === 14 ? metadata.asV14.extrinsic : metadata.asV15.extrinsic;
    return extrinsic.signedExtensions.map((e) => ({
      name: e.identifier.toString(),
      explicitType: e.type.toNumber(),
      implicitType: e.additionalSigned.toNumber(),
    }));
  }
  if (version === 16) {
    return metadata.asV16.extrinsic.transactionExtensions.map((e) => ({
      name: e.identifier.toString(),
      explicitType: e.type.toNumber(),
      implicitType: e.implicit.toNumber(),
    }));
  }
  throw new Error(`metadata v${version} is not supported (v14 to v16 are)`);
}

/**
 * Checks every extension of the runtime against what this client will encode.
 * `user` is the table given to @polkadot/api (SUBTENSOR_EXTENSIONS).
 */
export function planTransactionExtensions(registry: Registry, metadata: Metadata, user: ExtDef = SUBTENSOR_EXTENSIONS): ExtensionPlan {
  const problems: string[] = [];
  const extensions: ExtensionInfo[] = [];
  for (const { name, explicitType, implicitType } of readExtensions(metadata)) {
    const explicit = typeShape(registry, explicitType);
    const implicit = typeShape(registry, implicitType);
    const own = user[name];
    if (own) {
      const ownExplicit = Object.values(own.extrinsic).map((t) => userTypeShape(t));
      const ownImplicit = Object.values(own.payload).map((t) => userTypeShape(t));
      if (ownExplicit.join(',') !== explicit.join(',') || ownImplicit.join(',') !== implicit.join(',')) {
        problems.push(
          `${name}: the runtime encodes [${explicit.join(', ')}] / [${implicit.join(', ')}] but this client would send [${ownExplicit.join(', ')}] / [${ownImplicit.join(', ')}]`,
        );
      }
      extensions.push({ name, encodedBy: 'hs58', explicit, implicit });
    } else if (allExtensions[name]) {
      // Same name, other shape (a runtime may replace a standard extension with its own).
      const builtin = allExtensions[name]!;
      if (!clientEncodes(registry, explicitType, Object.values(builtin.extrinsic)) || !clientEncodes(registry, implicitType, Object.values(builtin.payload))) {
        const ownExplicit = Object.values(builtin.extrinsic).map((t) => userTypeShape(t));
        const ownImplicit = Object.values(builtin.payload).map((t) => userTypeShape(t));
        problems.push(
          `${name}: the runtime encodes [${explicit.join(', ')}] / [${implicit.join(', ')}] but @polkadot/api would send its standard [${ownExplicit.join(', ')}] / [${ownImplicit.join(', ')}]`,
        );
      }
      extensions.push({ name, encodedBy: 'polkadot-js', explicit, implicit });
    } else {
      if (explicit.length > 0 || implicit.length > 0) {
        problems.push(`${name}: unknown extension carrying data [${explicit.join(', ')}] / [${implicit.join(', ')}] that this client cannot encode`);
      }
      extensions.push({ name, encodedBy: 'none', explicit, implicit });
    }
  }
  return { extensions, problems };
}

/**
 * The encoded shape of a metadata type as a flat list of leaves: `compact`,
 * `u8`…`u128`, `bool`, `[u8;32]`, or the type name for anything richer.
 * Newtypes and empty tuples collapse, so `Wrapper { inner: Charge(Compact<u64>) }` is `['compact']`.
 */
export function typeShape(registry: Registry, typeId: number, depth = 0): string[] {
  if (depth > 8) return ['<deep>'];
  const si = registry.lookup.getSiType(typeId);
  const def = si.def;
  if (def.isComposite) return def.asComposite.fields.flatMap((f) => typeShape(registry, f.type.toNumber(), depth + 1));
  if (def.isTuple) return def.asTuple.flatMap((t) => typeShape(registry, t.toNumber(), depth + 1));
  if (def.isCompact) return ['compact'];
  if (def.isPrimitive) return [def.asPrimitive.type.toLowerCase()];
  if (def.isArray) {
    const inner = typeShape(registry, def.asArray.type.toNumber(), depth + 1);
    return [`[${inner.join(',')};${def.asArray.len.toNumber()}]`];
  }
  return [registry.lookup.getTypeDef(typeId).type];
}

/**
 * True when the bytes @polkadot/api writes for `clientTypes` (their default values) decode as the
 * runtime's type `typeId` and fill it exactly: a `u8` mode against a two-variant enum passes, a
 * `Compact<Index>` against a `u64` or anything against an empty type does not.
 */
function clientEncodes(registry: Registry, typeId: number, clientTypes: string[]): boolean {
  try {
    const bytes = u8aConcat(...clientTypes.map((t) => registry.createType(t).toU8a()));
    const decoded = registry.createType(registry.createLookupType(typeId), bytes);
    return decoded.encodedLength === bytes.length && u8aEq(decoded.toU8a(), bytes);
  } catch {
    return false;
  }
}

/** Throws TX_ENCODING_UNSUPPORTED when `plan` has problems: every transaction would be refused. */
export function assertEncodable(plan: ExtensionPlan, specVersion: number): void {
  if (plan.problems.length === 0) return;
  throw new SubtensorError('TX_ENCODING_UNSUPPORTED', `transactions cannot be encoded for runtime ${specVersion}: ${plan.problems.join('; ')}`, {
    details: { problems: plan.problems },
  });
}

function userTypeShape(type: string): string {
  return /^Compact</.test(type) ? 'compact' : type.toLowerCase();
}
