import { open } from 'node:fs/promises';

/**
 * Reads one block of a C-order array stored uncompressed at `dataOffset` in a file, touching only
 * that block's bytes: one positioned read per contiguous run (the block's innermost full rows).
 */
export async function readContiguousBlock(
  path: string,
  dataOffset: number,
  shape: readonly number[],
  itemsize: number,
  offset: readonly number[],
  blockShape: readonly number[],
): Promise<Uint8Array> {
  const ndim = shape.length;
  const total = blockShape.reduce((a, b) => a * b, itemsize);
  const out = new Uint8Array(total);
  if (total === 0) return out;
  // The run is the block's extent along the last dimension it does not cover fully, times the full trailing ones.
  let split = ndim - 1;
  while (split > 0 && blockShape[split] === shape[split] && offset[split] === 0) split--;
  const strides = new Array<number>(ndim).fill(itemsize);
  for (let d = ndim - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  const runBytes = ndim === 0 ? itemsize : blockShape[split] * strides[split];
  const handle = await open(path, 'r');
  try {
    const index = new Array<number>(Math.max(0, split)).fill(0);
    let written = 0;
    for (;;) {
      let start = dataOffset + (ndim === 0 ? 0 : offset[split] * strides[split]);
      for (let d = 0; d < split; d++) start += (offset[d] + index[d]) * strides[d];
      const { bytesRead } = await handle.read(out, written, runBytes, start);
      if (bytesRead !== runBytes) throw Object.assign(new Error('the file is shorter than its header says (truncated)'), { code: 'ETRUNCATED' });
      written += runBytes;
      let d = split - 1;
      while (d >= 0 && ++index[d] === blockShape[d]) index[d--] = 0;
      if (d < 0) break;
    }
  } finally {
    await handle.close();
  }
  return out;
}
