/**
 * Excel workbooks (`.xlsx`, exceljs) as Tiled's ExcelAdapter serves them: a container with one table per
 * sheet, keyed by sheet name, the first row naming the columns, one partition per sheet. An xlsx file is a
 * zip archive, so the workbook is read whole when the node is opened (as pandas does for Tiled); the
 * converted columns are kept with the node. Files over MAX_XLSX_BYTES are refused.
 */
import { stat } from 'node:fs/promises';
import type { CellValue, Workbook } from 'exceljs';
import type { ContainerNode, TableColumn, TableNode, TablePartition } from '../catalog/tree/tree.types';
import { lazyRequire } from '../common/lazy-require';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { type Cell, convertColumn, inferColumnType } from './table-columns';
import { XLSX_MIMETYPE } from './mimetypes';

/** exceljs is large: loaded when the first workbook is opened. */
const exceljs = lazyRequire<typeof import('exceljs')>('exceljs');

export const MAX_XLSX_BYTES = 64 * 1024 * 1024;

/** The value a cell shows: formulas give their result, rich text and hyperlinks their text. */
function cellOf(value: CellValue): Cell {
  if (value === null || value === undefined) return null;
  if (typeof value === 'number' || typeof value === 'string' || typeof value === 'boolean' || value instanceof Date) return value;
  if (typeof value === 'object') {
    if ('result' in value) return cellOf(value.result as CellValue);
    if ('richText' in value) return value.richText.map((part) => part.text).join('');
    if ('text' in value) return cellOf(value.text as CellValue);
    if ('error' in value) return String(value.error);
  }
  return String(value);
}

function sheetTable(rows: Cell[][]): TableNode {
  const header = rows[0] ?? [];
  const body = rows.slice(1);
  const seen = new Map<string, number>();
  const columns: TableColumn[] = header.map((raw, c) => {
    const base = raw === null || raw === undefined || raw === '' ? `Unnamed: ${c}` : raw instanceof Date ? raw.toISOString() : String(raw);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    const name = count ? `${base}.${count}` : base;
    return { name, type: inferColumnType(body.map((row) => row[c])) };
  });
  const partition: TablePartition = {};
  columns.forEach((column, c) => {
    partition[column.name] = convertColumn(
      column.name,
      body.map((row) => row[c]),
      column.type,
    );
  });
  return { family: 'table', metadata: {}, specs: [], columns, npartitions: 1, readPartition: () => partition };
}

export async function openExcel(source: AdapterSource): Promise<ContainerNode> {
  const path = source.paths[0];
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new AdapterError(code === 'ENOENT' ? 'The file no longer exists' : 'The file cannot be read', code === 'ENOENT' ? 404 : 500);
  }
  if (size > MAX_XLSX_BYTES) throw new AdapterError(`The workbook is ${size} bytes; workbooks larger than ${MAX_XLSX_BYTES} bytes are not served`, 500);
  const { Workbook: WorkbookClass } = exceljs();
  const workbook: Workbook = new WorkbookClass();
  try {
    await workbook.xlsx.readFile(path);
  } catch (error) {
    throw new AdapterError(`Not a readable .xlsx workbook: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, 422);
  }
  const sheets = new Map<string, TableNode>();
  for (const worksheet of workbook.worksheets) {
    const rows: Cell[][] = [];
    const width = worksheet.columnCount;
    worksheet.eachRow({ includeEmpty: false }, (row) => {
      const cells: Cell[] = [];
      for (let c = 1; c <= width; c++) cells.push(cellOf(row.getCell(c).value));
      rows.push(cells);
    });
    sheets.set(worksheet.name, sheetTable(rows));
  }
  const keys = [...sheets.keys()];
  return { family: 'container', metadata: {}, specs: [], keys: () => keys, get: (key) => sheets.get(key) };
}

export const excelAdapter: AdapterRegistration = {
  mimetype: XLSX_MIMETYPE,
  extensions: ['.xlsx'],
  open: openExcel,
};
