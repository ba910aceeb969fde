/** Data on disk for the writable catalog: Zarr arrays, Parquet tables, appendable SQL tables (docs/storage.md). */
export { arrayLayout, dtypeOf, regularChunks } from './array-structure';
export type { ArrayLayout, ArrayStructure } from './array-structure';
export { removeTemporaryFiles, TEMP_PREFIX, writeFileAtomic } from './atomic-file';
export { StorageError, StorageErrorCode } from './storage.errors';
export { blockRegion, createZarrArray, patchZarr, writeZarrBlock, writeZarrFull, zarrArrayNode } from './zarr-array';
export type { CreateZarrOptions, ZarrCompression } from './zarr-array';
export { createParquetTable, parquetPartitionPath, parquetTableNode, writeParquetPartition } from './parquet-table';
export { tableLayout } from './table-structure';
export type { TableLayout, TableStructure } from './table-structure';
export { appendSqlRows, closeSqlStorage, createSqlTable, defaultSqlTableName, sqlStorageAssetUri, sqlTableNode } from './sql-table';
export type { SqlTableParameters } from './sql-table';
export { fileDataUri, nodeDataDirectory, parquetAssets, quotePlus, zarrAssets } from './storage-paths';
export type { StorageAsset } from './storage-paths';
export { createSparseArray, MAX_SPARSE_BLOCKS, sparseArrayNode, sparseBlockPath, sparseLayout, sparseStructureOf, writeSparseBlock, writeSparseFull } from './sparse-coo';
export type { SparseLayout, SparseStructure } from './sparse-coo';
