/* eslint-disable @typescript-eslint/no-explicit-any -- response documents are walked ad hoc, as a client would */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Float64, Int32, Table, tableFromArrays, tableFromIPC, tableToIPC, Utf8, vectorFromArray } from 'apache-arrow';
import { createTestDatabase, EngineName, TestDatabase, testEngines } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = 'c'.repeat(64);
const AUTH = { authorization: `Apikey ${KEY}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };

const FLOAT64 = { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null };

function arrayBody(id: string, shape: number[], chunks: number[][], dataType: Record<string, unknown> = FLOAT64): Record<string, unknown> {
  return {
    id,
    structure_family: 'array',
    metadata: { kind: 'array' },
    specs: [],
    data_sources: [{ structure_family: 'array', structure: { data_type: dataType, chunks, shape, dims: null, resizable: false }, id: null, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' }],
  };
}

function float64Bytes(values: number[]): Buffer {
  return Buffer.from(new Float64Array(values).buffer);
}

/*
 * The writable catalog over real HTTP: a server process per engine, serving a catalog tree at /cat, a
 * read-only catalog (no writable storage) at /ro and the demo tree at /demo, as a Tiled YAML config would.
 */
describe.each(testEngines())('the writable catalog on %s', (engine: EngineName) => {
  let server: RunningServer;
  let db: TestDatabase;
  let readOnlyDb: TestDatabase;
  let dir: string;
  let data: string;

  const post = (path: string, body: unknown): Promise<Response> => fetch(`${server.api}/metadata/${path}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
  const getJson = async (path: string): Promise<Record<string, any>> => (await fetch(`${server.api}/${path}`, { headers: AUTH })).json() as Promise<Record<string, any>>;
  const send = (method: string, path: string, body: Buffer, type = 'application/octet-stream'): Promise<Response> =>
    fetch(`${server.api}/${path}`, { method, headers: { ...AUTH, 'content-type': type }, body });

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    readOnlyDb = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-catalog-'));
    data = join(dir, 'data');
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      [
        'write_body_limit: 4096',
        'trees:',
        '  - path: /cat',
        '    tree: catalog',
        `    args: {uri: "${db.uri}", writable_storage: ["./data", "${engine === 'postgres' ? db.uri : 'sqlite:///tabular.db'}"], init_if_not_exists: true}`,
        '  - path: /ro',
        '    tree: tiled.catalog:from_uri',
        `    args: {uri: "${readOnlyDb.uri}", init_if_not_exists: true}`,
        '  - path: /demo',
        '    tree: demo',
      ].join('\n'),
    );
    server = await startTiled(['serve', 'config', config, '--api-key', KEY]);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    await readOnlyDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('POST /metadata/{path}', () => {
    it('creates a container and answers as Tiled does', async () => {
      const response = await post('cat', { id: 'x', structure_family: 'container', metadata: { a: 1 }, specs: [] });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        id: 'x',
        links: { full: `${server.api}/container/full/cat/x`, search: `${server.api}/search/cat/x`, self: `${server.api}/metadata/cat/x` },
        data_sources: [],
      });
      const node = await getJson('metadata/cat/x');
      expect(node.data.attributes).toMatchObject({ ancestors: ['cat'], structure_family: 'container', metadata: { a: 1 }, access_blob: {}, sorting: [{ key: '', direction: 1 }] });
    });

    it('generates a key when none is given, and stores the access blob as {} without a policy', async () => {
      const response = await post('cat/x', { structure_family: 'container', metadata: {}, access_blob: { tags: ['t'] } });
      const body = (await response.json()) as { id: string; access_blob: unknown };
      expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(body.access_blob).toEqual({});
      expect((await getJson(`metadata/cat/x/${body.id}`)).data.attributes.access_blob).toEqual({});
    });

    it('refuses a duplicate key with 409 naming the path, and changes nothing', async () => {
      const response = await post('cat', { id: 'x', structure_family: 'container', metadata: { b: 2 } });
      expect(response.status).toBe(409);
      expect(await response.json()).toEqual({ detail: '/x' });
      expect((await getJson('metadata/cat/x')).data.attributes.metadata).toEqual({ a: 1 });
    });

    it.each([['a/b'], ['tab\there'], ['..']])('refuses the key %j with 422', async (key) => {
      const response = await post('cat', { id: key, structure_family: 'container' });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/^Invalid key/);
    });

    it('answers 404 under a missing parent and 405 under a non-container', async () => {
      expect((await post('cat/nope', { structure_family: 'container' })).status).toBe(404);
      await post('cat', arrayBody('leaf', [2], [[2]]));
      const response = await post('cat/leaf', { structure_family: 'container' });
      expect(response.status).toBe(405);
    });

    it('answers 405 with Tiled\'s detail under a read-only tree, and for data without writable storage', async () => {
      const demo = await post('demo', { structure_family: 'container' });
      expect(demo.status).toBe(405);
      expect(await demo.json()).toEqual({ detail: 'Data cannot be written at the path demo' });
      const ro = await post('ro', arrayBody('a', [2], [[2]]));
      expect(await ro.json()).toEqual({ detail: 'Data cannot be written at the path ro' });
      expect((await post('ro', { id: 'c', structure_family: 'container' })).status).toBe(200);
    });

    it('refuses a malformed body with a 422 in FastAPI\'s shape', async () => {
      const response = await post('cat', { structure_family: 'spreadsheet' });
      expect(response.status).toBe(422);
      expect(((await response.json()) as { detail: { loc: string[] }[] }).detail[0].loc).toEqual(['body', 'structure_family']);
      expect((await post('cat', { structure_family: 'container', specs: Array.from({ length: 21 }, (_, i) => ({ name: `s${i}` })) })).status).toBe(422);
    });

    it('leaves neither a node nor a directory when the data source cannot be created', async () => {
      const response = await post('cat', arrayBody('bad', [2], [[2]], { endianness: 'little', kind: 'c', itemsize: 16, dt_units: null }));
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect((await fetch(`${server.api}/metadata/cat/bad`, { headers: AUTH })).status).toBe(404);
      expect(existsSync(join(data, 'bad'))).toBe(false);
    });
  });

  describe('metadata updates and revisions', () => {
    beforeAll(async () => {
      await post('cat', { id: 'm', structure_family: 'container', metadata: { a: 1, b: { c: 2 } } });
    });

    it('replaces metadata and specs with PUT, keeping the old ones as a revision', async () => {
      const response = await fetch(`${server.api}/metadata/cat/m`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ metadata: { a: 2 }, specs: [{ name: 'xdi', version: '1' }] }) });
      expect(await response.json()).toEqual({ id: 'm' });
      const node = (await getJson('metadata/cat/m')).data.attributes;
      expect(node.metadata).toEqual({ a: 2 });
      expect(node.specs).toEqual([{ name: 'xdi', version: '1' }]);
    });

    it('applies a JSON patch and a merge patch', async () => {
      const patch = (body: unknown): Promise<Response> => fetch(`${server.api}/metadata/cat/m`, { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify(body) });
      expect((await patch({ 'content-type': 'application/json-patch+json', metadata: [{ op: 'add', path: '/z', value: [1] }] })).status).toBe(200);
      expect((await patch({ 'content-type': 'application/merge-patch+json', metadata: { a: null, y: 'new' } })).status).toBe(200);
      expect((await getJson('metadata/cat/m')).data.attributes.metadata).toEqual({ z: [1], y: 'new' });
    });

    it('refuses an unknown patch type with 406 and an inapplicable patch with 422, changing nothing', async () => {
      const patch = (body: unknown): Promise<Response> => fetch(`${server.api}/metadata/cat/m`, { method: 'PATCH', headers: JSON_HEADERS, body: JSON.stringify(body) });
      const wrongType = await patch({ 'content-type': 'text/plain', metadata: {} });
      expect(wrongType.status).toBe(406);
      expect(await wrongType.json()).toEqual({ detail: 'valid content types: application/json-patch+json, application/merge-patch+json' });
      expect((await patch({ 'content-type': 'application/json-patch+json', metadata: [{ op: 'remove', path: '/missing' }] })).status).toBe(422);
      expect((await getJson('metadata/cat/m')).data.attributes.metadata).toEqual({ z: [1], y: 'new' });
    });

    it('lists the revisions and deletes one', async () => {
      const revisions = await getJson('revisions/cat/m');
      expect(revisions.meta).toEqual({ count: 3 });
      expect(revisions.data.map((r: { revision_number: number; attributes: { metadata: unknown } }) => [r.revision_number, r.attributes.metadata])).toEqual([
        [1, { a: 1, b: { c: 2 } }],
        [2, { a: 2 }],
        [3, { a: 2, z: [1] }],
      ]);
      expect((await fetch(`${server.api}/revisions/cat/m?number=2`, { method: 'DELETE', headers: AUTH })).status).toBe(200);
      const missing = await fetch(`${server.api}/revisions/cat/m?number=2`, { method: 'DELETE', headers: AUTH });
      expect(missing.status).toBe(404);
      expect((await getJson('revisions/cat/m')).meta).toEqual({ count: 2 });
    });

    it('keeps no revision with drop_revision=true', async () => {
      await fetch(`${server.api}/metadata/cat/m?drop_revision=true`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ metadata: { final: true } }) });
      expect((await getJson('revisions/cat/m')).meta).toEqual({ count: 2 });
    });

    it('answers 405 on a read-only tree', async () => {
      const response = await fetch(`${server.api}/metadata/demo`, { method: 'PUT', headers: JSON_HEADERS, body: JSON.stringify({ metadata: {} }) });
      expect(response.status).toBe(405);
      expect(await response.json()).toEqual({ detail: 'This node does not support update of metadata.' });
    });
  });

  describe('arrays', () => {
    it('writes a whole array and a block, and reads them back through the read routes', async () => {
      const created = (await (await post('cat', arrayBody('grid', [4, 3], [[2, 2], [3]]))).json()) as Record<string, any>;
      expect(created.links.block).toBe(`${server.api}/array/block/cat/grid?block={0},{1}`);
      expect(created.data_sources[0]).toMatchObject({ mimetype: 'application/x-zarr', management: 'writable', assets: [{ is_directory: true, parameter: 'data_uri' }] });
      expect(existsSync(join(data, 'grid', 'zarr.json'))).toBe(true);

      expect((await send('PUT', 'array/full/cat/grid', float64Bytes([...Array(12).keys()]))).status).toBe(200);
      expect((await send('PUT', 'array/block/cat/grid?block=1,0', float64Bytes([9, 9, 9, 9, 9, 9]))).status).toBe(200);
      expect(await getJson('array/full/cat/grid?format=json')).toEqual([
        [0, 1, 2],
        [3, 4, 5],
        [9, 9, 9],
        [9, 9, 9],
      ]);
      const raw = await fetch(`${server.api}/array/block/cat/grid?block=0,0`, { headers: AUTH });
      expect(Buffer.from(await raw.arrayBuffer())).toEqual(float64Bytes([0, 1, 2, 3, 4, 5]));
    });

    it('gives a block a new ETag when it is written, and answers 304 while it is not', async () => {
      const get = (etag?: string): Promise<Response> =>
        fetch(`${server.api}/array/block/cat/grid?block=0,0`, { headers: { ...AUTH, accept: 'application/octet-stream', ...(etag ? { 'if-none-match': etag } : {}) } });
      const etag = (await get()).headers.get('etag')!;
      expect((await get(etag)).status).toBe(304);
      expect((await send('PUT', 'array/block/cat/grid?block=0,0', float64Bytes([6, 5, 4, 3, 2, 1]))).status).toBe(200);
      const changed = await get(etag);
      expect(changed.status).toBe(200);
      expect(Buffer.from(await changed.arrayBuffer())).toEqual(float64Bytes([6, 5, 4, 3, 2, 1]));
      expect((await get(changed.headers.get('etag')!)).status).toBe(304);
    });

    it('extends an array with PATCH and reports the new structure', async () => {
      const response = await send('PATCH', 'array/full/cat/grid?offset=4,0&shape=1,3&extend=true', float64Bytes([7, 7, 7]));
      expect(await response.json()).toMatchObject({ shape: [5, 3] });
      expect((await getJson('metadata/cat/grid')).data.attributes.structure.shape).toEqual([5, 3]);
      expect((await getJson('array/full/cat/grid?format=json')).at(-1)).toEqual([7, 7, 7]);
    });

    it('refuses wrong sizes, blocks out of range, a missing content type and PATCH beyond the end without extend', async () => {
      expect((await send('PUT', 'array/full/cat/grid', float64Bytes([1]))).status).toBe(400);
      expect((await send('PUT', 'array/block/cat/grid?block=9,0', float64Bytes([1, 2, 3, 4, 5, 6]))).status).toBe(400);
      expect((await send('PUT', 'array/full/cat/grid', Buffer.from('[1]'), 'text/plain')).status).toBe(415);
      expect((await send('PATCH', 'array/full/cat/grid?offset=5,0&shape=1,3', float64Bytes([1, 2, 3]))).status).toBe(409);
      const both = await send('PATCH', 'array/full/cat/grid?offset=5,0&shape=1,3&extend=true&persist=false', float64Bytes([1, 2, 3]));
      expect(both.status).toBe(400);
      expect((await getJson('metadata/cat/grid')).data.attributes.structure.shape).toEqual([5, 3]);
    });

    it('refuses a data body over write_body_limit with 413', async () => {
      const response = await send('PUT', 'array/full/cat/grid', Buffer.alloc(8192));
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ detail: 'Request body is too large: this route accepts at most 4096 bytes' });
    });

    it('shows the data sources with include_data_sources=true', async () => {
      const node = await getJson('metadata/cat/grid?include_data_sources=true');
      expect(node.data.attributes.data_sources).toHaveLength(1);
      expect((await getJson('metadata/cat/grid')).data.attributes.data_sources).toBeNull();
    });
  });

  describe('tables', () => {
    // Plain UTF-8 strings, as pyarrow sends a pandas column (tableFromArrays would dictionary-encode them).
    const rows: Table = new Table({
      x: vectorFromArray([1.5, 2.5], new Float64()),
      n: vectorFromArray([1, 2], new Int32()),
      label: vectorFromArray(['a', 'b'], new Utf8()),
    });
    const schema = `data:application/vnd.apache.arrow.file;base64,${Buffer.from(tableToIPC(rows.slice(0, 0), 'stream')).toString('base64')}`;
    const tableBody = (id: string, npartitions: number, mimetype: string | null = null): Record<string, unknown> => ({
      id,
      structure_family: 'table',
      metadata: {},
      data_sources: [{ structure_family: 'table', structure: { arrow_schema: schema, npartitions, columns: ['x', 'n', 'label'], resizable: false }, mimetype, management: 'writable', assets: [] }],
    });
    const arrowFile = (table: Table = rows): Buffer => Buffer.from(tableToIPC(table, 'file'));

    it('writes a whole table as Parquet and reads it back as Arrow and CSV', async () => {
      const created = (await (await post('cat', tableBody('t', 1))).json()) as Record<string, any>;
      expect(created.links.partition).toBe(`${server.api}/table/partition/cat/t?partition={index}`);
      expect(created.data_sources[0]).toMatchObject({ mimetype: 'application/x-parquet', assets: [{ parameter: 'data_uris', num: 0, is_directory: false }] });
      expect((await send('PUT', 'table/full/cat/t', arrowFile(), 'application/vnd.apache.arrow.file')).status).toBe(200);
      expect(existsSync(join(data, 't', 'partition-0.parquet'))).toBe(true);
      const arrow = await fetch(`${server.api}/table/full/cat/t`, { headers: { ...AUTH, accept: 'application/vnd.apache.arrow.file' } });
      const table = tableFromIPC(new Uint8Array(await arrow.arrayBuffer()));
      expect(table.getChild('label')?.toArray()).toEqual(['a', 'b']);
      const csv = await fetch(`${server.api}/table/full/cat/t`, { headers: { ...AUTH, accept: 'text/csv' } });
      expect(await csv.text()).toBe('x,n,label\n1.5,1,a\n2.5,2,b\n');
    });

    it('writes partitions one by one, and refuses a partition out of range or a table of other columns', async () => {
      await post('cat', tableBody('parts', 2));
      expect((await send('PUT', 'table/full/cat/parts', arrowFile(), 'application/vnd.apache.arrow.file')).status).toBe(400);
      expect((await send('PUT', 'table/partition/cat/parts?partition=1', arrowFile(), 'application/vnd.apache.arrow.file')).status).toBe(200);
      expect((await send('PUT', 'table/partition/cat/parts?partition=2', arrowFile(), 'application/vnd.apache.arrow.file')).status).toBe(400);
      const other: Table = tableFromArrays({ y: Float64Array.from([1]) });
      const wrong = await send('PUT', 'table/partition/cat/parts?partition=0', arrowFile(other), 'application/vnd.apache.arrow.file');
      expect(wrong.status).toBeGreaterThanOrEqual(400);
      expect(wrong.status).toBeLessThan(500);
      expect((await post('cat', tableBody('huge', 100_000))).status).toBe(400);
      const partition = await fetch(`${server.api}/table/partition/cat/parts?partition=1`, { headers: { ...AUTH, accept: 'text/csv' } });
      expect(await partition.text()).toBe('x,n,label\n1.5,1,a\n2.5,2,b\n');
    });
  });

  describe('appendable tables (SQL storage)', () => {
    const arrow = 'application/vnd.apache.arrow.file';
    const batch = (x: number[], n: number[], label: string[]): Buffer =>
      Buffer.from(tableToIPC(new Table({ x: vectorFromArray(x, new Float64()), n: vectorFromArray(n, new Int32()), label: vectorFromArray(label, new Utf8()) }), 'file'));
    const schemaOf = (): string =>
      `data:application/vnd.apache.arrow.file;base64,${Buffer.from(tableToIPC(new Table({ x: vectorFromArray([], new Float64()), n: vectorFromArray([], new Int32()), label: vectorFromArray([], new Utf8()) }), 'stream')).toString('base64')}`;

    it('appends rows with PATCH /table/partition and reads them back in order', async () => {
      const created = await post('cat', {
        id: 'events',
        structure_family: 'table',
        metadata: {},
        data_sources: [{ structure_family: 'table', structure: { arrow_schema: schemaOf(), npartitions: 1, columns: ['x', 'n', 'label'], resizable: false }, mimetype: 'application/x-tiled-sql-table', assets: [], management: 'writable' }],
      });
      expect(created.status).toBe(200);
      const source = ((await created.json()) as Record<string, any>).data_sources[0];
      expect(source).toMatchObject({ mimetype: 'application/x-tiled-sql-table', parameters: { table_name: expect.stringMatching(/^table_/), dataset_id: expect.any(Number) } });
      expect((await send('PATCH', 'table/partition/cat/events?partition=0', batch([1], [10], ['a']), arrow)).status).toBe(200);
      expect((await send('PATCH', 'table/partition/cat/events?partition=0', batch([2, 3], [20, 30], ['b', 'c']), arrow)).status).toBe(200);
      const csv = await fetch(`${server.api}/table/full/cat/events`, { headers: { ...AUTH, accept: 'text/csv' } });
      expect(await csv.text()).toBe('x,n,label\n1.0,10,a\n2.0,20,b\n3.0,30,c\n');
    });

    it('answers 405 for an append to a Parquet table and a full write of an appendable one', async () => {
      expect((await send('PATCH', 'table/partition/cat/t?partition=0', batch([1], [1], ['a']), arrow)).status).toBe(405);
      expect((await send('PUT', 'table/full/cat/events', batch([1], [1], ['a']), arrow)).status).toBe(405);
    });
  });

  describe('DELETE /metadata/{path}', () => {
    it('follows Tiled\'s recursive and external_only rules, removing the files last', async () => {
      await post('cat', { id: 'd', structure_family: 'container' });
      await post('cat/d', arrayBody('arr', [2], [[2]]));
      const del = (query: string): Promise<Response> => fetch(`${server.api}/metadata/cat/d${query}`, { method: 'DELETE', headers: AUTH });
      const notEmpty = await del('');
      expect(notEmpty.status).toBe(409);
      expect(((await notEmpty.json()) as { detail: string }).detail).toMatch(/^Cannot delete a node that is not empty/);
      const internal = await del('?recursive=true');
      expect(internal.status).toBe(409);
      expect(((await internal.json()) as { detail: string }).detail).toMatch(/^Some items in this tree are internally managed/);
      expect(existsSync(join(data, 'd', 'arr'))).toBe(true);
      expect((await del('?recursive=true&external_only=false')).status).toBe(200);
      expect((await fetch(`${server.api}/metadata/cat/d`, { headers: AUTH })).status).toBe(404);
      expect(existsSync(join(data, 'd', 'arr'))).toBe(false);
    });

    it('answers 405 for the root of a catalog and for read-only trees', async () => {
      expect((await fetch(`${server.api}/metadata/cat`, { method: 'DELETE', headers: AUTH })).status).toBe(405);
      expect((await fetch(`${server.api}/metadata/demo/small`, { method: 'DELETE', headers: AUTH })).status).toBe(405);
    });
  });

  it('shows every write in the next search (nothing is cached stale)', async () => {
    const before = (await getJson('search/cat?fields=')).meta.count as number;
    await post('cat', { id: 'fresh', structure_family: 'container' });
    expect((await getJson('search/cat?fields=')).meta.count).toBe(before + 1);
    await fetch(`${server.api}/metadata/cat/fresh`, { method: 'DELETE', headers: AUTH });
    expect((await getJson('search/cat?fields=')).meta.count).toBe(before);
    expect(readdirSync(data).sort()).toEqual(['grid', 'leaf', 'parts', 't']);
  });
});
