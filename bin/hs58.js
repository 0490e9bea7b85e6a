#!/usr/bin/env node
// `hs58` from the TypeScript sources, through tsx's loader: no build step to forget while
// developing. Production runs `node dist/hs58.mjs` (`npm run build`), the same program bundled.
// On a machine whose `node` is older than 24 (the project's runtime), it runs itself again
// under Node 24, fetched once from the npm registry (scripts/node24.mjs).
if (Number(process.versions.node.split('.')[0]) < 24) {
  const { runWithNode24 } = await import('../scripts/node24.mjs');
  process.exitCode = await runWithNode24(['node', ...process.argv.slice(1)]);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../neurons/main.ts');
}
