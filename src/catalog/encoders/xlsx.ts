import type { TableColumn, TablePartition } from '../tree/tree.types';
import { lazyRequire } from '../../common/lazy-require';
import { columnValues } from './table-columns';

/** exceljs takes ~0.3 s to load: paid by the first Excel export, not at startup. */
const excel = lazyRequire<typeof import('exceljs')>('exceljs');

/**
 * pandas' `to_excel(index=False)` as Tiled 0.2.16 calls it: one sheet named "Sheet1", a header row of
 * column names, one row per record. int64 values beyond 2^53 lose precision, as they do in Excel itself.
 */
export async function encodeXlsx(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Promise<Buffer> {
  const workbook = new (excel().Workbook)();
  const sheet = workbook.addWorksheet('Sheet1');
  sheet.addRow(columns.map((c) => c.name)).font = { bold: true };
  const data = columns.map((c) => columnValues(c, partitions));
  const rows = data.length ? data[0].length : 0;
  for (let r = 0; r < rows; r++) {
    sheet.addRow(data.map((values) => (typeof values[r] === 'bigint' ? Number(values[r]) : values[r])));
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}
