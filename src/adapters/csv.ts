/**
 * CSV files as tables (csv-parse), as Tiled's CSVAdapter serves them through dask: the first row names the
 * columns, the types are inferred as pandas does (table-columns.ts), and each file is cut into partitions
 * of CSV_BLOCK_BYTES at line breaks. Opening reads only the first SAMPLE_ROWS rows and the file sizes;
 * reading a partition reads only its byte range, streaming, so other requests keep going.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform, type TransformCallback } from 'node:stream';
import type { ColumnType, TableColumn, TableNode, TablePartition } from '../catalog/tree/tree.types';
import { lazyRequire } from '../common/lazy-require';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { type Cell, convertColumnYielding, inferColumnType } from './table-columns';

/** Rows read at open to infer the column types (dask samples the start of the file for the same purpose). */
export const SAMPLE_ROWS = 1000;
/** Bytes of file per partition, dask's default block size. */
export const CSV_BLOCK_BYTES = 64 * 1024 * 1024;

/** Loaded when the first CSV is opened. */
const csvParser = lazyRequire<typeof import('csv-parse')>('csv-parse');
const csvParse = (): typeof import('csv-parse').parse => csvParser().parse;

const NEWLINE = 0x0a;

/**
 * The lines of a file that *start* in [start, end): dropped up to the first line break at or after
 * start - 1, passed on through the first line break at or after end - 1. Neighbouring ranges thus share no
 * line and miss none. (A quoted field holding a line break across a boundary splits wrongly, as in dask.)
 */
class LineRange extends Transform {
  private position: number;
  private started: boolean;
  private done = false;

  constructor(
    private readonly rangeStart: number,
    private readonly rangeEnd: number,
  ) {
    super();
    this.position = Math.max(0, rangeStart - 1);
    this.started = rangeStart === 0;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.done) return callback();
    let from = 0;
    if (!this.started) {
      const newline = chunk.indexOf(NEWLINE);
      if (newline < 0) {
        this.position += chunk.length;
        return callback();
      }
      this.started = true;
      from = newline + 1;
      // The first whole line starts at or after the range's end: it is the next range's.
      if (this.position + from >= this.rangeEnd) {
        this.done = true;
        this.push(null);
        return callback();
      }
    }
    // The first line break at or after end - 1 closes the range.
    const last = Math.max(from, this.rangeEnd - 1 - this.position);
    const stop = last < chunk.length ? chunk.indexOf(NEWLINE, last) : -1;
    if (stop >= 0) {
      this.push(chunk.subarray(from, stop + 1));
      this.done = true;
      this.push(null);
    } else {
      this.push(chunk.subarray(from));
    }
    this.position += chunk.length;
    callback();
  }
}

/** Parse up to `limit` records (all when undefined) of a byte range; a malformed file is a 422 naming the problem. */
async function readRecords(path: string, options: { limit?: number; start?: number; end?: number } = {}): Promise<string[][]> {
  const records: string[][] = [];
  const start = options.start ?? 0;
  const stream = createReadStream(path, { start: Math.max(0, start - 1) });
  const range = new LineRange(start, options.end ?? Infinity);
  const parse = csvParse()({ bom: start === 0, skip_empty_lines: true, ...(options.limit ? { to: options.limit } : {}) });
  try {
    const failed = new Promise<never>((_, reject) => {
      stream.once('error', reject);
      range.once('error', reject);
    });
    stream.pipe(range).pipe(parse);
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
    range.destroy();
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

async function toPartition(columns: readonly TableColumn[], rows: readonly string[][], firstRow: number): Promise<TablePartition> {
  const partition: TablePartition = {};
  for (const [c, column] of columns.entries()) {
    try {
      partition[column.name] = await convertColumnYielding(
        column.name,
        rows.map((row) => row[c] as Cell),
        column.type,
      );
    } catch (error) {
      // Rows are counted from the partition's start: say so when that is not the file's start.
      if (error instanceof AdapterError && firstRow > 0) throw new AdapterError(`${error.message} (counting from the partition's first row)`, error.status);
      throw error;
    }
  }
  return partition;
}

interface Block {
  path: string;
  start: number;
  end: number;
}

async function sizeOf(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    throw asAdapterError(error);
  }
}

/** Open CSV files as one table (several for a `multipart/related;type=text/csv` source), cut into blocks. */
export async function openCsv(source: AdapterSource, blockBytes = CSV_BLOCK_BYTES): Promise<TableNode> {
  if (source.paths.length === 0) throw new AdapterError('A CSV source needs at least one file', 500);
  const sample = await readRecords(source.paths[0], { limit: SAMPLE_ROWS + 1 });
  if (sample.length === 0) throw new AdapterError('The CSV file is empty: it has no header row', 422);
  const names = columnNames(sample[0]);
  const rows = sample.slice(1);
  const columns: TableColumn[] = names.map((name, c) => ({ name, type: inferColumnType(rows.map((row) => row[c])) as ColumnType }));
  const blocks: Block[] = [];
  for (const path of source.paths) {
    const size = await sizeOf(path);
    const count = Math.max(1, Math.ceil(size / blockBytes));
    for (let i = 0; i < count; i++) blocks.push({ path, start: i * blockBytes, end: i === count - 1 ? Infinity : (i + 1) * blockBytes });
  }
  return {
    family: 'table',
    metadata: {},
    specs: [],
    columns,
    npartitions: blocks.length,
    async readPartition(index: number): Promise<TablePartition> {
      const block = blocks[index];
      const records = await readRecords(block.path, { start: block.start, end: block.end });
      if (block.start > 0) return toPartition(columns, records, 1);
      const header = records.length ? columnNames(records[0]) : [];
      if (header.length !== names.length || header.some((h, i) => h !== names[i])) {
        throw new AdapterError(`The file's header (${header.join(', ')}) differs from the columns it was opened with (${names.join(', ')})`, 422);
      }
      return toPartition(columns, records.slice(1), 0);
    },
  };
}

export const csvAdapter: AdapterRegistration = {
  mimetype: 'text/csv',
  extensions: ['.csv'],
  open: (source) => openCsv(source),
};

/** Tiled's other spellings of CSV: several files as one table, and RFC 4180's header flag. */
export const csvSequenceAdapter: AdapterRegistration = { mimetype: 'multipart/related;type=text/csv', extensions: [], open: (source) => openCsv(source) };
export const csvWithHeaderAdapter: AdapterRegistration = { mimetype: 'text/csv;header=present', extensions: [], open: (source) => openCsv(source) };
