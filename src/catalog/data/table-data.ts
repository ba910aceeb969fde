import type { DataType, Schema, Vector } from 'apache-arrow';
import { lazyRequire } from '../../common/lazy-require';
import type { ColumnType, ColumnValues, TableColumn, TableNode, TablePartition } from '../tree/tree.types';
import { pyFloat } from '../http/python-repr';

/** apache-arrow takes ~0.3 s to load; only servers that touch a table pay for it, and not at startup. */
const arrow = lazyRequire<typeof import('apache-arrow')>('apache-arrow');

export const ARROW_FILE = 'application/vnd.apache.arrow.file';
const SCHEMA_PREFIX = 'data:application/vnd.apache.arrow.file;base64,';

function arrowType(type: ColumnType): DataType {
  const { Bool, Float32, Float64, Int32, Int64, Utf8 } = arrow();
  switch (type) {
    case 'bool':
      return new Bool();
    case 'int32':
      return new Int32();
    case 'int64':
      return new Int64();
    case 'float32':
      return new Float32();
    case 'float64':
      return new Float64();
    case 'string':
      return new Utf8();
  }
}

export function arrowSchema(columns: readonly TableColumn[]): Schema {
  const { Schema, Field } = arrow();
  return new Schema(columns.map((c) => new Field(c.name, arrowType(c.type), true)));
}

/**
 * The structure's `arrow_schema`: an encapsulated IPC Schema message (what pyarrow's
 * `Schema.serialize()` gives) — the first message of an IPC stream of an empty table, without the EOS.
 */
export function encodeArrowSchema(columns: readonly TableColumn[]): string {
  const { Table, tableToIPC } = arrow();
  const stream = Buffer.from(tableToIPC(new Table(arrowSchema(columns)), 'stream'));
  const length = stream.readInt32LE(4);
  return SCHEMA_PREFIX + stream.subarray(0, 8 + length).toString('base64');
}

function vectorOf(values: ColumnValues, type: ColumnType): Vector {
  const { Bool, Utf8, makeVector, vectorFromArray } = arrow();
  switch (type) {
    case 'int64':
      return makeVector(values instanceof BigInt64Array ? values : BigInt64Array.from(values as readonly number[], (v) => BigInt(Math.trunc(v))));
    case 'int32':
      return makeVector(values instanceof Int32Array ? values : Int32Array.from(values as readonly number[]));
    case 'float64':
      return makeVector(values instanceof Float64Array ? values : Float64Array.from(values as readonly number[]));
    case 'float32':
      return makeVector(values instanceof Float32Array ? values : Float32Array.from(values as readonly number[]));
    case 'bool':
      return vectorFromArray(Array.from(values as readonly boolean[], Boolean), new Bool());
    case 'string':
      return vectorFromArray(Array.from(values as readonly string[], String), new Utf8());
  }
}

/** An Arrow IPC *file* (magic ARROW1), one record batch per partition: what pyarrow.ipc.open_file reads. */
export function toArrowFile(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Buffer {
  const { Table, tableToIPC } = arrow();
  const tables = partitions.map((part) => new Table(Object.fromEntries(columns.map((c) => [c.name, vectorOf(part[c.name], c.type)]))));
  const table = tables.length ? tables[0].concat(...tables.slice(1)) : new Table(arrowSchema(columns));
  return Buffer.from(tableToIPC(table, 'file'));
}

function cell(value: unknown, type: ColumnType, json: boolean): string {
  if (type === 'string') return json ? JSON.stringify(String(value)) : csvQuote(String(value));
  if (type === 'bool') return json ? String(Boolean(value)) : value ? 'True' : 'False';
  if (type === 'float64' || type === 'float32') {
    const n = Number(value);
    if (json && !Number.isFinite(n)) return 'null';
    return pyFloat(n);
  }
  return String(value);
}

function csvQuote(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function rowsOf(partitions: readonly TablePartition[], columns: readonly TableColumn[]): number {
  return partitions.reduce((n, p) => n + (columns.length ? p[columns[0].name].length : 0), 0);
}

/** CSV with a header row and no index column (pandas `to_csv(index=False)`). */
export function toCsv(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Buffer {
  const lines = [columns.map((c) => csvQuote(c.name)).join(',')];
  for (const part of partitions) {
    const n = columns.length ? part[columns[0].name].length : 0;
    for (let i = 0; i < n; i++) lines.push(columns.map((c) => cell(part[c.name][i], c.type, false)).join(','));
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Column-oriented JSON `{"col": [values]}`, as Tiled sends tables. */
export function toColumnJson(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Buffer {
  const parts = columns.map((c) => {
    const cells: string[] = [];
    for (const part of partitions) for (let i = 0; i < part[c.name].length; i++) cells.push(cell(part[c.name][i], c.type, true));
    return `${JSON.stringify(c.name)}:[${cells.join(',')}]`;
  });
  return Buffer.from(`{${parts.join(',')}}`);
}

/** One JSON object per row, newline-separated (`application/json-seq`). */
export function toJsonSeq(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Buffer {
  const lines: string[] = [];
  for (const part of partitions) {
    const n = columns.length ? part[columns[0].name].length : 0;
    for (let i = 0; i < n; i++) lines.push(`{${columns.map((c) => `${JSON.stringify(c.name)}:${cell(part[c.name][i], c.type, true)}`).join(',')}}`);
  }
  return Buffer.from(lines.length ? `${lines.join('\n')}\n` : '');
}

export { rowsOf };

/** Columns of a table node, with the requested subset checked like pandas would. */
export function selectColumns(node: TableNode, requested: readonly string[] | undefined): TableColumn[] | string {
  if (!requested || requested.length === 0) return [...node.columns];
  const known = new Map(node.columns.map((c) => [c.name, c]));
  const unknown = requested.filter((r) => !known.has(r));
  if (unknown.length === requested.length) {
    return `No such field None of [Index([${unknown.map((u) => `'${u}'`).join(', ')}], dtype='object')] are in the [columns].`;
  }
  if (unknown.length) return `No such field [${unknown.map((u) => `'${u}'`).join(', ')}] not in index.`;
  return requested.map((r) => known.get(r)!);
}
