import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Bool, Float64, Int32, Int64, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { Container, fromUri } from '../../src/client';
import { SuitePython } from '../helpers/python';
import { RunningServer, startTiled, TILED_BIN } from '../helpers/tiled-process';

/**
 * What tiled-ts writes and serves, opened by the Python ecosystem's own readers (h5py, zarr-python 2 over
 * HTTP, tifffile, pandas with openpyxl), value for value. Python writes the sample files (test/python/
 * make_files.py) and says what it reads from them; the server registers them next to data written
 * through the API; one run of test/python/read_back.py then reads everything back through the server.
 */
const KEY = 'c'.repeat(64);
const python = new SuitePython();

interface DescribedArray {
  dtype: string;
  shape: number[];
  values: unknown[];
  chunks?: number[];
  attrs?: Record<string, unknown>;
}
interface Attribute {
  type: string;
  value: unknown;
}
type Hdf5Tree = Record<string, { kind: 'group' | 'dataset'; attrs: Record<string, Attribute> } & Partial<DescribedArray>>;
type Frame = Record<string, { dtype: string; values: unknown[] }>;
interface Written {
  scan: Hdf5Tree;
  frames: { keys: string[] } & Record<string, DescribedArray>;
  image: DescribedArray;
  vector: DescribedArray;
  runs: Frame;
  book: Record<string, Frame>;
}
interface ReadBack {
  versions: Record<string, string>;
  zarr_array: Record<string, DescribedArray>;
  zarr_group: Record<string, { keys: string[]; attrs: Record<string, unknown> }>;
  hdf5: Record<string, Hdf5Tree>;
  tiff: Record<string, DescribedArray>;
  npy: Record<string, DescribedArray>;
  table: Record<string, { csv: Frame; xlsx: Frame }>;
}

// Written through the API into the catalog (Zarr v3 and Parquet on disk).
const GRID = Int32Array.from({ length: 20 }, (_, i) => i * 3 - 7);
const IMAGE = Float64Array.from({ length: 12 }, (_, i) => i / 8 - 0.5);
const BYTES = Uint8Array.from({ length: 6 }, (_, i) => i * 40);
const METADATA = { title: 'run 7', temperature: 295.5, count: 12, big: 2 ** 40, flag: true, tags: ['a', 'bc'], levels: [1, 2.5], ids: [3, 4], nested: { a: 1 } };
const RUNS = { id: [1, 2, 3], big: [10, -20, 2 ** 40], value: [0.5, -1.25, 3], name: ['x', 'y z', 'ü'], ok: [true, false, true] };

const described = (dtype: string, shape: number[], values: ArrayLike<number>, extra: Partial<DescribedArray> = {}): DescribedArray => ({ dtype, shape, values: Array.from(values), ...extra });

describe('the Python ecosystem reads what tiled-ts serves and writes', () => {
  let dir: string;
  let server: RunningServer;
  let files: Written;
  let read: ReadBack;

  beforeAll(async () => {
    if (python.it === it.skip) return;
    dir = mkdtempSync(join(tmpdir(), 'tiled-python-readers-'));
    const data = join(dir, 'files');
    files = await python.json<Written>('make_files.py', [data]);
    server = await startTiled(['serve', 'catalog', join(dir, 'catalog.db'), '--init', '-w', join(dir, 'written'), '-r', data, '--api-key', KEY]);
    await promisify(execFile)(process.execPath, [TILED_BIN, 'register', server.url, data, '--api-key', KEY, '--prefix', '/files']);

    const client = (await fromUri(server.url, { apiKey: KEY })) as Container;
    const run = await client.createContainer({ key: 'written', metadata: METADATA });
    await run.writeArray(GRID, { key: 'grid', shape: [4, 5], chunks: [[3, 1], [2, 2, 1]], metadata: { units: 'mm', attributes: { zarr: 'attrs' } } });
    await run.writeArray(IMAGE, { key: 'image', shape: [3, 4], dims: ['y', 'x'] });
    await run.writeArray(BYTES, { key: 'bytes', shape: [6] });
    const table = new Table({
      id: vectorFromArray(RUNS.id, new Int32()),
      big: vectorFromArray(RUNS.big.map(BigInt), new Int64()),
      value: vectorFromArray(RUNS.value, new Float64()),
      name: vectorFromArray(RUNS.name, new Utf8()),
      ok: vectorFromArray(RUNS.ok, new Bool()),
    });
    await run.writeTable(table, { key: 'runs', metadata: { source: 'written' } });

    read = await python.json<ReadBack>('read_back.py', [], {
      url: server.url,
      key: KEY,
      read: {
        zarr_array: ['files/frames/stack', 'files/frames/ramp', 'files/scan/counts', 'files/scan/detector/image', 'files/scan/big_endian', 'files/scan/flags', 'files/image', 'files/vector', 'written/grid', 'written/image', 'written/bytes', 'written/runs/value'],
        zarr_group: ['files/frames', 'files/scan', 'written'],
        hdf5: ['files/scan', 'files', 'written'],
        tiff: ['files/image', 'files/scan/counts', 'written/grid', 'written/image'],
        npy: ['files/vector', 'written/grid'],
        table: ['files/runs', 'files/book/scans', 'files/book/notes', 'written/runs'],
      },
    });
  }, 120000);
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const dataset = (d: DescribedArray): DescribedArray => ({ dtype: d.dtype, shape: d.shape, values: d.values });

  python.it('h5py reads the HDF5 export of a served HDF5 file: the tree, values and typed attributes h5py wrote', () => {
    const expected = structuredClone(files.scan);
    // h5py's booleans are an HDF5 enum, which h5wasm cannot write: the export holds them as uint8 0/1.
    expected.flags = { ...expected.flags, dtype: 'uint8', values: expected.flags.values!.map(Number) };
    expect(read.hdf5['files/scan']).toEqual(expected);
  });

  python.it('h5py reads the HDF5 export of the whole served folder: every adapter\'s arrays and tables, as their own libraries read the files', () => {
    const exported = read.hdf5.files;
    const plainDataset = (d: DescribedArray): object => ({ kind: 'dataset', attrs: {}, ...dataset(d) });
    // Table columns are datasets; text is UTF-8 strings and booleans uint8, as in every HDF5 export.
    const tableColumns = (prefix: string, frame: Frame): Hdf5Tree =>
      Object.fromEntries(
        Object.entries(frame).map(([name, { dtype, values }]) => [
          `${prefix}/${name}`,
          { kind: 'dataset', attrs: {}, dtype: dtype === 'string' ? 'str:utf-8' : dtype === 'bool' ? 'uint8' : dtype, shape: [values.length], values: dtype === 'bool' ? values.map(Number) : values },
        ]),
      );
    const scan = Object.fromEntries(Object.entries(read.hdf5['files/scan']).map(([path, item]) => [path === '/' ? 'scan' : `scan/${path}`, item]));
    expect(exported).toEqual({
      '/': { kind: 'group', attrs: {} },
      ...scan,
      frames: { kind: 'group', attrs: { instrument: { type: 'str', value: 'zarr-python' } } },
      'frames/stack': plainDataset(files.frames.stack),
      'frames/ramp': plainDataset(files.frames.ramp),
      // The TIFF's tags are its metadata: compared by dataset only.
      image: { ...plainDataset(files.image), attrs: exported.image?.attrs },
      vector: plainDataset(files.vector),
      runs: { kind: 'group', attrs: {} },
      ...tableColumns('runs', files.runs),
      book: { kind: 'group', attrs: {} },
      ...Object.assign({}, ...Object.entries(files.book).map(([sheet, frame]) => ({ [`book/${sheet}`]: { kind: 'group', attrs: {} }, ...tableColumns(`book/${sheet}`, frame) }))),
    });
  });

  python.it('h5py reads the HDF5 export of a written container: arrays, the table as a group of columns, metadata as typed attributes', () => {
    const attribute = (type: string, value: unknown): Attribute => ({ type, value });
    const columns = (type: string, values: unknown[]): DescribedArray & { kind: string; attrs: object } => ({ kind: 'dataset', attrs: {}, dtype: type, shape: [values.length], values });
    expect(read.hdf5.written).toEqual({
      '/': {
        kind: 'group',
        attrs: {
          // As h5py types the same values when Tiled writes them: Python ints int64, floats float64.
          title: attribute('str', 'run 7'),
          temperature: attribute('float64', 295.5),
          count: attribute('int64', 12),
          big: attribute('int64', 2 ** 40),
          flag: attribute('uint8', 1),
          tags: attribute('str[]', ['a', 'bc']),
          levels: attribute('float64[]', [1, 2.5]),
          ids: attribute('int64[]', [3, 4]),
          nested: attribute('str', '{"a":1}'),
        },
      },
      grid: { kind: 'dataset', attrs: { units: attribute('str', 'mm'), attributes: attribute('str', '{"zarr":"attrs"}') }, ...described('int32', [4, 5], GRID) },
      image: { kind: 'dataset', attrs: {}, ...described('float64', [3, 4], IMAGE) },
      bytes: { kind: 'dataset', attrs: {}, ...described('uint8', [6], BYTES) },
      runs: { kind: 'group', attrs: { source: attribute('str', 'written') } },
      'runs/id': columns('int32', RUNS.id),
      'runs/big': columns('int64', RUNS.big),
      'runs/value': columns('float64', RUNS.value),
      'runs/name': columns('str:utf-8', RUNS.name),
      'runs/ok': columns('uint8', RUNS.ok.map(Number)),
    });
  });

  python.it('zarr-python 2 reads through /zarr/v2 a Zarr v2 store, HDF5 datasets, a TIFF, an NPY file and written arrays, chunked as stored', () => {
    const { counts, 'detector/image': detectorImage, big_endian: bigEndian, flags } = files.scan;
    const noAttrs = { attrs: {} };
    expect(read.zarr_array).toEqual({
      // `.zattrs` is the node's `metadata.attributes`, as Tiled serves it; file attributes are metadata keys.
      'files/frames/stack': { ...files.frames.stack, ...noAttrs },
      'files/frames/ramp': { ...files.frames.ramp, ...noAttrs },
      'files/scan/counts': { ...dataset(counts as DescribedArray), chunks: [3, 4], ...noAttrs },
      'files/scan/detector/image': { ...dataset(detectorImage as DescribedArray), chunks: [2, 5], ...noAttrs },
      'files/scan/big_endian': { ...dataset(bigEndian as DescribedArray), chunks: [10], ...noAttrs },
      'files/scan/flags': { ...dataset(flags as DescribedArray), chunks: [5], ...noAttrs },
      'files/image': { ...files.image, chunks: [5, 7], ...noAttrs },
      'files/vector': { ...files.vector, chunks: [5], ...noAttrs },
      'written/grid': described('int32', [4, 5], GRID, { chunks: [3, 2], attrs: { zarr: 'attrs' } }),
      'written/image': described('float64', [3, 4], IMAGE, { chunks: [3, 4], ...noAttrs }),
      'written/bytes': described('uint8', [6], BYTES, { chunks: [6], ...noAttrs }),
      'written/runs/value': described('float64', [3], RUNS.value, { chunks: [3], ...noAttrs }),
    });
    expect(read.zarr_group).toEqual({
      'files/frames': { keys: files.frames.keys, attrs: {} },
      'files/scan': { keys: ['big_endian', 'counts', 'detector', 'flags'], attrs: {} },
      written: { keys: ['bytes', 'grid', 'image', 'runs'], attrs: {} },
    });
  });

  python.it('tifffile reads the TIFF exports and numpy the NPY exports, in their own element types', () => {
    expect(read.tiff).toEqual({
      'files/image': files.image,
      'files/scan/counts': dataset(files.scan.counts as DescribedArray),
      'written/grid': described('int32', [4, 5], GRID),
      'written/image': described('float64', [3, 4], IMAGE),
    });
    expect(read.npy).toEqual({ 'files/vector': files.vector, 'written/grid': described('int32', [4, 5], GRID) });
  });

  python.it('pandas reads the CSV export, and with openpyxl the Excel export, of served and written tables', () => {
    const runs: Frame = {
      id: { dtype: 'int64', values: RUNS.id },
      big: { dtype: 'int64', values: RUNS.big },
      value: { dtype: 'float64', values: RUNS.value },
      name: { dtype: 'string', values: RUNS.name },
      ok: { dtype: 'bool', values: RUNS.ok },
    };
    expect(read.table).toEqual({
      'files/runs': { csv: files.runs, xlsx: files.runs },
      'files/book/scans': { csv: files.book.scans, xlsx: files.book.scans },
      'files/book/notes': { csv: files.book.notes, xlsx: files.book.notes },
      'written/runs': { csv: runs, xlsx: runs },
    });
  });
});
