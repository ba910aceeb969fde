/**
 * CSV files as tables (csv-parse), as Tiled's CSVAdapter serves them: the first row names the columns, the
 * types are inferred as pandas does (table-columns.ts), one partition per file. Opening reads only the
 * first SAMPLE_ROWS rows; the partition is parsed when it is read, streaming, so other requests keep going.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ColumnType, TableColumn, TableNode, TablePartition } from '../catalog/tree/tree.types';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { type Cell, convertColumn, inferColumnType } from './table-columns';

/** Rows read at open to infer the column types (dask samples the first 256 KB for the same purpose). */
export const SAMPLE_ROWS = 1000;
/** A CSV partition larger than this is refused rather than read into memory whole. */
export const MAX_CSV_BYTES = 256 * 1024 * 1024;

type Parser = typeof import('csv-parse').parse;
let parser: Parser | undefined;
function csvParse(): Parser {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded when the first CSV is opened
  if (!parser) parser = (require('csv-parse') as typeof import('csv-parse')).parse;
  return parser;
}

/** Parse up to `limit` records (all when undefined); a malformed file is a 422 naming the problem. */
async function readRecords(path: string, limit?: number): Promise<string[][]> {
  const records: string[][] = [];
  const stream = createReadStream(path);
  const parse = csvParse()({ bom: true, skip_empty_lines: true, ...(limit ? { to: limit } : {}) });
  try {
    stream.pipe(parse);
    const failed = new Promise<never>((_, reject) => stream.once('error', reject));
    await Promise.race([
      failed,
      (async () => {
        for await (const record of parse as AsyncIterable<string[]>) records.push(record);
      })(),
    ]);
  } catch (error) {
    throw asAdapterError(error);
  } finally {
    stream.destroy();
  }
  return records;
}

function asAdapterError(error: unknown): Error {
  if (error instanceof AdapterError) return error;
  const code = (error as { code?: unknown })?.code;
  if (code === 'ENOENT') return new AdapterError('The file no longer exists', 404);
  if (code === 'EACCES' || code === 'EPERM') return new AdapterError('The file cannot be read (permission denied)', 500);
  if (typeof code === 'string' && code.startsWith('CSV_')) return new AdapterError(`Not a valid CSV file: ${(error as Error).message}`, 422);
  return new AdapterError(`Cannot read the file: ${error instanceof Error ? error.message : String(error)}`, 500);
}

/** pandas' header rules: an empty name is `Unnamed: i`, a repeated one gets `.1`, `.2`… */
function columnNames(header: readonly string[]): string[] {
  const seen = new Map<string, number>();
  return header.map((raw, i) => {
    const base = raw === '' ? `Unnamed: ${i}` : raw;
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    return count ? `${base}.${count}` : base;
  });
}

function toPartition(columns: readonly TableColumn[], rows: readonly string[][]): TablePartition {
  const partition: TablePartition = {};
  columns.forEach((column, c) => {
    partition[column.name] = convertColumn(
      column.name,
      rows.map((row) => row[c] as Cell),
      column.type,
    );
  });
  return partition;
}

/** Open one or more CSV files (a `multipart/related;type=text/csv` source) as one table, a partition per file. */
export async function openCsv(source: AdapterSource): Promise<TableNode> {
  if (source.paths.length === 0) throw new AdapterError('A CSV source needs at least one file', 500);
  const sample = await readRecords(source.paths[0], SAMPLE_ROWS + 1);
  if (sample.length === 0) throw new AdapterError('The CSV file is empty: it has no header row', 422);
  const names = columnNames(sample[0]);
  const rows = sample.slice(1);
  const columns: TableColumn[] = names.map((name, c) => ({ name, type: inferColumnType(rows.map((row) => row[c])) as ColumnType }));
  const paths = [...source.paths];
  return {
    family: 'table',
    metadata: {},
    specs: [],
    columns,
    npartitions: paths.length,
    async readPartition(index: number): Promise<TablePartition> {
      const path = paths[index];
      let size: number;
      try {
        size = (await stat(path)).size;
      } catch (error) {
        throw asAdapterError(error);
      }
      if (size > MAX_CSV_BYTES) throw new AdapterError(`The CSV file is ${size} bytes; partitions larger than ${MAX_CSV_BYTES} bytes are not served`, 500);
      const records = await readRecords(path);
      const header = records.length ? columnNames(records[0]) : [];
      if (header.length !== names.length || header.some((h, i) => h !== names[i])) {
        throw new AdapterError(`The file's header (${header.join(', ')}) differs from the columns it was opened with (${names.join(', ')})`, 422);
      }
      return toPartition(columns, records.slice(1));
    },
  };
}

export const csvAdapter: AdapterRegistration = {
  mimetype: 'text/csv',
  extensions: ['.csv'],
  open: openCsv,
};

/** Tiled's other spellings of CSV: several files as one table (a partition each), and RFC 4180's header flag. */
export const csvSequenceAdapter: AdapterRegistration = { mimetype: 'multipart/related;type=text/csv', extensions: [], open: openCsv };
export const csvWithHeaderAdapter: AdapterRegistration = { mimetype: 'text/csv;header=present', extensions: [], open: openCsv };
