import type { DataType, Schema, Table } from 'apache-arrow';
import type { ColumnType, ColumnValues, TableColumn } from '../tree/tree.types';
import { lazyRequire } from '../../common/lazy-require';
import { StorageError, StorageErrorCode } from './storage.errors';

/** apache-arrow takes ~0.3 s to load; only servers that store a table pay for it, and not at startup. */
export const arrow = lazyRequire<typeof import('apache-arrow')>('apache-arrow');

/** Tiled's table structure JSON, as clients send it. */
export interface TableStructure {
  arrow_schema: string;
  npartitions: number;
  columns: string[];
  resizable?: boolean;
}

export interface TableLayout {
  /** Every field of the Arrow schema, in order, with the column type tiled-ts serves it as. */
  columns: TableColumn[];
  npartitions: number;
  schema: Schema;
}

const SCHEMA_PREFIX = 'data:application/vnd.apache.arrow.file;base64,';
/** Bounds the work a structure can ask for before any data is sent. */
export const MAX_PARTITIONS = 100_000;

/** The column type of an Arrow type, or undefined when tiled-ts cannot serve that type. */
function columnTypeOf(type: DataType): ColumnType | undefined {
  const { DataType: Types, Precision } = arrow();
  if (Types.isBool(type)) return 'bool';
  if (Types.isUtf8(type) || Types.isLargeUtf8(type)) return 'string';
  if (Types.isInt(type) && type.isSigned) return type.bitWidth === 32 ? 'int32' : type.bitWidth === 64 ? 'int64' : undefined;
  if (Types.isFloat(type)) return type.precision === Precision.SINGLE ? 'float32' : type.precision === Precision.DOUBLE ? 'float64' : undefined;
  return undefined;
}

function columnsOf(schema: Schema, onUnsupported: (name: string, type: string) => never): TableColumn[] {
  return schema.fields.map((field) => {
    const type = columnTypeOf(field.type as DataType);
    if (!type) onUnsupported(field.name, String(field.type));
    return { name: field.name, type: type as ColumnType };
  });
}

/** Checks a table structure and decodes its Arrow schema (an IPC Schema message, base64, in a data URI). */
export function tableLayout(structure: TableStructure): TableLayout {
  const fail = (message: string): never => {
    throw new StorageError(StorageErrorCode.UnsupportedStructure, message);
  };
  if (!structure || typeof structure !== 'object') fail('A table structure is required');
  const { arrow_schema: uri, npartitions } = structure;
  if (typeof uri !== 'string' || !uri.startsWith(SCHEMA_PREFIX)) fail(`arrow_schema must be a data URI starting with ${SCHEMA_PREFIX}`);
  if (!Number.isSafeInteger(npartitions) || npartitions < 1 || npartitions > MAX_PARTITIONS) fail(`npartitions must be an integer from 1 to ${MAX_PARTITIONS}`);
  let schema: Schema | undefined;
  try {
    const reader = arrow().RecordBatchReader.from(Buffer.from(uri.slice(SCHEMA_PREFIX.length), 'base64'));
    reader.open();
    schema = reader.schema;
  } catch {
    // The parser's own message describes bytes, not the request; one sentence says what is wrong.
  }
  if (!schema) return fail('arrow_schema is not an Arrow IPC schema');
  const columns = columnsOf(schema, (name, type) => fail(`Column '${name}' has type ${type}, which cannot be stored; use bool, int32, int64, float32, float64 or string`));
  const names = new Set<string>();
  for (const { name } of columns) {
    if (names.has(name)) fail(`Column names must be unique; '${name}' appears twice`);
    names.add(name);
  }
  return { columns, npartitions, schema };
}

/**
 * pandas' index columns. Tiled's client serialises a DataFrame with pyarrow's preserve_index=True, which
 * adds even a default RangeIndex as a last column `__index_level_0__`; Tiled reads it back as the frame's
 * index, not as data.
 */
export const PANDAS_INDEX_COLUMN = /^__index_level_\d+__$/;

/** Decodes an Arrow IPC body (file or stream format) and checks its columns against the table's. */
export function readArrowBody(layout: TableLayout, body: Uint8Array): Table {
  let table: Table | undefined;
  try {
    table = arrow().tableFromIPC(body);
  } catch {
    // As above: the decoder's message is about bytes, not the request.
  }
  if (!table || table.schema.fields.length === 0) {
    throw new StorageError(StorageErrorCode.MalformedData, 'The body is not an Arrow IPC file with at least one column');
  }
  const names = table.schema.fields.map((f) => f.name);
  const index = names.filter((n) => PANDAS_INDEX_COLUMN.test(n) && !layout.columns.some((c) => c.name === n));
  if (index.length) table = table.select(names.filter((n) => !index.includes(n)));
  const got = columnsOf(table.schema, (name, type) => {
    throw new StorageError(StorageErrorCode.SchemaMismatch, `Column '${name}' has type ${type}, which cannot be stored`);
  });
  const describe = (columns: readonly TableColumn[]) => columns.map((c) => `${c.name}: ${c.type}`).join(', ');
  if (got.length !== layout.columns.length || got.some((c, i) => c.name !== layout.columns[i].name || c.type !== layout.columns[i].type)) {
    throw new StorageError(StorageErrorCode.SchemaMismatch, `The data's columns (${describe(got)}) do not match the table's (${describe(layout.columns)})`);
  }
  return table;
}

/**
 * The values of one column of a decoded Arrow table as a partition list. Nulls become NaN in float
 * columns (as pandas reads them) and stay null elsewhere.
 */
export function columnValues(table: Table, index: number, type: ColumnType): ColumnValues {
  const vector = table.getChildAt(index);
  if (!vector) return [];
  const plain = vector.nullCount === 0;
  switch (type) {
    case 'float64':
    case 'float32': {
      // toArray() may be a view of the request body; copy before writing NaN into it.
      const values = plain ? (vector.toArray() as Float64Array | Float32Array) : (vector.toArray() as Float64Array | Float32Array).slice();
      if (!plain) for (let i = 0; i < values.length; i++) if (!vector.isValid(i)) values[i] = NaN;
      return values;
    }
    case 'int32':
    case 'int64':
      return plain ? (vector.toArray() as Int32Array | BigInt64Array) : (Array.from(vector) as number[]);
    case 'bool':
    case 'string':
      return Array.from(vector) as boolean[] | string[];
  }
}
