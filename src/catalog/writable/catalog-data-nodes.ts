import { TiledHttpError } from '../../common/errors/tiled-http.error';
import type { TreeNode } from '../tree/tree.types';
import type { DataSourceRow, NodeRow } from './catalog-store';
import type { CatalogContext } from './catalog-tree';

/**
 * The one place that ties the catalog to the on-disk formats (src/catalog/storage/): the array or table
 * node of a catalog row, read from its data source's files, and the files of a new data source.
 */
export async function dataNodeFor(_context: CatalogContext, row: NodeRow, _sources: DataSourceRow[]): Promise<TreeNode> {
  throw new TiledHttpError(501, `Reading ${row.structureFamily} nodes of a catalog is not available in this build`);
}

/** A new data source as stored: its normalised structure and the assets made for it. */
export interface NewDataSource {
  structure: Record<string, unknown>;
  mimetype: string;
  parameters: Record<string, unknown>;
  assets: { dataUri: string; isDirectory: boolean; parameter: string | null; num: number | null }[];
}

/**
 * Create the (empty) storage of a new array or table under the first writable directory.
 * Every file or directory made is pushed onto `created` before anything else can fail, so the caller
 * can remove them if the node is not committed.
 */
export async function initDataStorage(
  _context: CatalogContext,
  family: string,
  _structure: Record<string, unknown> | null,
  _segments: string[],
  _created: string[],
): Promise<NewDataSource> {
  throw new TiledHttpError(501, `Writing ${family} data is not available in this build`);
}

function unavailable(what: string): never {
  throw new TiledHttpError(501, `Writing ${what} is not available in this build`);
}

export async function writeArrayFull(_context: CatalogContext, _source: DataSourceRow, _bytes: Buffer): Promise<void> {
  unavailable('array data');
}

export async function writeArrayBlock(_context: CatalogContext, _source: DataSourceRow, _block: number[], _bytes: Buffer): Promise<void> {
  unavailable('array data');
}

/** Write `bytes` (a region of `shape` at `offset`), growing the array if `extend`; resolves to the new structure. */
export async function patchArray(
  _context: CatalogContext,
  _source: DataSourceRow,
  _offset: number[],
  _shape: number[],
  _bytes: Buffer,
  _extend: boolean,
): Promise<Record<string, unknown>> {
  unavailable('array data');
}

export async function writeTablePartition(_context: CatalogContext, _source: DataSourceRow, _partition: number, _arrow: Buffer): Promise<void> {
  unavailable('table data');
}

/** Append the rows of `arrow` to a partition; resolves to the new structure. */
export async function appendTablePartition(_context: CatalogContext, _source: DataSourceRow, _partition: number, _arrow: Buffer): Promise<Record<string, unknown>> {
  unavailable('table data');
}
