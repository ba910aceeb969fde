import { DTYPES } from './dtype';
import type {
  AccessBlob,
  ArrayNode,
  ColumnType,
  ColumnValues,
  ContainerNode,
  DType,
  Metadata,
  NumericArray,
  Spec,
  TableColumn,
  TableNode,
  TablePartition,
  TreeNode,
} from './tree.types';

export interface NodeOptions {
  metadata?: Metadata;
  specs?: readonly (Spec | string)[];
  /** Who may reach the node under an access policy (docs/access-control.md); inherited by descendants without one. */
  accessBlob?: AccessBlob;
}

function specsOf(specs: NodeOptions['specs']): Spec[] {
  return (specs ?? []).map((s) => (typeof s === 'string' ? { name: s, version: null } : s));
}

/** A container over a fixed set of children, in the given order. */
export function containerNode(children: Record<string, TreeNode> | Map<string, TreeNode>, options: NodeOptions = {}): ContainerNode {
  const map = children instanceof Map ? new Map(children) : new Map(Object.entries(children));
  const keys = [...map.keys()];
  return {
    family: 'container',
    metadata: options.metadata ?? {},
    specs: specsOf(options.specs),
    ...(options.accessBlob ? { accessBlob: options.accessBlob } : {}),
    keys: () => keys,
    get: (key) => map.get(key),
  };
}

/** Split a length into chunks of at most `size`. */
export function chunkLengths(length: number, size: number): number[] {
  if (length === 0) return [0];
  const out: number[] = [];
  for (let start = 0; start < length; start += size) out.push(Math.min(size, length - start));
  return out;
}

export interface ArrayOptions extends NodeOptions {
  dtype: DType;
  shape: readonly number[];
  /** Chunk size per dimension (default: one chunk per dimension). */
  chunkShape?: readonly number[];
  dims?: readonly string[] | null;
}

function normalizeChunks(shape: readonly number[], chunkShape: readonly number[] | undefined): number[][] {
  return shape.map((n, i) => chunkLengths(n, Math.max(1, chunkShape?.[i] ?? n)));
}

/** Offsets and lengths of one block, per dimension. */
export function blockGeometry(chunks: readonly (readonly number[])[], block: readonly number[]): { offset: number[]; shape: number[] } {
  const offset = block.map((b, d) => chunks[d].slice(0, b).reduce((a, c) => a + c, 0));
  const shape = block.map((b, d) => chunks[d][b]);
  return { offset, shape };
}

/** Elements generated between two yields to the event loop (a few milliseconds of work). */
const GENERATE_SLICE = 1 << 18;

/**
 * An array whose values come from a formula of the flat C-order index, generated per block on first
 * read and kept: cheap to declare, so a large demo array costs nothing until someone reads it. A large
 * block is generated a slice at a time with other work let in between (an 8 MiB block is ~30 ms of
 * arithmetic), and concurrent first reads share that one generation.
 */
export function generatedArrayNode(options: ArrayOptions & { value: (flatIndex: number) => number | boolean }): ArrayNode {
  const chunks = normalizeChunks(options.shape, options.chunkShape);
  const info = DTYPES[options.dtype];
  const cache = new Map<string, NumericArray>();
  const generating = new Map<string, Promise<NumericArray>>();
  const strides = cStrides(options.shape);

  /** Values `from` (inclusive) to `to` (exclusive) of a block, in C order within the block. */
  const fill = (out: NumericArray, offset: readonly number[], shape: readonly number[], from: number, to: number): void => {
    const index = new Array<number>(shape.length).fill(0);
    for (let d = shape.length - 1, rest = from; d >= 0; d--) {
      index[d] = rest % shape[d];
      rest = Math.floor(rest / shape[d]);
    }
    for (let i = from; i < to; i++) {
      let flat = 0;
      for (let d = 0; d < shape.length; d++) flat += (offset[d] + index[d]) * strides[d];
      const v = options.value(flat);
      if (info.bigint) (out as BigInt64Array)[i] = BigInt(Math.trunc(Number(v)));
      else (out as Float64Array)[i] = Number(v);
      for (let d = shape.length - 1; d >= 0; d--) {
        if (++index[d] < shape[d]) break;
        index[d] = 0;
      }
    }
  };

  return {
    family: 'array',
    dtype: options.dtype,
    shape: [...options.shape],
    chunks,
    dims: options.dims ?? null,
    metadata: options.metadata ?? {},
    specs: specsOf(options.specs),
    ...(options.accessBlob ? { accessBlob: options.accessBlob } : {}),
    readBlock(block) {
      const key = block.join(',');
      const hit = cache.get(key) ?? generating.get(key);
      if (hit) return hit;
      const { offset, shape } = blockGeometry(chunks, block);
      const count = shape.reduce((a, b) => a * b, 1);
      const out = info.create(count);
      if (count <= GENERATE_SLICE) {
        fill(out, offset, shape, 0, count);
        cache.set(key, out);
        return out;
      }
      const running = (async () => {
        for (let from = 0; from < count; from += GENERATE_SLICE) {
          fill(out, offset, shape, from, Math.min(count, from + GENERATE_SLICE));
          await new Promise((resolve) => setImmediate(resolve));
        }
        cache.set(key, out);
        generating.delete(key);
        return out;
      })();
      generating.set(key, running);
      return running;
    },
  };
}

/** An in-memory array from C-order values (a typed array of the dtype, or plain numbers/booleans). */
export function arrayNode(
  values: NumericArray | readonly number[] | readonly boolean[],
  options: Omit<ArrayOptions, 'dtype' | 'shape'> & { dtype?: DType; shape?: readonly number[] },
): ArrayNode {
  const dtype = options.dtype ?? inferDType(values);
  const shape = options.shape ?? [values.length];
  const flat = ArrayBuffer.isView(values) ? values : toTyped(values as readonly (number | boolean)[], dtype);
  const total = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== total) throw new Error(`arrayNode: ${flat.length} values do not fill shape [${shape.join(', ')}]`);
  const chunks = normalizeChunks(shape, options.chunkShape);
  const single = chunks.every((c) => c.length === 1);
  const strides = cStrides(shape);
  const blocks = new Map<string, NumericArray>();
  return {
    family: 'array',
    dtype,
    shape: [...shape],
    chunks,
    dims: options.dims ?? null,
    metadata: options.metadata ?? {},
    specs: specsOf(options.specs),
    ...(options.accessBlob ? { accessBlob: options.accessBlob } : {}),
    readBlock(block) {
      if (single) return flat;
      const key = block.join(',');
      const hit = blocks.get(key);
      if (hit) return hit;
      const { offset, shape: bshape } = blockGeometry(chunks, block);
      const out = copyRegion(flat, strides, offset, bshape, DTYPES[dtype].create);
      blocks.set(key, out);
      return out;
    },
  };
}

function inferDType(values: NumericArray | readonly number[] | readonly boolean[]): DType {
  if (values instanceof Float64Array) return 'float64';
  if (values instanceof Float32Array) return 'float32';
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof BigInt64Array) return 'int64';
  if (values instanceof Uint8Array) return 'uint8';
  if (values instanceof Int8Array) return 'int8';
  if (values instanceof Int16Array) return 'int16';
  if (values instanceof Uint16Array) return 'uint16';
  if (values instanceof Uint32Array) return 'uint32';
  if (values instanceof BigUint64Array) return 'uint64';
  const plain = values as readonly unknown[];
  if (plain.length > 0 && typeof plain[0] === 'boolean') return 'bool';
  return plain.every((v) => Number.isInteger(v)) ? 'int64' : 'float64';
}

function toTyped(values: readonly (number | boolean)[], dtype: DType): NumericArray {
  const info = DTYPES[dtype];
  const out = info.create(values.length);
  for (let i = 0; i < values.length; i++) {
    if (info.bigint) (out as BigInt64Array)[i] = BigInt(Math.trunc(Number(values[i])));
    else (out as Float64Array)[i] = Number(values[i]);
  }
  return out;
}

export function cStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** Copy the hyper-rectangle at `offset` of size `shape` out of a C-order array with `strides`. */
export function copyRegion(
  source: NumericArray,
  strides: readonly number[],
  offset: readonly number[],
  shape: readonly number[],
  create: (n: number) => NumericArray,
): NumericArray {
  const count = shape.reduce((a, b) => a * b, 1);
  const out = create(count);
  if (count === 0) return out;
  const nd = shape.length;
  if (nd === 0) {
    (out as Float64Array)[0] = (source as Float64Array)[0];
    return out;
  }
  const rowLength = shape[nd - 1];
  const rows = count / rowLength;
  const index = new Array<number>(Math.max(0, nd - 1)).fill(0);
  for (let r = 0; r < rows; r++) {
    let start = offset[nd - 1];
    for (let d = 0; d < nd - 1; d++) start += (offset[d] + index[d]) * strides[d];
    (out as Float64Array).set((source as Float64Array).subarray(start, start + rowLength), r * rowLength);
    for (let d = nd - 2; d >= 0; d--) {
      if (++index[d] < shape[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

/** An in-memory table from partitions of column values; column types are inferred unless given. */
export function tableNode(partitions: readonly TablePartition[], options: NodeOptions & { columns?: readonly TableColumn[] } = {}): TableNode {
  if (partitions.length === 0 && !options.columns) throw new Error('tableNode: give at least one partition or the columns');
  const columns = options.columns ?? Object.entries(partitions[0]).map(([name, values]) => ({ name, type: inferColumnType(values) }));
  for (const [i, part] of partitions.entries()) {
    const lengths = new Set(columns.map((c) => part[c.name]?.length ?? -1));
    if (lengths.size !== 1 || lengths.has(-1)) throw new Error(`tableNode: partition ${i} does not have equal-length columns ${columns.map((c) => c.name).join(', ')}`);
  }
  return {
    family: 'table',
    columns,
    npartitions: partitions.length,
    metadata: options.metadata ?? {},
    specs: specsOf(options.specs),
    ...(options.accessBlob ? { accessBlob: options.accessBlob } : {}),
    readPartition: (index) => partitions[index],
  };
}

function inferColumnType(values: ColumnValues): ColumnType {
  if (values instanceof Float64Array) return 'float64';
  if (values instanceof Float32Array) return 'float32';
  if (values instanceof Int32Array) return 'int32';
  if (values instanceof BigInt64Array) return 'int64';
  const plain = values as readonly unknown[];
  if (plain.some((v) => typeof v === 'string')) return 'string';
  if (plain.some((v) => typeof v === 'boolean')) return 'bool';
  return plain.every((v) => Number.isInteger(v)) ? 'int64' : 'float64';
}
