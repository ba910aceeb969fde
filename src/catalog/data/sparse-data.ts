import { BadRequestError } from '../../common/errors/tiled-http.error';
import { DTYPES } from '../tree/dtype';
import { cStrides } from '../tree/tree-builders';
import type { ArrayNode, ColumnValues, SparseBlock, SparseNode, TableColumn, TablePartition } from '../tree/tree.types';
import { DimIndex, SliceError, sliceRange } from './ndarray';

/** One dimension of a basic index over a sparse array, resolved against its length without expanding it. */
type DimMap = { kind: 'index'; at: number } | { kind: 'slice'; first: number; step: number; count: number };

export interface SparseSelection {
  dims: DimMap[];
  /** Shape of the result (integer-indexed dimensions dropped). */
  shape: number[];
}

/** numpy's basic indexing of `shape` by `index`, as arithmetic: a sparse array's extent may be far larger than its elements. */
export function sparseSelect(shape: readonly number[], index: readonly DimIndex[]): SparseSelection {
  if (index.length > shape.length) {
    throw new SliceError(`too many indices for array: array is ${shape.length}-dimensional, but ${index.length} were indexed`);
  }
  const dims: DimMap[] = [];
  const out: number[] = [];
  shape.forEach((length, d) => {
    const spec = index[d] ?? { kind: 'slice' };
    if (spec.kind === 'index') {
      const at = spec.value < 0 ? spec.value + length : spec.value;
      if (at < 0 || at >= length) throw new SliceError(`index ${spec.value} is out of bounds for axis ${d} with size ${length}`);
      dims.push({ kind: 'index', at });
    } else {
      const range = sliceRange(length, spec.start, spec.stop, spec.step);
      dims.push({ kind: 'slice', ...range });
      out.push(range.count);
    }
  });
  return { dims, shape: out };
}

/** A sparse result: one coordinate list per remaining dimension, and the values. */
export interface SparseResult {
  coords: Float64Array[];
  data: ColumnValues;
}

/**
 * The elements of `blocks` (each placed at its offset in the array) that `selection` keeps, with their
 * coordinates in the selection's frame, sorted in C order and with duplicates summed: what sparse.COO
 * makes of them when Tiled reads (and slices) a sparse array.
 */
export function selectElements(node: SparseNode, blocks: readonly { block: SparseBlock; offset: readonly number[] }[], selection: SparseSelection): SparseResult {
  const ndim = selection.shape.length;
  const total = blocks.reduce((n, b) => n + b.block.data.length, 0);
  // Column-wise, in typed arrays: a response may hold millions of elements.
  const kept = Array.from({ length: ndim }, () => new Float64Array(total));
  const values: unknown[] = [];
  const position = new Array<number>(ndim);
  for (const { block, offset } of blocks) {
    const n = block.data.length;
    for (let i = 0; i < n; i++) {
      let keep = true;
      let out = 0;
      for (let d = 0; d < selection.dims.length && keep; d++) {
        const c = block.coords[d][i] + offset[d];
        const dim = selection.dims[d];
        if (dim.kind === 'index') {
          keep = c === dim.at;
          continue;
        }
        const k = (c - dim.first) / dim.step;
        keep = Number.isInteger(k) && k >= 0 && k < dim.count;
        // + 0: a negative step gives -0 for the first position.
        position[out++] = k + 0;
      }
      if (!keep) continue;
      for (let d = 0; d < ndim; d++) kept[d][values.length] = position[d];
      values.push(block.data[i]);
    }
  }
  const count = values.length;
  const compare = (a: number, b: number): number => {
    for (let d = 0; d < ndim; d++) if (kept[d][a] !== kept[d][b]) return kept[d][a] - kept[d][b];
    return 0;
  };
  let order: ArrayLike<number> = { length: count };
  let sorted = true;
  for (let i = 1; i < count && sorted; i++) sorted = compare(i - 1, i) <= 0;
  // Blocks written from a sparse.COO are in C order already; only others pay for the sort.
  if (!sorted) order = Array.from({ length: count }, (_, i) => i).sort(compare);
  const at = (i: number): number => (sorted ? i : order[i]);
  const coords = Array.from({ length: ndim }, () => new Float64Array(count));
  const merged: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const from = at(i);
    if (merged.length && compare(at(i - 1), from) === 0) {
      merged[merged.length - 1] = add(merged[merged.length - 1], values[from]);
      continue;
    }
    for (let d = 0; d < ndim; d++) coords[d][merged.length] = kept[d][from];
    merged.push(values[from]);
  }
  const trimmed = coords.map((c) => c.subarray(0, merged.length));
  let data: ColumnValues;
  if (node.dtype === 'bool') data = merged.map(Boolean);
  else if (node.dtype === 'int64') data = BigInt64Array.from(merged, (v) => BigInt(v as bigint | number));
  else {
    const out = DTYPES[node.dtype].create(merged.length) as Float64Array;
    merged.forEach((v, i) => (out[i] = Number(v)));
    data = out;
  }
  return { coords: trimmed, data };
}

function add(a: unknown, b: unknown): unknown {
  if (typeof a === 'bigint' || typeof b === 'bigint') return BigInt(a as bigint) + BigInt(b as bigint);
  if (typeof a === 'boolean') return a || Boolean(b);
  return Number(a) + Number(b);
}

/** The table Tiled serves for a sparse result: columns dim0…dimN-1 (int64) and data. */
export function sparseTable(node: SparseNode, result: SparseResult): { columns: TableColumn[]; partition: TablePartition } {
  const columns: TableColumn[] = [...result.coords.map((_, d) => ({ name: `dim${d}`, type: 'int64' as const })), { name: 'data', type: node.dtype }];
  const partition: TablePartition = Object.create(null) as TablePartition;
  result.coords.forEach((c, d) => (partition[`dim${d}`] = BigInt64Array.from(c, (v) => BigInt(v))));
  partition.data = result.data;
  return { columns, partition };
}

/** Largest block a dense view fills: a sparse array's extent may be far beyond any memory. */
export const DENSE_BLOCK_BYTE_LIMIT = 64 * 1024 * 1024;

/**
 * A sparse array as a dense one, zeros where no element is stored (duplicates summed): how Tiled's Zarr
 * routes serve a sparse array. Each block is filled when read; one over DENSE_BLOCK_BYTE_LIMIT is refused.
 */
export function denseArrayOf(node: SparseNode): ArrayNode {
  const info = DTYPES[node.dtype];
  return {
    family: 'array',
    metadata: node.metadata,
    specs: node.specs,
    accessBlob: node.accessBlob,
    cacheable: node.cacheable,
    dtype: node.dtype,
    shape: node.shape,
    chunks: node.chunks,
    dims: node.dims,
    async readBlock(block) {
      const shape = block.map((b, d) => node.chunks[d][b]);
      const count = shape.reduce((a, b) => a * b, 1);
      if (count * info.itemsize > DENSE_BLOCK_BYTE_LIMIT) {
        throw new BadRequestError(`A dense block of ${count * info.itemsize} bytes exceeds the limit of ${DENSE_BLOCK_BYTE_LIMIT} bytes; read this sparse array's elements through /api/v1/array/block instead.`);
      }
      const out = info.create(count);
      const { coords, data } = await node.readBlock(block);
      const strides = cStrides(shape);
      for (let i = 0; i < data.length; i++) {
        let at = 0;
        for (let d = 0; d < shape.length; d++) at += coords[d][i] * strides[d];
        if (node.dtype === 'int64') (out as BigInt64Array)[at] += BigInt(data[i] as bigint | number);
        else if (node.dtype === 'bool') (out as Uint8Array)[at] = out[at] || data[i] ? 1 : 0;
        else (out as Float64Array)[at] += Number(data[i]);
      }
      return out;
    },
  };
}
