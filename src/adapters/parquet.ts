/**
 * Parquet files as tables (hyparquet), one partition per row group. Opening reads only the footer (the
 * schema and row-group offsets); reading a partition reads only that row group's column chunks.
 * Tiled 0.2.16 reads Parquet only as catalog-managed datasets; serving a single file is beyond it.
 */
import type { ColumnType, ColumnValues, TableColumn, TableNode, TablePartition } from '../catalog/tree/tree.types';
import { lazyRequire } from '../common/lazy-require';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { PARQUET_MIMETYPE } from './mimetypes';

interface SchemaElement {
  name: string;
  type?: string;
  num_children?: number;
  converted_type?: string;
  logical_type?: { type: string; bitWidth?: number; isSigned?: boolean };
}
interface FileMetaData {
  schema: SchemaElement[];
  row_groups: { num_rows: bigint; columns: { meta_data?: { statistics?: { null_count?: bigint } } }[] }[];
}
interface AsyncBuffer {
  byteLength: number;
}
interface Hyparquet {
  asyncBufferFromFile(path: string): Promise<AsyncBuffer>;
  parquetMetadataAsync(file: AsyncBuffer): Promise<FileMetaData>;
  parquetReadObjects(options: {
    file: AsyncBuffer;
    metadata: FileMetaData;
    rowStart: number;
    rowEnd: number;
    columns?: string[];
    compressors?: Record<string, unknown>;
  }): Promise<Record<string, unknown>[]>;
}

// hyparquet is an ES module: Node >= 22.12 loads it through require(). Loaded when the first Parquet file is opened.
const hyparquet = lazyRequire<Hyparquet>('hyparquet');

/** Every codec pyarrow and polars write (Snappy, gzip, Brotli, zstd, LZ4), from hyparquet's companion package. */
const codecs = lazyRequire<{ compressors: Record<string, unknown> }>('hyparquet-compressors');
const compressors = (): Record<string, unknown> => codecs().compressors;

/** The served type of a Parquet leaf column; null when it cannot be served as a flat column. */
function columnType(element: SchemaElement, hasNulls: boolean): ColumnType {
  const logical = element.logical_type?.type;
  const converted = element.converted_type;
  switch (element.type) {
    case 'BOOLEAN':
      return hasNulls ? 'string' : 'bool';
    case 'INT32':
      if (logical === 'DATE' || converted === 'DATE' || logical === 'TIME' || converted === 'TIME_MILLIS') return 'string';
      if (converted === 'DECIMAL' || logical === 'DECIMAL') return 'float64';
      // pandas reads an integer column holding nulls as float64 with NaN.
      if (hasNulls) return 'float64';
      return converted === 'UINT_32' || (logical === 'INTEGER' && element.logical_type?.isSigned === false && element.logical_type.bitWidth === 32) ? 'int64' : 'int32';
    case 'INT64':
      if (logical === 'TIMESTAMP' || converted === 'TIMESTAMP_MILLIS' || converted === 'TIMESTAMP_MICROS' || logical === 'TIME') return 'string';
      if (converted === 'DECIMAL' || logical === 'DECIMAL') return 'float64';
      return hasNulls ? 'float64' : 'int64';
    case 'FLOAT':
      return 'float32';
    case 'DOUBLE':
      return 'float64';
    default:
      return 'string';
  }
}

function convert(name: string, values: unknown[], type: ColumnType): ColumnValues {
  switch (type) {
    case 'int64':
      return BigInt64Array.from(values, (v) => (typeof v === 'bigint' ? BigInt.asIntN(64, v) : BigInt(Math.trunc(Number(v)))));
    case 'int32':
      return Int32Array.from(values, (v) => Number(v));
    case 'float32':
      return Float32Array.from(values, (v) => (v === null || v === undefined ? NaN : Number(v)));
    case 'float64':
      return Float64Array.from(values, (v) => (v === null || v === undefined ? NaN : Number(v)));
    case 'bool':
      return values.map((v) => v === true);
    case 'string':
      return values.map((v) => {
        if (v === null || v === undefined) return '';
        if (v instanceof Date) return v.toISOString();
        if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
        if (typeof v === 'object') return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
        return String(v);
      });
  }
  throw new AdapterError(`Column "${name}" has an unsupported type`, 415);
}

function notParquet(error: unknown): AdapterError {
  const code = (error as { code?: unknown })?.code;
  if (code === 'ENOENT') return new AdapterError('The file no longer exists', 404);
  if (code === 'EACCES' || code === 'EPERM') return new AdapterError('The file cannot be read (permission denied)', 500);
  return new AdapterError(`Not a readable Parquet file: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, 422);
}

export async function openParquet(source: AdapterSource): Promise<TableNode> {
  const path = source.paths[0];
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = hyparquet();
  let file: AsyncBuffer;
  let metadata: FileMetaData;
  try {
    file = await asyncBufferFromFile(path);
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    throw notParquet(error);
  }
  const [root, ...leaves] = metadata.schema;
  if (leaves.length !== (root.num_children ?? 0) || leaves.some((e) => e.num_children)) {
    throw new AdapterError('Nested Parquet columns (structs, lists, maps) are not served; flatten them into top-level columns', 415);
  }
  const columns: TableColumn[] = leaves.map((element, c) => {
    const hasNulls = metadata.row_groups.some((group) => {
      const count = group.columns[c]?.meta_data?.statistics?.null_count;
      return count === undefined ? false : count > 0n;
    });
    return { name: element.name, type: columnType(element, hasNulls) };
  });
  const starts: number[] = [];
  let rows = 0;
  for (const group of metadata.row_groups) {
    starts.push(rows);
    rows += Number(group.num_rows);
  }
  starts.push(rows);
  const npartitions = Math.max(1, metadata.row_groups.length);
  return {
    family: 'table',
    metadata: {},
    specs: [],
    columns,
    npartitions,
    async readPartition(index: number): Promise<TablePartition> {
      const rowStart = starts[index] ?? 0;
      const rowEnd = starts[index + 1] ?? rowStart;
      let records: Record<string, unknown>[] = [];
      if (rowEnd > rowStart) {
        try {
          records = await parquetReadObjects({ file: await asyncBufferFromFile(path), metadata, rowStart, rowEnd, compressors: compressors() });
        } catch (error) {
          throw notParquet(error);
        }
      }
      const partition: TablePartition = {};
      for (const column of columns) {
        const values = records.map((r) => r[column.name]);
        if ((column.type === 'int32' || column.type === 'int64') && values.some((v) => v === null || v === undefined)) {
          throw new AdapterError(`Column "${column.name}" holds nulls its statistics did not declare`, 422);
        }
        partition[column.name] = convert(column.name, values, column.type);
      }
      return partition;
    },
  };
}

export const parquetAdapter: AdapterRegistration = {
  mimetype: PARQUET_MIMETYPE,
  extensions: ['.parquet'],
  open: openParquet,
};
