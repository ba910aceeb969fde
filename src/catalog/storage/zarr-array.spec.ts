import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DTYPES } from '../tree/dtype';
import type { DType, NumericArray } from '../tree/tree.types';
import type { ArrayStructure } from './array-structure';
import { TEMP_PREFIX } from './atomic-file';
import { copyRegion, sizeOf } from './ndregion';
import { StorageError, StorageErrorCode } from './storage.errors';
import { createZarrArray, patchZarr, writeZarrBlock, writeZarrFull, zarrArrayNode } from './zarr-array';
import { requireEsm } from './zarrita';

const ALL_DTYPES = Object.keys(DTYPES) as DType[];

function structure(dtype: DType, shape: number[], chunks: number[][], dims: string[] | null = null): ArrayStructure {
  const info = DTYPES[dtype];
  return { data_type: { endianness: info.endianness, kind: info.kind, itemsize: info.itemsize, dt_units: null }, shape, chunks, dims, resizable: false };
}

/** Deterministic values of every dtype, including ones that need all of an int64's bits. */
function sample(dtype: DType, n: number): NumericArray {
  const values = DTYPES[dtype].create(n);
  for (let i = 0; i < n; i++) {
    if (dtype === 'bool') values[i] = i % 3 === 0 ? 1 : 0;
    else if (dtype === 'int64') (values as BigInt64Array)[i] = BigInt(i) * 1_000_000_000_007n - 4_000_000_000_000n;
    else if (dtype === 'uint64') (values as BigUint64Array)[i] = 2n ** 63n + BigInt(i);
    else if (dtype.startsWith('float')) values[i] = i * 0.5 - 3.25;
    else values[i] = (i * 7) % 100;
  }
  return values;
}

/** The values of a typed array of any dtype as a plain list. */
function list(values: NumericArray): (number | bigint)[] {
  return Array.from(values as ArrayLike<number | bigint>);
}

function bytes(values: NumericArray): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** The C-order bytes of a box cut from a C-order array: the expected content of a block. */
function cut(all: Uint8Array, shape: number[], start: number[], box: number[], itemsize: number): Uint8Array {
  const out = new Uint8Array(sizeOf(box) * itemsize);
  copyRegion(all, shape, start, out, box, box.map(() => 0), box, itemsize);
  return out;
}

/** Zarr v3 chunk decoding written from the spec, with numcodecs' WebAssembly zstd: no code shared with the writer. */
async function decodeIndependently(dir: string, coords: number[]): Promise<Uint8Array> {
  const meta = JSON.parse(await readFile(join(dir, 'zarr.json'), 'utf8')) as { codecs: { name: string }[] };
  let data: Uint8Array = new Uint8Array(await readFile(join(dir, 'c', ...coords.map(String))));
  if (meta.codecs.some((c) => c.name === 'zstd')) {
    const { default: Zstd } = requireEsm<{ default: { fromConfig(c: object): { decode(b: Uint8Array): Promise<Uint8Array> | Uint8Array } } }>('numcodecs/zstd');
    data = await Zstd.fromConfig({ level: 0 }).decode(data);
  }
  return data;
}

async function expectStorageError(work: Promise<unknown>, code: StorageErrorCode, status: number, message: RegExp): Promise<void> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StorageError);
  expect((err as StorageError).code).toBe(code);
  expect((err as StorageError).status).toBe(status);
  expect((err as StorageError).message).toMatch(message);
}

describe('Zarr array storage', () => {
  let root: string;
  let n = 0;
  const nextDir = () => join(root, `a${n++}`);

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'tiled-zarr-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  describe('createZarrArray', () => {
    it('should write Zarr v3 metadata with the structure chunk grid, as zarr-python 3 does', async () => {
      const dir = nextDir();
      await createZarrArray(dir, structure('float64', [5, 4], [[2, 2, 1], [3, 1]], ['x', 'y']), { compression: 'zstd' });
      const meta = JSON.parse(await readFile(join(dir, 'zarr.json'), 'utf8'));
      expect(meta).toMatchObject({
        zarr_format: 3,
        node_type: 'array',
        shape: [5, 4],
        data_type: 'float64',
        chunk_grid: { name: 'regular', configuration: { chunk_shape: [2, 3] } },
        chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
        fill_value: 0,
        codecs: [
          { name: 'bytes', configuration: { endian: 'little' } },
          { name: 'zstd', configuration: { level: 0, checksum: false } },
        ],
        dimension_names: ['x', 'y'],
      });
    });

    it("should write the zarr.json docs/storage.md shows", async () => {
      const doc = await readFile(join(__dirname, '..', '..', '..', 'docs', 'storage.md'), 'utf8');
      const example = /<!-- zarr\.json example[^>]*-->\n```json\n([\s\S]*?)\n```/.exec(doc);
      expect(example).not.toBeNull();
      const dir = nextDir();
      await createZarrArray(dir, structure('float64', [5, 4], [[2, 2, 1], [3, 1]], ['x', 'y']), { compression: 'zstd' });
      expect(JSON.parse(await readFile(join(dir, 'zarr.json'), 'utf8'))).toEqual(JSON.parse((example as RegExpExecArray)[1]));
    });

    it('should write uncompressed chunks by default, naming no byte order for one-byte types', async () => {
      const dir = nextDir();
      await createZarrArray(dir, structure('uint8', [2], [[2]]));
      const meta = JSON.parse(await readFile(join(dir, 'zarr.json'), 'utf8'));
      expect(meta).toMatchObject({ data_type: 'uint8', codecs: [{ name: 'bytes' }] });
      expect(meta).not.toHaveProperty('dimension_names');
      await writeZarrFull(dir, structure('uint8', [2], [[2]]), new Uint8Array([7, 9]));
      expect(new Uint8Array(await readFile(join(dir, 'c', '0')))).toEqual(new Uint8Array([7, 9]));
    });

    it('should discard an array an uncommitted earlier write left in the directory, whose chunks would show through', async () => {
      const dir = nextDir();
      await createZarrArray(dir, structure('uint8', [2], [[2]]));
      await writeZarrFull(dir, structure('uint8', [2], [[2]]), new Uint8Array([7, 9]));
      await writeFile(join(dir, 'unrelated'), 'kept');
      await createZarrArray(dir, structure('uint8', [2], [[1, 1]]));
      expect((await readdir(dir)).sort()).toEqual(['unrelated', 'zarr.json']);
      expect(list(await zarrArrayNode(dir, structure('uint8', [2], [[1, 1]]), {}).readBlock([0]))).toEqual([0]);
    });

    it('should refuse chunks Zarr cannot hold and data types it cannot store', async () => {
      await expectStorageError(createZarrArray(nextDir(), structure('int32', [5], [[2, 3]])), StorageErrorCode.UnsupportedStructure, 400, /chunks\[0\] must be regular/);
      await expectStorageError(createZarrArray(nextDir(), structure('int32', [5], [[2, 2]])), StorageErrorCode.UnsupportedStructure, 400, /add up to shape\[0\]/);
      const big = { ...structure('int32', [2], [[2]]), data_type: { endianness: 'big', kind: 'i', itemsize: 4 } };
      await expectStorageError(createZarrArray(nextDir(), big), StorageErrorCode.UnsupportedStructure, 400, /Big-endian/);
      await expectStorageError(createZarrArray(nextDir(), structure('float64', [2 ** 27], [[2 ** 27]])), StorageErrorCode.UnsupportedStructure, 400, /A chunk of 1073741824 bytes is larger than/);
      await expectStorageError(createZarrArray(nextDir(), structure('uint8', [2000, 1000], [new Array(2000).fill(1), new Array(1000).fill(1)])), StorageErrorCode.UnsupportedStructure, 400, /has 2000000 chunks/);
      const complex = { ...structure('int32', [2], [[2]]), data_type: { endianness: 'little', kind: 'c', itemsize: 16 } };
      await expectStorageError(createZarrArray(nextDir(), complex), StorageErrorCode.UnsupportedStructure, 400, /kind 'c'/);
    });
  });

  describe.each(ALL_DTYPES)('%s', (dtype) => {
    const shape = [5, 4];
    const chunks = [[2, 2, 1], [3, 1]];
    const itemsize = DTYPES[dtype].itemsize;

    it.each(['zstd', 'none'] as const)('should read back a full write (%s) block by block, through the node and through an independent decoder', async (compression) => {
      const dir = nextDir();
      const s = structure(dtype, shape, chunks);
      const all = bytes(sample(dtype, 20));
      await createZarrArray(dir, s, { compression });
      await writeZarrFull(dir, s, all);
      const node = zarrArrayNode(dir, s, { note: 1 });
      expect(node).toMatchObject({ family: 'array', dtype, shape, chunks, metadata: { note: 1 } });
      for (const [i, j] of [[0, 0], [1, 1], [2, 0], [2, 1]]) {
        const box = [chunks[0][i], chunks[1][j]];
        const got = await node.readBlock([i, j]);
        expect(got).toBeInstanceOf(DTYPES[dtype].create(0).constructor);
        expect(bytes(got)).toEqual(cut(all, shape, [i * 2, j * 3], box, itemsize));
        // On disk every chunk is whole ([2, 3]); the part beyond the array's edge holds the fill value 0.
        const onDisk = await decodeIndependently(dir, [i, j]);
        expect(onDisk.byteLength).toBe(6 * itemsize);
        expect(cut(onDisk, [2, 3], [0, 0], box, itemsize)).toEqual(cut(all, shape, [i * 2, j * 3], box, itemsize));
      }
      expect((await readdir(dir, { recursive: true })).filter((f) => f.includes(TEMP_PREFIX))).toEqual([]);
    });

    it('should write blocks one at a time and leave unwritten blocks at the fill value', async () => {
      const dir = nextDir();
      const s = structure(dtype, shape, chunks);
      await createZarrArray(dir, s);
      const block = bytes(sample(dtype, 2)).slice();
      await writeZarrBlock(dir, s, [2, 0], cut(bytes(sample(dtype, 3)), [1, 3], [0, 0], [1, 3], itemsize));
      await writeZarrBlock(dir, s, [0, 1], block);
      const node = zarrArrayNode(dir, s, {});
      expect(bytes(await node.readBlock([2, 0]))).toEqual(bytes(sample(dtype, 3)));
      expect(bytes(await node.readBlock([0, 1]))).toEqual(block);
      expect(bytes(await node.readBlock([1, 0]))).toEqual(new Uint8Array(6 * itemsize));
    });
  });

  describe('zarrArrayNode', () => {
    it('should read a block from its own chunk file only', async () => {
      const dir = nextDir();
      const s = structure('float64', [4], [[2, 2]]);
      await createZarrArray(dir, s, { compression: 'zstd' });
      await writeZarrFull(dir, s, bytes(new Float64Array([1, 2, 3, 4])));
      await writeFile(join(dir, 'c', '0'), 'not zstd');
      const node = zarrArrayNode(dir, s, {});
      expect(list(await node.readBlock([1]))).toEqual([3, 4]);
      await expect(Promise.resolve(node.readBlock([0]))).rejects.toThrow();
      await expectStorageError(Promise.resolve(node.readBlock([2])), StorageErrorCode.BlockOutOfRange, 400, /out of range/);
    });
  });

  describe('writeZarrBlock', () => {
    const s = structure('int16', [5, 4], [[2, 2, 1], [3, 1]]);

    it('should refuse a block out of range or of the wrong length with a 400', async () => {
      const dir = nextDir();
      await createZarrArray(dir, s);
      await expectStorageError(writeZarrBlock(dir, s, [3, 0], new Uint8Array(12)), StorageErrorCode.BlockOutOfRange, 400, /out of range/);
      await expectStorageError(writeZarrBlock(dir, s, [0], new Uint8Array(12)), StorageErrorCode.BlockOutOfRange, 400, /out of range/);
      await expectStorageError(writeZarrBlock(dir, s, [0, 0], new Uint8Array(11)), StorageErrorCode.WrongLength, 400, /Expected 12 bytes .* received 11/);
      await expectStorageError(writeZarrFull(dir, s, new Uint8Array(12)), StorageErrorCode.WrongLength, 400, /Expected 40 bytes/);
      expect(await readdir(dir)).toEqual(['zarr.json']);
    });

    it('should keep a reader on the old or the new chunk during concurrent writes of one block', async () => {
      const dir = nextDir();
      await createZarrArray(dir, s);
      const node = zarrArrayNode(dir, s, {});
      const versions = [1, 2, 3, 4].map((v) => new Uint8Array(new Int16Array(6).fill(v).buffer));
      const reads: Promise<NumericArray>[] = [];
      await Promise.all(versions.map((v) => (reads.push(Promise.resolve(node.readBlock([0, 0]))), writeZarrBlock(dir, s, [0, 0], v))));
      for (const read of await Promise.all(reads)) expect(new Set(list(read))).toHaveProperty('size', 1);
      expect((await readdir(join(dir, 'c', '0'))).filter((f) => f.startsWith(TEMP_PREFIX))).toEqual([]);
    });
  });

  describe('patchZarr', () => {
    const s = structure('float32', [3, 2], [[2, 1], [2]]);

    it('should write a region inside the array and return the structure', async () => {
      const dir = nextDir();
      await createZarrArray(dir, s);
      const out = await patchZarr(dir, s, [1, 0], [2, 2], bytes(new Float32Array([1, 2, 3, 4])), false);
      expect(out).toEqual({ ...s, chunks: [[2, 1], [2]] });
      const node = zarrArrayNode(dir, out, {});
      expect(list(await node.readBlock([0, 0]))).toEqual([0, 0, 1, 2]);
      expect(list(await node.readBlock([1, 0]))).toEqual([3, 4]);
    });

    it("should answer 409 with Tiled's text for a region beyond the shape without extend", async () => {
      const dir = nextDir();
      await createZarrArray(dir, s);
      await expectStorageError(
        patchZarr(dir, s, [2], [2, 2], bytes(new Float32Array(4)), false),
        StorageErrorCode.DoesNotFit,
        409,
        /^Slice <class 'slice'> does not fit within current array shape \(3, 2\)\. Use \?extend=true to extend the array dimensions to fit\.$/,
      );
      await expectStorageError(patchZarr(dir, s, [0, 0], [2], bytes(new Float32Array(2)), false), StorageErrorCode.ShapeMismatch, 400, /one per dimension/);
      await expectStorageError(patchZarr(dir, s, [1e12], [1, 2], bytes(new Float32Array(2)), true), StorageErrorCode.ShapeMismatch, 400, /has 500000000001 chunks/);
      await expectStorageError(patchZarr(dir, s, [Number.MAX_SAFE_INTEGER], [1, 2], bytes(new Float32Array(2)), true), StorageErrorCode.ShapeMismatch, 400, /safe integer/);
      expect(JSON.parse(await readFile(join(dir, 'zarr.json'), 'utf8')).shape).toEqual([3, 2]);
      await expectStorageError(patchZarr(dir, s, [0, 0], [1, 1], bytes(new Float32Array(2)), false), StorageErrorCode.WrongLength, 400, /Expected 4 bytes/);
    });

    it('should grow the array with extend, keep the old data and report regular chunks', async () => {
      const dir = nextDir();
      await createZarrArray(dir, s);
      await writeZarrFull(dir, s, bytes(new Float32Array([1, 2, 3, 4, 5, 6])));
      const out = await patchZarr(dir, s, [3], [2, 2], bytes(new Float32Array([7, 8, 9, 10])), true);
      expect(out.shape).toEqual([5, 2]);
      expect(out.chunks).toEqual([[2, 2, 1], [2]]);
      expect(JSON.parse(await readFile(join(dir, 'zarr.json'), 'utf8')).shape).toEqual([5, 2]);
      const node = zarrArrayNode(dir, out, {});
      const blocks = await Promise.all([[0, 0], [1, 0], [2, 0]].map((b) => node.readBlock(b)));
      expect(blocks.map(list)).toEqual([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
    });

    it('should never shrink the array when a PATCH comes with a structure older than the last extend', async () => {
      const dir = nextDir();
      await createZarrArray(dir, s);
      const [grown, stale] = await Promise.all([
        patchZarr(dir, s, [3], [3, 2], bytes(new Float32Array(6).fill(1)), true),
        patchZarr(dir, s, [3], [1, 2], bytes(new Float32Array(2).fill(2)), true),
      ]);
      expect(grown.shape).toEqual([6, 2]);
      expect(stale.shape).toEqual([6, 2]);
      expect(JSON.parse(await readFile(join(dir, 'zarr.json'), 'utf8')).shape).toEqual([6, 2]);
      await expectStorageError(
        patchZarr(dir, s, [5], [2, 2], bytes(new Float32Array(4)), false),
        StorageErrorCode.DoesNotFit,
        409,
        /current array shape \(6, 2\)/,
      );
    });
  });

  it('should read arrays Tiled wrote: Zarr v2, and a shape rounded up to whole chunks', async () => {
    const dir = nextDir();
    const zarray = { zarr_format: 2, shape: [6], chunks: [3], dtype: '<i4', compressor: null, fill_value: 0, order: 'C', filters: null };
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.zarray'), JSON.stringify(zarray));
    await writeFile(join(dir, '0'), new Uint8Array(new Int32Array([1, 2, 3]).buffer));
    await writeFile(join(dir, '1'), new Uint8Array(new Int32Array([4, 5, 0]).buffer));
    const node = zarrArrayNode(dir, structure('int32', [5], [[3, 2]]), {});
    expect(list(await node.readBlock([0]))).toEqual([1, 2, 3]);
    expect(list(await node.readBlock([1]))).toEqual([4, 5]);
  });

  it('should read a Zarr v2 array compressed with Blosc, the zarr-python 2 default', async () => {
    const dir = nextDir();
    const compressor = { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 };
    const zarray = { zarr_format: 2, shape: [4], chunks: [4], dtype: '<f8', compressor, fill_value: 0, order: 'C', filters: null };
    const { default: Blosc } = requireEsm<{ default: { fromConfig(c: object): { encode(b: Uint8Array): Promise<Uint8Array> } } }>('numcodecs/blosc');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '.zarray'), JSON.stringify(zarray));
    await writeFile(join(dir, '0'), await Blosc.fromConfig(compressor).encode(bytes(new Float64Array([1.5, 2.5, 3.5, 4.5]))));
    expect(list(await zarrArrayNode(dir, structure('float64', [4], [[4]]), {}).readBlock([0]))).toEqual([1.5, 2.5, 3.5, 4.5]);
  });

  it('should store a scalar and arrays with an empty dimension', async () => {
    const dir = nextDir();
    const scalar = structure('int64', [], []);
    await createZarrArray(dir, scalar);
    await writeZarrFull(dir, scalar, bytes(new BigInt64Array([-5n])));
    expect(list(await zarrArrayNode(dir, scalar, {}).readBlock([]))).toEqual([-5n]);
    const emptyDir = nextDir();
    const empty = structure('uint8', [0, 3], [[0], [3]]);
    await createZarrArray(emptyDir, empty);
    await writeZarrFull(emptyDir, empty, new Uint8Array(0));
    expect((await zarrArrayNode(emptyDir, empty, {}).readBlock([0, 0])).length).toBe(0);
  });
});
