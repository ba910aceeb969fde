import type { ColumnType, ColumnValues, TableColumn, TablePartition } from '../tree/tree.types';

/** One column's values over every partition, as a plain array of JS values (int64 as bigint). */
export function columnValues(column: TableColumn, partitions: readonly TablePartition[]): unknown[] {
  const out: unknown[] = [];
  for (const part of partitions) {
    const values: ColumnValues = part[column.name];
    for (let i = 0; i < values.length; i++) out.push(normalise(values[i], column.type));
  }
  return out;
}

function normalise(value: unknown, type: ColumnType): unknown {
  switch (type) {
    case 'int64':
      return typeof value === 'bigint' ? value : BigInt(Math.trunc(Number(value)));
    case 'bool':
      return Boolean(value);
    case 'string':
      return String(value);
    default:
      return Number(value);
  }
}
