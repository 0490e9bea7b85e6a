/**
 * The bittensor keyfile format (bittensor_wallet / btcli): JSON with `accountId`,
 * `publicKey`, `privateKey` (schnorrkel form), `secretPhrase`, `secretSeed`, `ss58Address`,
 * `cryptoType`; pub files carry the public fields only. Parsing never echoes file content,
 * which may hold a secret, into an error.
 */
import { bip39ToMiniSecret, bip39Validate } from '@polkadot/wasm-crypto';
import { WalletError } from './errors.js';
import {
  initCrypto,
  polkadotToSchnorrkelSecret,
  publicKeyToSs58,
  schnorrkelToPolkadotSecret,
  signSr25519,
  sr25519KeypairFromSeed,
  ss58ToPublicKey,
  type Sr25519Keypair,
  verifySr25519,
} from './sr25519.js';

export const CRYPTO_TYPE_SR25519 = 1;

/** Prefixes bittensor_wallet writes in front of encrypted keyfiles (NaCl, Ansible vault, legacy Fernet). */
const ENCRYPTED_PREFIXES = ['$NACL', '$ANSIBLE_VAULT', 'gAAAAA'] as const;

export function isEncryptedKeyfile(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 16)).toString('latin1').trimStart();
  return ENCRYPTED_PREFIXES.some((p) => head.startsWith(p));
}

export type SecretField = 'secretPhrase' | 'secretSeed' | 'privateKey';

export interface ParsedHotkeyFile {
  keypair: Sr25519Keypair;
  address: string;
  /** Which field the key was built from. */
  derivedFrom: SecretField;
}

export interface KeyfileJson {
  accountId?: string;
  publicKey?: string;
  privateKey?: string;
  secretPhrase?: string;
  secretSeed?: string;
  ss58Address?: string;
  cryptoType?: number;
}

function hexField(json: KeyfileJson, field: keyof KeyfileJson, bytes: number, source: string): Uint8Array | undefined {
  const raw = json[field];
  if (raw === undefined || raw === null) return undefined;
  const body = typeof raw === 'string' ? raw.replace(/^0x/i, '') : '';
  if (body.length !== bytes * 2 || !/^[0-9a-fA-F]*$/.test(body)) {
    throw new WalletError('WALLET_INVALID', `${source}: field ${field} must be 0x followed by ${bytes} bytes of hex`);
  }
  return Uint8Array.from(Buffer.from(body, 'hex'));
}

function parseJsonObject(bytes: Uint8Array, source: string, what: string): KeyfileJson {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new WalletError('WALLET_INVALID', `${source} is not a bittensor ${what} (expected JSON)`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new WalletError('WALLET_INVALID', `${source} is not a bittensor ${what} (expected a JSON object)`);
  }
  return json as KeyfileJson;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Builds the sr25519 keypair of a hotkey file from its first present secret
 * (secretPhrase → secretSeed → privateKey) and checks it against every public field the
 * file has. `source` names the file or variable in errors.
 */
export async function parseHotkeyFile(bytes: Uint8Array, source: string): Promise<ParsedHotkeyFile> {
  await initCrypto();
  if (isEncryptedKeyfile(bytes)) {
    throw new WalletError(
      'WALLET_ENCRYPTED',
      `${source} is encrypted; hotkeys must be unencrypted for a daemon to use them. Regenerate it without a password (\`btcli wallet regen_hotkey --no-use-password\`).`,
    );
  }
  const json = parseJsonObject(bytes, source, 'keyfile');
  if (json.cryptoType !== undefined && json.cryptoType !== CRYPTO_TYPE_SR25519) {
    throw new WalletError('WALLET_INVALID', `${source}: cryptoType ${String(json.cryptoType)} is not sr25519 (1); bittensor hotkeys are sr25519`);
  }

  let keypair: Sr25519Keypair;
  let derivedFrom: SecretField;
  if (typeof json.secretPhrase === 'string' && json.secretPhrase.trim() !== '') {
    const phrase = json.secretPhrase.trim().split(/\s+/).join(' ');
    if (!bip39Validate(phrase)) throw new WalletError('WALLET_INVALID', `${source}: secretPhrase is not a valid BIP-39 mnemonic`);
    keypair = sr25519KeypairFromSeed(bip39ToMiniSecret(phrase, ''));
    derivedFrom = 'secretPhrase';
  } else if (json.secretSeed !== undefined && json.secretSeed !== null) {
    keypair = sr25519KeypairFromSeed(hexField(json, 'secretSeed', 32, source)!);
    derivedFrom = 'secretSeed';
  } else if (json.privateKey !== undefined && json.privateKey !== null) {
    const secretKey = schnorrkelToPolkadotSecret(hexField(json, 'privateKey', 64, source)!);
    const publicKey = hexField(json, 'publicKey', 32, source) ?? hexField(json, 'accountId', 32, source) ?? addressField(json, source);
    if (publicKey === undefined) {
      throw new WalletError('WALLET_INVALID', `${source}: a privateKey-only keyfile also needs publicKey or ss58Address`);
    }
    keypair = { secretKey, publicKey };
    derivedFrom = 'privateKey';
  } else {
    throw new WalletError('WALLET_NO_SECRET', `${source} holds no secret (secretPhrase, secretSeed or privateKey): is it a pub file?`);
  }

  const address = publicKeyToSs58(keypair.publicKey);
  const expected = addressField(json, source);
  if (expected !== undefined && !sameBytes(expected, keypair.publicKey)) {
    throw mismatch(source, json.ss58Address!, address, derivedFrom);
  }
  for (const field of ['publicKey', 'accountId'] as const) {
    const pk = hexField(json, field, 32, source);
    if (pk !== undefined && !sameBytes(pk, keypair.publicKey)) throw mismatch(source, publicKeyToSs58(pk), address, derivedFrom, field);
  }
  if (derivedFrom === 'privateKey') {
    // The public key came from the file itself: prove the secret belongs to it.
    const probe = Uint8Array.from([0x68, 0x73, 0x35, 0x38]);
    if (!verifySr25519(probe, signSr25519(keypair, probe), keypair.publicKey)) {
      throw new WalletError(
        'WALLET_ADDRESS_MISMATCH',
        `${source}: privateKey does not belong to ${address} (its public key in the file); the file is corrupt or was edited`,
      );
    }
  }
  return { keypair, address, derivedFrom };
}

function addressField(json: KeyfileJson, source: string): Uint8Array | undefined {
  if (json.ss58Address === undefined || json.ss58Address === null) return undefined;
  if (typeof json.ss58Address !== 'string') throw new WalletError('WALLET_INVALID', `${source}: ss58Address must be a string`);
  try {
    return ss58ToPublicKey(json.ss58Address);
  } catch (cause) {
    throw new WalletError('WALLET_INVALID', `${source}: ss58Address ${JSON.stringify(json.ss58Address.slice(0, 64))} is not a valid SS58 address`, { cause });
  }
}

function mismatch(source: string, inFile: string, derived: string, from: SecretField, field = 'ss58Address'): WalletError {
  return new WalletError(
    'WALLET_ADDRESS_MISMATCH',
    `${source}: ${field} ${inFile} does not match ${derived}, the address derived from its ${from}; the file is corrupt or was edited (re-create it with btcli, or export BT_HOTKEY_B64 again from a good file)`,
    { details: { source, inFile, derived, derivedFrom: from } },
  );
}

/** A coldkeypub.txt: keyfile JSON with ss58Address/publicKey, or (old wallets) the bare address. */
export function parseColdkeyPubFile(bytes: Uint8Array, source: string): { address: string; publicKey: Uint8Array } {
  if (isEncryptedKeyfile(bytes)) throw new WalletError('WALLET_INVALID', `${source} is encrypted; a coldkeypub file holds only the public key`);
  const text = Buffer.from(bytes).toString('utf8').trim();
  if (!text.startsWith('{')) {
    try {
      const publicKey = ss58ToPublicKey(text);
      return { address: publicKeyToSs58(publicKey), publicKey };
    } catch {
      throw new WalletError('WALLET_INVALID', `${source} is neither keyfile JSON nor an SS58 address`);
    }
  }
  const json = parseJsonObject(bytes, source, 'coldkeypub file');
  const fromAddress = addressField(json, source);
  const fromHex = hexField(json, 'publicKey', 32, source) ?? hexField(json, 'accountId', 32, source);
  const publicKey = fromAddress ?? fromHex;
  if (publicKey === undefined) throw new WalletError('WALLET_INVALID', `${source} has neither ss58Address nor publicKey`);
  if (fromAddress !== undefined && fromHex !== undefined && !sameBytes(fromAddress, fromHex)) {
    throw new WalletError('WALLET_ADDRESS_MISMATCH', `${source}: ss58Address ${json.ss58Address} does not match its publicKey (${publicKeyToSs58(fromHex)})`);
  }
  return { address: publicKeyToSs58(publicKey), publicKey };
}

const hex = (b: Uint8Array) => `0x${Buffer.from(b).toString('hex')}`;

/** A full hotkey/coldkey keyfile in bittensor_wallet's format (unencrypted). */
export function renderKeyfile(keypair: Sr25519Keypair, secret: { phrase?: string; seed?: Uint8Array }): string {
  const json: KeyfileJson = {
    accountId: hex(keypair.publicKey),
    publicKey: hex(keypair.publicKey),
    privateKey: hex(polkadotToSchnorrkelSecret(keypair.secretKey)),
    ...(secret.phrase !== undefined ? { secretPhrase: secret.phrase } : {}),
    ...(secret.seed !== undefined ? { secretSeed: hex(secret.seed) } : {}),
    ss58Address: publicKeyToSs58(keypair.publicKey),
    cryptoType: CRYPTO_TYPE_SR25519,
  };
  return JSON.stringify(json);
}

/** A pub file (coldkeypub.txt, hotkeys/<name>pub.txt). */
export function renderPubKeyfile(publicKey: Uint8Array): string {
  return JSON.stringify({ accountId: hex(publicKey), publicKey: hex(publicKey), ss58Address: publicKeyToSs58(publicKey), cryptoType: CRYPTO_TYPE_SR25519 });
}
