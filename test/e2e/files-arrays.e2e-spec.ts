/**
 * The array-format adapters (HDF5, Zarr, TIFF, PNG, JPEG, NPY): sample files are written with the
 * formats' own writers, opened through the built adapters, and read back value for value, in process
 * and over real HTTP from a server whose tree module (test/fixtures/trees/array-files.js) mounts them.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { deflateSync, gzipSync } from 'node:zlib';
import { join } from 'node:path';
import type { AdapterRegistration } from '../../src/adapters/adapter.types';
import type { ArrayNode, ContainerNode, NumericArray, TreeNode } from '../../src/catalog/tree/tree.types';
import { writeArrayBuffer } from 'geotiff';
import * as jpeg from 'jpeg-js';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { esm } from '../helpers/esm';

type Adapters = {
  hdf5Adapter: AdapterRegistration;
  zarrAdapter: AdapterRegistration;
  tiffAdapter: AdapterRegistration;
  tiffSequenceAdapter: AdapterRegistration;
  pngAdapter: AdapterRegistration;
  jpegAdapter: AdapterRegistration;
  npyAdapter: AdapterRegistration;
  jpegSequenceAdapter: AdapterRegistration;
  npySequenceAdapter: AdapterRegistration;
};
/* eslint-disable @typescript-eslint/no-require-imports -- the HDF5 reader's worker thread starts from the built file, so this spec loads every adapter from dist/ */
const adapters: Adapters = {
  ...(require('../../dist/src/adapters/hdf5') as Adapters),
  ...(require('../../dist/src/adapters/zarr') as Adapters),
  ...(require('../../dist/src/adapters/tiff') as Adapters),
  ...(require('../../dist/src/adapters/image') as Adapters),
  ...(require('../../dist/src/adapters/npy') as Adapters),
  ...(require('../../dist/src/adapters/sequence') as Adapters),
};
/* eslint-enable @typescript-eslint/no-require-imports */
const dynamicImport = esm;

const KEY = 'f'.repeat(64);
const AUTH = { authorization: `Apikey ${KEY}` };

/** Values of a (C-order) array whose element at flat index i is f(i). */
function seq<T extends { length: number; [i: number]: number | bigint }>(make: (n: number) => T, n: number, f: (i: number) => number | bigint): T {
  const out = make(n);
  for (let i = 0; i < n; i++) out[i] = f(i) as never;
  return out;
}

/** The C-order values of a sub-block of a 2-D array given as a flat list. */
function region2d<T extends { length: number; [i: number]: number | bigint }>(values: T, cols: number, rows: [number, number], columns: [number, number]): (number | bigint)[] {
  const out: (number | bigint)[] = [];
  for (let r = rows[0]; r < rows[1]; r++) for (let c = columns[0]; c < columns[1]; c++) out.push(values[r * cols + c]);
  return out;
}

/** An NPY file following numpy's format description: magic, version 1.0, a padded header dict, raw values. */
function npy(descr: string, shape: number[], data: Uint8Array, fortran = false): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const unpadded = 10 + dict.length + 1;
  const header = dict + ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(prefix);
  prefix.writeUInt16LE(header.length, 8);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

const H5_DATA = seq((n) => new Float64Array(n), 30, (i) => i * 0.5 - 3);
const H5_INTS = BigInt64Array.from([-(2n ** 62n), -1n, 0n, 1n, 2n ** 53n + 1n, 2n ** 62n, 7n]);
const H5_BIG = { rows: 3000, cols: 1000 };
const ZARR_X = seq((n) => new Int32Array(n), 20, (i) => i * 3 - 10);
const TIFF_GRAY = seq((n) => new Uint16Array(n), 15, (i) => i * 4000);
const TIFF_RGB = seq((n) => new Uint8Array(n), 45, (i) => (i * 7) % 256);
const TIFF_FLOAT = seq((n) => new Float32Array(n), 15, (i) => i / 8 - 1);
const FRAMES = [0, 1, 2].map((f) => seq((n) => new Uint16Array(n), 8, (i) => f * 100 + i));
const PNG16 = seq((n) => new Uint16Array(n), 6, (i) => [0, 1, 256, 4097, 40000, 65535][i]);
const PNG_RGBA = seq((n) => new Uint8Array(n), 24, (i) => (i * 11) % 256);
const NPY_F4 = seq((n) => new Float32Array(n), 12, (i) => i * 1.25);
const NPY_BE = [1, -2, 300000, -2147483648, 2147483647];

async function writeSamples(dir: string): Promise<void> {
  type H5 = typeof import('h5wasm');
  const h5 = await dynamicImport<H5>('h5wasm/node');
  await h5.ready;
  const file = new h5.File(join(dir, 'sample.h5'), 'w');
  file.create_attribute('title', 'sample');
  file.create_attribute('version', 3);
  const entry = file.create_group('entry');
  entry.create_attribute('NX_class', 'NXentry');
  const data = entry.create_dataset({ name: 'data', data: H5_DATA, shape: [6, 5], dtype: '<d', chunks: [4, 2] });
  data.create_attribute('units', 'counts');
  data.create_attribute('scale', new Float64Array([1, 2, 3]));
  file.create_dataset({ name: 'ints', data: H5_INTS, shape: [7], dtype: '<q' });
  file.create_dataset({ name: 'bytes', data: new Uint8Array([0, 1, 2, 253, 254, 255]), shape: [2, 3], dtype: '<B' });
  file.create_dataset({ name: 'text', data: ['a', 'bc'], shape: [2] });
  // Larger than h5wasm's initial WASM heap (about 18 MiB), stored contiguously: served in bounded blocks.
  const big = seq((n) => new Float64Array(n), H5_BIG.rows * H5_BIG.cols, (i) => i);
  file.create_dataset({ name: 'big', data: big, shape: [H5_BIG.rows, H5_BIG.cols], dtype: '<d' });
  file.close();
  const whole = readFileSync(join(dir, 'sample.h5'));
  writeFileSync(join(dir, 'truncated.h5'), whole.subarray(0, 1000));
  writeFileSync(join(dir, 'junk.h5'), 'this is not an HDF5 file');

  type Zarr = typeof import('zarrita');
  const zarr = await dynamicImport<Zarr>('zarrita');
  const { default: FileSystemStore } = await dynamicImport<typeof import('@zarrita/storage/dist/src/fs')>('@zarrita/storage/fs');
  const store = new FileSystemStore(join(dir, 'sample.zarr'));
  const root = await zarr.create(store, { attributes: { title: 'zarr sample' } });
  await zarr.create(root.resolve('grp'), { attributes: { level: 1 } });
  const x = await zarr.create(root.resolve('grp/x'), { shape: [5, 4], chunkShape: [2, 3], dtype: 'int32', attributes: { units: 'm' } });
  await zarr.set(x, null, { data: ZARR_X, shape: [5, 4], stride: [4, 1] });
  const flags = await zarr.create(root.resolve('flags'), { shape: [3], chunkShape: [3], dtype: 'bool' });
  await zarr.set(flags, null, { data: new zarr.BoolArray([true, false, true]), shape: [3], stride: [1] });
  // Never written: every block is the fill value.
  await zarr.create(root.resolve('empty'), { shape: [4], chunkShape: [2], dtype: 'float64', fillValue: 1.5 });
  // Zarr v2 as written by zarr-python with no compressor: .zgroup/.zarray JSON and raw big-endian chunks.
  const v2 = join(dir, 'v2.zarr');
  mkdirSync(join(v2, 'be'), { recursive: true });
  writeFileSync(join(v2, '.zgroup'), JSON.stringify({ zarr_format: 2 }));
  writeFileSync(join(v2, '.zattrs'), JSON.stringify({ written_by: 'hand' }));
  writeFileSync(join(v2, 'be', '.zarray'), JSON.stringify({ zarr_format: 2, shape: [3], chunks: [2], dtype: '>i2', compressor: null, fill_value: 0, order: 'C', filters: null }));
  writeFileSync(join(v2, 'be', '0'), Buffer.from([0x00, 0x01, 0x01, 0x00]));
  writeFileSync(join(v2, 'be', '1'), Buffer.from([0xff, 0xfe, 0x00, 0x00]));
  // Compressed chunks, as the Zarr specifications define them: a v2 zlib compressor, a v3 bytes(big) + gzip chain.
  mkdirSync(join(v2, 'zlib'));
  writeFileSync(join(v2, 'zlib', '.zarray'), JSON.stringify({ zarr_format: 2, shape: [2, 3], chunks: [2, 3], dtype: '<f8', compressor: { id: 'zlib', level: 1 }, fill_value: null, order: 'C', filters: null }));
  writeFileSync(join(v2, 'zlib', '0.0'), deflateSync(Buffer.from(new Float64Array([0.5, 1, 1.5, 2, 2.5, 3]).buffer)));
  mkdirSync(join(v2, 'corrupt'));
  writeFileSync(join(v2, 'corrupt', '.zarray'), JSON.stringify({ zarr_format: 2, shape: [2], chunks: [2], dtype: '<f8', compressor: { id: 'zlib', level: 1 }, fill_value: null, order: 'C', filters: null }));
  writeFileSync(join(v2, 'corrupt', '0'), 'not zlib data');
  mkdirSync(join(dir, 'sample.zarr', 'gz'));
  writeFileSync(
    join(dir, 'sample.zarr', 'gz', 'zarr.json'),
    JSON.stringify({
      zarr_format: 3, node_type: 'array', shape: [3], data_type: 'uint16', fill_value: 0, attributes: {},
      chunk_grid: { name: 'regular', configuration: { chunk_shape: [3] } },
      chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
      codecs: [{ name: 'bytes', configuration: { endian: 'big' } }, { name: 'gzip', configuration: { level: 5 } }],
    }),
  );
  mkdirSync(join(dir, 'sample.zarr', 'gz', 'c'));
  writeFileSync(join(dir, 'sample.zarr', 'gz', 'c', '0'), gzipSync(Buffer.from([0x00, 0x01, 0x01, 0x00, 0xff, 0xff])));

  // geotiff writes big-endian ("MM") files, so these also check byte-order conversion.
  const tiff = (values: Uint8Array | Uint16Array | Float32Array, width: number, height: number, extra: Record<string, unknown> = {}): Buffer =>
    Buffer.from(writeArrayBuffer(values, { width, height, ...extra } as Parameters<typeof writeArrayBuffer>[1]));
  writeFileSync(join(dir, 'gray.tif'), tiff(TIFF_GRAY, 5, 3, { BitsPerSample: [16], SampleFormat: [1], SamplesPerPixel: 1, PhotometricInterpretation: 1 }));
  writeFileSync(join(dir, 'rgb.tif'), tiff(TIFF_RGB, 5, 3));
  writeFileSync(join(dir, 'float.tif'), tiff(TIFF_FLOAT, 5, 3, { BitsPerSample: [32], SampleFormat: [3], SamplesPerPixel: 1 }));
  FRAMES.forEach((frame, i) =>
    writeFileSync(join(dir, `frame_00${i + 1}.tif`), tiff(frame, 4, 2, { BitsPerSample: [16], SampleFormat: [1], SamplesPerPixel: 1, PhotometricInterpretation: 1 })),
  );

  const png = await dynamicImport<typeof import('fast-png/lib/index')>('fast-png');
  writeFileSync(join(dir, 'gray16.png'), png.encode({ width: 3, height: 2, data: PNG16, depth: 16, channels: 1 }));
  writeFileSync(join(dir, 'rgba.png'), png.encode({ width: 3, height: 2, data: PNG_RGBA, depth: 8, channels: 4 }));
  const rgba = seq((n) => new Uint8Array(n), 4 * 3 * 4, (i) => [200, 100, 50, 255][i % 4]);
  writeFileSync(join(dir, 'photo.jpg'), jpeg.encode({ width: 4, height: 3, data: rgba }, 100).data);

  writeFileSync(join(dir, 'float.npy'), npy('<f4', [3, 4], new Uint8Array(NPY_F4.buffer)));
  const be = Buffer.alloc(20);
  NPY_BE.forEach((v, i) => be.writeInt32BE(v, i * 4));
  writeFileSync(join(dir, 'be.npy'), npy('>i4', [5], be));
  writeFileSync(join(dir, 'bool.npy'), npy('|b1', [4], new Uint8Array([1, 0, 0, 1])));
  writeFileSync(join(dir, 'scalar.npy'), npy('<f8', [], new Uint8Array(new Float64Array([2.5]).buffer)));
  writeFileSync(join(dir, 'text.npy'), npy('<U5', [1], new Uint8Array(20)));
  writeFileSync(join(dir, 'fortran.npy'), npy('<f8', [2, 2], new Uint8Array(32), true));
  writeFileSync(join(dir, 'short.npy'), npy('<f8', [10], new Uint8Array(16)));
}

function open(adapter: AdapterRegistration, ...paths: string[]): Promise<TreeNode> {
  return adapter.open({ mimetype: adapter.mimetype, paths });
}

async function child(node: TreeNode, ...keys: string[]): Promise<TreeNode> {
  let current = node;
  for (const key of keys) {
    const next = await (current as ContainerNode).get(key);
    if (!next) throw new Error(`no child ${key}`);
    current = next;
  }
  return current;
}

/** A block's values as a plain list (numbers, or BigInts for 64-bit integers). */
function values(block: NumericArray): (number | bigint)[] {
  return Array.from(block as ArrayLike<number | bigint>);
}

function arrayOf(node: TreeNode): ArrayNode {
  expect(node.family).toBe('array');
  return node as ArrayNode;
}

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tiled-files-arrays-'));
  await writeSamples(dir);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('array adapters, opened in process', () => {
  describe('HDF5', () => {
    it('serves groups as containers, datasets as arrays chunked as stored, attributes as metadata', async () => {
      const root = (await open(adapters.hdf5Adapter, join(dir, 'sample.h5'))) as ContainerNode;
      expect(root.family).toBe('container');
      expect(root.metadata).toEqual({ title: 'sample', version: 3 });
      // A string dataset is not listed (the tree has no string arrays); asked for by name it says why (below).
      expect(await root.keys()).toEqual(['big', 'bytes', 'entry', 'ints']);
      const entry = (await child(root, 'entry')) as ContainerNode;
      expect(entry.metadata).toEqual({ NX_class: 'NXentry' });
      const data = arrayOf(await child(root, 'entry', 'data'));
      expect(data.metadata).toEqual({ units: 'counts', scale: [1, 2, 3] });
      expect([data.dtype, data.shape, data.chunks]).toEqual(['float64', [6, 5], [[4, 2], [2, 2, 1]]]);
      for (const [bi, rows] of [[0, [0, 4]], [1, [4, 6]]] as const) {
        for (const [bj, cols] of [[0, [0, 2]], [1, [2, 4]], [2, [4, 5]]] as const) {
          expect(values(await data.readBlock([bi, bj]))).toEqual(region2d(H5_DATA, 5, [...rows], [...cols]));
        }
      }
      const ints = arrayOf(await child(root, 'ints'));
      expect([ints.dtype, ints.chunks]).toEqual(['int64', [[7]]]);
      expect(values(await ints.readBlock([0]))).toEqual(Array.from(H5_INTS));
      const bytes = arrayOf(await child(root, 'bytes'));
      expect([bytes.dtype, values(await bytes.readBlock([0, 0]))]).toEqual(['uint8', [0, 1, 2, 253, 254, 255]]);
    });

    it('reads what h5py writes: big-endian data, bools, gzip chunks, scalars, empty datasets, soft links', async () => {
      // test/fixtures/files/make-h5py-types.py made this file; h5wasm cannot write these types itself.
      const root = (await open(adapters.hdf5Adapter, join(__dirname, '..', 'fixtures', 'files', 'h5py-types.h5'))) as ContainerNode;
      expect(root.metadata).toEqual({ title: 'h5py types', counts: [1, 2, 3], raw: 'bytes', ratio: 0.25 });
      // Dangling soft links, external links and datasets of types the tree cannot carry (half, table) are not listed.
      expect(await root.keys()).toEqual(['be_int', 'be_float', 'flags', 'gz', 'scalar', 'empty', 'g', 'alias']);
      const read = async (key: string): Promise<[string, readonly number[], (number | bigint)[]]> => {
        const node = arrayOf(await child(root, key));
        return [node.dtype, node.shape, values(await node.readBlock(node.chunks.map(() => 0)))];
      };
      expect(await read('be_int')).toEqual(['int32', [4], [1, -2, 300000, 2147483647]]);
      expect(await read('be_float')).toEqual(['float64', [2, 2], [1.5, -2.25, 1e300, 0]]);
      expect(await read('alias')).toEqual(['int32', [4], [1, -2, 300000, 2147483647]]);
      expect(await read('flags')).toEqual(['bool', [3], [1, 0, 1]]);
      expect(await read('scalar')).toEqual(['float64', [], [42]]);
      expect(await read('empty')).toEqual(['float64', [0, 3], []]);
      const gz = arrayOf(await child(root, 'gz'));
      expect(gz.chunks).toEqual([new Array(10).fill(10)]);
      expect(values(await gz.readBlock([7]))).toEqual([35, 35.5, 36, 36.5, 37, 37.5, 38, 38.5, 39, 39.5]);
      expect((await child(root, 'g')).metadata).toEqual({ NX_class: 'NXdata' });
      await expect(child(root, 'half')).rejects.toMatchObject({ status: 415, message: 'h5py-types.h5:/half: Element type float16 is not supported (supported: bool, int8-64, uint8-64, float32, float64)' });
      await expect(child(root, 'table')).rejects.toMatchObject({ status: 415, message: 'h5py-types.h5:/table: Compound datasets are not supported (supported: bool, integers, float32, float64)' });
    });

    it('serves a dataset larger than the WASM heap in blocks of at most 16 MiB, every value intact', async () => {
      const big = arrayOf(await child(await open(adapters.hdf5Adapter, join(dir, 'sample.h5')), 'big'));
      expect(big.chunks).toEqual([[2097, 903], [1000]]);
      const second = (await big.readBlock([1, 0])) as Float64Array;
      expect(second.length).toBe(903 * 1000);
      let mismatches = 0;
      for (let i = 0; i < second.length; i++) if (second[i] !== 2097 * 1000 + i) mismatches++;
      expect(mismatches).toBe(0);
    });

    it('refuses unsupported datasets, broken and vanished files with a clear AdapterError', async () => {
      const root = await open(adapters.hdf5Adapter, join(dir, 'sample.h5'));
      await expect(child(root, 'text')).rejects.toMatchObject({ name: 'AdapterError', status: 415, message: 'sample.h5:/text: String datasets are not supported (supported: bool, integers, float32, float64)' });
      await expect(open(adapters.hdf5Adapter, join(dir, 'truncated.h5'))).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/^truncated\.h5: Cannot be read: File has been truncated: truncated file: eof = 1000/) });
      await expect(open(adapters.hdf5Adapter, join(dir, 'junk.h5'))).rejects.toMatchObject({ status: 422, message: 'junk.h5: Cannot be read: Not an HDF5 file: file signature not found' });
      await expect(open(adapters.hdf5Adapter, join(dir, 'missing.h5'))).rejects.toMatchObject({ status: 404, message: 'missing.h5: The file no longer exists' });
      // A file removed after it was opened: the next read says so, and other files keep working.
      writeFileSync(join(dir, 'gone.h5'), readFileSync(join(dir, 'sample.h5')));
      const ints = arrayOf(await child(await open(adapters.hdf5Adapter, join(dir, 'gone.h5')), 'ints'));
      unlinkSync(join(dir, 'gone.h5'));
      await expect(ints.readBlock([0])).rejects.toMatchObject({ status: 404, message: 'gone.h5:/ints: The file no longer exists' });
      await expect(ints.readBlock([1])).rejects.toMatchObject({ status: 400, message: 'Block index 1 is out of range for dimension 0' });
      const bytes = arrayOf(await child(await open(adapters.hdf5Adapter, join(dir, 'sample.h5')), 'bytes'));
      expect(values(await bytes.readBlock([0, 0]))).toEqual([0, 1, 2, 253, 254, 255]);
    });
  });

  describe('the reader threads (HDF5 reading, image decoding)', () => {
    type Reader = { request(body: { op: 'node'; path: string; h5path: string }, name: string): Promise<unknown> };
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the class under test, from the same build the server runs
    const { ReaderThread } = require('../../dist/src/adapters/reader-thread') as { ReaderThread: new (options: { workerPath: string; label: string; timeoutMs?: number }) => Reader };
    const workerPath = join(__dirname, '..', 'fixtures', 'workers', 'misbehaving-reader.js');
    const label = 'HDF5 reader';
    const ask = (reader: Reader, path: string): Promise<unknown> => reader.request({ op: 'node', path, h5path: '/' }, `${path}.h5`);

    it('fails every request in flight when the thread exits or throws, and starts a fresh one for the next', async () => {
      const reader = new ReaderThread({ workerPath, label });
      const crashed = [ask(reader, 'exit'), ask(reader, 'ok')];
      await expect(crashed[0]).rejects.toMatchObject({ name: 'AdapterError', status: 500, message: 'exit.h5: The HDF5 reader stopped (exit code 3) while reading this file; it restarts for the next request' });
      await expect(crashed[1]).rejects.toMatchObject({ status: 500 });
      await expect(ask(reader, 'ok')).resolves.toMatchObject({ ok: true });
      await expect(ask(reader, 'throw')).rejects.toMatchObject({ status: 500, message: 'throw.h5: The HDF5 reader failed (reader blew up)' });
      await expect(ask(reader, 'ok')).resolves.toMatchObject({ ok: true });
    });

    it('replaces a thread stuck in a read', async () => {
      const reader = new ReaderThread({ workerPath, label, timeoutMs: 300 });
      await expect(ask(reader, 'hang')).rejects.toMatchObject({ status: 500, message: 'hang.h5: Reading took longer than 0.3 s; the HDF5 reader was restarted' });
      await expect(ask(reader, 'ok')).resolves.toMatchObject({ ok: true });
    });
  });

  describe('Zarr', () => {
    it('serves a v3 store: groups, arrays chunked as stored (edge chunks cropped), attributes, fill values, bool, gzip', async () => {
      const root = (await open(adapters.zarrAdapter, join(dir, 'sample.zarr'))) as ContainerNode;
      expect([root.family, root.metadata, await root.keys()]).toEqual(['container', { title: 'zarr sample' }, ['empty', 'flags', 'grp', 'gz']]);
      expect((await child(root, 'grp')).metadata).toEqual({ level: 1 });
      const x = arrayOf(await child(root, 'grp', 'x'));
      expect([x.dtype, x.shape, x.chunks, x.metadata]).toEqual(['int32', [5, 4], [[2, 2, 1], [3, 1]], { units: 'm' }]);
      for (const [bi, rows] of [[0, [0, 2]], [1, [2, 4]], [2, [4, 5]]] as const) {
        for (const [bj, cols] of [[0, [0, 3]], [1, [3, 4]]] as const) {
          expect(values(await x.readBlock([bi, bj]))).toEqual(region2d(ZARR_X, 4, [...rows], [...cols]));
        }
      }
      const flags = arrayOf(await child(root, 'flags'));
      expect([flags.dtype, values(await flags.readBlock([0]))]).toEqual(['bool', [1, 0, 1]]);
      const empty = arrayOf(await child(root, 'empty'));
      expect(values(await empty.readBlock([1]))).toEqual([1.5, 1.5]);
      const gz = arrayOf(await child(root, 'gz'));
      expect([gz.dtype, values(await gz.readBlock([0]))]).toEqual(['uint16', [1, 256, 65535]]);
    });

    it('serves a v2 store with big-endian and zlib-compressed chunks, and refuses a folder that is not a store', async () => {
      const root = (await open(adapters.zarrAdapter, join(dir, 'v2.zarr'))) as ContainerNode;
      expect([root.metadata, await root.keys()]).toEqual([{ written_by: 'hand' }, ['be', 'corrupt', 'zlib']]);
      const corrupt = arrayOf(await child(root, 'corrupt'));
      await expect(corrupt.readBlock([0])).rejects.toMatchObject({ name: 'AdapterError', status: 422, message: expect.stringMatching(/^v2\.zarr\/corrupt: Cannot be read: /) });
      const zlib = arrayOf(await child(root, 'zlib'));
      expect([zlib.dtype, zlib.shape, values(await zlib.readBlock([0, 0]))]).toEqual(['float64', [2, 3], [0.5, 1, 1.5, 2, 2.5, 3]]);
      const be = arrayOf(await child(root, 'be'));
      expect([be.dtype, be.chunks]).toEqual(['int16', [[2, 1]]]);
      expect([values(await be.readBlock([0])), values(await be.readBlock([1]))]).toEqual([[1, 256], [-2]]);
      await expect(open(adapters.zarrAdapter, dir)).rejects.toMatchObject({ status: 415 });
    });
  });

  describe('TIFF', () => {
    it('serves gray, RGB and float pages (stored big-endian) with their tags as metadata', async () => {
      const gray = arrayOf(await open(adapters.tiffAdapter, join(dir, 'gray.tif')));
      expect([gray.dtype, gray.shape, gray.chunks]).toEqual(['uint16', [3, 5], [[3], [5]]]);
      expect(gray.metadata).toMatchObject({ ImageWidth: 5, ImageLength: 3, BitsPerSample: [16] });
      expect(values(await gray.readBlock([0, 0]))).toEqual(Array.from(TIFF_GRAY));
      const rgb = arrayOf(await open(adapters.tiffAdapter, join(dir, 'rgb.tif')));
      expect([rgb.dtype, rgb.shape, values(await rgb.readBlock([0, 0, 0]))]).toEqual(['uint8', [3, 5, 3], Array.from(TIFF_RGB)]);
      const float = arrayOf(await open(adapters.tiffAdapter, join(dir, 'float.tif')));
      expect([float.dtype, values(await float.readBlock([0, 0]))]).toEqual(['float32', Array.from(TIFF_FLOAT)]);
      await expect(open(adapters.tiffAdapter, join(dir, 'junk.h5'))).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/^junk\.h5: Cannot be read/) });
    });

    it('reads multi-page, zlib-compressed and tiled TIFFs as tifffile reads them', async () => {
      // test/fixtures/files/make-images.py wrote these with tifffile and saved tifffile's reading of them.
      const fixtures = join(__dirname, '..', 'fixtures', 'files');
      const expected = JSON.parse(readFileSync(join(fixtures, 'images-expected.json'), 'utf8')) as Record<string, unknown[]>;
      const pages = arrayOf(await open(adapters.tiffAdapter, join(fixtures, 'multipage.tif')));
      expect([pages.dtype, pages.shape, pages.chunks]).toEqual(['uint16', [3, 4, 5], [[1, 1, 1], [4], [5]]]);
      for (let p = 0; p < 3; p++) expect(values(await pages.readBlock([p, 0, 0]))).toEqual((expected['multipage.tif'][p] as unknown[]).flat(Infinity as 1));
      const deflate = arrayOf(await open(adapters.tiffAdapter, join(fixtures, 'deflate.tif')));
      expect([deflate.dtype, deflate.shape, values(await deflate.readBlock([0, 0, 0]))]).toEqual(['uint8', [6, 7, 3], expected['deflate.tif'].flat(Infinity as 1)]);
      const tiled = arrayOf(await open(adapters.tiffAdapter, join(fixtures, 'tiled.tif')));
      expect([tiled.dtype, tiled.shape, values(await tiled.readBlock([0, 0]))]).toEqual(['float32', [40, 40], expected['tiled.tif'].flat(Infinity as 1)]);
    });

    it('stacks a numbered sequence along a new first axis, one block per file', async () => {
      const paths = [1, 2, 3].map((i) => join(dir, `frame_00${i}.tif`));
      const stack = arrayOf(await open(adapters.tiffSequenceAdapter, ...paths));
      expect([stack.dtype, stack.shape, stack.chunks]).toEqual(['uint16', [3, 2, 4], [[1, 1, 1], [2], [4]]]);
      for (let f = 0; f < 3; f++) expect(values(await stack.readBlock([f, 0, 0]))).toEqual(Array.from(FRAMES[f]));
    });
  });

  describe('PNG and JPEG', () => {
    it('serves PNG as height × width (one channel) or height × width × channels, 16-bit kept', async () => {
      const gray = arrayOf(await open(adapters.pngAdapter, join(dir, 'gray16.png')));
      expect([gray.dtype, gray.shape, gray.chunks, values(await gray.readBlock([0, 0]))]).toEqual(['uint16', [2, 3], [[2], [3]], Array.from(PNG16)]);
      const rgba = arrayOf(await open(adapters.pngAdapter, join(dir, 'rgba.png')));
      expect([rgba.dtype, rgba.shape, values(await rgba.readBlock([0, 0, 0]))]).toEqual(['uint8', [2, 3, 4], Array.from(PNG_RGBA)]);
      await expect(open(adapters.pngAdapter, join(dir, 'photo.jpg'))).rejects.toMatchObject({ status: 422, message: 'photo.jpg: Cannot be read: not a PNG file' });
    });

    it('serves a grayscale JPEG as height × width (within 1 of Pillow) and a palette PNG expanded to RGBA (as Pillow)', async () => {
      const fixtures = join(__dirname, '..', 'fixtures', 'files');
      const expected = JSON.parse(readFileSync(join(fixtures, 'images-expected.json'), 'utf8')) as Record<string, unknown[]>;
      const gray = arrayOf(await open(adapters.jpegAdapter, join(fixtures, 'gray.jpg')));
      expect([gray.dtype, gray.shape]).toEqual(['uint8', [6, 8]]);
      const pil = expected['gray.jpg'].flat(Infinity as 1) as number[];
      values(await gray.readBlock([0, 0])).forEach((v, i) => expect(Math.abs(Number(v) - pil[i])).toBeLessThanOrEqual(1));
      const palette = arrayOf(await open(adapters.pngAdapter, join(fixtures, 'palette.png')));
      expect([palette.dtype, palette.shape, values(await palette.readBlock([0, 0, 0]))]).toEqual(['uint8', [2, 3, 4], expected['palette.png'].flat(Infinity as 1)]);
    });

    it('serves JPEG as height × width × 3, the decoder’s values exactly (JPEG is lossy: within 2 of the source)', async () => {
      const photo = arrayOf(await open(adapters.jpegAdapter, join(dir, 'photo.jpg')));
      expect([photo.dtype, photo.shape]).toEqual(['uint8', [3, 4, 3]]);
      const decoded = values(await photo.readBlock([0, 0, 0]));
      expect(decoded).toEqual(Array.from(jpeg.decode(readFileSync(join(dir, 'photo.jpg')), { useTArray: true, formatAsRGBA: false }).data));
      decoded.forEach((v, i) => expect(Math.abs(Number(v) - [200, 100, 50][i % 3])).toBeLessThanOrEqual(2));
      writeFileSync(join(dir, 'cut.jpg'), readFileSync(join(dir, 'photo.jpg')).subarray(0, 300));
      const cut = arrayOf(await open(adapters.jpegAdapter, join(dir, 'cut.jpg')));
      await expect(cut.readBlock([0, 0, 0])).rejects.toMatchObject({ name: 'AdapterError', status: 422, message: expect.stringMatching(/^cut\.jpg: Cannot be read/) });
    });
  });

  describe('NPY', () => {
    it('serves little- and big-endian, bool and scalar arrays', async () => {
      const float = arrayOf(await open(adapters.npyAdapter, join(dir, 'float.npy')));
      expect([float.dtype, float.shape, float.chunks, values(await float.readBlock([0, 0]))]).toEqual(['float32', [3, 4], [[3], [4]], Array.from(NPY_F4)]);
      const be = arrayOf(await open(adapters.npyAdapter, join(dir, 'be.npy')));
      expect([be.dtype, values(await be.readBlock([0]))]).toEqual(['int32', NPY_BE]);
      const bool = arrayOf(await open(adapters.npyAdapter, join(dir, 'bool.npy')));
      expect([bool.dtype, values(await bool.readBlock([0]))]).toEqual(['bool', [1, 0, 0, 1]]);
      const scalar = arrayOf(await open(adapters.npyAdapter, join(dir, 'scalar.npy')));
      expect([scalar.shape, scalar.chunks, values(await scalar.readBlock([]))]).toEqual([[], [], [2.5]]);
    });

    it('stacks numbered NPY and JPEG files along a new first axis, and names a file that does not match the first', async () => {
      const npys = arrayOf(await open(adapters.npySequenceAdapter, join(dir, 'float.npy'), join(dir, 'float.npy')));
      expect([npys.dtype, npys.shape, npys.chunks]).toEqual(['float32', [2, 3, 4], [[1, 1], [3], [4]]]);
      expect(values(await npys.readBlock([1, 0, 0]))).toEqual(values(NPY_F4));
      const mixed = arrayOf(await open(adapters.npySequenceAdapter, join(dir, 'float.npy'), join(dir, 'be.npy')));
      await expect(mixed.readBlock([1, 0, 0])).rejects.toMatchObject({ status: 422, message: 'be.npy: int32 [5] differs from the first file of the sequence (float32 [3,4])' });
      const photos = arrayOf(await open(adapters.jpegSequenceAdapter, join(dir, 'photo.jpg'), join(dir, 'photo.jpg')));
      expect([photos.shape, photos.chunks]).toEqual([[2, 3, 4, 3], [[1, 1], [3], [4], [3]]]);
      expect(values(await photos.readBlock([1, 0, 0, 0]))).toEqual(values(await photos.readBlock([0, 0, 0, 0])));
    });

    it('refuses unsupported and truncated files', async () => {
      await expect(open(adapters.npyAdapter, join(dir, 'text.npy'))).rejects.toMatchObject({ status: 415, message: 'text.npy: Element type "<U5" is not supported (structured, string and datetime arrays are not)' });
      await expect(open(adapters.npyAdapter, join(dir, 'fortran.npy'))).rejects.toMatchObject({ status: 415, message: expect.stringMatching(/Fortran-ordered/) });
      await expect(open(adapters.npyAdapter, join(dir, 'short.npy'))).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/^short\.npy: Truncated \(\d+ bytes, the header describes \d+\)$/) });
      await expect(open(adapters.npyAdapter, join(dir, 'junk.h5'))).rejects.toMatchObject({ status: 422, message: 'junk.h5: Cannot be read: not an NPY file (bad magic)' });
    });
  });
});

describe('array files over HTTP (GET /api/v1/array/block), read by the server process', () => {
  let server: RunningServer;

  beforeAll(async () => {
    const entries = {
      h5: { mimetype: 'application/x-hdf5', paths: ['sample.h5'] },
      broken: { mimetype: 'application/x-hdf5', paths: ['truncated.h5'] },
      gray: { mimetype: 'image/tiff', paths: ['gray.tif'] },
      frame_: { mimetype: 'multipart/related;type=image/tiff', paths: ['frame_001.tif', 'frame_002.tif', 'frame_003.tif'] },
      zarr: { mimetype: 'application/x-zarr', paths: ['sample.zarr'] },
      be: { mimetype: 'application/x-npy', paths: ['be.npy'] },
      gray16: { mimetype: 'image/png', paths: ['gray16.png'] },
      photo: { mimetype: 'image/jpeg', paths: ['photo.jpg'] },
      changing: { mimetype: 'application/x-hdf5', paths: ['changing.h5'] },
      rewritten: { mimetype: 'application/x-hdf5', paths: ['rewritten.h5'] },
      zchanging: { mimetype: 'application/x-zarr', paths: ['changing.zarr'] },
    };
    await writeChanging([1, 2, 3, 4]);
    await writeRewritten(0, false);
    mkdirSync(join(dir, 'changing.zarr'));
    writeFileSync(join(dir, 'changing.zarr', '.zarray'), JSON.stringify({ zarr_format: 2, shape: [4], chunks: [4], dtype: '<f8', compressor: null, fill_value: 0, order: 'C', filters: null }));
    writeFileSync(join(dir, 'changing.zarr', '0'), new Uint8Array(Float64Array.from([1, 2, 3, 4]).buffer));
    const config = join(dir, 'config.yml');
    const tree = join(__dirname, '..', 'fixtures', 'trees', 'array-files.js');
    writeFileSync(config, JSON.stringify({ trees: [{ path: '/', tree: `${tree}:tree`, args: { dir, entries } }] }));
    server = await startTiled(['serve', 'config', config, '--api-key', KEY]);
  });
  afterAll(async () => server?.stop());

  /** An HDF5 file rewritten in place by the ETag test: same name, size and layout, other values. */
  async function writeChanging(values: number[]): Promise<void> {
    const h5 = await dynamicImport<typeof import('h5wasm')>('h5wasm/node');
    await h5.ready;
    const file = new h5.File(join(dir, 'changing.h5'), 'w');
    file.create_dataset({ name: 'x', data: Float64Array.from(values), shape: [values.length], dtype: '<d' });
    file.close();
  }

  /** Frames of 64 × 256 float64 (128 KiB): large enough that the server reads them back from where they are stored. */
  const FRAME = 64 * 256;
  const REWRITTEN: Record<string, { shape: number[]; chunks?: number[]; gzip?: boolean; block: string; first: number }> = {
    chunked: { shape: [3, 64, 256], chunks: [1, 64, 256], block: '1,0,0', first: FRAME },
    contiguous: { shape: [64, 256], block: '0,0', first: 0 },
    gzip: { shape: [2, 64, 256], chunks: [1, 64, 256], gzip: true, block: '1,0,0', first: FRAME },
  };

  /**
   * rewritten.h5, written in place over any earlier one: dataset k holds value `seed + k * 1e6 + i` at flat
   * index i. `shifted` writes another dataset first, so every dataset's bytes move to other offsets.
   */
  async function writeRewritten(seed: number, shifted: boolean): Promise<void> {
    const h5 = await dynamicImport<typeof import('h5wasm')>('h5wasm/node');
    await h5.ready;
    const file = new h5.File(join(dir, 'rewritten.h5'), 'w');
    if (shifted) file.create_dataset({ name: 'pad', data: new Float64Array(5000), shape: [5000], dtype: '<d' });
    Object.entries(REWRITTEN).forEach(([name, { shape, chunks, gzip }], k) => {
      const data = seq((n) => new Float64Array(n), shape.reduce((a, b) => a * b, 1), (i) => seed + k * 1e6 + i);
      file.create_dataset({ name, data, shape, dtype: '<d', chunks, ...(gzip ? { compression: 'gzip' as const } : {}) });
    });
    file.close();
  }

  async function block(path: string, index: string): Promise<Buffer> {
    const response = await fetch(`${server.api}/array/block/${path}?block=${index}`, { headers: { ...AUTH, accept: 'application/octet-stream' } });
    expect(response.status).toBe(200);
    return Buffer.from(await response.arrayBuffer());
  }

  it('describes an HDF5 dataset with its stored chunks and attributes', async () => {
    const response = await fetch(`${server.api}/metadata/h5/entry/data`, { headers: AUTH });
    expect(response.status).toBe(200);
    const { data } = (await response.json()) as { data: { attributes: { metadata: unknown; structure: Record<string, unknown> } } };
    expect(data.attributes.metadata).toEqual({ units: 'counts', scale: [1, 2, 3] });
    expect(data.attributes.structure).toMatchObject({ shape: [6, 5], chunks: [[4, 2], [2, 2, 1]], data_type: { kind: 'f', itemsize: 8, endianness: 'little' } });
  });

  it('reads HDF5, TIFF, TIFF-sequence, Zarr and NPY blocks byte for byte', async () => {
    expect(Array.from(new Float64Array(new Uint8Array(await block('h5/entry/data', '1,1')).buffer))).toEqual(region2d(H5_DATA, 5, [4, 6], [2, 4]));
    expect(Array.from(new BigInt64Array(new Uint8Array(await block('h5/ints', '0')).buffer))).toEqual(Array.from(H5_INTS));
    expect(Array.from(new Uint16Array(new Uint8Array(await block('gray', '0,0')).buffer))).toEqual(Array.from(TIFF_GRAY));
    expect(Array.from(new Uint16Array(new Uint8Array(await block('frame_', '2,0,0')).buffer))).toEqual(Array.from(FRAMES[2]));
    expect(Array.from(new Int32Array(new Uint8Array(await block('zarr/grp/x', '2,0')).buffer))).toEqual(region2d(ZARR_X, 4, [4, 5], [0, 3]));
    expect(Array.from(new Int32Array(new Uint8Array(await block('be', '0')).buffer))).toEqual(NPY_BE);
  });

  it('decodes PNG and JPEG blocks in the server’s image thread', async () => {
    expect(Array.from(new Uint16Array(new Uint8Array(await block('gray16', '0,0')).buffer))).toEqual(Array.from(PNG16));
    const photo = await block('photo', '0,0,0');
    expect(Array.from(photo)).toEqual(Array.from(jpeg.decode(readFileSync(join(dir, 'photo.jpg')), { useTArray: true, formatAsRGBA: false }).data));
  });

  it('sends a block whole however often it is asked for: at once, from the block cache, sliced, gzipped or not, after a 304', async () => {
    // The server frees a block read for one request once it is sent (common/http/body-memory.ts): every
    // other holder of it (concurrent requests, the block cache) must still get all of it.
    const rows = async (response: Promise<Response> | Buffer, first: number, count: number): Promise<void> => {
      const body = Buffer.isBuffer(response) ? response : Buffer.from(await (await response).arrayBuffer());
      const values = new Float64Array(new Uint8Array(body).buffer);
      expect(values.length).toBe(count * H5_BIG.cols);
      let mismatches = 0;
      for (let i = 0; i < values.length; i++) if (values[i] !== first * H5_BIG.cols + i) mismatches++;
      expect(mismatches).toBe(0);
    };
    const get = (query: string, headers: Record<string, string> = {}): Promise<Response> =>
      fetch(`${server.api}/array/block/h5/big?${query}`, { headers: { ...AUTH, accept: 'application/octet-stream', ...headers } });
    // Block 1 (7.2 MB) fits the block cache; block 0 (16.8 MB) does not.
    const [a, b, c, d] = await Promise.all([block('h5/big', '1,0'), block('h5/big', '1,0'), block('h5/big', '0,0'), block('h5/big', '0,0')]);
    await rows(a, 2097, 903);
    await rows(b, 2097, 903);
    await rows(c, 0, 2097);
    await rows(d, 0, 2097);
    const identity = { 'accept-encoding': 'identity' };
    const cached = await get('block=1,0', identity);
    expect(cached.headers.get('content-encoding')).toBeNull();
    await rows(Promise.resolve(cached), 2097, 903);
    const etag = cached.headers.get('etag')!;
    expect((await get('block=1,0', { 'if-none-match': etag })).status).toBe(304);
    await rows(get('block=1,0', { 'accept-encoding': 'gzip' }), 2097, 903);
    await rows(get('block=1,0&slice=1:3', identity), 2098, 2);
    await rows(get('block=0,0&slice=2096:', identity), 2096, 1);
    await rows(get('block=0,0', identity), 0, 2097);
    await rows(get('block=1,0', identity), 2097, 903);
    expect(Array.from(new Int32Array(new Uint8Array(await block('be', '0')).buffer))).toEqual(NPY_BE);
    expect(Array.from(new Int32Array(new Uint8Array(await block('be', '0')).buffer))).toEqual(NPY_BE);
  });

  it('gives a block a new ETag when its file changes on disk, and answers 304 while it does not', async () => {
    const get = (etag?: string): Promise<Response> =>
      fetch(`${server.api}/array/block/changing/x?block=0`, { headers: { ...AUTH, accept: 'application/octet-stream', ...(etag ? { 'if-none-match': etag } : {}) } });
    const first = await get();
    const etag = first.headers.get('etag')!;
    expect(Array.from(new Float64Array(await first.arrayBuffer()))).toEqual([1, 2, 3, 4]);
    expect((await get(etag)).status).toBe(304);
    await writeChanging([5, 6, 7, 8]);
    const changed = await get(etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(Array.from(new Float64Array(await changed.arrayBuffer()))).toEqual([5, 6, 7, 8]);
  });

  it('reads chunked, contiguous and gzip HDF5 blocks exactly, before and after the file is rewritten in place with its data moved', async () => {
    // Each slice is another request the server has not answered yet, so each reaches the file (no recent block).
    const read = async (name: string, slice: string): Promise<{ etag: string; values: number[] }> => {
      const response = await fetch(`${server.api}/array/block/rewritten/${name}?block=${REWRITTEN[name].block}&slice=${slice}`, {
        headers: { ...AUTH, accept: 'application/octet-stream' },
      });
      expect(response.status).toBe(200);
      return { etag: response.headers.get('etag')!, values: Array.from(new Float64Array(await response.arrayBuffer())) };
    };
    const expected = (name: string, seed: number): number[] => {
      const k = Object.keys(REWRITTEN).indexOf(name);
      return Array.from({ length: FRAME }, (_, i) => seed + k * 1e6 + REWRITTEN[name].first + i);
    };
    const before = new Map<string, string>();
    for (const name of Object.keys(REWRITTEN)) {
      const first = await read(name, '');
      expect(first.values).toEqual(expected(name, 0));
      expect((await read(name, ':')).values).toEqual(expected(name, 0));
      before.set(name, first.etag);
    }
    await writeRewritten(7, true);
    for (const name of Object.keys(REWRITTEN)) {
      const first = await read(name, '0:');
      expect(first.etag).not.toBe(before.get(name));
      expect(first.values).toEqual(expected(name, 7));
      expect((await read(name, '::1')).values).toEqual(expected(name, 7));
    }
  });

  it('gives a Zarr block a new ETag when its chunk file is rewritten, and answers 304 while it is not', async () => {
    const get = (etag?: string): Promise<Response> =>
      fetch(`${server.api}/array/block/zchanging?block=0`, { headers: { ...AUTH, accept: 'application/octet-stream', ...(etag ? { 'if-none-match': etag } : {}) } });
    const first = await get();
    const etag = first.headers.get('etag')!;
    expect(Array.from(new Float64Array(await first.arrayBuffer()))).toEqual([1, 2, 3, 4]);
    expect((await get(etag)).status).toBe(304);
    writeFileSync(join(dir, 'changing.zarr', '0'), new Uint8Array(Float64Array.from([5, 6, 7, 8]).buffer));
    const changed = await get(etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(Array.from(new Float64Array(await changed.arrayBuffer()))).toEqual([5, 6, 7, 8]);
  });

  it('answers a broken file with an error for that node only; the server and the other files keep working', async () => {
    const response = await fetch(`${server.api}/metadata/broken`, { headers: AUTH });
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(await response.json()).toEqual({ detail: expect.any(String) });
    expect(Array.from(new Uint16Array(new Uint8Array(await block('gray', '0,0')).buffer))).toEqual(Array.from(TIFF_GRAY));
    // A file with a dataset the tree cannot carry (h5/text, a string) still lists and searches.
    expect((await fetch(`${server.api}/metadata/h5`, { headers: AUTH })).status).toBe(200);
    const search = (await (await fetch(`${server.api}/search/h5`, { headers: AUTH })).json()) as { data: { id: string }[] };
    expect(search.data.map((d) => d.id)).toEqual(['big', 'bytes', 'entry', 'ints']);
  });
});

describe('npm run bench:hdf5', () => {
  it('reads blocks through the adapter and bare, and reports both medians, their ratio and the peak memory', async () => {
    const bench = join(__dirname, '..', '..', 'dist', 'bench', 'hdf5-block.js');
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [bench], { env: { ...process.env, BENCH_HDF5_ROUNDS: '2' } }, (error, out) => (error ? reject(error) : resolve(out))),
    );
    expect(stdout).toMatch(/^HDF5 block read, 8 MiB float64 block of a 64 MiB chunked dataset, 2 rounds — Node\.js v\d+/);
    expect(stdout).toMatch(/\| hdf5 adapter \(h5wasm worker\) \| +[\d.]+ \| +\d+ MB\/s \|/);
    expect(stdout).toMatch(/\| bare fs read of the same bytes \| +[\d.]+ \| +\d+ MB\/s \|/);
    expect(stdout).toMatch(/ratio \(bare time \/ adapter time\): \d+ %/);
    expect(stdout).toMatch(/peak resident memory of the reading process .*: \d+ MiB/);
  });
});
