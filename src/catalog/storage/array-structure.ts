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
  const dims = structure.dims ?? null;
  if (dims !== null && (!Array.isArray(dims) || dims.length !== shape.length || !dims.every((d) => typeof d === 'string'))) {
    unsupported('dims must be null or one name per dimension');
  }
  return { dtype, itemsize: DTYPES[dtype].itemsize, shape: [...shape], chunks: chunks.map((c) => [...c]), chunkShape, dims: dims && [...dims] };
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

/** The structure JSON for a layout, as Tiled reports it after a write. */
export function structureOf(layout: ArrayLayout, dataType: ArrayStructure['data_type'], resizable = false): ArrayStructure {
  return { data_type: dataType, chunks: layout.chunks, shape: layout.shape, dims: layout.dims, resizable };
}
