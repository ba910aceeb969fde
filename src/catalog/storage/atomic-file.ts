import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Temporary files start with this; a crash may leave some behind, and `removeTemporaryFiles` clears them. */
export const TEMP_PREFIX = '.tiled-tmp-';

/**
 * Writes a file so that readers (and a restart after a crash) see either the old content or the new, never
 * part of it: the bytes go to a temporary file in the same directory, which is then renamed over the target
 * (rename is atomic within a file system). No fsync: this protects against a killed process, not power loss.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true });
  const temp = join(dir, `${TEMP_PREFIX}${basename(path)}.${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(temp, data);
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Deletes temporary files a crashed writer left under `dir` (recursively); returns how many. */
export async function removeTemporaryFiles(dir: string): Promise<number> {
  let removed = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  for (const entry of entries) {
    if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) {
      await rm(join(entry.parentPath, entry.name), { force: true });
      removed++;
    }
  }
  return removed;
}
