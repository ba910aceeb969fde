import type { DType, NumericArray } from '../tree/tree.types';

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Copies an n-dimensional box of `region` elements between two C-order byte buffers: from `srcStart` in
 * an array of `srcShape` to `dstStart` in one of `dstShape`. Runs along the last dimension are copied
 * with one `set` each.
 */
export function copyRegion(
  src: Uint8Array,
  srcShape: readonly number[],
  srcStart: readonly number[],
  dst: Uint8Array,
  dstShape: readonly number[],
  dstStart: readonly number[],
  region: readonly number[],
  itemsize: number,
): void {
  const rank = region.length;
  if (region.some((n) => n === 0)) return;
  if (rank === 0) {
    dst.set(src.subarray(0, itemsize), 0);
    return;
  }
  const strides = (shape: readonly number[]) => {
    const out = new Array<number>(rank);
    let s = itemsize;
    for (let d = rank - 1; d >= 0; d--) {
      out[d] = s;
      s *= shape[d];
    }
    return out;
  };
  const srcStrides = strides(srcShape);
  const dstStrides = strides(dstShape);
  const run = region[rank - 1] * itemsize;
  const index = new Array<number>(rank - 1).fill(0);
  for (;;) {
    let s = srcStart[rank - 1] * itemsize;
    let d = dstStart[rank - 1] * itemsize;
    for (let k = 0; k < rank - 1; k++) {
      s += (srcStart[k] + index[k]) * srcStrides[k];
      d += (dstStart[k] + index[k]) * dstStrides[k];
    }
    dst.set(src.subarray(s, s + run), d);
    let k = rank - 2;
    while (k >= 0 && ++index[k] === region[k]) index[k--] = 0;
    if (k < 0) return;
  }
}

const VIEWS: Readonly<Record<DType, new (buffer: ArrayBufferLike, byteOffset: number, length: number) => NumericArray>> = {
  bool: Uint8Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  float32: Float32Array,
  float64: Float64Array,
};

/** The bytes as the typed array of `dtype`, without copying unless they are misaligned for it. */
export function viewAs(dtype: DType, bytes: Uint8Array): NumericArray {
  const View = VIEWS[dtype];
  const itemsize = (View as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT;
  const aligned = bytes.byteOffset % itemsize === 0 ? bytes : bytes.slice();
  return new View(aligned.buffer, aligned.byteOffset, aligned.byteLength / itemsize);
}

/** The bytes behind any typed array (or zarrita's BoolArray), without copying. */
export function bytesView(values: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number }): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
