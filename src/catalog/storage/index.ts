/** Data on disk for the writable catalog: Zarr arrays, Parquet tables, appendable SQL tables (docs/storage.md). */
export { arrayLayout, dtypeOf, regularChunks } from './array-structure';
export type { ArrayLayout, ArrayStructure } from './array-structure';
export { removeTemporaryFiles, TEMP_PREFIX, writeFileAtomic } from './atomic-file';
export { StorageError, StorageErrorCode } from './storage.errors';
export { blockRegion, createZarrArray, patchZarr, writeZarrBlock, writeZarrFull, zarrArrayNode } from './zarr-array';
export type { CreateZarrOptions, ZarrCompression } from './zarr-array';
export { parquetPartitionPath, parquetTableNode, writeParquetPartition } from './parquet-table';
export { tableLayout } from './table-structure';
export type { TableLayout, TableStructure } from './table-structure';
export { appendSqlRows, closeSqlStorage, createSqlTable, defaultSqlTableName, sqlTableNode } from './sql-table';
export type { SqlTableParameters } from './sql-table';
