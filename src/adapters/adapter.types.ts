/**
 * The file-adapter contract: how a file (or a folder such as a Zarr store or an image sequence) on disk
 * becomes a tree node the server can serve. Adapters are chosen by mimetype, as Tiled 0.2.16 does with
 * `adapters_by_mimetype`, so a catalog data source that points at external assets opens through the same
 * registry as `tiled serve directory` and `tiled register`.
 *
 * An adapter must read lazily: opening reads only what the structure needs (headers, shapes, attributes),
 * and `readBlock`/`readPartition` touch only the bytes of that block or partition.
 */
import type { TreeNode } from '../catalog/tree/tree.types';

export interface AdapterSource {
  /**
   * Absolute paths of the assets, in order: one file, one directory (a Zarr store), or several files
   * stacked along a new first axis (a numbered image sequence).
   */
  readonly paths: readonly string[];
  /** The mimetype the adapter was chosen by, e.g. `application/x-hdf5`, `multipart/related;type=image/tiff`. */
  readonly mimetype: string;
}

export type AdapterFactory = (source: AdapterSource) => Promise<TreeNode>;

export interface AdapterRegistration {
  readonly mimetype: string;
  /** Extensions (lower case, with the dot) that map to this mimetype when walking a folder. */
  readonly extensions: readonly string[];
  /** True when the asset is a directory (a Zarr store) rather than a file. */
  readonly directory?: boolean;
  readonly open: AdapterFactory;
}

/** A file that cannot be opened (truncated, corrupt, unreadable): served as a 4xx/5xx for that node only. */
export class AdapterError extends Error {
  constructor(
    message: string,
    /** The HTTP status the node's routes answer with. */
    readonly status: 400 | 404 | 415 | 422 | 500 | 503 = 500,
  ) {
    super(message);
    this.name = 'AdapterError';
  }
}
