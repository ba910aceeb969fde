/* eslint-disable @typescript-eslint/no-explicit-any -- response documents are walked ad hoc, as a client would */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import { esm } from '../helpers/esm';
import { createTestDatabase, EngineName, TestDatabase, testEngines } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = 'f'.repeat(64);
const AUTH = { authorization: `Apikey ${KEY}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };
const ARROW = 'application/vnd.apache.arrow.file';
const FLOAT64 = { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null };
const INT64 = { endianness: 'little', kind: 'i', itemsize: 8, dt_units: null };

/** POST /metadata body of a sparse array, as Tiled's client `new("sparse", [DataSource(COOStructure…)])` sends it. */
function sparseBody(id: string, shape: number[], chunks: number[][], dataType: Record<string, unknown> = FLOAT64): Record<string, unknown> {
  return {
    id,
    structure_family: 'sparse',
    metadata: { kind: 'sparse' },
    specs: [],
    data_sources: [
      { structure_family: 'sparse', structure: { chunks, shape, data_type: dataType, coord_data_type: INT64, dims: null, resizable: false, layout: 'COO' }, id: null, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' },
    ],
  };
}

/**
 * The Arrow file Tiled's client sends for COO elements: pandas' DataFrame({dim0…, data}) through
 * pyarrow with preserve_index=True, which adds the RangeIndex as a last column `__index_level_0__`.
 */
function cooArrow(coords: number[][], data: number[]): Buffer {
  const columns: Record<string, BigInt64Array | Float64Array> = {};
  coords.forEach((c, d) => (columns[`dim${d}`] = BigInt64Array.from(c, BigInt)));
  columns.data = Float64Array.from(data);
  columns.__index_level_0__ = BigInt64Array.from(data.keys(), BigInt);
  return Buffer.from(tableToIPC(tableFromArrays(columns), 'file'));
}

/** The elements of an Arrow answer as [coords..., value] rows. */
function elements(body: ArrayBuffer): number[][] {
  const table = tableFromIPC(new Uint8Array(body));
  const names = table.schema.fields.map((f) => f.name);
  return Array.from({ length: table.numRows }, (_, i) => names.map((n) => Number(table.getChild(n)!.get(i))));
}

/*
 * Sparse (COO) arrays and composite containers in the writable catalog, over real HTTP, on each engine:
 * created, written and read back as Tiled's Python client does it.
 */
describe.each(testEngines())('sparse and composite nodes on %s', (engine: EngineName) => {
  let server: RunningServer;
  let db: TestDatabase;
  let dir: string;
  let data: string;

  const post = (path: string, body: unknown): Promise<Response> => fetch(`${server.api}/metadata/${path}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  const get = (path: string, accept = '*/*'): Promise<Response> => fetch(`${server.api}/${path}`, { headers: { ...AUTH, accept } });
  const getJson = async (path: string): Promise<Record<string, any>> => (await get(path, 'application/json')).json() as Promise<Record<string, any>>;
  const put = (path: string, body: Buffer, type = ARROW): Promise<Response> => fetch(`${server.api}/${path}`, { method: 'PUT', headers: { ...AUTH, 'content-type': type }, body });
  const sendJson = (method: string, path: string, body: unknown): Promise<Response> => fetch(`${server.api}/metadata/${path}`, { method, headers: JSON_HEADERS, body: JSON.stringify(body) });

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-families-'));
    data = join(dir, 'data');
    const config = join(dir, 'config.yml');
    writeFileSync(config, ['trees:', '  - path: /cat', '    tree: catalog', `    args: {uri: "${db.uri}", writable_storage: ["./data"], init_if_not_exists: true}`].join('\n'));
    server = await startTiled(['serve', 'config', config, '--api-key', KEY]);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('sparse arrays', () => {
    it('creates one as write_sparse does, writes it whole and reads every element back', async () => {
      const created = await post('cat', sparseBody('coo', [4, 5], [[4], [5]]));
      expect(created.status).toBe(200);
      const answer = (await created.json()) as Record<string, any>;
      expect(answer.links).toEqual({ block: `${server.api}/array/block/cat/coo?block={0},{1}`, full: `${server.api}/array/full/cat/coo`, self: `${server.api}/metadata/cat/coo` });
      expect(answer.data_sources[0]).toMatchObject({
        structure_family: 'sparse',
        mimetype: 'application/x-parquet;structure=sparse',
        management: 'writable',
        assets: [{ is_directory: false, parameter: 'data_uris', num: 0 }],
      });
      expect(answer.data_sources[0].assets[0].data_uri).toMatch(/\/coo\/block-0\.0\.parquet$/);

      expect((await put('array/full/cat/coo', cooArrow([[0, 2, 3], [4, 1, 0]], [1.5, -2, 7]))).status).toBe(200);

      const node = await getJson('metadata/cat/coo');
      expect(node.data.attributes).toMatchObject({
        structure_family: 'sparse',
        metadata: { kind: 'sparse' },
        structure: { chunks: [[4], [5]], shape: [4, 5], data_type: FLOAT64, coord_data_type: INT64, dims: null, resizable: false, layout: 'COO' },
      });
      const full = await get('array/full/cat/coo', ARROW);
      expect(full.headers.get('content-type')).toBe(ARROW);
      // Sorted in C order, as sparse.COO holds them.
      expect(elements(await full.arrayBuffer())).toEqual([
        [0, 4, 1.5],
        [2, 1, -2],
        [3, 0, 7],
      ]);
      expect(await getJson('array/full/cat/coo?format=json')).toEqual({ dim0: [0, 2, 3], dim1: [4, 1, 0], data: [1.5, -2, 7] });
      expect(await (await get('array/full/cat/coo?format=csv')).text()).toBe('dim0,dim1,data\n0,4,1.5\n2,1,-2.0\n3,0,7.0\n');
      expect(elements(await (await get('array/block/cat/coo?block=0,0', ARROW)).arrayBuffer())).toHaveLength(3);
      // A slice re-bases the coordinates and drops integer-indexed dimensions, as numpy indexing does.
      expect(await getJson('array/full/cat/coo?slice=1:4,::-1&format=json')).toEqual({ dim0: [1, 2], dim1: [3, 4], data: [-2, 7] });
      expect(await getJson('array/full/cat/coo?slice=2&format=json')).toEqual({ dim0: [1], data: [-2] });
    });

    it('is served in every format the about document lists for sparse, each alias selecting its type', async () => {
      const about = (await (await fetch(`${server.api}/`)).json()) as { formats: Record<string, string[]>; aliases: Record<string, Record<string, string[]>> };
      // Tiled 0.2.16's list, in its order.
      expect(about.formats.sparse).toEqual([
        'application/x-hdf5',
        'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
        'application/vnd.apache.arrow.file',
        'application/x-parquet',
        'text/csv',
        'text/plain',
        'text/html',
        'application/json',
      ]);
      for (const type of about.formats.sparse) {
        const response = await get('array/full/cat/coo', type);
        expect({ type, status: response.status, served: response.headers.get('content-type')?.split(';')[0] }).toEqual({ type, status: 200, served: type });
      }
      for (const [type, aliases] of Object.entries(about.aliases.sparse)) {
        for (const alias of aliases) expect({ alias, served: (await get(`array/full/cat/coo?format=${alias}`)).headers.get('content-type')?.split(';')[0] }).toEqual({ alias, served: type });
      }
      expect((await get('array/full/cat/coo', 'application/octet-stream')).status).toBe(406);

      // Tiled's HDF5 form: datasets data and coords (ndim × nnz), the metadata as attributes of the file.
      interface H5Node {
        attrs: Record<string, { value: unknown }>;
        get(path: string): { shape: number[]; value: ArrayLike<number | bigint> };
      }
      const h5wasm = await esm<{ ready: Promise<unknown>; File: new (path: string, mode: string) => H5Node & { close(): void } }>('h5wasm/node');
      await h5wasm.ready;
      const file = join(dir, 'coo.h5');
      writeFileSync(file, Buffer.from(await (await get('array/full/cat/coo?format=h5')).arrayBuffer()));
      const h5 = new h5wasm.File(file, 'r');
      expect(h5.get('coords').shape).toEqual([2, 3]);
      expect(Array.from(h5.get('coords').value, Number)).toEqual([0, 2, 3, 4, 1, 0]);
      expect(Array.from(h5.get('data').value, Number)).toEqual([1.5, -2, 7]);
      expect(h5.attrs.kind.value).toBe('sparse');
      h5.close();
    });

    it('writes a chunked one block by block, coordinates relative to each block, and reads the whole', async () => {
      expect((await post('cat', sparseBody('blocks', [6, 10], [[3, 3], [5, 5]]))).status).toBe(200);
      const blocks: [string, number[][], number[]][] = [
        ['0,0', [[0], [1]], [1]],
        ['0,1', [[2, 0], [4, 0]], [2, 3]],
        ['1,1', [[1], [3]], [4]],
      ];
      for (const [block, coords, values] of blocks) expect((await put(`array/block/cat/blocks?block=${block}`, cooArrow(coords, values))).status).toBe(200);
      expect(await getJson('array/block/cat/blocks?block=0,1&format=json')).toEqual({ dim0: [0, 2], dim1: [0, 4], data: [3, 2] });
      // An unwritten block holds no elements.
      expect(await getJson('array/block/cat/blocks?block=1,0&format=json')).toEqual({ dim0: [], dim1: [], data: [] });
      expect(await getJson('array/full/cat/blocks?format=json')).toEqual({ dim0: [0, 0, 2, 4], dim1: [1, 5, 9, 8], data: [1, 3, 2, 4] });
      // The files are Tiled's layout, read here by hyparquet (the server writes them with hyparquet-writer).
      const { parquetReadObjects } = await import('hyparquet');
      const bytes = readFileSync(join(data, 'blocks', 'block-0.1.parquet'));
      const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer });
      expect(rows).toEqual([
        { dim0: 2n, dim1: 4n, data: 2 },
        { dim0: 0n, dim1: 0n, data: 3 },
      ]);
    });

    it('is served dense through /zarr/v3, as Tiled\'s Zarr routes serve it, read by zarrita', async () => {
      interface Zarrita {
        open: { v3(location: unknown, options: { kind: 'array' }): Promise<{ shape: number[] }> };
        get(array: unknown): Promise<{ data: Float64Array; shape: number[] }>;
      }
      const zarr = await esm<Zarrita>('zarrita');
      const { FetchStore } = await esm<{ FetchStore: new (url: string, options: { fetch: (r: Request) => Promise<Response> }) => unknown }>('@zarrita/storage');
      const store = new FetchStore(`${server.url}/zarr/v3/cat/blocks`, { fetch: (request) => fetch(new Request(request, { headers: AUTH })) });
      const read = await zarr.get(await zarr.open.v3(store, { kind: 'array' }));
      expect(read.shape).toEqual([6, 10]);
      const dense = new Array<number>(60).fill(0);
      for (const [i, j, v] of [[0, 1, 1], [0, 5, 3], [2, 9, 2], [4, 8, 4]]) dense[i * 10 + j] = v;
      expect(Array.from(read.data)).toEqual(dense);
    });

    it('is listed in its parent and found by a structure_family search', async () => {
      const listed = (await getJson('search/cat?fields=structure_family')).data.map((d: any) => [d.id, d.attributes.structure_family]);
      expect(listed).toEqual(expect.arrayContaining([['coo', 'sparse'], ['blocks', 'sparse']]));
      const found = await getJson('search/cat?filter[structure_family][condition][value]=sparse');
      expect(found.data.map((d: any) => d.id).sort()).toEqual(['blocks', 'coo']);
      expect(found.data[0].links.block).toMatch(/\?block=\{0\},\{1\}$/);
    });

    it('refuses bad input with a 4xx and keeps what was written', async () => {
      const refused = await post('cat', sparseBody('bytes', [4], [[4]], { endianness: 'not_applicable', kind: 'u', itemsize: 1, dt_units: null }));
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ detail: "A sparse array's data type must be bool, int32, int64, float32 or float64, not uint8" });
      expect(existsSync(join(data, 'bytes'))).toBe(false);

      const outside = await put('array/block/cat/blocks?block=0,0', cooArrow([[3], [0]], [9]));
      expect(outside.status).toBe(400);
      expect(((await outside.json()) as { detail: string }).detail).toMatch(/^Coordinate 3 in dim0 is outside the block/);
      const wrongColumns = await put('array/full/cat/coo', Buffer.from(tableToIPC(tableFromArrays({ x: Float64Array.of(1) }), 'file')));
      expect(wrongColumns.status).toBe(400);
      expect((await put('array/block/cat/blocks?block=2,0', cooArrow([[0], [0]], [1]))).status).toBe(400);
      expect((await put('array/full/cat/blocks', cooArrow([[0], [0]], [1]))).status).toBe(400);
      expect((await put('array/full/cat/coo', Buffer.alloc(8), 'application/octet-stream')).status).toBe(415);
      expect(await getJson('array/full/cat/coo?format=json')).toEqual({ dim0: [0, 2, 3], dim1: [4, 1, 0], data: [1.5, -2, 7] });
      expect(await getJson('array/block/cat/blocks?block=0,0&format=json')).toEqual({ dim0: [0], dim1: [1], data: [1] });
    });

    it('is deleted with its block files', async () => {
      const del = await fetch(`${server.api}/metadata/cat/blocks?external_only=false`, { method: 'DELETE', headers: AUTH });
      expect(del.status).toBe(200);
      expect(existsSync(join(data, 'blocks'))).toBe(false);
      expect((await get('metadata/cat/blocks')).status).toBe(404);
    });
  });

  describe('composite containers (a container with the composite spec, as in Tiled 0.2.16)', () => {
    const arrayBody = (id: string, specs: string[] = []): Record<string, unknown> => ({
      id,
      structure_family: 'array',
      metadata: {},
      specs,
      data_sources: [{ structure_family: 'array', structure: { data_type: FLOAT64, chunks: [[2]], shape: [2], dims: null, resizable: false }, management: 'writable', assets: [] }],
    });

    it('creates one, fills it with arrays, a sparse array and a table, and reads each part back', async () => {
      const created = await post('cat', { id: 'comp', structure_family: 'container', metadata: { md: 1 }, specs: [{ name: 'composite', version: null }] });
      expect(created.status).toBe(200);
      expect((await post('cat/comp', arrayBody('arr'))).status).toBe(200);
      expect((await put('array/full/cat/comp/arr', Buffer.from(Float64Array.of(1, 2).buffer), 'application/octet-stream')).status).toBe(200);
      expect((await post('cat/comp', sparseBody('sps', [3], [[3]]))).status).toBe(200);
      expect((await put('array/full/cat/comp/sps', cooArrow([[1]], [5]))).status).toBe(200);

      const node = await getJson('metadata/cat/comp');
      expect(node.data.attributes).toMatchObject({ structure_family: 'container', specs: [{ name: 'composite', version: null }], metadata: { md: 1 }, structure: { count: 2 } });
      expect(await getJson('array/full/cat/comp/arr?format=json')).toEqual([1, 2]);
      expect(await getJson('array/full/cat/comp/sps?format=json')).toEqual({ dim0: [1], data: [5] });
      const found = await getJson('search/cat?filter[specs][condition][include]=%5B%22composite%22%5D');
      expect(found.data.map((d: any) => d.id)).toEqual(['comp']);
    });

    it('refuses the composite spec on anything but a container, and the composite family itself, as Tiled 0.2.16 does', async () => {
      const onArray = await post('cat/comp', arrayBody('bad', ['composite']));
      expect(onArray.status).toBe(400);
      expect(await onArray.json()).toEqual({ detail: 'failed validation for the composite spec:\nComposite spec can be assigned only to containers, not to StructureFamily.array.' });
      const family = await post('cat', { id: 'fam', structure_family: 'composite', metadata: {} });
      expect(family.status).toBe(422);
      expect(((await family.json()) as any).detail[0]).toMatchObject({ loc: ['body', 'structure_family'], msg: "Input should be 'array', 'awkward', 'bytes', 'container', 'ragged', 'sparse' or 'table'" });
    });

    it('checks its parts when its metadata is updated: no nested container, no name used twice', async () => {
      // Tiled checks the parts only on update; a client adds them freely (its CompositeClient checks names itself).
      expect((await post('cat/comp', { id: 'inner', structure_family: 'container', metadata: {} })).status).toBe(200);
      const nested = await sendJson('PATCH', 'cat/comp', { 'content-type': 'application/merge-patch+json', metadata: { md: 2 } });
      expect(nested.status).toBe(400);
      expect(await nested.json()).toEqual({ detail: 'failed validation for the composite spec:\nNested containers are not allowed in a composite container.' });
      expect((await getJson('metadata/cat/comp')).data.attributes.metadata).toEqual({ md: 1 });
      await fetch(`${server.api}/metadata/cat/comp/inner`, { method: 'DELETE', headers: AUTH });
      expect((await sendJson('PATCH', 'cat/comp', { 'content-type': 'application/merge-patch+json', metadata: { md: 2 } })).status).toBe(200);

      // A plain container whose parts collide cannot become composite.
      expect((await post('cat', { id: 'plain', structure_family: 'container', metadata: {} })).status).toBe(200);
      const schema = `data:application/vnd.apache.arrow.file;base64,${Buffer.from(tableToIPC(tableFromArrays({ arr: Float64Array.of() }), 'stream')).toString('base64')}`;
      const table = { id: 'tab', structure_family: 'table', metadata: {}, data_sources: [{ structure_family: 'table', structure: { arrow_schema: schema, npartitions: 1, columns: ['arr'], resizable: false }, management: 'writable', assets: [] }] };
      expect((await post('cat/plain', table)).status).toBe(200);
      expect((await post('cat/plain', arrayBody('arr'))).status).toBe(200);
      const collide = await sendJson('PUT', 'cat/plain', { specs: [{ name: 'composite', version: null }] });
      expect(collide.status).toBe(400);
      expect(await collide.json()).toEqual({
        detail: "failed validation for the composite spec:\nNames of table columns and other items in a composite container must be unique and not conflict with each other. Found conflicting names: ['arr'].",
      });
      expect((await getJson('metadata/cat/plain')).data.attributes.specs).toEqual([]);
    });
  });
});
