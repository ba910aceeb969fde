import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from 'node:zlib';
import type { ColumnSource, Writer } from 'hyparquet-writer';
import { lazyRequire } from '../../common/lazy-require';
import type { ColumnType, ColumnValues, Metadata, Spec, TableNode, TablePartition } from '../tree/tree.types';
import { writeFileAtomic } from './atomic-file';
import { PARQUET_TYPE } from '../data/parquet-types';
import { StorageError, StorageErrorCode } from './storage.errors';
import { columnValues, readArrowBody, tableLayout, TableLayout, TableStructure } from './table-structure';

/** Only catalogs that store tables as Parquet read and write it. */
export const hyparquet = lazyRequire<typeof import('hyparquet')>('hyparquet');
export const hyparquetWriter = lazyRequire<typeof import('hyparquet-writer')>('hyparquet-writer');


/** A partition's file, named as Tiled 0.2.16's ParquetDatasetAdapter names it. */
export function parquetPartitionPath(dir: string, partition: number): string {
  return join(dir, `partition-${partition}.parquet`);
}

function checkPartition(layout: TableLayout, partition: number): void {
  if (!Number.isSafeInteger(partition) || partition < 0 || partition >= layout.npartitions) {
    throw new StorageError(StorageErrorCode.PartitionOutOfRange, 'Partition out of range');
  }
}

const PARTITION_FILE = /^partition-\d+\.parquet$/;

/**
 * Prepares `dir` for a new table (Tiled's ParquetDatasetAdapter.init_storage): checks the structure, so a
 * table tiled-ts cannot store is refused before the node exists, and creates the directory. Partition
 * files already there (left by a create that never committed) are removed: unwritten partitions read as
 * empty, and stale ones would show through.
 */
export async function createParquetTable(dir: string, structure: TableStructure): Promise<void> {
  tableLayout(structure);
  await mkdir(dir, { recursive: true });
  const leftovers = (await readdir(dir)).filter((name) => PARTITION_FILE.test(name));
  await Promise.all(leftovers.map((name) => rm(join(dir, name), { force: true })));
}

/**
 * Replaces partition `partition` of the table in `dir` with the rows of an Arrow IPC body, after checking
 * its columns against the structure. Snappy-compressed, as pandas' to_parquet writes, in row groups of
 * 1,000 rows and then 100,000 (hyparquet-writer's default).
 */
export async function writeParquetPartition(dir: string, structure: TableStructure, partition: number, arrowIpcFile: Uint8Array): Promise<void> {
  const layout = tableLayout(structure);
  checkPartition(layout, partition);
  const table = readArrowBody(layout, arrowIpcFile);
  const columnData: ColumnSource[] = layout.columns.map((column, i) => {
    const values = columnValues(table, i, column.type);
    return {
      name: column.name,
      type: PARQUET_TYPE[column.type],
      // Nullable as Arrow fields are by default; a column without nulls reads back the same either way.
      nullable: true,
      data: values as ColumnSource['data'],
    };
  });
  const { ByteWriter, parquetWrite } = hyparquetWriter();
  const writer = new ByteWriter();
  // hyparquet-writer awaits a writer's flush() after each row group: yielding there lets other requests
  // run between row groups instead of waiting for the whole partition to be encoded.
  (writer as Writer).flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  await parquetWrite({ writer, columnData, codec: 'SNAPPY' });
  await writeFileAtomic(parquetPartitionPath(dir, partition), writer.getBytes());
}

function toColumnValues(type: ColumnType, values: ArrayLike<unknown>): ColumnValues {
  switch (type) {
    case 'float64':
      return Float64Array.from(values as ArrayLike<number | null>, (v) => v ?? NaN);
    case 'float32':
      return Float32Array.from(values as ArrayLike<number | null>, (v) => v ?? NaN);
    case 'int32':
      return values instanceof Int32Array ? values : hasNull(values) ? Array.from(values as ArrayLike<number>) : Int32Array.from(values as ArrayLike<number>);
    case 'int64':
      return values instanceof BigInt64Array ? values : hasNull(values) ? (Array.from(values) as number[]) : BigInt64Array.from(values as ArrayLike<bigint>);
    case 'bool':
      return Array.from(values as ArrayLike<boolean>);
    case 'string':
      return Array.from(values as ArrayLike<string>);
  }
}

function hasNull(values: ArrayLike<unknown>): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] === null || values[i] === undefined) return true;
  return false;
}

/**
 * Codecs beyond hyparquet's built-in Snappy, on Node's zlib, so files other writers compress (pyarrow's
 * `compression="zstd"`, Spark's gzip) read too. LZ4 is not among them.
 */
const DECOMPRESSORS = {
  ZSTD: (input: Uint8Array) => new Uint8Array(zstdDecompressSync(input)),
  GZIP: (input: Uint8Array) => new Uint8Array(gunzipSync(input)),
  BROTLI: (input: Uint8Array) => new Uint8Array(brotliDecompressSync(input)),
};

/** The columns of one Parquet file, by name, each as the values of every row group in order. */
export async function readParquetColumns(bytes: Uint8Array, names: readonly string[]): Promise<Map<string, unknown[][]>> {
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const pieces = new Map<string, { rowStart: number; data: ArrayLike<unknown> }[]>(names.map((n) => [n, []]));
  await hyparquet().parquetRead({
    file,
    columns: [...names],
    compressors: DECOMPRESSORS,
    onChunk: (chunk) => pieces.get(chunk.columnName)?.push({ rowStart: chunk.rowStart, data: chunk.columnData }),
  });
  return new Map([...pieces].map(([name, parts]) => [name, parts.sort((a, b) => a.rowStart - b.rowStart).map((p) => Array.from(p.data))]));
}

async function readPartitionFile(layout: TableLayout, path: string): Promise<TablePartition> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    // A partition not written yet reads as no rows.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return Object.fromEntries(layout.columns.map((c) => [c.name, toColumnValues(c.type, [])]));
  }
  const columns = await readParquetColumns(bytes, layout.columns.map((c) => c.name));
  const partition: TablePartition = Object.create(null) as TablePartition;
  for (const column of layout.columns) partition[column.name] = toColumnValues(column.type, (columns.get(column.name) ?? []).flat());
  return partition;
}

/** The read side: a TableNode over the Parquet partition files in `dir`, described by `structure`. */
export function parquetTableNode(dir: string, structure: TableStructure, metadata: Metadata, specs: readonly Spec[] = []): TableNode {
  const layout = tableLayout(structure);
  return {
    family: 'table',
    metadata,
    specs,
    columns: layout.columns,
    npartitions: layout.npartitions,
    readPartition(index: number): Promise<TablePartition> {
      checkPartition(layout, index);
      return readPartitionFile(layout, parquetPartitionPath(dir, index));
    },
  };
}
