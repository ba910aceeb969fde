import { pyFloat } from '../http/python-repr';
import type { TableColumn, TablePartition } from '../tree/tree.types';
import { columnValues } from './table-columns';

const ESCAPES: ReadonlyMap<string, string> = new Map([
  ['&', '&amp;'],
  ['<', '&lt;'],
  ['>', '&gt;'],
  ['"', '&quot;'],
  ["'", '&#x27;'],
]);

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES.get(c) ?? c);
}

function cellText(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : pyFloat(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return escapeHtml(String(value));
}

/** The layout of pandas' `DataFrame.to_html(index=False)`, which Tiled 0.2.16 sends for text/html. */
export function encodeHtmlTable(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Buffer {
  const data = columns.map((c) => {
    const values = columnValues(c, partitions);
    // pandas prints a float column's whole numbers with ".0".
    return c.type === 'float32' || c.type === 'float64' ? values.map((v) => pyFloat(Number(v))) : values.map(cellText);
  });
  const lines = ['<table border="1" class="dataframe">', '  <thead>', '    <tr style="text-align: right;">'];
  for (const c of columns) lines.push(`      <th>${escapeHtml(c.name)}</th>`);
  lines.push('    </tr>', '  </thead>', '  <tbody>');
  const rows = data.length ? data[0].length : 0;
  for (let r = 0; r < rows; r++) {
    lines.push('    <tr>');
    for (const column of data) lines.push(`      <td>${column[r]}</td>`);
    lines.push('    </tr>');
  }
  lines.push('  </tbody>', '</table>');
  return Buffer.from(lines.join('\n'));
}
