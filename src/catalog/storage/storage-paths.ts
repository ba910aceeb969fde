import { isAbsolute, join } from 'node:path';
import { parquetPartitionPath } from './parquet-table';

/** An asset of a data source, as Tiled 0.2.16 records it. */
export interface StorageAsset {
  data_uri: string;
  is_directory: boolean;
  parameter: string;
  num: number | null;
}

/** Python's `urllib.parse.quote_plus(segment)`: letters, digits and `_.-~` kept, space as `+`, the rest %XX of UTF-8. */
export function quotePlus(segment: string): string {
  return encodeURIComponent(segment)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+');
}

/**
 * Where a node's files go: each segment of its path quote_plus-encoded under the storage root, the
 * directory Tiled 0.2.16 uses (tiled/catalog/adapter.py passes the path; the adapters encode it), so
 * either server finds the other's files. Encoding also keeps `..` and `/` in a key from leaving the root.
 */
export function nodeDataDirectory(root: string, segments: readonly string[]): string {
  if (!isAbsolute(root)) throw new Error(`Storage root must be an absolute path, not ${JSON.stringify(root)}`);
  if (segments.length === 0) throw new Error('A node below the root is required');
  return join(root, ...segments.map((s) => (s === '.' || s === '..' ? s.replace(/\./g, '%2E') : quotePlus(s))));
}

/** Tiled's URI for a local path: `file://localhost` followed by the path as it is (Tiled does not percent-encode it). */
export function fileDataUri(path: string): string {
  return `file://localhost${path}`;
}

/** A Zarr array's one asset: its directory. */
export function zarrAssets(dir: string): StorageAsset[] {
  return [{ data_uri: fileDataUri(dir), is_directory: true, parameter: 'data_uri', num: null }];
}

/** A Parquet table's assets: one file per partition, numbered. */
export function parquetAssets(dir: string, npartitions: number): StorageAsset[] {
  return Array.from({ length: npartitions }, (_, i) => ({ data_uri: fileDataUri(parquetPartitionPath(dir, i)), is_directory: false, parameter: 'data_uris', num: i }));
}
