import type { ColumnType } from '../tree/tree.types';

/**
 * The Parquet type of each column type, as pyarrow writes them: one table for the catalog's Parquet
 * storage and the Parquet export. A module of its own so that neither loads the other's libraries.
 */
export const PARQUET_TYPE = {
  bool: 'BOOLEAN',
  int32: 'INT32',
  int64: 'INT64',
  float32: 'FLOAT',
  float64: 'DOUBLE',
  string: 'STRING',
} as const satisfies Readonly<Record<ColumnType, string>>;
