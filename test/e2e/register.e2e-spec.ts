/**
 * `tiled register` and `POST /register` against a real `tiled serve catalog` process: files made here with
 * the formats' own writers are registered over HTTP, then read back value for value through the read routes;
 * `--watch` follows added, changed and removed files; files outside readable_storage are refused; deleting a
 * registered node leaves its file. The register route's records are checked on SQLite and PostgreSQL.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { writeArrayBuffer } from 'geotiff';
import { Client } from 'pg';
import { createTestDatabase, testEngines, type TestDatabase } from '../helpers/postgres';
import { esm } from '../helpers/esm';
import { runTiled, startTiled, TILED_BIN, type RunningServer } from '../helpers/tiled-process';

const KEY = 'e'.repeat(64);
const AUTH = { authorization: `Apikey ${KEY}` };
const detail = async (response: Response): Promise<unknown> => ((await response.json()) as { detail: unknown }).detail;
/** The parts of a resource document these tests read. */
interface Resource {
  data: { id: string; attributes: { structure_family: string; metadata: unknown; data_sources: { assets: { num: number | null; id: number }[] }[] } }[] & { attributes: { structure_family: string; metadata: unknown; data_sources: { assets: { num: number | null; id: number }[] }[] } };
}
// Not a Function-wrapped import(): under Jest that poisons the worker for the specs after this one (test/helpers/esm.ts).
const dynamicImport = esm;
const FRAMES = [0, 1, 2].map((f) => Uint16Array.from({ length: 8 }, (_, i) => f * 100 + i));
const H5_DATA = Float64Array.from({ length: 12 }, (_, i) => i * 0.5 - 1);

async function writeH5(path: string): Promise<void> {
  const h5 = await dynamicImport<typeof import('h5wasm')>('h5wasm/node');
  await h5.ready;
  const file = new h5.File(path, 'w');
  file.create_attribute('title', 'registered sample');
  const entry = file.create_group('entry');
  entry.create_dataset({ name: 'data', data: H5_DATA, shape: [3, 4], dtype: '<d' }).create_attribute('units', 'counts');
  file.close();
}

function tiff(values: Uint16Array, width: number, height: number): Buffer {
  const options = { width, height, BitsPerSample: [16], SampleFormat: [1], SamplesPerPixel: 1, PhotometricInterpretation: 1 };
  return Buffer.from(writeArrayBuffer(values, options as Parameters<typeof writeArrayBuffer>[1]));
}

async function until(check: () => Promise<boolean>, what: string, output: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`never saw ${what}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('tiled register into tiled serve catalog --temp', () => {
  let dir: string;
  let live: string;
  let outside: string;
  let server: RunningServer;
  const get = (path: string, accept = 'application/json'): Promise<Response> => fetch(`${server.api}${path}`, { headers: { ...AUTH, accept } });
  const json = async (path: string): Promise<unknown> => (await get(path)).json();
  const resource = async (path: string): Promise<Resource> => (await json(path)) as Resource;
  const keys = async (path = ''): Promise<string[]> => (await resource(`/search/${path}?fields=`)).data.map((d) => d.id);
  const post = (route: string, body: unknown): Promise<Response> =>
    fetch(`${server.api}${route}`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-register-'));
    live = mkdtempSync(join(tmpdir(), 'tiled-register-live-'));
    outside = mkdtempSync(join(tmpdir(), 'tiled-register-outside-'));
    writeFileSync(join(dir, 'runs.csv'), 'run,energy,sample\n1,0.5,water\n2,1.25,"salt, fine"\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'nested.csv'), 'a\n10\n20\n');
    await writeH5(join(dir, 'sample.h5'));
    FRAMES.forEach((frame, i) => writeFileSync(join(dir, `frame_00${i + 1}.tif`), tiff(frame, 4, 2)));
    writeFileSync(join(dir, 'junk.h5'), 'this is not an HDF5 file');
    // A Zarr v2 array store as zarr-python writes it without a compressor: a directory asset.
    mkdirSync(join(dir, 'counts.zarr', 'nested'), { recursive: true });
    writeFileSync(join(dir, 'counts.zarr', '.zarray'), JSON.stringify({ zarr_format: 2, shape: [3], chunks: [3], dtype: '<i2', compressor: null, fill_value: 0, order: 'C', filters: null }));
    writeFileSync(join(dir, 'counts.zarr', '0'), Buffer.from(new Int16Array([7, -8, 9]).buffer));
    writeFileSync(join(dir, 'counts.zarr', 'nested', 'note.txt'), 'kept with the store');
    writeFileSync(join(outside, 'secret.csv'), 'x\n1\n');
    server = await startTiled(['serve', 'catalog', '--temp', '-r', dir, '-r', live, '--api-key', KEY]);
  });

  afterAll(async () => {
    await server?.stop();
    for (const d of [dir, live, outside]) rmSync(d, { recursive: true, force: true });
  });

  it('registers a folder (containers for sub-folders, sequences stacked) and every value reads back', async () => {
    const result = await runTiled(['register', server.url, dir, '--api-key', KEY, '--verbose']);
    expect(result.stderr).toMatch(/WARNING: Cannot register \/junk: junk\.h5: Cannot be read: Not an HDF5 file/);
    expect(result.stderr).toContain('Registered /sub/nested (text/csv)');
    expect(result.stdout).toMatch(/^Registered 6 nodes from /m);
    expect(result.code).toBe(0);
    expect((await keys()).sort()).toEqual(['counts', 'frame_', 'runs', 'sample', 'sub']);

    expect(await json('/table/full/runs')).toEqual({ run: [1, 2], energy: [0.5, 1.25], sample: ['water', 'salt, fine'] });
    expect(await json('/table/full/sub/nested')).toEqual({ a: [10, 20] });
    const sample = await resource('/metadata/sample?include_data_sources=true');
    expect(sample.data.attributes.structure_family).toBe('container');
    expect(sample.data.attributes.metadata).toEqual({ title: 'registered sample' });
    const [source] = sample.data.attributes.data_sources;
    expect(source).toMatchObject({ mimetype: 'application/x-hdf5', management: 'external', assets: [{ data_uri: pathToFileURL(join(dir, 'sample.h5')).href, is_directory: false, parameter: 'data_uri' }] });
    expect((await resource('/metadata/sample/entry/data')).data.attributes.metadata).toEqual({ units: 'counts' });
    expect(await json('/array/full/sample/entry/data')).toEqual([[-1, -0.5, 0, 0.5], [1, 1.5, 2, 2.5], [3, 3.5, 4, 4.5]]);
    const frames = (await json('/array/full/frame_')) as number[][][];
    expect(frames.flat(2)).toEqual(FRAMES.flatMap((f) => [...f]));
    expect((await resource('/metadata/frame_?include_data_sources=true')).data.attributes.data_sources[0].assets.map((a) => a.num)).toEqual([0, 1, 2]);
    // Zarr over HTTP serves a registered HDF5 dataset as any other array, read here by zarrita.
    type Zarrita = { open: { v3(store: unknown, options: { kind: 'array' }): Promise<unknown> }; get(array: unknown): Promise<{ data: Float64Array; shape: number[] }> };
    type FetchStoreClass = new (url: string, options: { fetch: (request: Request) => Promise<Response> }) => unknown;
    const zarr = await dynamicImport<Zarrita>('zarrita');
    const { FetchStore } = await dynamicImport<{ FetchStore: FetchStoreClass }>('@zarrita/storage');
    const store = new FetchStore(`${server.url}/zarr/v3/sample/entry/data`, { fetch: (request) => fetch(new Request(request, { headers: AUTH })) });
    const read = await zarr.get(await zarr.open.v3(store, { kind: 'array' }));
    expect({ shape: read.shape, data: [...read.data] }).toEqual({ shape: [3, 4], data: [...H5_DATA] });
    // Exports go through the same routes as any array.
    const csv = await get('/array/full/sample/entry/data?format=csv', 'text/csv');
    expect(csv.status).toBe(200);
    expect((await csv.text()).trim().split('\n')[0].split(',').map(Number)).toEqual([-1, -0.5, 0, 0.5]);

    // Registering again changes nothing: every key is already there.
    const again = await runTiled(['register', server.url, dir, '--api-key', KEY]);
    expect(again.stdout).toMatch(/^Registered 0 nodes/m);
    expect((await keys()).sort()).toEqual(['counts', 'frame_', 'runs', 'sample', 'sub']);
  });

  it('runs the `tiled register` example of docs/files.md', async () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'files.md'), 'utf8');
    const line = doc.split('\n').find((l) => l.startsWith('tiled register '))!;
    const args = line.split('#')[0].trim().split(/\s+/).slice(1).map((a) => (a === 'http://localhost:8000' ? server.url : a === './data' ? dir : a === 'secret' ? KEY : a));
    const result = await runTiled(args);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('Registered /raw/runs (text/csv)');
    expect(await json('/table/full/raw/runs')).toEqual({ run: [1, 2], energy: [0.5, 1.25], sample: ['water', 'salt, fine'] });
    expect((await fetch(`${server.api}/metadata/raw?recursive=true`, { method: 'DELETE', headers: AUTH })).status).toBe(200);
  });

  it('serves the registered files themselves: asset bytes and the manifest of a directory asset', async () => {
    expect(await json('/array/full/counts')).toEqual([7, -8, 9]);
    const assetOf = async (path: string): Promise<number> => ((await resource(`/metadata/${path}?include_data_sources=true`)).data.attributes.data_sources[0].assets[0]).id;
    const csvId = await assetOf('runs');
    const bytes = await get(`/asset/bytes/runs?id=${csvId}`, '*/*');
    expect(bytes.status).toBe(200);
    expect(bytes.headers.get('content-disposition')).toBe('attachment; filename="runs.csv"');
    expect(await bytes.text()).toBe('run,energy,sample\n1,0.5,water\n2,1.25,"salt, fine"\n');
    const zarrId = await assetOf('counts');
    expect(await json(`/asset/manifest/counts?id=${zarrId}`)).toEqual({ manifest: ['.zarray', '0', 'nested/note.txt'] });
    expect(await (await get(`/asset/bytes/counts?id=${zarrId}&relative_path=nested/note.txt`, '*/*')).text()).toBe('kept with the store');
    const problems: [string, number, string][] = [
      [`/asset/bytes/counts?id=${zarrId}`, 400, `This asset is a directory. Must specify relative path, from manifest provided by /asset/manifest/...?id=${zarrId}`],
      [`/asset/bytes/counts?id=${zarrId}&relative_path=../runs.csv`, 400, 'relative_path query parameter must stay inside the asset directory'],
      [`/asset/bytes/counts?id=${zarrId}&relative_path=/etc/passwd`, 400, 'relative_path query parameter must be a *relative* path'],
      [`/asset/bytes/runs?id=${csvId}&relative_path=x`, 400, 'This asset is not a directory. The relative_path query parameter must not be set.'],
      [`/asset/manifest/runs?id=${csvId}`, 400, 'This asset is not a directory. There is no manifest.'],
      [`/asset/bytes/runs?id=${zarrId}`, 404, `This node exists but it does not have an Asset with id ${zarrId}`],
      [`/asset/bytes/sample/entry/data?id=${csvId}`, 405, 'This node does not support downloading assets.'],
    ];
    for (const [path, status, text] of problems) {
      const response = await get(path);
      expect({ path, status: response.status, detail: await detail(response) }).toEqual({ path, status, detail: text });
    }
  });

  it('PUT /data_source adds a new frame to a registered sequence, as Tiled\'s client does', async () => {
    const frame = Uint16Array.from({ length: 8 }, (_, i) => 300 + i);
    writeFileSync(join(dir, 'frame_004.tif'), tiff(frame, 4, 2));
    const [source] = (await resource('/metadata/frame_?include_data_sources=true')).data.attributes.data_sources as unknown as Record<string, unknown>[];
    const asset = { data_uri: pathToFileURL(join(dir, 'frame_004.tif')).href, is_directory: false, parameter: 'data_uris', num: 3 };
    const put = (body: unknown, path = 'frame_'): Promise<Response> =>
      fetch(`${server.api}/data_source/${path}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const response = await put({ data_source: { ...source, structure: null, assets: [asset] } });
    expect(response.status).toBe(200);
    expect(((await json('/array/full/frame_')) as number[][][]).flat(2)).toEqual([...FRAMES, frame].flatMap((f) => [...f]));
    const after = (await resource('/metadata/frame_?include_data_sources=true')).data.attributes.data_sources[0];
    expect(after.assets.map((a) => a.num)).toEqual([0, 1, 2, 3]);
    expect((after as unknown as { structure: { shape: number[] } }).structure.shape).toEqual([4, 2, 4]);
    const missingSource = await put({ data_source: { ...source, id: 999999, assets: [] } });
    expect({ status: missingSource.status, detail: await detail(missingSource) }).toEqual({ status: 404, detail: 'No data_source 999999 on this node.' });
    const outsideAsset = await put({ data_source: { ...source, assets: [{ ...asset, data_uri: pathToFileURL(join(outside, 'secret.csv')).href, num: 4 }] } });
    expect(outsideAsset.status).toBe(403);
  });

  it('stops with the server\'s answer when the key is wrong, and says so when no server answers', async () => {
    const wrong = await runTiled(['register', server.url, dir, '--api-key', 'not-the-key'], { env: { TILED_API_KEY: undefined } });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(new RegExp(`${server.url} answered 401: `));
    // A port nobody listens on any more.
    const probe = createServer().listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    await once(probe, 'close');
    const closed = await runTiled(['register', `http://127.0.0.1:${port}`, dir, '--api-key', KEY]);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toContain(`Cannot connect to http://127.0.0.1:${port}: connection refused. Is the server running?`);
  });

  it('refuses files outside readable_storage, mimetypes without an adapter and unreadable files, with a 4xx', async () => {
    const outsideUri = pathToFileURL(join(outside, 'secret.csv')).href;
    const refused = await post('/register/', { structure_family: 'table', id: 'secret', data_sources: [{ mimetype: 'text/csv', assets: [{ data_uri: outsideUri }] }] });
    expect(refused.status).toBe(403);
    expect(await detail(refused)).toBe(
      `Refusing to serve ${outsideUri} because it is outside the readable storage area for this server. Only files inside the catalog's readable_storage may be registered.`,
    );
    const unknown = await post('/register/', { structure_family: 'table', id: 'x', data_sources: [{ mimetype: 'text/x-nothing', assets: [{ data_uri: pathToFileURL(join(dir, 'runs.csv')).href }] }] });
    expect(unknown.status).toBe(415);
    expect(await detail(unknown)).toBe('The given data source mimetype, text/x-nothing, is not one that the Tiled server knows how to read.');
    const junk = await post('/register/', { structure_family: 'container', id: 'junk', data_sources: [{ mimetype: 'application/x-hdf5', assets: [{ data_uri: pathToFileURL(join(dir, 'junk.h5')).href }] }] });
    expect(junk.status).toBe(422);
    expect(await detail(junk)).toMatch(/Not an HDF5 file/);
    for (const route of ['/metadata/sample', '/register/sample']) {
      const under = await post(route, { structure_family: 'container', id: 'extra' });
      expect({ route, status: under.status, detail: await detail(under) }).toEqual({ route, status: 405, detail: expect.stringMatching(/^Cannot (create|register) a node under sample: it is a registered file, whose children come from the file$/) });
    }
    const viaMetadata = await post('/metadata/', { structure_family: 'table', data_sources: [{ mimetype: 'text/csv', assets: [{ data_uri: pathToFileURL(join(dir, 'runs.csv')).href }] }] });
    expect(viaMetadata.status).toBe(400);
    expect(await keys()).not.toContain('secret');
  });

  it('a registered file that breaks later fails only its own node; the listing still answers', async () => {
    const path = join(dir, 'later.csv');
    writeFileSync(path, 'q\n1\n');
    const made = await post('/register/', { structure_family: 'table', id: 'later', data_sources: [{ mimetype: 'text/csv', assets: [{ data_uri: pathToFileURL(path).href }] }] });
    expect(made.status).toBe(200);
    unlinkSync(path);
    const listing = await get('/search/?fields=');
    expect(listing.status).toBe(200);
    expect(await keys()).toContain('later');
    // The record is still there (and can be deleted); reading its data answers for this node alone.
    expect((await get('/metadata/later')).status).toBe(200);
    const broken = await get('/table/full/later');
    expect(broken.status).toBe(404);
    expect(await detail(broken)).toMatch(/no longer exists/);
    expect(await json('/table/full/runs')).toEqual({ run: [1, 2], energy: [0.5, 1.25], sample: ['water', 'salt, fine'] });
    const removed = await fetch(`${server.api}/metadata/later`, { method: 'DELETE', headers: AUTH });
    expect(removed.status).toBe(200);
  });

  it('deleting a registered node removes its records, never the file', async () => {
    const response = await fetch(`${server.api}/metadata/sub?recursive=true`, { method: 'DELETE', headers: AUTH });
    expect(response.status).toBe(200);
    expect(await keys()).not.toContain('sub');
    expect(existsSync(join(dir, 'sub', 'nested.csv'))).toBe(true);
  });

  it('--watch registers added files, re-registers changed ones and removes deleted ones', async () => {
    writeFileSync(join(live, 'first.csv'), 'v\n1\n');
    const child = spawn(process.execPath, [TILED_BIN, 'register', server.url, live, '--watch', '--prefix', '/live/now', '--api-key', KEY], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const seen = (): string => output;
    try {
      await until(async () => output.includes('Watching'), 'the watch start', seen);
      expect(await json('/table/full/live/now/first')).toEqual({ v: [1] });
      writeFileSync(join(live, 'second.csv'), 'w\n2\n3\n');
      await until(async () => (await keys('live/now')).includes('second'), 'the added file', seen);
      expect(await json('/table/full/live/now/second')).toEqual({ w: [2, 3] });
      writeFileSync(join(live, 'first.csv'), 'v,extra\n7,8\n9,10\n');
      await until(async () => JSON.stringify(await json('/table/full/live/now/first')) === JSON.stringify({ v: [7, 9], extra: [8, 10] }), 'the changed file', seen);
      unlinkSync(join(live, 'second.csv'));
      await until(async () => !(await keys('live/now')).includes('second'), 'the removed file', seen);
    } finally {
      child.kill('SIGTERM');
    }
  });
});

describe.each(testEngines())('POST /register records on %s', (engine) => {
  let db: TestDatabase;
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-register-db-'));
    writeFileSync(join(dir, 'runs.csv'), 'run\n1\n2\n');
    const uri = engine === 'sqlite' ? db.uri.replace(/auth\.db$/, 'catalog.db') : db.uri;
    server = await startTiled(['serve', 'catalog', uri, '--init', '-r', dir, '--api-key', KEY]);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the node, its external data source and asset, and DELETE removes the records only', async () => {
    const dataUri = pathToFileURL(join(dir, 'runs.csv')).href;
    const response = await fetch(`${server.api}/register/`, {
      method: 'POST',
      headers: { ...AUTH, 'content-type': 'application/json' },
      body: JSON.stringify({ structure_family: 'table', id: 'runs', metadata: { color: 'red' }, data_sources: [{ structure_family: 'table', mimetype: 'text/csv', management: 'external', assets: [{ data_uri: dataUri, is_directory: false, parameter: 'data_uri', num: null }] }] }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data_sources: unknown[] };
    expect(body).toMatchObject({ id: 'runs', links: { self: `${server.api}/metadata//runs`, full: `${server.api}/table/full//runs` } }); // Tiled 0.2.16 writes the empty root path so
    expect(body.data_sources[0]).toMatchObject({ management: 'external', mimetype: 'text/csv', structure: { columns: ['run'], npartitions: 1 }, assets: [{ data_uri: dataUri, parameter: 'data_uri', num: null }] });
    const table = (await (await fetch(`${server.api}/table/full/runs`, { headers: { ...AUTH, accept: 'application/json' } })).json()) as unknown;
    expect(table).toEqual({ run: [1, 2] });
    if (engine === 'postgres') {
      const client = new Client({ connectionString: db.uri });
      await client.connect();
      try {
        const rows = await client.query(
          `SELECT ds.management, ds.mimetype, a.data_uri, x.parameter FROM nodes n JOIN data_sources ds ON ds.node_id = n.id
             JOIN data_source_asset_association x ON x.data_source_id = ds.id JOIN assets a ON a.id = x.asset_id WHERE n.key = 'runs'`,
        );
        expect(rows.rows).toEqual([{ management: 'external', mimetype: 'text/csv', data_uri: dataUri, parameter: 'data_uri' }]);
      } finally {
        await client.end();
      }
    }
    const deleted = await fetch(`${server.api}/metadata/runs`, { method: 'DELETE', headers: AUTH });
    expect(deleted.status).toBe(200);
    expect(existsSync(join(dir, 'runs.csv'))).toBe(true);
    expect((await fetch(`${server.api}/metadata/runs`, { headers: AUTH })).status).toBe(404);
  });
});

describe('expose_raw_assets: false', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-register-assets-'));
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'runs.csv'), 'run\n1\n');
    writeFileSync(
      join(dir, 'config.yml'),
      `expose_raw_assets: false\ntrees:\n  - path: /\n    tree: catalog\n    args: {uri: "sqlite:///${join(dir, 'catalog.db')}", readable_storage: [./data], init_if_not_exists: true}\n`,
    );
    server = await startTiled(['serve', 'config', join(dir, 'config.yml'), '--api-key', KEY]);
  });

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses the asset routes with Tiled\'s 403 while the data still reads', async () => {
    const result = await runTiled(['register', server.url, join(dir, 'data'), '--api-key', KEY]);
    expect(result.code).toBe(0);
    expect((await (await fetch(`${server.api}/table/full/runs`, { headers: { ...AUTH, accept: 'application/json' } })).json()) as unknown).toEqual({ run: [1] });
    const response = await fetch(`${server.api}/asset/bytes/runs?id=1`, { headers: AUTH });
    expect(response.status).toBe(403);
    expect(await detail(response)).toBe('This Tiled server is configured not to allow downloading raw assets.');
  });
});
