import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Writes a file so that a crash at any moment leaves either the old or the new content, never
 * half a file: a temporary file in the same folder, fsync, rename over the old one, fsync of the
 * folder. The folder is created when missing. State files hold salts and scores: mode 0600.
 * `data` may be chunks, written one after the other as they are produced (a large state never
 * needs to exist as one string).
 */
export async function writeFileAtomic(filePath: string, data: string | Uint8Array | Iterable<string | Uint8Array>, mode = 0o600): Promise<void> {
  const dir = path.dirname(filePath);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const tmp = path.join(dir, `.${path.basename(filePath)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'wx', mode);
    try {
      if (typeof data === 'string' || data instanceof Uint8Array) await fh.writeFile(data);
      // Each writeFile continues at the current position.
      else for (const chunk of data) await fh.writeFile(chunk);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, filePath);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  const dh = await open(dir, 'r');
  try {
    await dh.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic there.
  } finally {
    await dh.close();
  }
}

/** The file's text, or null when there is no such file; any other read error is thrown. */
export async function readFileIfExists(filePath: string): Promise<string | null> {
  try {
    return await readFile(filePath, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
