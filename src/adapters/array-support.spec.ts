import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockRegion, boundedBlockShape, chunksFor, dtypeOf, MAX_BLOCK_BYTES, MAX_BLOCKS_PER_DIMENSION, servedBlockShape, swapBytes } from './array-support';
import { readContiguousBlock } from './contiguous-reader';

describe('boundedBlockShape', () => {
  it('should keep a block that fits and shrink the leading axis first when it does not', () => {
    expect(boundedBlockShape([4, 4], 8)).toEqual([4, 4]);
    expect(boundedBlockShape([10000, 1000], 8)).toEqual([2097, 1000]);
    expect(boundedBlockShape([10000, 1000], 8).reduce((a, b) => a * b, 8)).toBeLessThanOrEqual(MAX_BLOCK_BYTES);
  });

  it('should move on to the next axis when one index of the leading axis is already too large', () => {
    expect(boundedBlockShape([3, 4096, 4096], 8)).toEqual([1, 512, 4096]);
  });
});

describe('servedBlockShape', () => {
  it('should serve stored chunks as they are, bounded in bytes', () => {
    expect(servedBlockShape([6, 5], [4, 2], 8)).toEqual([4, 2]);
    expect(servedBlockShape([3000, 1000], null, 8)).toEqual([2097, 1000]);
  });

  it('should group tiny stored chunks so no dimension has more than MAX_BLOCKS_PER_DIMENSION blocks', () => {
    const block = servedBlockShape([1_000_000, 3], [1, 3], 4);
    expect(block).toEqual([100, 3]);
    expect(Math.ceil(1_000_000 / block[0])).toBeLessThanOrEqual(MAX_BLOCKS_PER_DIMENSION);
  });
});

describe('blockRegion', () => {
  it('should give offsets and lengths, and refuse blocks outside the grid with a 400', () => {
    const chunks = chunksFor([5, 4], [2, 3]);
    expect(chunks).toEqual([[2, 2, 1], [3, 1]]);
    expect(blockRegion(chunks, [2, 1])).toEqual({ offset: [4, 3], shape: [1, 1] });
    expect(() => blockRegion(chunks, [3, 0])).toThrow(expect.objectContaining({ status: 400, message: 'Block index 3 is out of range for dimension 0' }));
    expect(() => blockRegion(chunks, [0])).toThrow(expect.objectContaining({ status: 400 }));
  });
});

describe('dtypeOf and swapBytes', () => {
  it('should map numpy-style types and refuse the rest with a 415', () => {
    expect(dtypeOf({ kind: 'u', itemsize: 2, littleEndian: false }, 'f')).toBe('uint16');
    expect(() => dtypeOf({ kind: 'f', itemsize: 2, littleEndian: true }, 'x.h5:/half')).toThrow(expect.objectContaining({ status: 415, message: expect.stringMatching(/^x\.h5:\/half: Element type float16 is not supported/) }));
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapBytes(bytes, 4);
    expect(Array.from(bytes)).toEqual([4, 3, 2, 1, 8, 7, 6, 5]);
  });
});

describe('readContiguousBlock', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tiled-contiguous-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should read exactly the block, from blocks of whole rows down to a single element', async () => {
    // A 4 × 5 × 6 int16 array after a 7-byte header, values equal to their flat index.
    const values = Int16Array.from({ length: 120 }, (_, i) => i);
    const path = join(dir, 'a.bin');
    writeFileSync(path, Buffer.concat([Buffer.alloc(7), Buffer.from(values.buffer)]));
    const read = async (offset: number[], shape: number[]): Promise<number[]> => {
      const bytes = await readContiguousBlock(path, 7, [4, 5, 6], 2, offset, shape);
      return Array.from(new Int16Array(bytes.slice().buffer));
    };
    const expected = (offset: number[], shape: number[]): number[] => {
      const out: number[] = [];
      for (let i = 0; i < shape[0]; i++) for (let j = 0; j < shape[1]; j++) for (let k = 0; k < shape[2]; k++) out.push((offset[0] + i) * 30 + (offset[1] + j) * 6 + offset[2] + k);
      return out;
    };
    for (const [offset, shape] of [
      [[0, 0, 0], [4, 5, 6]],
      [[2, 0, 0], [2, 5, 6]],
      [[1, 3, 0], [2, 2, 6]],
      [[1, 2, 4], [3, 3, 2]],
      [[3, 4, 5], [1, 1, 1]],
    ]) {
      expect(await read(offset, shape)).toEqual(expected(offset, shape));
    }
    await expect(readContiguousBlock(path, 100, [4, 5, 6], 2, [3, 0, 0], [1, 5, 6])).rejects.toThrow(/truncated/);
  });
});
