#!/usr/bin/env node
// `hs58` from the TypeScript sources, through tsx's loader: no build step to forget while
// developing. Production runs `node dist/hs58.mjs` (`npm run build`), the same program bundled.
// On a machine whose `node` is older than 24 (the project's runtime), it runs itself again
// under Node 24, fetched once from the npm registry (scripts/node24.mjs).
// tsx is a devDependency: in a production install (`npm prune --omit=dev`) this runs the build.
import { existsSync } from 'node:fs';

if (Number(process.versions.node.split('.')[0]) < 24) {
  const { runWithNode24 } = await import('../scripts/node24.mjs');
  process.exitCode = await runWithNode24(['node', ...process.argv.slice(1)]);
} else {
  let tsxInstalled = true;
  try {
    import.meta.resolve('tsx/esm/api');
  } catch {
    tsxInstalled = false;
  }
  const build = new URL('../dist/hs58.mjs', import.meta.url);
  if (tsxInstalled) {
    const { register } = await import('tsx/esm/api');
    register();
    await import('../neurons/main.ts');
  } else if (existsSync(build)) {
    await import(build.href);
  } else {
    process.stderr.write(
      'hs58: this install has neither tsx (a devDependency) nor the build dist/hs58.mjs: run `npm ci`, then `npm run build` for production.\n',
    );
    process.exitCode = 2;
  }
}
