/**
 * Column types of tables read from text-like cells (CSV, Excel), inferred as pandas does when Tiled reads
 * them: all integers → int64, all numbers → float64 (an empty cell makes an integer column float64, holding
 * NaN), all booleans → bool, anything else → string (an empty cell is '').
 */
import type { ColumnType, ColumnValues } from '../catalog/tree/tree.types';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { AdapterError } from './adapter.types';

/** A cell as a reader gives it: text from CSV; numbers, booleans, dates or text from Excel. */
export type Cell = string | number | boolean | Date | null | undefined;

const INTEGER = /^[+-]?\d+$/;
const FLOAT = /^[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|inf|infinity|nan)$/i;
const TRUE = new Set(['true', 'True', 'TRUE']);
const FALSE = new Set(['false', 'False', 'FALSE']);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isEmpty(cell: Cell): boolean {
  return cell === null || cell === undefined || cell === '';
}

type Kind = 'int' | 'float' | 'bool' | 'string';

function kindOf(cell: Cell): Kind | null {
  if (isEmpty(cell)) return null;
  if (typeof cell === 'number') return Number.isInteger(cell) ? 'int' : 'float';
  if (typeof cell === 'boolean') return 'bool';
  if (cell instanceof Date) return 'string';
  const text = String(cell).trim();
  if (INTEGER.test(text)) {
    const n = BigInt(text);
    return n >= INT64_MIN && n <= INT64_MAX ? 'int' : 'float';
  }
  if (FLOAT.test(text)) return 'float';
  if (TRUE.has(text) || FALSE.has(text)) return 'bool';
  return 'string';
}

/** The type of a column from its cells (a sample of them for large files). */
export function inferColumnType(cells: Iterable<Cell>): ColumnType {
  let kind: Kind | null = null;
  let empty = false;
  for (const cell of cells) {
    const k = kindOf(cell);
    if (k === null) {
      empty = true;
      continue;
    }
    if (kind === null || kind === k) kind = k;
    else if ((kind === 'int' && k === 'float') || (kind === 'float' && k === 'int')) kind = 'float';
    else kind = 'string';
  }
  if (kind === 'int') return empty ? 'float64' : 'int64';
  if (kind === 'float') return 'float64';
  if (kind === 'bool') return empty ? 'string' : 'bool';
  // A column with no values at all is all-NaN in pandas.
  return kind === null ? 'float64' : 'string';
}

/** Rows converted between two turns of the event loop. */
const SLICE_ROWS = 65_536;

/** {@link convertColumn} a slice of rows at a time, letting other requests run in between. */
export async function convertColumnYielding(column: string, cells: readonly Cell[], type: ColumnType): Promise<ColumnValues> {
  if (cells.length <= SLICE_ROWS) return convertColumn(column, cells, type);
  const pieces: ColumnValues[] = [];
  for (let at = 0; at < cells.length; at += SLICE_ROWS) {
    pieces.push(convertColumn(column, cells.slice(at, at + SLICE_ROWS), type, at));
    await yieldToEventLoop();
  }
  if (type === 'bool' || type === 'string') return (pieces as (readonly (boolean | string)[])[]).flat() as ColumnValues;
  const out = new (pieces[0].constructor as new (length: number) => Float64Array)(cells.length);
  let offset = 0;
  for (const piece of pieces as Float64Array[]) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}

function mismatch(column: string, row: number, cell: Cell, type: ColumnType): AdapterError {
  return new AdapterError(
    `Column "${column}", row ${row + 1}: ${JSON.stringify(cell instanceof Date ? cell.toISOString() : cell)} is not ${type}, the type the first rows of the file gave this column`,
    422,
  );
}

/** Convert one column's cells to `type`; a cell that does not fit is a 422 naming the column and row. */
export function convertColumn(column: string, cells: readonly Cell[], type: ColumnType, firstRow = 0): ColumnValues {
  switch (type) {
    case 'int64': {
      const out = new BigInt64Array(cells.length);
      cells.forEach((cell, i) => {
        const text = typeof cell === 'number' ? (Number.isInteger(cell) ? String(cell) : '') : String(cell ?? '').trim();
        if (!INTEGER.test(text)) throw mismatch(column, firstRow + i, cell, type);
        out[i] = BigInt.asIntN(64, BigInt(text));
      });
      return out;
    }
    case 'int32':
    case 'float32':
    case 'float64': {
      const out = type === 'int32' ? new Int32Array(cells.length) : type === 'float32' ? new Float32Array(cells.length) : new Float64Array(cells.length);
      cells.forEach((cell, i) => {
        if (isEmpty(cell)) {
          out[i] = NaN;
          return;
        }
        const n = typeof cell === 'number' ? cell : kindOf(cell) === 'int' || kindOf(cell) === 'float' ? Number(String(cell).trim().replace(/^([+-]?)inf(inity)?$/i, '$1Infinity')) : NaN;
        if (Number.isNaN(n) && !/^nan$/i.test(String(cell).trim())) throw mismatch(column, firstRow + i, cell, type);
        out[i] = n;
      });
      return out;
    }
    case 'bool':
      return cells.map((cell, i) => {
        if (typeof cell === 'boolean') return cell;
        const text = String(cell ?? '').trim();
        if (TRUE.has(text)) return true;
        if (FALSE.has(text)) return false;
        throw mismatch(column, firstRow + i, cell, type);
      });
    case 'string':
      return cells.map((cell) => (isEmpty(cell) ? '' : cell instanceof Date ? cell.toISOString() : String(cell)));
  }
}
