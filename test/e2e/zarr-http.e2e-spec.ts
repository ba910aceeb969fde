import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docBlocks, printedLines, runShell } from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { toyConfig } from '../helpers/toy-config';
import { esm } from '../helpers/esm';

/**
 * Zarr over HTTP as Tiled 0.2.16 serves it, read by a real Zarr reader (zarrita with @zarrita/storage's
 * FetchStore), on a multi-user server so API keys and their scopes apply exactly as on /api/v1.
 */
const TREE = join(__dirname, '..', 'fixtures', 'trees', 'exports-tree.js');
const ROOT = join(__dirname, '..', '..');


interface ZarrArray {
  shape: number[];
  dtype: string;
  chunks: number[];
  attrs: Record<string, unknown>;
}
interface Zarrita {
  open: {
    v2(location: unknown, options: { kind: 'array' | 'group' }): Promise<ZarrArray>;
    v3(location: unknown, options: { kind: 'array' | 'group' }): Promise<ZarrArray & { attrs: Record<string, unknown> }>;
  };
  get(array: ZarrArray): Promise<{ data: ArrayLike<number | bigint | boolean>; shape: number[] }>;
}
type FetchStoreClass = new (url: string, options?: { fetch?: (request: Request) => Promise<Response> }) => unknown;

describe('Zarr over HTTP (/zarr/v2, /zarr/v3)', () => {
  let server: RunningServer;
  let dir: string;
  let readKey: string;
  let metadataOnlyKey: string;
  let zarr: Zarrita;
  let FetchStore: FetchStoreClass;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-zarr-'));
    const config = join(dir, 'config.yml');
    writeFileSync(config, toyConfig({ users: { alice: 'alice-pw' } }).replace('tree: demo', `tree: ${JSON.stringify(`${TREE}:tree`)}`));
    server = await startTiled(['serve', 'config', config]);
    const login = await fetch(`${server.api}/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=alice-pw',
    });
    const { access_token: token } = (await login.json()) as { access_token: string };
    const key = async (scopes: string[]): Promise<string> => {
      const created = await fetch(`${server.api}/auth/apikey`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scopes }),
      });
      return ((await created.json()) as { secret: string }).secret;
    };
    readKey = await key(['read:metadata', 'read:data']);
    metadataOnlyKey = await key(['read:metadata']);
    zarr = await esm<Zarrita>('zarrita');
    ({ FetchStore } = await esm<{ FetchStore: FetchStoreClass }>('@zarrita/storage'));
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A store that sends the key as the header (or, with `inQuery`, as `?api_key=`), as Tiled clients do. */
  const store = (path: string, key = readKey, inQuery = false): unknown =>
    new FetchStore(`${server.url}${path}`, {
      fetch: (request) =>
        inQuery ? fetch(`${request.url}?api_key=${key}`) : fetch(new Request(request, { headers: { authorization: `Apikey ${key}` } })),
    });
  const json = async <T>(path: string): Promise<T> =>
    (await fetch(`${server.api}${path}`, { headers: { authorization: `Apikey ${readKey}`, accept: 'application/json' } })).json() as Promise<T>;
  const plain = (values: ArrayLike<number | bigint | boolean>): unknown[] => Array.from(values, (v) => (typeof v === 'bigint' ? Number(v) : typeof v === 'boolean' ? Number(v) : v));

  it('refuses callers without a key (401) and keys without read:data (401, naming the scopes)', async () => {
    for (const path of ['/zarr/v3/demo/small/zarr.json', '/zarr/v3/demo/small/c/0/0', '/zarr/v2/demo/small/.zarray', '/zarr/v2/demo/small/0.0']) {
      expect({ path, status: (await fetch(`${server.url}${path}`)).status }).toEqual({ path, status: 401 });
      const scoped = await fetch(`${server.url}${path}`, { headers: { authorization: `Apikey ${metadataOnlyKey}` } });
      expect({ path, status: scoped.status }).toEqual({ path, status: 401 });
      expect(((await scoped.json()) as { detail: string }).detail).toBe("Not enough permissions. Requires scopes ['read:metadata', 'read:data']. Request had scopes ['read:metadata']");
    }
    await expect(zarr.open.v3(store('/zarr/v3/demo/small', metadataOnlyKey), { kind: 'array' })).rejects.toThrow();
  });

  it('zarrita reads arrays of every dtype and chunking through /zarr/v3, equal to /array/full', async () => {
    for (const path of ['demo/small', 'demo/medium', 'demo/nested/deeper/cube', 'demo/arrays/int64_1d', 'demo/arrays/int32_2d', 'demo/arrays/bool_1d', 'demo/arrays/uint8_image', 'signed', 'scalar']) {
      const array = await zarr.open.v3(store(`/zarr/v3/${path}`), { kind: 'array' });
      const expected = await json<unknown>(`/array/full/${path}`);
      const read = await zarr.get(array);
      if (array.shape.length === 0) {
        // zarrita gives a 0-D array's value itself.
        expect({ path, value: read }).toEqual({ path, value: expected });
        continue;
      }
      expect({ path, shape: read.shape }).toEqual({ path, shape: (await json<{ data: { attributes: { structure: { shape: number[] } } } }>(`/metadata/${path}`)).data.attributes.structure.shape });
      const flat = Array.isArray(expected) ? (expected as unknown[]).flat(3) : [expected];
      expect({ path, values: plain(read.data) }).toEqual({ path, values: flat.map((v) => (typeof v === 'boolean' ? Number(v) : v)) });
    }
    const cube = await zarr.open.v3(store('/zarr/v3/demo/nested/deeper/cube'), { kind: 'array' });
    expect(cube.attrs).toEqual({ kind: 'cube' });
  });

  it('zarrita reads the same arrays through /zarr/v2, with the key in ?api_key=', async () => {
    for (const path of ['demo/small', 'demo/medium', 'demo/arrays/int32_2d', 'demo/arrays/float32_2d', 'demo/table/y']) {
      const array = await zarr.open.v2(store(`/zarr/v2/${path}`, readKey, true), { kind: 'array' });
      const read = await zarr.get(array);
      const expected = (await json<unknown[]>(`/array/full/${path}`)).flat();
      expect({ path, values: plain(read.data) }).toEqual({ path, values: expected });
    }
  });

  it('serves the metadata documents and chunk keys of Tiled 0.2.16', async () => {
    const get = (path: string): Promise<Response> => fetch(`${server.url}${path}`, { headers: { authorization: `Apikey ${readKey}` } });
    expect(await (await get('/zarr/v2/demo/medium/.zarray')).json()).toEqual({
      chunks: [50, 50],
      compressor: { id: 'blosc', cname: 'lz4', clevel: 5, shuffle: 1, blocksize: 0 },
      dtype: '<f8',
      fill_value: null,
      filters: null,
      order: 'C',
      shape: [100, 100],
      zarr_format: 2,
    });
    expect(await (await get('/zarr/v2/demo/nested/.zgroup')).json()).toEqual({ zarr_format: 2 });
    expect(await (await get('/zarr/v3/demo/nested/zarr.json')).json()).toEqual({ zarr_format: 3, node_type: 'group', attributes: { description: 'a nested container', sample: { id: 7, tags: ['x', 'y'] } } });
    const cube = (await (await get('/zarr/v3/demo/nested/deeper/cube/zarr.json')).json()) as Record<string, unknown>;
    expect(cube).toMatchObject({ data_type: 'float64', chunk_grid: { name: 'regular', configuration: { chunk_shape: [2, 5, 3] } }, dimension_names: ['z', 'y', 'x'], fill_value: 0 });
    // Containers list their children, tables their columns, as URLs.
    expect(await (await get('/zarr/v3/demo/nested/')).json()).toEqual([`${server.url}/zarr/v3/demo/nested/vec`, `${server.url}/zarr/v3/demo/nested/deeper`]);
    expect(await (await get('/zarr/v2/demo/table')).json()).toEqual(['x', 'y', 'name'].map((c) => `${server.url}/zarr/v2/demo/table/${c}`));
    // A group opened by zarrita, and its attributes.
    const group = await zarr.open.v3(store('/zarr/v3/demo/nested'), { kind: 'group' });
    expect(group.attrs).toMatchObject({ description: 'a nested container' });
  });

  it('answers bad chunk keys, missing nodes and oversized chunks with a 4xx and a detail', async () => {
    const get = async (path: string): Promise<[number, string]> => {
      const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Apikey ${readKey}` } });
      return [response.status, ((await response.json()) as { detail: string }).detail];
    };
    expect(await get('/zarr/v2/demo/small/9.0')).toEqual([400, 'Index of zarr block [9, 0] is out of range.']);
    expect(await get('/zarr/v3/demo/small/c/0')).toEqual([400, 'Requested zarr block index [0] is inconsistent with the shape of array, (10, 10).']);
    expect((await get('/zarr/v3/demo/nope/zarr.json'))[0]).toBe(404);
    expect((await get('/zarr/v2/demo/small/.zgroup'))[0]).toBe(404);
    const [status, detail] = await get('/zarr/v3/huge/c/0/0');
    expect(status).toBe(400);
    expect(detail).toMatch(/^Zarr chunk of 72000000 bytes exceeds the limit of 67108864 bytes/);
    expect(server.output()).not.toContain('the export limits should have refused this read');
  });

  it("docs/client.md's Zarr example prints what its comment says", async () => {
    const [example] = docBlocks(join(ROOT, 'docs', 'client.md')).filter((block) => block.kind === 'zarr');
    // The fixture serves the demo tree under demo/; the example reads it at the root, as `tiled serve demo` does.
    const source = example.body.join('\n').split('http://localhost:8000/zarr/v3/').join(`${server.url}/zarr/v3/demo/`);
    const consumer = mkdtempSync(join(tmpdir(), 'tiled-zarr-example-'));
    try {
      symlinkSync(join(ROOT, 'node_modules'), join(consumer, 'node_modules'), 'dir');
      writeFileSync(join(consumer, 'example.mjs'), source);
      const result = await runShell(`cd '${consumer}' && node example.mjs`, { TILED_API_KEY: readKey });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim().split('\n')).toEqual(printedLines(source));
    } finally {
      rmSync(consumer, { recursive: true, force: true });
    }
  });
});
