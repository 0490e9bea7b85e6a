/**
 * The daemon's identity: the hotkey from `<walletPath>/<name>/hotkeys/<hotkey>` or from
 * BT_HOTKEY_B64 (decoded in memory, never written), and the coldkey's public address.
 * The coldkey secret is never needed by a daemon; if one is supplied it is ignored with
 * a notice.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Keyring } from '@polkadot/keyring';
import type { KeyringPair } from '@polkadot/keyring/types';
import { WalletError } from './errors.js';
import { parseColdkeyPubFile, parseHotkeyFile, type SecretField } from './keyfile.js';
import { signSr25519, SS58_PREFIX_BITTENSOR } from './sr25519.js';

export interface Hotkey {
  /** SS58, prefix 42. */
  readonly address: string;
  readonly publicKey: Uint8Array;
  /** The same key as a @polkadot/keyring pair, for @polkadot/api extrinsics. */
  readonly pair: KeyringPair;
  /** Where it came from: a file path or `BT_HOTKEY_B64`; safe to log. */
  readonly source: string;
  readonly derivedFrom: SecretField;
  /** sr25519 (substrate context) on the wasm fast path. */
  sign(message: Uint8Array | string): Uint8Array;
}

export interface ColdkeyPub {
  readonly address: string;
  readonly publicKey: Uint8Array;
  readonly source: string;
}

export interface WalletLocation {
  /** Folder holding wallets (`~` already expanded), e.g. /root/.bittensor/wallets. */
  walletPath: string;
  /** Wallet (coldkey) folder name. */
  name: string;
  /** Hotkey file name. */
  hotkey: string;
}

export interface LoadHotkeyParameters extends WalletLocation {
  /** BT_HOTKEY_B64: when set, used instead of the file. */
  hotkeyB64?: string | null;
}

export const HOTKEY_B64_VAR = 'BT_HOTKEY_B64';
export const COLDKEYPUB_B64_VAR = 'BT_COLDKEYPUB_B64';
export const COLDKEY_B64_VAR = 'BT_COLDKEY_B64';

/** A wallet or hotkey name is one path segment: no traversal out of the wallet folder. */
export function assertPlainName(value: string, flag: string): void {
  if (value === '' || value === '.' || value === '..' || /[/\\\0]/.test(value)) {
    throw new WalletError('WALLET_INVALID', `${flag} ${JSON.stringify(value)} must be a plain file name (no slashes, not . or ..)`);
  }
}

export function walletPaths(loc: WalletLocation) {
  assertPlainName(loc.name, '--wallet.name');
  assertPlainName(loc.hotkey, '--wallet.hotkey');
  const dir = path.join(loc.walletPath, loc.name);
  return {
    dir,
    hotkeysDir: path.join(dir, 'hotkeys'),
    hotkey: path.join(dir, 'hotkeys', loc.hotkey),
    hotkeyPub: path.join(dir, 'hotkeys', `${loc.hotkey}pub.txt`),
    coldkeyPubTxt: path.join(dir, 'coldkeypub.txt'),
    coldkeyPub: path.join(dir, 'coldkeypub'),
    coldkey: path.join(dir, 'coldkey'),
  };
}

/**
 * Strict base64 (standard or URL-safe alphabet, whitespace and padding tolerated):
 * Buffer.from would silently drop junk characters and hand back a wrong file.
 */
export function decodeBase64Var(value: string, variable: string): Uint8Array {
  const compact = value.replace(/\s+/g, '');
  if (compact.startsWith('{')) {
    throw new WalletError('WALLET_BAD_BASE64', `${variable} holds raw JSON; it must be the base64 of the file (\`hs58 wallet encode\` prints it)`);
  }
  if (compact === '' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(compact) || compact.replace(/=+$/, '').length % 4 === 1) {
    throw new WalletError('WALLET_BAD_BASE64', `${variable} is not valid base64 (\`hs58 wallet encode\` prints the right value)`);
  }
  return Uint8Array.from(Buffer.from(compact.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
}

async function readWalletFile(file: string, missingHelp: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR')
      throw new WalletError('WALLET_FILE_MISSING', `${file} not found: ${missingHelp}`, { cause, details: { file } });
    throw new WalletError('WALLET_FILE_UNREADABLE', `cannot read ${file} (${code ?? 'error'}); check its owner and permissions`, { cause, details: { file } });
  }
}

export async function loadHotkey(params: LoadHotkeyParameters): Promise<Hotkey> {
  let bytes: Uint8Array;
  let source: string;
  if (params.hotkeyB64 !== undefined && params.hotkeyB64 !== null && params.hotkeyB64 !== '') {
    source = HOTKEY_B64_VAR;
    bytes = decodeBase64Var(params.hotkeyB64, HOTKEY_B64_VAR);
  } else {
    source = walletPaths(params).hotkey;
    bytes = await readWalletFile(
      source,
      `create the hotkey with \`btcli wallet new_hotkey --wallet.name ${params.name} --wallet.hotkey ${params.hotkey} --no-use-password\` ` +
        `(or \`hs58 wallet create\` for a local network), or pass the file as ${HOTKEY_B64_VAR} (\`hs58 wallet encode\` prints it)`,
    );
  }
  const parsed = await parseHotkeyFile(bytes, source);
  const { keypair } = parsed;
  const pair = new Keyring({ type: 'sr25519', ss58Format: SS58_PREFIX_BITTENSOR }).addFromPair(keypair, { name: params.hotkey });
  // The secret lives only in this closure: nothing enumerable on the object holds it.
  return Object.freeze({
    address: parsed.address,
    publicKey: keypair.publicKey,
    pair,
    source,
    derivedFrom: parsed.derivedFrom,
    sign: (message: Uint8Array | string) => signSr25519(keypair, message),
    toJSON: () => ({ address: parsed.address, source }),
  });
}

export interface LoadColdkeyPubParameters {
  walletPath: string;
  name: string;
  /** BT_COLDKEYPUB_B64: when set, used instead of coldkeypub.txt. */
  coldkeypubB64?: string | null;
}

export async function loadColdkeyPub(params: LoadColdkeyPubParameters): Promise<ColdkeyPub> {
  if (params.coldkeypubB64 !== undefined && params.coldkeypubB64 !== null && params.coldkeypubB64 !== '') {
    const parsed = parseColdkeyPubFile(decodeBase64Var(params.coldkeypubB64, COLDKEYPUB_B64_VAR), COLDKEYPUB_B64_VAR);
    return { ...parsed, source: COLDKEYPUB_B64_VAR };
  }
  const file = walletPaths({ ...params, hotkey: 'x' }).coldkeyPubTxt;
  const bytes = await readWalletFile(
    file,
    `regenerate it with \`btcli wallet regen_coldkeypub --wallet.name ${params.name}\` or pass it as ${COLDKEYPUB_B64_VAR} (\`hs58 wallet encode\` prints it)`,
  );
  return { ...parseColdkeyPubFile(bytes, file), source: file };
}

export interface LoadWalletParameters extends LoadHotkeyParameters {
  coldkeypubB64?: string | null;
  /** BT_COLDKEY_B64: accepted for compatibility with the original entrypoint, never used. */
  coldkeyB64?: string | null;
}

export const COLDKEY_IGNORED_NOTICE = 'coldkey secret not needed by the daemon; ignored';

export interface LoadWalletReturnType {
  hotkey: Hotkey;
  /** null when neither coldkeypub.txt nor BT_COLDKEYPUB_B64 is there: a daemon can run without it. */
  coldkeyPub: ColdkeyPub | null;
  /** Things the daemon should log once at start. */
  notices: string[];
}

/** The daemons' wallet options (flags, env, `.env`; see src/config/schema.ts) as `loadWallet` takes them. */
export function walletParameters(config: {
  'wallet.path': string;
  'wallet.name': string;
  'wallet.hotkey': string;
  'wallet.hotkey_b64': string | null;
  'wallet.coldkeypub_b64': string | null;
  'wallet.coldkey_b64': string | null;
}): LoadWalletParameters {
  return {
    walletPath: config['wallet.path'],
    name: config['wallet.name'],
    hotkey: config['wallet.hotkey'],
    hotkeyB64: config['wallet.hotkey_b64'],
    coldkeypubB64: config['wallet.coldkeypub_b64'],
    coldkeyB64: config['wallet.coldkey_b64'],
  };
}

/** What a daemon loads at start: the hotkey (required), the coldkey address (optional). */
export async function loadWallet(params: LoadWalletParameters): Promise<LoadWalletReturnType> {
  const hotkey = await loadHotkey(params);
  const notices: string[] = [];
  let coldkeyPub: ColdkeyPub | null = null;
  try {
    coldkeyPub = await loadColdkeyPub(params);
  } catch (err) {
    if (!(err instanceof WalletError && err.code === 'WALLET_FILE_MISSING')) throw err;
  }
  if (params.coldkeyB64) notices.push(`${COLDKEY_B64_VAR} is set: ${COLDKEY_IGNORED_NOTICE}`);
  const coldkeyFile = walletPaths(params).coldkey;
  const present = await stat(coldkeyFile).then(
    (s) => s.isFile(),
    () => false,
  );
  if (present) notices.push(`${coldkeyFile} exists: ${COLDKEY_IGNORED_NOTICE}`);
  return { hotkey, coldkeyPub, notices };
}
