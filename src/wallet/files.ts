/**
 * Wallet files on disk for the Python-compatible layout, from and to the base64 env vars
 * a container platform (Railway) carries: `hs58 wallet import | encode | create`.
 * Directories 0700, files 0600, written atomically (temp file + rename).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { bip39Generate, bip39ToMiniSecret } from '@polkadot/wasm-crypto';
import { WalletError } from './errors.js';
import { COLDKEY_B64_VAR, COLDKEYPUB_B64_VAR, decodeBase64Var, HOTKEY_B64_VAR, walletPaths, type WalletLocation } from './hotkey.js';
import { parseColdkeyPubFile, parseHotkeyFile, renderKeyfile, renderPubKeyfile } from './keyfile.js';
import { initCrypto, publicKeyToSs58, sr25519KeypairFromSeed } from './sr25519.js';

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Creates `dir` 0700; `tighten` also fixes the mode of an existing one (only for the wallet's own folders, never a shared parent like /tmp). */
async function ensureDir(dir: string, tighten: boolean): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (tighten) await chmod(dir, DIR_MODE);
}

/** Writes `data` to `file` with mode 0600 whatever the umask, replacing it atomically. */
async function writeSecretFile(file: string, data: Uint8Array | string): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, data, { mode: FILE_MODE, flag: 'wx' });
    await chmod(tmp, FILE_MODE);
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export interface WriteWalletFilesParameters extends WalletLocation {
  /** Base64 of the hotkey file (BT_HOTKEY_B64). */
  hotkeyB64: string;
  /** Base64 of coldkeypub.txt (BT_COLDKEYPUB_B64). */
  coldkeypubB64: string;
  /** Base64 of the coldkey file (BT_COLDKEY_B64); written as is, never needed by the daemons. */
  coldkeyB64?: string | null;
}

export interface WriteWalletFilesReturnType {
  hotkeyAddress: string;
  coldkeyAddress: string;
  /** Paths written, for the user. */
  written: string[];
  notices: string[];
}

/**
 * The original container entrypoint's job, with validation first: nothing is written
 * unless the hotkey decodes to an unencrypted keyfile whose address checks out and the
 * coldkeypub decodes to a public key.
 */
export async function writeWalletFiles(params: WriteWalletFilesParameters): Promise<WriteWalletFilesReturnType> {
  await initCrypto();
  const paths = walletPaths(params);
  const hotkeyBytes = decodeBase64Var(params.hotkeyB64, HOTKEY_B64_VAR);
  const hotkey = await parseHotkeyFile(hotkeyBytes, HOTKEY_B64_VAR);
  const coldkeypubBytes = decodeBase64Var(params.coldkeypubB64, COLDKEYPUB_B64_VAR);
  const coldkeyPub = parseColdkeyPubFile(coldkeypubBytes, COLDKEYPUB_B64_VAR);
  const coldkeyBytes = params.coldkeyB64 ? decodeBase64Var(params.coldkeyB64, COLDKEY_B64_VAR) : null;

  await ensureDir(params.walletPath, false);
  await ensureDir(paths.dir, true);
  await ensureDir(paths.hotkeysDir, true);
  const written: string[] = [];
  const put = async (file: string, data: Uint8Array | string) => {
    await writeSecretFile(file, data);
    written.push(file);
  };
  await put(paths.hotkey, hotkeyBytes);
  await put(paths.hotkeyPub, renderPubKeyfile(hotkey.keypair.publicKey));
  await put(paths.coldkeyPubTxt, coldkeypubBytes);
  await put(paths.coldkeyPub, coldkeypubBytes);
  const notices: string[] = [];
  if (coldkeyBytes !== null) {
    await put(paths.coldkey, coldkeyBytes);
    notices.push(`${COLDKEY_B64_VAR} written to ${paths.coldkey}, but the daemons do not need the coldkey: remove ${COLDKEY_B64_VAR} from the environment`);
  }
  return { hotkeyAddress: hotkey.address, coldkeyAddress: coldkeyPub.address, written, notices };
}

export interface EncodeWalletEnvParameters extends WalletLocation {
  /** Also print BT_COLDKEY_B64 (not needed by the daemons). */
  withColdkey?: boolean;
}

export interface EncodeWalletEnvReturnType {
  /** `NAME=value` lines to paste into the platform's variables. */
  lines: string[];
  warnings: string[];
  hotkeyAddress: string;
  coldkeyAddress: string;
}

async function readOrExplain(file: string, help: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new WalletError('WALLET_FILE_MISSING', `${file} not found: ${help}`, { cause });
    throw new WalletError('WALLET_FILE_UNREADABLE', `cannot read ${file} (${code ?? 'error'})`, { cause });
  }
}

/** The env lines that make `hs58 wallet import` (or the daemons) recreate this wallet elsewhere. */
export async function encodeWalletEnv(params: EncodeWalletEnvParameters): Promise<EncodeWalletEnvReturnType> {
  const paths = walletPaths(params);
  const hotkeyBytes = await readOrExplain(
    paths.hotkey,
    `create it with \`btcli wallet new_hotkey --wallet.name ${params.name} --wallet.hotkey ${params.hotkey} --no-use-password\` or \`hs58 wallet create\``,
  );
  const hotkey = await parseHotkeyFile(hotkeyBytes, paths.hotkey);
  const coldkeypubBytes = await readOrExplain(paths.coldkeyPubTxt, `regenerate it with \`btcli wallet regen_coldkeypub --wallet.name ${params.name}\``);
  const coldkeyPub = parseColdkeyPubFile(coldkeypubBytes, paths.coldkeyPubTxt);
  const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
  const lines = [
    `${HOTKEY_B64_VAR}=${b64(hotkeyBytes)}`,
    `${COLDKEYPUB_B64_VAR}=${b64(coldkeypubBytes)}`,
    `WALLET_NAME=${params.name}`,
    `HOTKEY_NAME=${params.hotkey}`,
  ];
  const warnings: string[] = [];
  if (params.withColdkey) {
    const coldkeyBytes = await readOrExplain(paths.coldkey, 'this wallet has no coldkey file on this machine');
    lines.push(`${COLDKEY_B64_VAR}=${b64(coldkeyBytes)}`);
    warnings.push(`${COLDKEY_B64_VAR} carries your coldkey, which controls your funds; the daemons do not need it. Prefer not to upload it.`);
  }
  return { lines, warnings, hotkeyAddress: hotkey.address, coldkeyAddress: coldkeyPub.address };
}

export interface CreateWalletFilesParameters extends WalletLocation {
  /** Replace an existing hotkey file. An existing coldkey is always kept. */
  overwrite?: boolean;
  /** BIP-39 words of the new mnemonics. */
  words?: 12 | 15 | 18 | 21 | 24;
}

export interface CreateWalletFilesReturnType {
  hotkeyAddress: string;
  coldkeyAddress: string;
  /** False when the wallet already had a coldkey (only the hotkey was made). */
  createdColdkey: boolean;
  written: string[];
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

/**
 * A new unencrypted wallet for local networks and tests, in bittensor_wallet's format
 * (btcli and the Python SDK load it). The coldkey is made only when the wallet has none;
 * its secret is written too (unencrypted, 0600), else the coldkeypub would be useless.
 */
export async function createWalletFiles(params: CreateWalletFilesParameters): Promise<CreateWalletFilesReturnType> {
  await initCrypto();
  const paths = walletPaths(params);
  if (!params.overwrite && (await exists(paths.hotkey))) {
    throw new WalletError('WALLET_FILE_EXISTS', `${paths.hotkey} already exists; pass --overwrite to replace it (its key is lost unless backed up)`);
  }
  const words = params.words ?? 12;
  const newKey = (): { phrase: string; seed: Uint8Array; keypair: ReturnType<typeof sr25519KeypairFromSeed> } => {
    const phrase = bip39Generate(words);
    const seed = bip39ToMiniSecret(phrase, '');
    return { phrase, seed, keypair: sr25519KeypairFromSeed(seed) };
  };

  await ensureDir(params.walletPath, false);
  await ensureDir(paths.dir, true);
  await ensureDir(paths.hotkeysDir, true);
  const written: string[] = [];
  const put = async (file: string, data: string) => {
    await writeSecretFile(file, data);
    written.push(file);
  };

  let coldkeyAddress: string;
  const createdColdkey = !(await exists(paths.coldkeyPubTxt));
  if (createdColdkey) {
    const cold = newKey();
    await put(paths.coldkey, renderKeyfile(cold.keypair, cold));
    await put(paths.coldkeyPubTxt, renderPubKeyfile(cold.keypair.publicKey));
    coldkeyAddress = publicKeyToSs58(cold.keypair.publicKey);
  } else {
    coldkeyAddress = parseColdkeyPubFile(await readFile(paths.coldkeyPubTxt), paths.coldkeyPubTxt).address;
  }
  const hot = newKey();
  const hotkeyText = renderKeyfile(hot.keypair, hot);
  await put(paths.hotkey, hotkeyText);
  await put(paths.hotkeyPub, renderPubKeyfile(hot.keypair.publicKey));
  // Read back what was written, through the loader the daemons use.
  const check = await parseHotkeyFile(await readFile(paths.hotkey), paths.hotkey);
  return { hotkeyAddress: check.address, coldkeyAddress, createdColdkey, written };
}
