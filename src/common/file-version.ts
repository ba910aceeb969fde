import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';

/** The version string of fileVersion from a bigint stat (or fstat of an open descriptor). */
export function versionOfStats(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

/**
 * What identifies the bytes of a file as stored, from one stat: device, inode, size, and modification
 * and change times in nanoseconds. Rewriting a file in place changes its times; replacing it (the
 * atomic rename of the catalog's writes) changes its inode too. A file that does not exist is
 * `missing`, so a block read as fill values gets a version of its own. Data ETags are derived from this
 * (ArrayNode.blockVersion), so nothing of the bytes is hashed.
 */
export async function fileVersion(path: string): Promise<string> {
  try {
    return versionOfStats(await stat(path, { bigint: true }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
}
