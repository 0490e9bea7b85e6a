import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { REPO_ROOT } from './programs.js';

/**
 * A folder of its own inside the checkout for a bundle (node_modules/.cache, ignored by git), so
 * that the bundle's bare imports find node_modules. `remove` deletes it.
 */
export async function bundleFolder(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  await mkdir(path.join(REPO_ROOT, 'node_modules', '.cache'), { recursive: true });
  const dir = await mkdtemp(path.join(REPO_ROOT, 'node_modules', '.cache', prefix));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** `npm run build` (scripts/build.mjs) into a bundle folder: the production `hs58`, its entry and a way to remove it. */
export async function productionBuild(): Promise<{ entry: string; remove: () => Promise<void> }> {
  const { dir, remove } = await bundleFolder('hs58-build-');
  await new Promise<void>((resolve, reject) =>
    execFile(process.execPath, [path.join(REPO_ROOT, 'scripts/build.mjs'), '--outdir', dir], { cwd: REPO_ROOT }, (err, _out, stderr) =>
      err ? reject(new Error(`the build failed: ${stderr}`)) : resolve(),
    ),
  );
  return { entry: path.join(dir, 'hs58.mjs'), remove };
}
