/**
 * `hs58 localnet`'s entry (neurons/main.ts loads it). The local network is the development
 * harness: Chopsticks, anvil and solc are devDependencies, which a production install
 * (`npm ci --omit=dev`, the image) leaves out. There this says in one line what to install and
 * exits 2; otherwise it loads and runs the command (command.ts).
 */
import type { Command } from '../src/cli/context.js';

/** The harness's own packages, each with a specifier that resolves once it is installed. */
export const HARNESS_PACKAGES: readonly { name: string; probe: string }[] = [
  { name: '@acala-network/chopsticks', probe: '@acala-network/chopsticks' },
  { name: '@foundry-rs/anvil', probe: '@foundry-rs/anvil/package.json' },
  { name: 'solc', probe: 'solc' },
];

/** Names of the harness's packages that do not resolve from here. */
export function missingHarnessPackages(resolve: (specifier: string) => string = (s) => import.meta.resolve(s)): string[] {
  const missing: string[] = [];
  for (const { name, probe } of HARNESS_PACKAGES) {
    try {
      resolve(probe);
    } catch {
      missing.push(name);
    }
  }
  return missing;
}

export const runLocalnet: Command = async (ctx) => {
  const missing = missingHarnessPackages();
  if (missing.length > 0) {
    ctx.stderr.write(
      `hs58 localnet: the local network is a development tool; it needs ${missing.join(', ')} (devDependencies, left out of a production install): run \`npm ci\` in a checkout of the repository.\n`,
    );
    return 2;
  }
  return (await import('./command.js')).runLocalnet(ctx);
};
