import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnSource, Writer } from 'hyparquet-writer';
import type { DataType } from 'apache-arrow';
import { DTYPES } from '../tree/dtype';
import type { ColumnValues, DType, Metadata, SparseBlock, SparseDType, SparseNode, Spec } from '../tree/tree.types';
import { PARQUET_TYPE } from '../data/parquet-types';
import { dtypeOf } from './array-structure';
import type { ArrayStructure } from './array-structure';
import { writeFileAtomic } from './atomic-file';
import { hyparquetWriter, readParquetColumns } from './parquet-table';
import { StorageError, StorageErrorCode } from './storage.errors';
import { arrow, PANDAS_INDEX_COLUMN } from './table-structure';

/** Tiled's COO structure JSON, as clients send it. */
export interface SparseStructure {
  data_type: ArrayStructure['data_type'];
  coord_data_type?: ArrayStructure['data_type'] | null;
  chunks: number[][];
  shape: number[];
  dims?: string[] | null;
  resizable?: boolean;
  layout?: string;
}

export interface SparseLayout {
  dtype: SparseDType;
  coordDtype: DType;
  shape: number[];
  chunks: number[][];
  dims: string[] | null;
  /** Every block index, in Tiled's order (itertools.product over the chunks): asset `num` i is block i. */
  blocks: number[][];
}

const SPARSE_DTYPES: ReadonlySet<string> = new Set<SparseDType>(['bool', 'int32', 'int64', 'float32', 'float64']);
/** Tiled's default `coord_data_type`: numpy's uint64. */
const DEFAULT_COORD_DTYPE = { endianness: 'little', kind: 'u', itemsize: 8 };
/**
 * Most blocks a new sparse array may have: each is an asset row written in the creating transaction, as
 * each partition of a Parquet table is.
 */
export const MAX_SPARSE_BLOCKS = 1024;
/** Longest dimension accepted: coordinates travel as int64 and are handled as JS numbers. */
const MAX_EXTENT = Number.MAX_SAFE_INTEGER;

function unsupported(message: string): never {
  throw new StorageError(StorageErrorCode.UnsupportedStructure, message);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 && value <= MAX_EXTENT;
}

/** Every block index of a chunk grid, last dimension fastest (Python's itertools.product). */
function blockIndices(chunks: readonly (readonly number[])[]): number[][] {
  let out: number[][] = [[]];
  for (const lengths of chunks) out = out.flatMap((prefix) => lengths.map((_, i) => [...prefix, i]));
  return out;
}

/** Checks a COO structure; chunks may be irregular, since each block is a file of its own. */
export function sparseLayout(structure: SparseStructure): SparseLayout {
  if (!structure || typeof structure !== 'object') unsupported('A sparse structure is required');
  if (structure.layout !== undefined && structure.layout !== 'COO') unsupported(`Sparse layout ${JSON.stringify(structure.layout)} is not supported; only COO is`);
  const dtype = dtypeOf(structure.data_type);
  if (!SPARSE_DTYPES.has(dtype)) unsupported(`A sparse array's data type must be bool, int32, int64, float32 or float64, not ${dtype}`);
  const coordDtype = dtypeOf(structure.coord_data_type ?? DEFAULT_COORD_DTYPE);
  if (DTYPES[coordDtype].kind !== 'i' && DTYPES[coordDtype].kind !== 'u') unsupported(`coord_data_type must be an integer type, not ${coordDtype}`);
  const { shape, chunks } = structure;
  if (!Array.isArray(shape) || !shape.every(isCount)) unsupported('shape must be a list of non-negative integers');
  if (!Array.isArray(chunks) || chunks.length !== shape.length) unsupported('chunks must have one list per dimension of shape');
  chunks.forEach((lengths, dim) => {
    if (!Array.isArray(lengths) || lengths.length === 0 || !lengths.every(isCount)) unsupported(`chunks[${dim}] must be a non-empty list of non-negative integers`);
    if (lengths.reduce((a, b) => a + b, 0) !== shape[dim]) unsupported(`chunks[${dim}] must add up to shape[${dim}] (${shape[dim]})`);
  });
  const count = chunks.reduce((n, lengths) => n * lengths.length, 1);
  if (count > MAX_SPARSE_BLOCKS) unsupported(`A new sparse array may have at most ${MAX_SPARSE_BLOCKS} blocks, not ${count}`);
  const dims = structure.dims ?? null;
  if (dims !== null && (!Array.isArray(dims) || dims.length !== shape.length || !dims.every((d) => typeof d === 'string'))) {
    unsupported('dims must be null or one name per dimension');
  }
  return { dtype: dtype as SparseDType, coordDtype, shape: [...shape], chunks: chunks.map((c) => [...c]), dims: dims && [...dims], blocks: blockIndices(chunks) };
}

/** The structure as stored and served: Tiled's COOStructure, normalised. */
export function sparseStructureOf(layout: SparseLayout): SparseStructure {
  const type = (dtype: DType) => ({ endianness: DTYPES[dtype].endianness, kind: DTYPES[dtype].kind, itemsize: DTYPES[dtype].itemsize, dt_units: null });
  return { chunks: layout.chunks, shape: layout.shape, data_type: type(layout.dtype), coord_data_type: type(layout.coordDtype), dims: layout.dims, resizable: false, layout: 'COO' };
}

/** A block's file, named as Tiled 0.2.16's SparseBlocksParquetAdapter names it. */
export function sparseBlockPath(dir: string, block: readonly number[]): string {
  return join(dir, `block-${block.join('.')}.parquet`);
}

/** Prepares `dir` for a new sparse array (Tiled's `init_storage`): unwritten blocks read as holding no elements. */
export async function createSparseArray(dir: string, structure: SparseStructure): Promise<SparseLayout> {
  const layout = sparseLayout(structure);
  await mkdir(dir, { recursive: true });
  return layout;
}

function checkBlock(layout: SparseLayout, block: readonly number[]): number[] {
  if (block.length !== layout.shape.length || block.some((b, d) => !Number.isSafeInteger(b) || b < 0 || b >= layout.chunks[d].length)) {
    throw new StorageError(
      StorageErrorCode.BlockOutOfRange,
      `Block (${block.join(', ')}) is out of range: this sparse array has (${layout.chunks.map((c) => c.length).join(', ')}) blocks per dimension`,
    );
  }
  return block.map((b, d) => layout.chunks[d][b]);
}

/** The column type a data column must have for this array (Arrow types tiled-ts reads into it). */
function matchesDtype(type: DataType, dtype: SparseDType): boolean {
  const { DataType: Types, Precision } = arrow();
  switch (dtype) {
    case 'bool':
      return Types.isBool(type);
    case 'int32':
    case 'int64':
      return Types.isInt(type) && type.isSigned && type.bitWidth === (dtype === 'int32' ? 32 : 64);
    case 'float32':
      return Types.isFloat(type) && type.precision === Precision.SINGLE;
    case 'float64':
      return Types.isFloat(type) && type.precision === Precision.DOUBLE;
  }
}


/**
 * Decodes what Tiled's client sends for a block (an Arrow IPC file of columns dim0…dimN-1 and data, the
 * coordinates relative to the block) and checks every coordinate against the block's shape.
 */
export function readSparseBody(layout: SparseLayout, blockShape: readonly number[], body: Uint8Array): { coords: Float64Array[]; data: ColumnValues } {
  const malformed = (message: string): never => {
    throw new StorageError(StorageErrorCode.MalformedData, message);
  };
  let table;
  try {
    table = arrow().tableFromIPC(body);
  } catch {
    // The decoder's message is about bytes, not the request.
  }
  if (!table || table.schema.fields.length === 0) return malformed('The body is not an Arrow IPC file of columns dim0, dim1, …, data');
  const ndim = layout.shape.length;
  const wanted = [...Array.from({ length: ndim }, (_, i) => `dim${i}`), 'data'];
  const names = table.schema.fields.map((f) => f.name);
  const extra = names.filter((n) => !wanted.includes(n) && !PANDAS_INDEX_COLUMN.test(n));
  const missing = wanted.filter((n) => !names.includes(n));
  if (missing.length || extra.length) {
    throw new StorageError(
      StorageErrorCode.SchemaMismatch,
      `A block of this ${ndim}-dimensional sparse array is a table of columns ${wanted.join(', ')}; got ${names.filter((n) => !PANDAS_INDEX_COLUMN.test(n)).join(', ') || 'none'}`,
    );
  }
  const { DataType: Types } = arrow();
  const coords = Array.from({ length: ndim }, (_, d) => {
    const vector = table.getChild(`dim${d}`)!;
    if (!Types.isInt(vector.type)) throw new StorageError(StorageErrorCode.SchemaMismatch, `Column dim${d} must hold integers, not ${String(vector.type)}`);
    if (vector.nullCount) malformed(`Column dim${d} has missing values`);
    const out = Float64Array.from(vector.toArray() as ArrayLike<number | bigint>, Number);
    for (const c of out) {
      if (!(c >= 0 && c < blockShape[d])) {
        throw new StorageError(StorageErrorCode.ShapeMismatch, `Coordinate ${c} in dim${d} is outside the block, whose shape is (${blockShape.join(', ')}); coordinates are relative to the block`);
      }
    }
    return out;
  });
  const vector = table.getChild('data')!;
  if (!matchesDtype(vector.type as DataType, layout.dtype)) {
    throw new StorageError(StorageErrorCode.SchemaMismatch, `Column data has type ${String(vector.type)}; this sparse array holds ${layout.dtype}`);
  }
  if (vector.nullCount) malformed('Column data has missing values');
  const data = (layout.dtype === 'bool' ? Array.from(vector, Boolean) : vector.toArray()) as ColumnValues;
  return { coords, data };
}

/**
 * Replaces one block with the elements of an Arrow body, as a Parquet file of columns dim0…dimN-1 (int64)
 * and data: what Tiled's adapter writes with pandas, so pandas, pyarrow and Tiled itself read it back.
 */
export async function writeSparseBlock(dir: string, layout: SparseLayout, block: readonly number[], body: Uint8Array): Promise<void> {
  const blockShape = checkBlock(layout, block);
  const { coords, data } = readSparseBody(layout, blockShape, body);
  const columnData: ColumnSource[] = [
    ...coords.map((c, d) => ({ name: `dim${d}`, type: 'INT64' as const, nullable: false, data: BigInt64Array.from(c, (v) => BigInt(v)) as unknown as ColumnSource['data'] })),
    { name: 'data', type: PARQUET_TYPE[layout.dtype], nullable: false, data: data as ColumnSource['data'] },
  ];
  const { ByteWriter, parquetWrite } = hyparquetWriter();
  const writer = new ByteWriter();
  // As for tables: yield between row groups so a large block does not hold every other request.
  (writer as Writer).flush = () => new Promise<void>((resolve) => setImmediate(resolve));
  await parquetWrite({ writer, columnData, codec: 'SNAPPY' });
  await writeFileAtomic(sparseBlockPath(dir, block), writer.getBytes());
}

/** PUT /array/full of a sparse array: its one block (Tiled writes whole arrays only when there is one). */
export async function writeSparseFull(dir: string, layout: SparseLayout, body: Uint8Array): Promise<void> {
  if (layout.blocks.length !== 1) {
    throw new StorageError(StorageErrorCode.ShapeMismatch, `This sparse array has ${layout.blocks.length} blocks; write each with PUT /array/block/{path}?block=…`);
  }
  await writeSparseBlock(dir, layout, layout.blocks[0], body);
}

function emptyData(dtype: SparseDType): ColumnValues {
  return dtype === 'bool' ? [] : (DTYPES[dtype].create(0) as ColumnValues);
}

/** One block's elements from its Parquet file (ours or Tiled's: columns dim0…, data, maybe a pandas index). */
export async function readSparseBlock(dir: string, layout: SparseLayout, block: readonly number[]): Promise<SparseBlock> {
  checkBlock(layout, block);
  const ndim = layout.shape.length;
  let bytes: Uint8Array;
  try {
    bytes = await readFile(sparseBlockPath(dir, block));
  } catch (err) {
    // A block not written yet holds no elements.
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return { coords: Array.from({ length: ndim }, () => new Float64Array(0)), data: emptyData(layout.dtype) };
  }
  const names = [...Array.from({ length: ndim }, (_, i) => `dim${i}`), 'data'];
  const columns = await readParquetColumns(bytes, names);
  const coords = names.slice(0, ndim).map((name) => Float64Array.from((columns.get(name) ?? []).flat() as (number | bigint)[], Number));
  const raw = (columns.get('data') ?? []).flat();
  let data: ColumnValues;
  if (layout.dtype === 'bool') data = raw.map(Boolean);
  else if (layout.dtype === 'int64') data = BigInt64Array.from(raw as (number | bigint)[], (v) => BigInt(v));
  else {
    const out = DTYPES[layout.dtype].create(raw.length) as Float64Array;
    for (let i = 0; i < raw.length; i++) out[i] = Number(raw[i]);
    data = out;
  }
  return { coords, data };
}

/** The read side: a SparseNode over the block files in `dir`, described by `structure`. */
export function sparseArrayNode(dir: string, structure: SparseStructure, metadata: Metadata, specs: readonly Spec[] = []): SparseNode {
  const layout = sparseLayout(structure);
  return {
    family: 'sparse',
    metadata,
    specs,
    dtype: layout.dtype,
    coordDtype: layout.coordDtype,
    shape: layout.shape,
    chunks: layout.chunks,
    dims: layout.dims,
    readBlock: (block) => readSparseBlock(dir, layout, block),
  };
}
