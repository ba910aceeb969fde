import { DTYPES } from '../tree/dtype';
import type { DType } from '../tree/tree.types';
import { StorageError, StorageErrorCode } from './storage.errors';

/** Tiled's array structure JSON (`data_type`, `chunks`, `shape`, `dims`, `resizable`), as clients send it. */
export interface ArrayStructure {
  data_type: { endianness: string; kind: string; itemsize: number; dt_units?: string | null } | { itemsize: number; fields: unknown[] };
  chunks: number[][];
  shape: number[];
  dims?: string[] | null;
  resizable?: boolean;
}

/** What storage needs from an array structure, checked once. */
export interface ArrayLayout {
  dtype: DType;
  itemsize: number;
  shape: number[];
  /** Per dimension, its chunk lengths (the last may be shorter). */
  chunks: number[][];
  /** The regular chunk shape Zarr stores: the first chunk length of each dimension (at least 1). */
  chunkShape: number[];
  dims: string[] | null;
}

/**
 * Largest chunk stored. Reading a block loads its whole chunk (unwritten ones are allocated at the fill
 * value), so one structure must not be able to ask for more memory than a server has; Tiled's client
 * chunks arrays at about 100 MB.
 */
export const MAX_CHUNK_BYTES = 2 ** 29;
/** Most chunks in an array's grid: its structure lists every one, and an extend must not create billions. */
export const MAX_CHUNKS = 1_000_000;

const BY_KIND_SIZE: ReadonlyMap<string, DType> = new Map(
  (Object.keys(DTYPES) as DType[]).map((dtype) => [`${DTYPES[dtype].kind}${DTYPES[dtype].itemsize}`, dtype]),
);

function unsupported(message: string): never {
  throw new StorageError(StorageErrorCode.UnsupportedStructure, message);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** The dtype a structure's `data_type` names, if tiled-ts can store it. */
export function dtypeOf(dataType: ArrayStructure['data_type']): DType {
  if (!dataType || typeof dataType !== 'object' || 'fields' in dataType) unsupported('Structured data types cannot be stored');
  const dtype = BY_KIND_SIZE.get(`${dataType.kind}${dataType.itemsize}`);
  if (!dtype) unsupported(`Data type kind '${String(dataType.kind)}' with itemsize ${String(dataType.itemsize)} cannot be stored`);
  if (dataType.endianness === 'big' && DTYPES[dtype].itemsize > 1) unsupported('Big-endian data cannot be stored; send little-endian data');
  return dtype;
}

/**
 * Checks a structure and derives the Zarr chunk grid. Zarr chunks are regular, so every chunk of a
 * dimension but the last must have the same length and the last may only be shorter: Tiled 0.2.16 uses
 * the first chunk length for the grid without checking, and then fails on the first block write.
 */
export function arrayLayout(structure: ArrayStructure): ArrayLayout {
  if (!structure || typeof structure !== 'object') unsupported('An array structure is required');
  const dtype = dtypeOf(structure.data_type);
  const { shape, chunks } = structure;
  if (!Array.isArray(shape) || !shape.every(isCount)) unsupported('shape must be a list of non-negative integers');
  if (!Array.isArray(chunks) || chunks.length !== shape.length) unsupported('chunks must have one list per dimension of shape');
  const chunkShape = shape.map((length, dim) => {
    const lengths = chunks[dim];
    if (!Array.isArray(lengths) || lengths.length === 0 || !lengths.every(isCount)) unsupported(`chunks[${dim}] must be a non-empty list of non-negative integers`);
    if (lengths.reduce((a, b) => a + b, 0) !== length) unsupported(`chunks[${dim}] must add up to shape[${dim}] (${length})`);
    const first = lengths[0];
    const regular = lengths.every((n, i) => (i < lengths.length - 1 ? n === first : n <= first && (n > 0 || lengths.length === 1)));
    if (!regular) unsupported(`chunks[${dim}] must be regular: every chunk but the last of the same length, the last no longer`);
    return Math.max(1, first);
  });
  checkGrid(shape, chunkShape, DTYPES[dtype].itemsize, unsupported);
  const dims = structure.dims ?? null;
  if (dims !== null && (!Array.isArray(dims) || dims.length !== shape.length || !dims.every((d) => typeof d === 'string'))) {
    unsupported('dims must be null or one name per dimension');
  }
  return { dtype, itemsize: DTYPES[dtype].itemsize, shape: [...shape], chunks: chunks.map((c) => [...c]), chunkShape, dims: dims && [...dims] };
}

/** Refuses (through `fail`) a grid whose chunks or chunk count exceed the bounds above. */
export function checkGrid(shape: readonly number[], chunkShape: readonly number[], itemsize: number, fail: (message: string) => never): void {
  const chunkBytes = chunkShape.reduce((a, b) => a * b, itemsize);
  if (chunkBytes > MAX_CHUNK_BYTES) fail(`A chunk of ${chunkBytes} bytes is larger than the ${MAX_CHUNK_BYTES} bytes tiled-ts stores; use smaller chunks`);
  const count = shape.reduce((n, size, d) => n * Math.max(1, Math.ceil(size / chunkShape[d])), 1);
  if (count > MAX_CHUNKS) fail(`An array of shape [${shape.join(', ')}] in chunks of [${chunkShape.join(', ')}] has ${count} chunks, more than the ${MAX_CHUNKS} tiled-ts stores`);
}

/** Per dimension, chunk lengths for `shape` on a regular grid (Tiled's rule when an array is extended). */
export function regularChunks(shape: readonly number[], chunkShape: readonly number[]): number[][] {
  return shape.map((size, dim) => {
    const step = chunkShape[dim];
    const lengths = new Array<number>(Math.floor(size / step)).fill(step);
    if (size % step) lengths.push(size % step);
    return lengths.length ? lengths : [0];
  });
}
