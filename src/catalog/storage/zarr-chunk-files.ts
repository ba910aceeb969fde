import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ChunkFiles {
  /** The array's metadata document (zarr.json or .zarray): its fill value, codecs and shape. */
  metadata: string;
  /** The file holding the stored chunk at these grid coordinates. */
  chunkFile(coords: readonly number[]): string;
}

/**
 * Where the array in `dir` keeps each chunk, from its metadata document's chunk key encoding (v3
 * `default` `c/0/0` or `v2` `0.0`; v2 arrays' `dimension_separator`). Undefined when a file is not one
 * chunk (sharded arrays) or the document cannot be read: those blocks' ETags are hashed from their bytes.
 */
export async function chunkFilesOf(dir: string): Promise<ChunkFiles | undefined> {
  for (const name of ['zarr.json', '.zarray']) {
    const metadata = join(dir, name);
    let document: { chunk_key_encoding?: { name?: string; configuration?: { separator?: string } }; codecs?: { name?: string }[]; dimension_separator?: string };
    try {
      document = JSON.parse(await readFile(metadata, 'utf8')) as typeof document;
    } catch {
      continue;
    }
    let key: (coords: readonly number[]) => string;
    if (name === '.zarray') {
      const separator = document.dimension_separator ?? '.';
      key = (coords) => (coords.length === 0 ? '0' : coords.join(separator));
    } else {
      if (document.codecs?.some((codec) => codec.name === 'sharding_indexed')) return undefined;
      const encoding = document.chunk_key_encoding ?? { name: 'default' };
      if (encoding.name === 'v2') {
        const separator = encoding.configuration?.separator ?? '.';
        key = (coords) => (coords.length === 0 ? '0' : coords.join(separator));
      } else if (encoding.name === 'default') {
        const separator = encoding.configuration?.separator ?? '/';
        key = (coords) => ['c', ...coords].join(separator);
      } else return undefined;
    }
    return { metadata, chunkFile: (coords) => join(dir, key(coords)) };
  }
  return undefined;
}
