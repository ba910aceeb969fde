import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PNG } from 'pngjs';
import * as UTIF from 'utif';
import ExcelJS from 'exceljs';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { esm } from '../helpers/esm';

/**
 * Every export format a Tiled client can ask for (`export()`, `?format=`, Accept), each decoded by an
 * independent reader and compared with the server's own /array/full and /table/full JSON.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'trees');
const KEY = 'e'.repeat(64);


interface H5Node {
  type?: string;
  attrs: Record<string, { value: unknown }>;
  keys?(): string[];
  shape?: number[];
  value?: unknown;
}
interface H5File extends H5Node {
  get(path: string): H5Node;
  close(): void;
}
interface H5Wasm {
  ready: Promise<unknown>;
  File: new (path: string, mode: string) => H5File;
}

describe('exports (tiled serve module, single-user)', () => {
  let server: RunningServer;
  let scratch: string;

  beforeAll(async () => {
    server = await startTiled(['serve', 'module', './exports-tree.js:tree', '--api-key', KEY], { cwd: FIXTURES });
    scratch = mkdtempSync(join(tmpdir(), 'tiled-exports-'));
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${server.api}${path}`, { headers: { authorization: `Apikey ${KEY}`, ...headers } });
  const bytes = async (path: string, headers: Record<string, string> = {}): Promise<Buffer> => {
    const response = await get(path, headers);
    expect({ path, status: response.status }).toEqual({ path, status: 200 });
    return Buffer.from(await response.arrayBuffer());
  };
  const json = async <T>(path: string): Promise<T> => (await get(path, { accept: 'application/json' })).json() as Promise<T>;

  async function openHdf5(body: Buffer): Promise<H5File> {
    const h5wasm = await esm<H5Wasm>('h5wasm/node');
    await h5wasm.ready;
    const file = join(scratch, `${Math.random().toString(36).slice(2)}.h5`);
    writeFileSync(file, body);
    return new h5wasm.File(file, 'r');
  }

  describe('the about document', () => {
    it('lists exactly the formats each family serves, and every alias selects its type', async () => {
      const about = (await (await fetch(`${server.api}/`)).json()) as { formats: Record<string, string[]>; aliases: Record<string, Record<string, string[]>> };
      expect(Object.keys(about.formats).sort()).toEqual(['array', 'container', 'sparse', 'table']);
      const sample: Record<string, string> = { array: '/array/full/demo/small', table: '/table/full/demo/table', container: '/container/full/demo/nested' };
      // The demo tree has no sparse array: test/e2e/catalog-families.e2e-spec.ts checks those formats on a written one.
      for (const [family, types] of Object.entries(about.formats).filter(([f]) => f !== 'sparse')) {
        for (const type of types) {
          const response = await get(sample[family], { accept: type });
          expect({ family, type, status: response.status }).toEqual({ family, type, status: 200 });
          expect(response.headers.get('content-type')?.split(';')[0]).toBe(type);
        }
        for (const [type, aliases] of Object.entries(about.aliases[family])) {
          expect(types).toContain(type);
          for (const alias of aliases) {
            const response = await get(`${sample[family]}?format=${alias}`);
            expect({ family, alias, type: response.headers.get('content-type')?.split(';')[0] }).toEqual({ family, alias, type });
          }
        }
      }
      expect(about.formats.array).toEqual(expect.arrayContaining(['image/png', 'image/tiff', 'text/html', 'application/x-npy']));
      expect(about.formats.table).toEqual(expect.arrayContaining(['application/x-parquet', 'text/html', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']));
      expect(about.formats.container[0]).toBe('application/x-hdf5');
    });

    it('answers 406 for what is not listed, naming what is', async () => {
      for (const [path, accept] of [
        ['/array/full/demo/small', 'image/gif'],
        ['/table/full/demo/table', 'image/png'],
        ['/container/full/demo/nested', 'application/x-parquet'],
      ]) {
        const response = await get(path, { accept });
        expect({ path, status: response.status }).toEqual({ path, status: 406 });
        expect(((await response.json()) as { detail: string }).detail).toMatch(/^None of the media types requested by the client are supported\. Supported: .*Requested: /);
      }
    });
  });

  describe('arrays', () => {
    it('PNG: a grey image scaled from the 1st to the 99th percentile, as Tiled does', async () => {
      const values = (await json<number[][]>('/array/full/demo/small')).flat();
      const png = PNG.sync.read(await bytes('/array/full/demo/small?format=png'));
      expect([png.width, png.height]).toEqual([10, 10]);
      // numpy.percentile (linear) and img_as_ubyte (rint, half to even), computed here independently.
      const sorted = [...values].sort((a, b) => a - b);
      const pct = (q: number): number => {
        const pos = (q / 100) * (sorted.length - 1);
        const lo = Math.floor(pos);
        return sorted[lo] + (sorted[Math.ceil(pos)] - sorted[lo]) * (pos - lo);
      };
      const [low, high] = [pct(1), pct(99)];
      const rint = (v: number): number => (Math.abs(v % 1) === 0.5 ? 2 * Math.round(v / 2) : Math.round(v));
      const grey = Array.from({ length: 100 }, (_, i) => png.data[i * 4]);
      expect(grey).toEqual(values.map((v) => rint(Math.min(1, Math.max(0, (v - low) / (high - low))) * 255)));
      expect(grey[0]).toBe(0);
      expect(grey[99]).toBe(255);
    });

    it('PNG: a (height, width, 3) array is an RGB image; shapes an image cannot take are 406', async () => {
      const png = PNG.sync.read(await bytes('/array/full/rgb', { accept: 'image/png' }));
      expect([png.width, png.height]).toEqual([5, 4]);
      const cube = await get('/array/full/demo/nested/deeper/cube?format=png');
      expect(cube.status).toBe(406);
      expect(((await cube.json()) as { detail: string }).detail).toBe(
        'The shape of this data (4, 5, 6) is incompatible with the requested format (image/png). Slice it or choose a different format.',
      );
      // A 2-D slice of it is an image.
      expect(PNG.sync.read(await bytes('/array/full/demo/nested/deeper/cube?slice=0&format=png')).width).toBe(6);
    });

    it('TIFF: the values unscaled in their own type, read back by UTIF', async () => {
      for (const [path, bits, format] of [
        ['/array/full/demo/arrays/float32_2d', 32, 3],
        ['/array/full/demo/arrays/int32_2d', 32, 2],
        ['/array/full/signed', 16, 2],
        ['/array/full/demo/arrays/uint8_image', 8, 1],
      ] as const) {
        const expected = await json<number[][]>(path);
        const body = await bytes(`${path}?format=tiff`);
        const [ifd] = UTIF.decode(body);
        UTIF.decodeImage(body, ifd);
        expect({ path, width: ifd.width, height: ifd.height, bits: ifd.t258, format: ifd.t339 }).toEqual({
          path,
          width: expected[0].length,
          height: expected.length,
          bits: [bits],
          format: [format],
        });
        const data = ifd.data;
        const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
        const little = body.subarray(0, 2).toString('latin1') === 'II';
        const read = (i: number): number => {
          if (format === 3) return view.getFloat32(i * 4, little);
          if (bits === 32) return view.getInt32(i * 4, little);
          // UTIF turns big-endian 16-bit samples into little-endian ones; wider ones it leaves as stored.
          if (bits === 16) return view.getInt16(i * 2, true);
          return view.getUint8(i);
        };
        expect({ path, values: Array.from({ length: expected.flat().length }, (_, i) => read(i)) }).toEqual({ path, values: expected.flat() });
      }
      const int64 = await get('/array/full/demo/arrays/int64_1d?format=tiff');
      expect([int64.status, ((await int64.json()) as { detail: string }).detail]).toEqual([406, expect.stringContaining("This data's type int64 has no TIFF form here")]);
    });

    it('NPY (beyond Tiled): a version 1.0 header numpy.load accepts, then the octet-stream bytes', async () => {
      const body = await bytes('/array/full/demo/arrays/int32_2d?format=npy');
      expect(body.subarray(0, 8)).toEqual(Buffer.from('\x93NUMPY\x01\x00', 'latin1'));
      const headerLength = body.readUInt16LE(8);
      expect((10 + headerLength) % 64).toBe(0);
      expect(body.subarray(10, 10 + headerLength).toString('latin1').trimEnd()).toBe("{'descr': '<i4', 'fortran_order': False, 'shape': (6, 7), }");
      expect(body.subarray(10 + headerLength)).toEqual(await bytes('/array/full/demo/arrays/int32_2d'));
    });

    it('HTML: the PNG embedded in a page', async () => {
      const html = (await bytes('/array/full/demo/small?format=html')).toString();
      const match = /^<html><body><img src="data:image\/png;base64,([A-Za-z0-9+/=]+)"\/><\/body><\/html>$/.exec(html);
      expect(match).not.toBeNull();
      expect(PNG.sync.read(Buffer.from(match![1], 'base64')).width).toBe(10);
    });
  });

  describe('tables', () => {
    const path = '/table/full/demo/tables/measurements';

    it('Parquet: every partition, column types kept, read back by hyparquet', async () => {
      const expected = await json<Record<string, unknown[]>>(path);
      const { parquetReadObjects } = await esm<{ parquetReadObjects(o: { file: ArrayBuffer }): Promise<Record<string, unknown>[]> }>('hyparquet');
      const body = await bytes(`${path}?format=parquet`);
      const rows = await parquetReadObjects({ file: body.buffer.slice(body.byteOffset, body.byteOffset + body.length) as ArrayBuffer });
      const columns = Object.keys(expected);
      expect(rows).toHaveLength(expected[columns[0]].length);
      for (const column of columns) {
        expect({ column, values: rows.map((r) => (typeof r[column] === 'bigint' ? Number(r[column]) : r[column])) }).toEqual({ column, values: expected[column] });
      }
    });

    it('Excel: one sheet, a header row, then the rows, read back by exceljs', async () => {
      const expected = await json<Record<string, unknown[]>>(path);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load((await bytes(path, { accept: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' })) as unknown as ArrayBuffer);
      const sheet = workbook.getWorksheet('Sheet1')!;
      const columns = Object.keys(expected);
      expect((sheet.getRow(1).values as unknown[]).slice(1)).toEqual(columns);
      expect(sheet.rowCount).toBe(expected[columns[0]].length + 1);
      columns.forEach((column, c) => {
        const values = Array.from({ length: expected[column].length }, (_, r) => sheet.getRow(r + 2).getCell(c + 1).value);
        expect({ column, values }).toEqual({ column, values: expected[column] });
      });
    });

    it("HTML: pandas' to_html table, cells escaped", async () => {
      const expected = await json<Record<string, unknown[]>>('/table/full/demo/table');
      const html = (await bytes('/table/full/demo/table?format=html')).toString();
      expect(html.startsWith('<table border="1" class="dataframe">\n  <thead>\n    <tr style="text-align: right;">\n      <th>x</th>')).toBe(true);
      const cells = [...html.matchAll(/<td>(.*?)<\/td>/g)].map((m) => m[1]);
      const columns = Object.keys(expected);
      const rows = expected[columns[0]].length;
      expect(cells).toHaveLength(rows * columns.length);
      columns.forEach((column, c) => {
        const values = Array.from({ length: rows }, (_, r) => cells[r * columns.length + c]);
        expect({ column, values: values.map((v) => (typeof expected[column][0] === 'number' ? Number(v) : v)) }).toEqual({ column, values: expected[column] });
      });
    });

    it('HDF5: one dataset per column, the metadata as attributes', async () => {
      const expected = await json<Record<string, unknown[]>>('/table/full/demo/table');
      const file = await openHdf5(await bytes('/table/full/demo/table?format=h5'));
      try {
        expect(file.attrs.kind.value).toBe('table');
        for (const [column, values] of Object.entries(expected)) {
          const read = file.get(column).value as ArrayLike<unknown>;
          expect({ column, values: Array.from(read, (v) => (typeof v === 'bigint' ? Number(v) : v)) }).toEqual({ column, values });
        }
      } finally {
        file.close();
      }
    });
  });

  describe('containers', () => {
    it('HDF5 by default: groups for containers, datasets for arrays, metadata as attributes', async () => {
      const response = await get('/container/full/demo/nested');
      expect(response.headers.get('content-type')).toBe('application/x-hdf5');
      const file = await openHdf5(Buffer.from(await response.arrayBuffer()));
      try {
        expect(file.attrs.description.value).toBe('a nested container');
        // Nested metadata has no HDF5 attribute type: it is kept as JSON text.
        expect(JSON.parse(String(file.attrs.sample.value))).toEqual({ id: 7, tags: ['x', 'y'] });
        expect(Array.from(file.get('vec').value as Float64Array)).toEqual(await json<number[]>('/array/full/demo/nested/vec'));
        expect(file.get('deeper').type).toBe('Group');
        expect(file.get('deeper').attrs.level.value).toBe(2n); // int64, as h5py types a Python int
        const cube = file.get('deeper/cube');
        expect(cube.shape).toEqual([4, 5, 6]);
        expect(cube.attrs.kind.value).toBe('cube');
        expect(Array.from(cube.value as Float64Array)).toEqual((await json<number[][][]>('/array/full/demo/nested/deeper/cube')).flat(2));
      } finally {
        file.close();
      }
    });

    it('HDF5 with tables (a group of column datasets) and ?field= choosing children', async () => {
      const file = await openHdf5(await bytes('/container/full/demo?format=hdf5&field=tables&field=ints&field=many'));
      try {
        expect((file.keys?.() ?? []).sort()).toEqual(['ints', 'many', 'tables']);
        // Booleans have no HDF5 type: they are stored as 0 and 1 (h5py would write an enum).
        const item = await json<{ data: { attributes: { metadata: Record<string, unknown> } } }>('/metadata/demo/many/item_000');
        for (const [name, value] of Object.entries(item.data.attributes.metadata)) {
          if (typeof value === 'boolean') expect({ name, value: file.get('many/item_000').attrs[name].value }).toEqual({ name, value: Number(value) });
        }
        expect(file.attrs.title.value).toBe('tiled-ts demo tree');
        const expected = await json<Record<string, unknown[]>>('/table/full/demo/tables/measurements');
        const group = file.get('tables/measurements');
        expect(group.type).toBe('Group');
        expect((group.keys?.() ?? []).sort()).toEqual(Object.keys(expected).sort());
      } finally {
        file.close();
      }
    });

    it('JSON still answers format=json', async () => {
      const body = await json<{ contents: Record<string, unknown> }>('/container/full/demo/nested?format=json');
      expect(Object.keys(body.contents)).toEqual(['vec', 'deeper']);
    });
  });

  describe('limits', () => {
    it('encodes large images off the event loop: the server answers other requests meanwhile', async () => {
      const order: string[] = [];
      const png = get('/array/full/demo/big?format=png').then(async (response) => {
        expect(response.status).toBe(200);
        expect(PNG.sync.read(Buffer.from(await response.arrayBuffer())).width).toBe(1024);
        order.push('png');
      });
      const health = fetch(`${server.url}/healthz`).then((response) => {
        expect(response.status).toBe(200);
        order.push('healthz');
      });
      await Promise.all([png, health]);
      expect(order).toEqual(['healthz', 'png']);
    });

    it('refuses exports over the limits with a 400 and a detail, before reading anything', async () => {
      for (const [path, pattern] of [
        ['/array/full/huge?format=png', /^Response of 9000000 elements is too large to encode as image\/png \(at most 4194304\)\. Use slicing/],
        ['/container/full/wide', /^This export would exceed the HDF5 export limit of 16777216 bytes/],
        ['/container/full/?format=h5', /^This export would exceed the HDF5 export limit/],
      ] as const) {
        const response = await get(path);
        expect({ path, status: response.status }).toEqual({ path, status: 400 });
        expect(((await response.json()) as { detail: string }).detail).toMatch(pattern);
      }
      // The fixture's huge array throws if read: the server never tried, and still answers.
      expect(server.output()).not.toContain('the export limits should have refused this read');
      expect((await get('/array/full/scalar', { accept: 'application/json' })).status).toBe(200);
    });
  });
});
