import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import {
  appendSqlRows,
  createSqlTable,
  sqlTableNode,
  arrayLayout,
  createZarrArray,
  parquetPartitionPath,
  parquetTableNode,
  patchZarr,
  tableLayout,
  writeParquetPartition,
  writeZarrBlock,
  writeZarrFull,
  zarrArrayNode,
  createSparseArray,
  sparseArrayNode,
  sparseBlockPath,
  sparseLayout,
  sparseStructureOf,
  writeSparseBlock,
  writeSparseFull,
} from '../storage';
import type { ArrayStructure, SparseStructure, SqlTableParameters, TableStructure } from '../storage';
import type { TreeNode } from '../tree/tree.types';
import type { DataSourceRow, NodeRow } from './catalog-store';
import type { CatalogContext } from './catalog-handle';

/*
 * The one place that ties the catalog to the on-disk formats (src/catalog/storage/): the array or table
 * node of a catalog row, read from its data source's files, and the files of a new data source.
 */

/** Tiled's mimetypes of the Zarr arrays and Parquet tables it writes. */
export const ZARR_MIMETYPE = 'application/x-zarr';
export const PARQUET_MIMETYPE = 'application/x-parquet';
/** Tiled's sparse arrays: one Parquet file of COO elements per block (SparseBlocksParquetAdapter). */
export const SPARSE_MIMETYPE = 'application/x-parquet;structure=sparse';
/** Tiled's appendable tables: rows in an SQL database named by a `writable_storage` URI. */
export const SQL_TABLE_MIMETYPE = 'application/x-tiled-sql-table';

function sqlAsset(source: DataSourceRow): string {
  const asset = source.assets.find((a) => !a.dataUri.startsWith('file:'));
  if (!asset) throw new TiledHttpError(500, 'This node has no SQL storage');
  return asset.dataUri;
}

/** The directory holding a data source's files: the Zarr directory, or the directory of the Parquet partitions. */
function directoryOf(source: DataSourceRow): string {
  const asset = source.assets.find((a) => a.dataUri.startsWith('file:'));
  if (!asset) throw new TiledHttpError(500, 'This node has no data on disk');
  const path = fileURLToPath(asset.dataUri);
  return asset.isDirectory ? path : dirname(path);
}

/** A data source as Tiled's resources and POST responses show it. */
export function dataSourceDocument(source: DataSourceRow): Record<string, unknown> {
  return {
    id: source.id,
    structure_family: source.structureFamily,
    structure: source.structure,
    mimetype: source.mimetype,
    parameters: source.parameters,
    properties: source.properties,
    assets: source.assets.map((a) => ({ data_uri: a.dataUri, is_directory: a.isDirectory, parameter: a.parameter, num: a.num, id: a.id, size: a.size })),
    management: source.management,
  };
}

export async function dataNodeFor(_context: CatalogContext, row: NodeRow, sources: DataSourceRow[]): Promise<TreeNode> {
  const [source] = sources;
  const common = { cacheable: false, accessBlob: row.accessBlob, dataSources: () => sources.map(dataSourceDocument) };
  if (row.structureFamily === 'array' && source?.mimetype === ZARR_MIMETYPE && source.structure) {
    return { ...zarrArrayNode(directoryOf(source), source.structure as unknown as ArrayStructure, row.metadata, row.specs), ...common };
  }
  if (row.structureFamily === 'table' && source?.mimetype === SQL_TABLE_MIMETYPE && source.structure) {
    const parameters = source.parameters as unknown as SqlTableParameters;
    return { ...sqlTableNode(sqlAsset(source), parameters, source.structure as unknown as TableStructure, row.metadata, row.specs), ...common };
  }
  if (row.structureFamily === 'table' && source?.mimetype === PARQUET_MIMETYPE && source.structure) {
    return { ...parquetTableNode(directoryOf(source), source.structure as unknown as TableStructure, row.metadata, row.specs), ...common };
  }
  if (row.structureFamily === 'sparse' && source?.mimetype === SPARSE_MIMETYPE && source.structure) {
    return { ...sparseArrayNode(directoryOf(source), source.structure as unknown as SparseStructure, row.metadata, row.specs), ...common };
  }
  throw new TiledHttpError(501, `Reading ${row.structureFamily} nodes of a catalog is not available in this build`);
}

/**
 * Most partitions a new Parquet table may have: each is an asset row written in the creating transaction,
 * and SQLite runs that transaction on the event loop.
 */
export const MAX_NEW_PARTITIONS = 1024;

/** A new data source as stored: its normalised structure and the assets made for it. */
export interface NewDataSource {
  structure: Record<string, unknown>;
  mimetype: string;
  parameters: Record<string, unknown>;
  assets: { dataUri: string; isDirectory: boolean; parameter: string | null; num: number | null }[];
}

/**
 * Create the (empty) storage of a new array or table under the first writable directory, at the node's
 * path inside the catalog (Tiled's layout). Every directory made is pushed onto `created` before it is
 * written, so the caller can remove it if the node is not committed.
 */
export async function initDataStorage(
  context: CatalogContext,
  family: string,
  structure: Record<string, unknown> | null,
  segments: string[],
  created: string[],
  mimetype: string | null = null,
): Promise<NewDataSource> {
  if (family === 'table' && mimetype === SQL_TABLE_MIMETYPE) {
    const uri = context.tabularStorage[0];
    if (!uri) throw new TiledHttpError(405, 'This catalog has no tabular storage (a database URI in writable_storage) for appendable tables');
    const given = structure as unknown as TableStructure;
    const layout = tableLayout(given);
    const stored: TableStructure = { arrow_schema: given.arrow_schema, npartitions: layout.npartitions, columns: layout.columns.map((c) => c.name), resizable: false };
    const parameters = await createSqlTable(uri, null, stored);
    return {
      structure: stored as unknown as Record<string, unknown>,
      mimetype: SQL_TABLE_MIMETYPE,
      parameters: parameters as unknown as Record<string, unknown>,
      assets: [{ dataUri: uri, isDirectory: false, parameter: 'data_uri', num: null }],
    };
  }
  if (mimetype !== null && mimetype !== ({ array: ZARR_MIMETYPE, sparse: SPARSE_MIMETYPE }[family] ?? PARQUET_MIMETYPE)) {
    throw new TiledHttpError(415, `The given data source mimetype, ${mimetype}, is not one that the Tiled server knows how to write.`);
  }
  const dir = join(context.writableDirs[0], ...segments);
  if (family === 'array') {
    const given = structure as unknown as ArrayStructure;
    const layout = arrayLayout(given);
    const stored: ArrayStructure = { data_type: given.data_type, chunks: layout.chunks, shape: layout.shape, dims: layout.dims, resizable: false };
    created.push(dir);
    await createZarrArray(dir, stored);
    return {
      structure: stored as unknown as Record<string, unknown>,
      mimetype: ZARR_MIMETYPE,
      parameters: {},
      assets: [{ dataUri: pathToFileURL(dir).href, isDirectory: true, parameter: 'data_uri', num: null }],
    };
  }
  if (family === 'table') {
    const given = structure as unknown as TableStructure;
    const layout = tableLayout(given);
    if (layout.npartitions > MAX_NEW_PARTITIONS) throw new TiledHttpError(400, `A new table may have at most ${MAX_NEW_PARTITIONS} partitions, not ${layout.npartitions}`);
    const stored: TableStructure = { arrow_schema: given.arrow_schema, npartitions: layout.npartitions, columns: layout.columns.map((c) => c.name), resizable: false };
    created.push(dir);
    await mkdir(dir, { recursive: true });
    return {
      structure: stored as unknown as Record<string, unknown>,
      mimetype: PARQUET_MIMETYPE,
      parameters: {},
      // One asset per partition file, as Tiled's Parquet adapter records them; the files appear as they are written.
      assets: Array.from({ length: layout.npartitions }, (_, i) => ({ dataUri: pathToFileURL(parquetPartitionPath(dir, i)).href, isDirectory: false, parameter: 'data_uris', num: i })),
    };
  }
  if (family === 'sparse') {
    created.push(dir);
    const layout = await createSparseArray(dir, structure as unknown as SparseStructure);
    return {
      structure: sparseStructureOf(layout) as unknown as Record<string, unknown>,
      mimetype: SPARSE_MIMETYPE,
      parameters: {},
      // One asset per block, numbered in block order, as Tiled's init_storage records them; files appear as blocks are written.
      assets: layout.blocks.map((block, i) => ({ dataUri: pathToFileURL(sparseBlockPath(dir, block)).href, isDirectory: false, parameter: 'data_uris', num: i })),
    };
  }
  throw new TiledHttpError(400, `Writing ${family} data is not supported by tiled-ts`);
}

function zarrSource(source: DataSourceRow): { dir: string; structure: ArrayStructure } {
  if (source.mimetype !== ZARR_MIMETYPE || !source.structure) throw new TiledHttpError(405, 'This node cannot accept array data.');
  return { dir: directoryOf(source), structure: source.structure as unknown as ArrayStructure };
}

function sparseSource(source: DataSourceRow): { dir: string; structure: SparseStructure } {
  if (source.mimetype !== SPARSE_MIMETYPE || !source.structure) throw new TiledHttpError(405, 'This node cannot accept array data.');
  return { dir: directoryOf(source), structure: source.structure as unknown as SparseStructure };
}

/** PUT /array/full of a sparse array: an Arrow table of its elements (columns dim0…dimN-1, data). */
export async function writeSparseArrayFull(_context: CatalogContext, source: DataSourceRow, arrow: Buffer): Promise<void> {
  const { dir, structure } = sparseSource(source);
  await writeSparseFull(dir, sparseLayout(structure), arrow);
}

/** PUT /array/block of a sparse array: the block's elements, coordinates relative to the block. */
export async function writeSparseArrayBlock(_context: CatalogContext, source: DataSourceRow, block: number[], arrow: Buffer): Promise<void> {
  const { dir, structure } = sparseSource(source);
  await writeSparseBlock(dir, sparseLayout(structure), block, arrow);
}

export async function writeArrayFull(_context: CatalogContext, source: DataSourceRow, bytes: Buffer): Promise<void> {
  const { dir, structure } = zarrSource(source);
  await writeZarrFull(dir, structure, bytes);
}

export async function writeArrayBlock(_context: CatalogContext, source: DataSourceRow, block: number[], bytes: Buffer): Promise<void> {
  const { dir, structure } = zarrSource(source);
  await writeZarrBlock(dir, structure, block, bytes);
}

/** Write `bytes` (a region of `shape` at `offset`), growing the array if `extend`; resolves to the new structure. */
export async function patchArray(
  _context: CatalogContext,
  source: DataSourceRow,
  offset: number[],
  shape: number[],
  bytes: Buffer,
  extend: boolean,
): Promise<Record<string, unknown>> {
  const { dir, structure } = zarrSource(source);
  return (await patchZarr(dir, structure, offset, shape, bytes, extend)) as unknown as Record<string, unknown>;
}

export async function writeTablePartition(_context: CatalogContext, source: DataSourceRow, partition: number, arrow: Buffer): Promise<void> {
  if (source.mimetype !== PARQUET_MIMETYPE || !source.structure) throw new TiledHttpError(405, 'This node does not support writing.');
  await writeParquetPartition(directoryOf(source), source.structure as unknown as TableStructure, partition, arrow);
}

/** Append the rows of `arrow` to a partition of an appendable (SQL) table; resolves to its structure. */
export async function appendTablePartition(_context: CatalogContext, source: DataSourceRow, partition: number, arrow: Buffer): Promise<Record<string, unknown>> {
  if (source.mimetype !== SQL_TABLE_MIMETYPE || !source.structure) throw new TiledHttpError(405, 'This node does not supporting writing a partition.');
  await appendSqlRows(sqlAsset(source), source.parameters as unknown as SqlTableParameters, source.structure as unknown as TableStructure, partition, arrow);
  return source.structure;
}
