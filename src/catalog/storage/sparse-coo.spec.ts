import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { selectElements, sparseSelect } from '../data/sparse-data';
import { parseSlice } from '../data/ndarray';
import { createSparseArray, sparseArrayNode, sparseLayout, writeSparseBlock } from './sparse-coo';
import type { SparseStructure } from './sparse-coo';
import { StorageError } from './storage.errors';

// The Rust parquet crate (through WebAssembly): a reader and writer sharing no code with hyparquet.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS build, loaded as such
const parquetWasm = require('parquet-wasm/node') as typeof import('parquet-wasm/node/parquet_wasm');

const F8 = { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null };

function structure(shape: number[], chunks: number[][]): SparseStructure {
  return { chunks, shape, data_type: F8, coord_data_type: null, dims: null, resizable: false, layout: 'COO' };
}

function coo(columns: Record<string, BigInt64Array | Float64Array>): Uint8Array {
  return tableToIPC(tableFromArrays(columns), 'file');
}

describe('sparse COO storage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tiled-sparse-'));
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  describe(sparseLayout.name, () => {
    it('should take irregular chunks and Tiled\'s default coordinate type, and list blocks in itertools.product order', () => {
      const layout = sparseLayout(structure([5, 4], [[2, 3], [1, 1, 2]]));
      expect(layout.coordDtype).toBe('uint64');
      expect(layout.blocks).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]);
    });

    it.each([
      [{ ...structure([4], [[4]]), layout: 'CSR' }, /only COO/],
      [structure([4], [[3]]), /must add up to shape\[0\]/],
      [structure([2048], [Array.from({ length: 2048 }, () => 1)]), /at most 1024 blocks/],
      [{ ...structure([4], [[4]]), coord_data_type: F8 }, /coord_data_type must be an integer type/],
    ])('should refuse a bad structure (%#)', (given, message) => {
      expect(() => sparseLayout(given as SparseStructure)).toThrow(message);
    });
  });

  describe(writeSparseBlock.name, () => {
    it('should write a Parquet file another implementation reads as columns dim0, dim1, data', async () => {
      const layout = await createSparseArray(dir, structure([4, 4], [[2, 2], [4]]));
      await writeSparseBlock(dir, layout, [1, 0], coo({ dim0: BigInt64Array.of(1n, 0n), dim1: BigInt64Array.of(3n, 2n), data: Float64Array.of(0.5, 9) }));
      const table = tableFromIPC(parquetWasm.readParquet(await readFile(join(dir, 'block-1.0.parquet'))).intoIPCStream());
      expect(table.schema.fields.map((f) => f.name)).toEqual(['dim0', 'dim1', 'data']);
      expect(Array.from(table.getChild('dim1')!.toArray() as BigInt64Array)).toEqual([3n, 2n]);
    });

    it('should refuse a coordinate outside the block and leave no file', async () => {
      const layout = await createSparseArray(dir, structure([4], [[2, 2]]));
      await expect(writeSparseBlock(dir, layout, [0], coo({ dim0: BigInt64Array.of(2n), data: Float64Array.of(1) }))).rejects.toThrow(StorageError);
      await expect(readFile(join(dir, 'block-0.parquet'))).rejects.toThrow(/ENOENT/);
    });
  });

  describe(sparseArrayNode.name, () => {
    it('should read a block file as pandas writes it for Tiled (an index column after data)', async () => {
      const written = parquetWasm.Table.fromIPCStream(
        tableToIPC(tableFromArrays({ dim0: BigInt64Array.of(0n, 2n), data: Float64Array.of(1.5, 2.5), __index_level_0__: BigInt64Array.of(7n, 8n) }), 'stream'),
      );
      await writeFile(join(dir, 'block-0.parquet'), parquetWasm.writeParquet(written));
      const node = sparseArrayNode(dir, structure([3], [[3]]), {});
      const block = await node.readBlock([0]);
      expect(Array.from(block.coords[0])).toEqual([0, 2]);
      expect(Array.from(block.data as Float64Array)).toEqual([1.5, 2.5]);
    });
  });
});

describe(selectElements.name, () => {
  const node = sparseArrayNode('/nonexistent', structure([4, 5], [[2, 2], [5]]), {});
  const blocks = [
    { block: { coords: [[0, 1, 1], [4, 0, 0]], data: Float64Array.of(1, 2, 3) }, offset: [0, 0] },
    { block: { coords: [[1], [2]], data: Float64Array.of(4) }, offset: [2, 0] },
  ];

  it('should sort in C order and sum duplicates, as sparse.COO does', () => {
    const result = selectElements(node, blocks, sparseSelect([4, 5], []));
    expect(result.coords.map((c) => Array.from(c))).toEqual([[0, 1, 3], [4, 0, 2]]);
    expect(Array.from(result.data as Float64Array)).toEqual([1, 5, 4]);
  });

  it('should re-base coordinates for a negative step and drop an integer-indexed dimension', () => {
    const reversed = selectElements(node, blocks, sparseSelect([4, 5], parseSlice('::-1,1:')));
    expect(reversed.coords.map((c) => Array.from(c))).toEqual([[0, 3], [1, 3]]);
    const row = selectElements(node, blocks, sparseSelect([4, 5], parseSlice('3')));
    expect(row.coords.map((c) => Array.from(c))).toEqual([[2]]);
    expect(Array.from(row.data as Float64Array)).toEqual([4]);
  });
});
