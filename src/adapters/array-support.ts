/**
 * What the array-format adapters (HDF5, Zarr, TIFF, images, NPY) share: choosing blocks, mapping a
 * format's element type to the tree's DType list, byte order, and turning file-system failures into
 * an AdapterError with a message a user can act on.
 */
import { DTYPES } from '../catalog/tree/dtype';
import { chunkLengths } from '../catalog/tree/tree-builders';
import type { DType, NumericArray } from '../catalog/tree/tree.types';
import { AdapterError } from './adapter.types';

/**
 * The largest block an adapter hands out when the file does not impose its own chunking (contiguous
 * HDF5 datasets, NPY files): a block is held in memory whole while it is encoded, so this bounds a
 * request's memory whatever the size of the dataset.
 */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

/** Chunk lengths per dimension for a block shape (clamped to the array's shape). */
export function chunksFor(shape: readonly number[], blockShape: readonly number[]): number[][] {
  return shape.map((n, i) => chunkLengths(n, Math.max(1, Math.min(n, blockShape[i] ?? n))));
}

/**
 * Shrinks a block shape, leading axis first, until one block holds at most `maxBytes`: a dataset stored
 * contiguously (or in chunks larger than that) is still served in bounded pieces.
 */
export function boundedBlockShape(blockShape: readonly number[], itemsize: number, maxBytes = MAX_BLOCK_BYTES): number[] {
  const out = blockShape.map((n) => Math.max(1, n));
  for (let axis = 0; axis < out.length; axis++) {
    const bytes = out.reduce((a, b) => a * b, itemsize);
    if (bytes <= maxBytes) break;
    const perIndex = bytes / out[axis];
    out[axis] = Math.max(1, Math.floor(maxBytes / perIndex));
  }
  return out;
}

/**
 * Blocks per dimension above which stored chunks are grouped: the chunk lengths of every dimension are
 * listed in each metadata response, so a dataset stored in tiny chunks (one element each, say) would
 * otherwise make a metadata document of millions of numbers.
 */
export const MAX_BLOCKS_PER_DIMENSION = 10_000;

/**
 * The block shape to serve for a stored chunk shape (or the whole array when stored contiguously):
 * at most MAX_BLOCK_BYTES per block, and whole multiples of the stored chunks, grouped where a dimension
 * would have more than MAX_BLOCKS_PER_DIMENSION blocks, so a block still maps onto whole stored chunks.
 */
export function servedBlockShape(shape: readonly number[], stored: readonly number[] | null, itemsize: number): number[] {
  const block = boundedBlockShape((stored ?? shape).map((n, i) => Math.min(Math.max(1, n), Math.max(1, shape[i]))), itemsize);
  for (let axis = 0; axis < block.length; axis++) {
    const count = Math.ceil(shape[axis] / block[axis]);
    if (count <= MAX_BLOCKS_PER_DIMENSION) continue;
    const bytes = block.reduce((a, b) => a * b, itemsize);
    const factor = Math.min(Math.ceil(count / MAX_BLOCKS_PER_DIMENSION), Math.max(1, Math.floor(MAX_BLOCK_BYTES / bytes)));
    block[axis] *= factor;
  }
  return block;
}

/** Offset and length of one block along each dimension; AdapterError 400 for a block outside the grid. */
export function blockRegion(chunks: readonly (readonly number[])[], block: readonly number[]): { offset: number[]; shape: number[] } {
  if (block.length !== chunks.length) throw new AdapterError(`Block has ${block.length} indices, the array has ${chunks.length} dimensions`, 400);
  const offset: number[] = [];
  const shape: number[] = [];
  block.forEach((b, d) => {
    if (!Number.isInteger(b) || b < 0 || b >= chunks[d].length) throw new AdapterError(`Block index ${b} is out of range for dimension ${d}`, 400);
    let start = 0;
    for (let i = 0; i < b; i++) start += chunks[d][i];
    offset.push(start);
    shape.push(chunks[d][b]);
  });
  return { offset, shape };
}

export interface ElementType {
  kind: 'b' | 'i' | 'u' | 'f';
  itemsize: number;
  /** Byte order of the stored values; one-byte types ignore it. */
  littleEndian: boolean;
}

/** The tree's DType for a numpy-style element type, or AdapterError 415 naming what is unsupported. */
export function dtypeOf(type: ElementType, what: string): DType {
  for (const [name, info] of Object.entries(DTYPES) as [DType, (typeof DTYPES)[DType]][]) {
    if (info.kind === type.kind && info.itemsize === type.itemsize) return name;
  }
  throw new AdapterError(`${what}: Element type ${describeType(type)} is not supported (supported: bool, int8-64, uint8-64, float32, float64)`, 415);
}

function describeType(type: ElementType): string {
  const names = { b: 'bool', i: 'int', u: 'uint', f: 'float' } as const;
  return type.kind === 'b' ? 'bool' : `${names[type.kind]}${type.itemsize * 8}`;
}

/** Reverses the byte order of each element in place (big-endian storage → the tree's little-endian). */
export function swapBytes(bytes: Uint8Array, itemsize: number): void {
  if (itemsize === 1) return;
  for (let i = 0; i + itemsize <= bytes.length; i += itemsize) {
    for (let a = i, b = i + itemsize - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

/** Little-endian bytes as the typed array of `dtype`, copied when they are not aligned for it. */
export function typedArrayOf(dtype: DType, bytes: Uint8Array): NumericArray {
  const info = DTYPES[dtype];
  const length = bytes.byteLength / info.itemsize;
  const aligned = bytes.byteOffset % info.itemsize === 0 ? bytes : new Uint8Array(bytes);
  const out = info.create(0).constructor as new (buffer: ArrayBufferLike, byteOffset: number, length: number) => NumericArray;
  return new out(aligned.buffer, aligned.byteOffset, length);
}

/**
 * An AdapterError for a failure while opening or reading a file: file-system codes become a plain
 * sentence and a status (a vanished file is 404), anything else keeps the first line of the library's
 * message as 422. `name` is what the user knows the file by (its base name, or base name and path
 * inside it), so server paths never reach a response.
 */
export function fileError(name: string, error: unknown): AdapterError {
  if (error instanceof AdapterError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return new AdapterError(`${name}: The file no longer exists`, 404);
    case 'EACCES':
    case 'EPERM':
      return new AdapterError(`${name}: The file cannot be read (permission denied)`, 500);
    case 'EISDIR':
      return new AdapterError(`${name}: Is a folder, not a file`, 415);
    case 'ELOOP':
      return new AdapterError(`${name}: Too many levels of symbolic links`, 500);
    case 'EMFILE':
    case 'ENFILE':
      return new AdapterError(`${name}: Too many open files on the server, try again`, 503);
    default:
      break;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AdapterError(`${name}: Cannot be read: ${message.split('\n')[0].slice(0, 300)}`, 422);
}
