import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { csvUnsupported, toCsvText, toJsonText } from '../data/ndarray';
import { ARROW_FILE, toArrowFile, toColumnJson, toCsv, toJsonSeq } from '../data/table-data';
import { DTYPES } from '../tree/dtype';
import type { DType, NumericArray, TableColumn, TablePartition } from '../tree/tree.types';
import { encodeHtmlTable } from './html-table';
import { encodeNpy } from './npy';
import { encodeParquet } from './parquet';
import { encodePng } from './png';
import { encodeTiff } from './tiff';
import { encodeXlsx } from './xlsx';

/** An array (or slice of one) to encode: C-order values of `shape`. */
export interface ArrayExport {
  values: NumericArray;
  shape: readonly number[];
  dtype: DType;
}

interface EncoderCommon {
  type: string;
  /** `?format=` spellings and the about document's aliases (Tiled's, from Python's MIME table). */
  aliases: readonly string[];
  /** What writes it: shown in docs/http-api.md. */
  library: string;
  /**
   * Most array elements or table cells one response may encode: the encoders run on the event loop,
   * so each bounds its own hold on every other request (docs/security.md). Undefined: only the byte limit.
   */
  maxElements?: number;
  /** Encoded on an encoder thread (encoder-pool.ts): seconds of CPU at the limit, which the event loop must not wait out. */
  offThread?: boolean;
}

export interface ArrayEncoder extends EncoderCommon {
  /** Undefined for octet-stream, which the data service sends without copying. */
  encode?(array: ArrayExport): Buffer | Promise<Buffer>;
}

export interface TableEncoder extends EncoderCommon {
  /** Undefined for HDF5, which the data service writes from the table node itself. */
  encode?(columns: readonly TableColumn[], partitions: readonly TablePartition[]): Buffer | Promise<Buffer>;
}

/** Container encoders need the catalog's walk; the service supplies it, the registry only lists them. */
export type ContainerEncoder = EncoderCommon;

/**
 * Most elements of an array or cells of a table a text format may encode. Text encoding runs at about
 * 0.75 µs an element on this project's reference machine: this bounds one request to about 0.2 s.
 */
export const TEXT_ENCODING_ELEMENT_LIMIT = 262_144;
/**
 * The formats below are written on an encoder thread, so these bound how long one export occupies it
 * (measured on a busy 2-core machine: a 2048 × 2048 PNG about 5 s, a TIFF 9 s, 1 Mi Parquet cells 6 s,
 * 256 Ki Excel cells 10 s) and how much it copies there.
 */
export const IMAGE_ELEMENT_LIMIT = 4_194_304;
export const PARQUET_CELL_LIMIT = 1_048_576;
export const XLSX_CELL_LIMIT = 262_144;

const CSV_ALIASES = ['csv'];
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
export const HDF5 = 'application/x-hdf5';

function textOf(text: string): Buffer {
  return Buffer.from(text);
}

function arrayCsv(type: string): ArrayEncoder['encode'] {
  return async ({ values, shape, dtype }) => {
    if (shape.length > 2) throw new TiledHttpError(406, csvUnsupported(shape, type));
    return textOf(await toCsvText(values, shape, DTYPES[dtype].kind));
  };
}

async function arrayHtml(array: ArrayExport): Promise<Buffer> {
  // Tiled tries the PNG first and falls back to the CSV for shapes an image cannot take.
  try {
    return textOf(`<html><body><img src="data:image/png;base64,${encodePng(array).toString('base64')}"/></body></html>`);
  } catch {
    const csv = array.shape.length <= 2 ? await toCsvText(array.values, array.shape, DTYPES[array.dtype].kind) : await toJsonText(array.values, array.shape, DTYPES[array.dtype].kind);
    return textOf(`<html><body>${csv}</body></html>`);
  }
}

/** Every array media type served, in the about document's order (Tiled 0.2.16's, then this server's NPY). */
export const ARRAY_ENCODERS: readonly ArrayEncoder[] = [
  { type: 'application/octet-stream', aliases: [], library: 'built in (raw C-order bytes)' },
  {
    type: 'application/json',
    aliases: ['json'],
    library: 'built in',
    maxElements: TEXT_ENCODING_ELEMENT_LIMIT,
    encode: async ({ values, shape, dtype }) => textOf(await toJsonText(values, shape, DTYPES[dtype].kind)),
  },
  { type: 'text/csv', aliases: CSV_ALIASES, library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: arrayCsv('text/csv') },
  { type: 'text/x-comma-separated-values', aliases: [], library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: arrayCsv('text/x-comma-separated-values') },
  { type: 'text/plain', aliases: ['text', 'txt'], library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: arrayCsv('text/plain') },
  { type: 'application/vnd.ms-excel', aliases: ['xls'], library: 'built in (CSV)', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: arrayCsv('application/vnd.ms-excel') },
  { type: 'image/png', aliases: ['png'], library: 'pngjs', maxElements: IMAGE_ELEMENT_LIMIT, offThread: true, encode: encodePng },
  { type: 'image/tiff', aliases: ['tiff', 'tif'], library: 'geotiff', maxElements: IMAGE_ELEMENT_LIMIT, offThread: true, encode: encodeTiff },
  { type: 'text/html', aliases: ['html', 'htm'], library: 'pngjs (an embedded PNG)', maxElements: IMAGE_ELEMENT_LIMIT, offThread: true, encode: arrayHtml },
  { type: 'application/x-npy', aliases: ['npy'], library: 'built in (NPY 1.0); not in Tiled 0.2.16', encode: encodeNpy },
];

export const TABLE_ENCODERS: readonly TableEncoder[] = [
  { type: ARROW_FILE, aliases: ['arrow', 'feather'], library: 'apache-arrow', encode: toArrowFile },
  { type: 'application/x-parquet', aliases: ['parquet'], library: 'hyparquet-writer', maxElements: PARQUET_CELL_LIMIT, offThread: true, encode: encodeParquet },
  { type: 'text/csv', aliases: CSV_ALIASES, library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: toCsv },
  { type: 'text/x-comma-separated-values', aliases: [], library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: toCsv },
  { type: 'text/plain', aliases: ['text', 'txt'], library: 'built in (CSV)', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: toCsv },
  { type: 'application/vnd.ms-excel', aliases: ['xls'], library: 'built in (CSV)', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: toCsv },
  { type: 'text/html', aliases: ['html', 'htm'], library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: encodeHtmlTable },
  { type: XLSX, aliases: ['xlsx'], library: 'exceljs', maxElements: XLSX_CELL_LIMIT, offThread: true, encode: encodeXlsx },
  { type: 'application/json', aliases: ['json'], library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: toColumnJson },
  { type: 'application/json-seq', aliases: [], library: 'built in', maxElements: TEXT_ENCODING_ELEMENT_LIMIT, encode: toJsonSeq },
  { type: HDF5, aliases: ['h5', 'hdf5'], library: 'h5wasm' },
];

/**
 * Sparse arrays are served as tables of columns dim0…dimN-1 and data (Tiled's serialisation), so by the
 * table encoders, in the order of Tiled 0.2.16's about document; HDF5 holds Tiled's `data` and `coords` datasets.
 */
const SPARSE_ORDER = [HDF5, XLSX, ARROW_FILE, 'application/x-parquet', 'text/csv', 'text/plain', 'text/html', 'application/json'];
export const SPARSE_ENCODERS: readonly TableEncoder[] = SPARSE_ORDER.map((type) => TABLE_ENCODERS.find((e) => e.type === type)!);

export const CONTAINER_ENCODERS: readonly ContainerEncoder[] = [
  { type: HDF5, aliases: ['h5', 'hdf5'], library: 'h5wasm' },
  { type: 'application/json', aliases: ['json'], library: 'built in (metadata only)' },
];

export const ARRAY_DEFAULT = 'application/octet-stream';
export const TABLE_DEFAULT = ARROW_FILE;
export const CONTAINER_DEFAULT = HDF5;
export const SPARSE_DEFAULT = ARROW_FILE;

const FAMILIES = { array: ARRAY_ENCODERS, table: TABLE_ENCODERS, container: CONTAINER_ENCODERS, sparse: SPARSE_ENCODERS } as const;
export type ExportFamily = keyof typeof FAMILIES;

export const ARRAY_TYPES: readonly string[] = ARRAY_ENCODERS.map((e) => e.type);
export const TABLE_TYPES: readonly string[] = TABLE_ENCODERS.map((e) => e.type);
export const CONTAINER_TYPES: readonly string[] = CONTAINER_ENCODERS.map((e) => e.type);
export const SPARSE_TYPES: readonly string[] = SPARSE_ENCODERS.map((e) => e.type);

function byType<E extends EncoderCommon>(encoders: readonly E[]): ReadonlyMap<string, E> {
  return new Map(encoders.map((e) => [e.type, e]));
}
export const ARRAY_BY_TYPE = byType(ARRAY_ENCODERS);
export const TABLE_BY_TYPE = byType(TABLE_ENCODERS);

/** The about document's `formats`: exactly the media types the routes negotiate. */
export function aboutFormats(): Record<ExportFamily, string[]> {
  return { array: [...ARRAY_TYPES], table: [...TABLE_TYPES], container: [...CONTAINER_TYPES], sparse: [...SPARSE_TYPES] };
}

/** The about document's `aliases`: `{family: {media_type: [extensions]}}`, types without one left out. */
export function aboutAliases(): Record<ExportFamily, Record<string, string[]>> {
  const out = {} as Record<ExportFamily, Record<string, string[]>>;
  for (const [family, encoders] of Object.entries(FAMILIES) as [ExportFamily, readonly EncoderCommon[]][]) {
    out[family] = Object.fromEntries(encoders.filter((e) => e.aliases.length).map((e) => [e.type, [...e.aliases]]));
  }
  return out;
}

/** `?format=` extension → media type, over every family (an extension means the same type everywhere). */
export const FORMAT_ALIASES: ReadonlyMap<string, string> = new Map(
  Object.values(FAMILIES).flatMap((encoders: readonly EncoderCommon[]) => encoders.flatMap((e) => e.aliases.map((a) => [a, e.type] as [string, string]))),
);
