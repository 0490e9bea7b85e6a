/**
 * `hs58 wallet import | encode | create`: move a bittensor wallet into a container through
 * base64 env vars and back, or make a throwaway one for a local network. Only addresses and
 * file paths are printed, except by `encode`, whose whole point is to print the values.
 */
import { loadConfig } from '../../config/load.js';
import { COLDKEY_B64_VAR, COLDKEYPUB_B64_VAR, HOTKEY_B64_VAR } from '../../wallet/hotkey.js';
import { createWalletFiles, encodeWalletEnv, writeWalletFiles } from '../../wallet/files.js';
import type { Command, CommandContext } from '../context.js';

const USAGE = `Usage:
  hs58 wallet import                 write the wallet files from ${HOTKEY_B64_VAR}, ${COLDKEYPUB_B64_VAR}
                                     (optional ${COLDKEY_B64_VAR}), WALLET_NAME, HOTKEY_NAME [, BT_WALLET_PATH]
  hs58 wallet encode --wallet.name X --wallet.hotkey Y [--with-coldkey]
                                     print the env lines that carry this wallet (paste into Railway)
  hs58 wallet create --wallet.name X --wallet.hotkey Y [--overwrite]
                                     a new unencrypted wallet for local networks and tests
Flags: --wallet.path (default ~/.bittensor/wallets)
`;

const EXTRA_FLAGS: Record<string, readonly string[]> = {
  import: [],
  encode: ['with-coldkey'],
  create: ['overwrite'],
};

function parse(ctx: CommandContext, sub: string) {
  const { config, rest } = loadConfig({
    argv: ctx.argv.slice(1),
    env: ctx.env,
    ...(ctx.dotenv !== undefined ? { dotenv: ctx.dotenv } : {}),
    homeDir: ctx.homeDir,
    extraFlags: EXTRA_FLAGS[sub] ?? [],
  });
  const location = { walletPath: config['wallet.path'], name: config['wallet.name'], hotkey: config['wallet.hotkey'] };
  return { config, rest, location };
}

const importWallet = async (ctx: CommandContext): Promise<number> => {
  const { config, rest, location } = parse(ctx, 'import');
  if (rest.positional.length > 0) return unexpected(ctx, rest.positional);
  const hotkeyB64 = config['wallet.hotkey_b64'];
  const coldkeypubB64 = config['wallet.coldkeypub_b64'];
  const missing: [string, string][] = [];
  if (!hotkeyB64) missing.push([HOTKEY_B64_VAR, 'the base64 of the hotkey file']);
  if (!coldkeypubB64) missing.push([COLDKEYPUB_B64_VAR, 'the base64 of coldkeypub.txt']);
  if (!hotkeyB64 || !coldkeypubB64) {
    for (const [name, what] of missing) ctx.stderr.write(`hs58 wallet import: ${name} is not set; set it to ${what}.\n`);
    ctx.stderr.write('Run `hs58 wallet encode --wallet.name <name> --wallet.hotkey <hotkey>` where the wallet is to get the values.\n');
    return 2;
  }
  const result = await writeWalletFiles({ ...location, hotkeyB64, coldkeypubB64, coldkeyB64: config['wallet.coldkey_b64'] });
  for (const file of result.written) ctx.stdout.write(`wrote ${file}\n`);
  ctx.stdout.write(`hotkey  ${result.hotkeyAddress}\ncoldkey ${result.coldkeyAddress}\n`);
  for (const n of result.notices) ctx.stderr.write(`notice: ${n}\n`);
  return 0;
};

const encodeWallet = async (ctx: CommandContext): Promise<number> => {
  const { rest, location } = parse(ctx, 'encode');
  if (rest.positional.length > 0) return unexpected(ctx, rest.positional);
  const result = await encodeWalletEnv({ ...location, withColdkey: rest.extra['with-coldkey'] !== undefined });
  for (const w of result.warnings) ctx.stderr.write(`warning: ${w}\n`);
  ctx.stderr.write(`# hotkey ${result.hotkeyAddress}, coldkey ${result.coldkeyAddress}; the lines below hold the hotkey secret.\n`);
  ctx.stdout.write(`${result.lines.join('\n')}\n`);
  return 0;
};

const createWallet = async (ctx: CommandContext): Promise<number> => {
  const { rest, location } = parse(ctx, 'create');
  if (rest.positional.length > 0) return unexpected(ctx, rest.positional);
  const result = await createWalletFiles({ ...location, overwrite: rest.extra.overwrite !== undefined });
  ctx.stdout.write(`hotkey  ${result.hotkeyAddress}\ncoldkey ${result.coldkeyAddress}\n`);
  if (result.createdColdkey) {
    ctx.stderr.write(`warning: the new coldkey of wallet ${location.name} is stored unencrypted: use this wallet on local networks and tests only.\n`);
  }
  return 0;
};

function unexpected(ctx: CommandContext, positional: string[]): number {
  ctx.stderr.write(`hs58 wallet: unexpected argument ${JSON.stringify(positional[0])}\n${USAGE}`);
  return 2;
}

const SUBCOMMANDS: Record<string, Command> = { import: importWallet, encode: encodeWallet, create: createWallet };

export const walletCommand: Command = async (ctx) => {
  const sub = ctx.argv[0];
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    (sub === undefined ? ctx.stderr : ctx.stdout).write(USAGE);
    return sub === undefined ? 2 : 0;
  }
  const run = SUBCOMMANDS[sub];
  if (run && ctx.argv.some((a) => a === '--help' || a === '-h')) {
    ctx.stdout.write(USAGE);
    return 0;
  }
  if (!run) {
    ctx.stderr.write(`hs58 wallet: unknown subcommand ${JSON.stringify(sub)}\n${USAGE}`);
    return 2;
  }
  return run(ctx);
};
