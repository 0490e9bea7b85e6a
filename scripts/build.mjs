// `npm run build`: the production form of `hs58`, bundled by esbuild into dist/ (`node dist/hs58.mjs`).
// The same program as `bin/hs58.js` without the TypeScript loader: tsx's loader thread and
// its compiled output cost about 35 MB of every daemon's memory (bench/README.md).
// Dependencies are bundled in (scripts/bundleOptions.mjs says which stay imports of node_modules,
// and why); each daemon's code is a chunk loaded on demand.
// Files the code opens at run time beside itself are copied: the verify worker and the
// Solidity sources of the local network's contracts.
import { execFileSync } from 'node:child_process';
import { cp, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BUNDLE_OPTIONS } from './bundleOptions.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// --outdir DIR (tests): must lie inside the checkout so that the bundle finds node_modules.
const { values } = parseArgs({ options: { outdir: { type: 'string', default: 'dist' } } });
const OUT = path.resolve(ROOT, values.outdir);

// esbuild is a devDependency: build before pruning to production modules (Dockerfile, docs/deploy.md).
try {
  import.meta.resolve('esbuild');
} catch {
  process.stderr.write(
    'npm run build: esbuild is not installed (a devDependency): run `npm ci`, build, then `npm prune --omit=dev --omit=optional` (docs/deploy.md).\n',
  );
  process.exit(2);
}
const { build } = await import('esbuild');

// The commit `hs58 --version` and hs58_build_info report: HS58_COMMIT (a Docker build without .git), else git.
function commit() {
  if (process.env.HS58_COMMIT) return process.env.HS58_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || 'unknown';
  } catch {
    return 'unknown';
  }
}

await rm(OUT, { recursive: true, force: true });
await build({
  ...BUNDLE_OPTIONS,
  absWorkingDir: ROOT,
  entryPoints: { hs58: 'neurons/main.ts' },
  outdir: OUT,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  // External maps: read only with `node --enable-source-maps`, so they cost nothing otherwise.
  sourcemap: 'external',
  banner: { js: `#!/usr/bin/env node\n${BUNDLE_OPTIONS.banner.js}` },
  define: { __HS58_COMMIT__: JSON.stringify(commit()) },
});
await cp(path.join(ROOT, 'src/axon/verify-worker.mjs'), path.join(OUT, 'verify-worker.mjs'));
await mkdir(path.join(OUT, 'contracts'));
for (const name of await readdir(path.join(ROOT, 'localnet/contracts'))) {
  if (name.endsWith('.sol')) await cp(path.join(ROOT, 'localnet/contracts', name), path.join(OUT, 'contracts', name));
}
process.stdout.write(`built ${path.relative(process.cwd(), OUT) || '.'}/hs58.mjs: run it with \`node dist/hs58.mjs <command>\`\n`);
