import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { tableFromIPC } from 'apache-arrow';
import { Workbook } from 'exceljs';
import { runTiled, startTiled, type RunningServer } from '../helpers/tiled-process';

const ADAPTER = join(__dirname, '..', 'fixtures', 'adapters', 'numbers-adapter.js');
const SHELF = join(__dirname, '..', 'fixtures', 'adapters', 'shelf-adapter.js');
const KEY = 'c0ffee00d1rect0ry5erve7e57key0000000000000000000000000000000000aa';
const ARROW = 'application/vnd.apache.arrow.file';

async function writeWorkbook(path: string): Promise<void> {
  const workbook = new Workbook();
  const first = workbook.addWorksheet('first');
  first.addRows([
    ['x', 'y', 'label'],
    [1, 0.5, 'one'],
    [2, 1.5, 'two'],
    [3, 2.5, 'three'],
  ]);
  const second = workbook.addWorksheet('second');
  second.addRows([
    ['flag', 'count', 'when', 'formula'],
    [true, 10, new Date(Date.UTC(2024, 0, 2, 3, 4, 5)), { formula: 'B2*2', result: 20 }],
    [false, 20, new Date(Date.UTC(2025, 5, 6)), { formula: 'B3*2', result: 40 }],
  ]);
  await workbook.xlsx.writeFile(path);
}

/** Snappy by default (pandas' default); gzip and zstd as polars and others write them. */
function writeParquet(path: string, codec: 'SNAPPY' | 'GZIP' | 'ZSTD' = 'SNAPPY'): void {
  // hyparquet-writer is an ES module; Node loads it through require().
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { parquetWriteBuffer } = require('hyparquet-writer') as { parquetWriteBuffer(options: unknown): ArrayBuffer };
  const buffer = parquetWriteBuffer({
    codec,
    compressors: { GZIP: (bytes: Uint8Array) => gzipSync(bytes), ZSTD: (bytes: Uint8Array) => zstdCompressSync(bytes) },
    columnData: [
      { name: 'id', data: [1, 2, 3, 4, 5], type: 'INT32' },
      { name: 'big', data: [10n, 20n, 30n, 40n, 9007199254740993n], type: 'INT64' },
      { name: 'energy', data: [1.25, 2.5, 3.75, 5, 6.25], type: 'DOUBLE' },
      { name: 'name', data: ['a', 'b', 'c', 'd', 'e'], type: 'STRING' },
    ],
    rowGroupSize: 3,
  });
  writeFileSync(path, Buffer.from(buffer));
}

describe('tiled serve directory', () => {
  let dir: string;
  let outside: string;
  let server: RunningServer;
  const get = (path: string, accept = 'application/json'): Promise<Response> =>
    fetch(`${server.api}${path}`, { headers: { authorization: `Apikey ${KEY}`, accept } });
  const json = async (path: string): Promise<Record<string, unknown>> => (await (await get(path)).json()) as Record<string, unknown>;
  const arrow = async (path: string): Promise<Record<string, unknown[]>> => {
    const response = await get(path, ARROW);
    expect(response.status).toBe(200);
    const table = tableFromIPC(new Uint8Array(await response.arrayBuffer()));
    return Object.fromEntries(table.schema.fields.map((f) => [f.name, [...table.getChild(f.name)!.toArray()]]));
  };
  const keys = async (path = ''): Promise<string[]> =>
    ((await json(`/search/${path}?fields=`)).data as { id: string }[]).map((d) => d.id);
  const until = async (check: () => Promise<boolean>, what: string): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`never saw ${what}:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-serve-dir-'));
    outside = mkdtempSync(join(tmpdir(), 'tiled-outside-'));
    writeFileSync(join(dir, 'runs.csv'), 'run,energy,sample,ok\n1,0.5,water,True\n2,1.25,"salt, fine",False\n3,-7e3,ice,True\n');
    mkdirSync(join(dir, 'sub'));
    writeFileSync(join(dir, 'sub', 'nested.csv'), 'a\n10\n20\n');
    await writeWorkbook(join(dir, 'book.xlsx'));
    writeParquet(join(dir, 'table.parquet'));
    mkdirSync(join(dir, 'codecs'));
    writeParquet(join(dir, 'codecs', 'gzip.parquet'), 'GZIP');
    writeParquet(join(dir, 'codecs', 'zstd.parquet'), 'ZSTD');
    writeFileSync(join(dir, 'broken.csv'), 'a,b\n1,2\n3\n');
    writeFileSync(join(dir, 'corrupt.xlsx'), 'PK\x03\x04 this is not a workbook');
    writeFileSync(join(dir, 'values.num'), '1.5\n2.5\n4\n');
    writeFileSync(join(dir, 'items.shelf'), '');
    writeFileSync(join(outside, 'secret.csv'), 'secret\n42\n');
    symlinkSync(join(outside, 'secret.csv'), join(dir, 'escape.csv'));
    server = await startTiled(
      ['serve', 'directory', dir, '--watch', '--api-key', KEY, '--ext', '.num=text/x-numbers', '--adapter', `text/x-numbers=${ADAPTER}:openNumbers`, '--ext', '.shelf=text/x-shelf', '--adapter', `text/x-shelf=${SHELF}:openShelf`],
      { env: { TILED_SINGLE_USER_API_KEY: undefined } },
    );
    await server.waitForOutput('Initial indexing complete. Watching for changes...', 15_000);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('prints Tiled\'s lines and lists the folder under keys without extensions, leaving out broken and escaping files', async () => {
    expect(server.output()).toContain(`Server is up. Indexing files in ${dir}...`);
    expect(await keys()).toEqual(['book', 'codecs', 'items', 'runs', 'sub', 'table', 'values']);
    expect(await keys('sub')).toEqual(['nested']);
    expect(server.output()).toMatch(/WARNING: Skipping escape\.csv: a symbolic link pointing outside the served directory/);
  });

  it('reads every CSV value back as Arrow and JSON, with inferred column types', async () => {
    const meta = (await json('/metadata/runs')) as { data: { attributes: { structure_family: string; structure: { columns: string[]; npartitions: number } } } };
    expect(meta.data.attributes.structure_family).toBe('table');
    expect(meta.data.attributes.structure).toMatchObject({ columns: ['run', 'energy', 'sample', 'ok'], npartitions: 1 });
    expect(await arrow('/table/full/runs')).toEqual({ run: [1n, 2n, 3n], energy: [0.5, 1.25, -7000], sample: ['water', 'salt, fine', 'ice'], ok: [true, false, true] });
    expect(await json('/table/full/runs?format=json')).toEqual({ run: [1, 2, 3], energy: [0.5, 1.25, -7000], sample: ['water', 'salt, fine', 'ice'], ok: [true, false, true] });
    expect(await json('/table/full/sub/nested?format=json')).toEqual({ a: [10, 20] });
  });

  it('serves an Excel workbook as a container of one table per sheet', async () => {
    expect(await keys('book')).toEqual(['first', 'second']);
    expect(await arrow('/table/full/book/first')).toEqual({ x: [1n, 2n, 3n], y: [0.5, 1.5, 2.5], label: ['one', 'two', 'three'] });
    expect(await json('/table/full/book/second?format=json')).toEqual({
      flag: [true, false],
      count: [10, 20],
      when: ['2024-01-02T03:04:05.000Z', '2025-06-06T00:00:00.000Z'],
      formula: [20, 40],
    });
  });

  it('reads gzip- and zstd-compressed Parquet files too', async () => {
    for (const codec of ['gzip', 'zstd']) expect((await arrow(`/table/full/codecs/${codec}`)).name).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('serves a Parquet file with one partition per row group', async () => {
    const meta = (await json('/metadata/table')) as { data: { attributes: { structure: { npartitions: number } } } };
    expect(meta.data.attributes.structure.npartitions).toBe(2);
    expect(await arrow('/table/partition/table?partition=1')).toEqual({ id: [4, 5], big: [40n, 9007199254740993n], energy: [5, 6.25], name: ['d', 'e'] });
    expect(await arrow('/table/full/table')).toEqual({
      id: [1, 2, 3, 4, 5],
      big: [10n, 20n, 30n, 40n, 9007199254740993n],
      energy: [1.25, 2.5, 3.75, 5, 6.25],
      name: ['a', 'b', 'c', 'd', 'e'],
    });
  });

  it('leaves out a corrupt CSV or workbook with a logged warning, as Tiled does, while the rest keeps working', async () => {
    // Tiled registers the folder file by file; a file its adapter cannot open is reported and not registered.
    expect((await get('/metadata/broken')).status).toBe(404);
    expect(server.output()).toMatch(/WARNING: Cannot register \/broken: broken\.csv: Not a valid CSV file: Invalid Record Length/);
    expect((await get('/table/full/corrupt/sheet')).status).toBe(404);
    expect(server.output()).toMatch(/WARNING: Cannot register \/corrupt: corrupt\.xlsx: Not a readable \.xlsx workbook/);
    expect((await get('/table/full/runs?format=json')).status).toBe(200);
  });

  it('lists a container whose one child cannot be opened without it; that child answers its own error', async () => {
    expect(await keys('items')).toEqual(['good']);
    const bad = await get('/metadata/items/bad');
    expect(bad.status).toBe(422);
    expect(await bad.json()).toEqual({ detail: 'This shelf item is broken' });
    expect(server.output()).toContain('Leaving "bad" out of a listing: This shelf item is broken');
    expect(await json('/table/full/items/good?format=json')).toEqual({ v: [1] });
  });

  it('never reaches outside the folder', async () => {
    // Sent byte for byte: fetch() would resolve the dot segments itself before they reached the server.
    const raw = (path: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const { hostname, port } = new URL(server.url);
        const req = request({ hostname, port, path: `/api/v1${path}`, headers: { authorization: `Apikey ${KEY}` } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    for (const path of ['/table/full/escape', '/metadata/..', '/table/full/sub/../../secret', '/table/full/%2e%2e%2fsecret', '/table/full/..%2F..%2Fetc%2Fpasswd']) {
      const response = await raw(path);
      expect({ path, status: response.status }).toEqual({ path, status: 404 });
      expect(response.body).not.toContain('42');
    }
  });

  it('reads a format through a third-party adapter given with --adapter', async () => {
    expect(await json('/table/full/values?format=json')).toEqual({ value: [1.5, 2.5, 4] });
    const meta = (await json('/metadata/values')) as { data: { attributes: { metadata: unknown } } };
    expect(meta.data.attributes.metadata).toEqual({ source: 'numbers-adapter' });
  });

  it('with --watch, shows an added, a changed and a removed CSV within seconds', async () => {
    writeFileSync(join(dir, 'added.csv'), 'n\n5\n');
    await until(async () => (await keys()).includes('added'), 'added.csv');
    expect(await json('/table/full/added?format=json')).toEqual({ n: [5] });

    writeFileSync(join(dir, 'added.csv'), 'n,m\n6,7\n8,9\n');
    await until(async () => (await get('/table/full/added?format=json')).status === 200 && JSON.stringify(await json('/table/full/added?format=json')).includes('"m"'), 'the changed added.csv');
    expect(await json('/table/full/added?format=json')).toEqual({ n: [6, 8], m: [7, 9] });

    unlinkSync(join(dir, 'added.csv'));
    await until(async () => (await get('/metadata/added')).status === 404, 'added.csv removed');
    expect(await keys()).not.toContain('added');

    // In a sub-folder, and in a folder made after the server started.
    writeFileSync(join(dir, 'sub', 'late.csv'), 'z\n1\n');
    mkdirSync(join(dir, 'fresh'));
    writeFileSync(join(dir, 'fresh', 'first.csv'), 'y\n2\n');
    await until(async () => (await keys('sub')).includes('late') && (await get('/metadata/fresh/first')).status === 200, 'sub/late.csv and fresh/first.csv');
    writeFileSync(join(dir, 'fresh', 'second.csv'), 'x\n3\n');
    await until(async () => (await get('/table/full/fresh/second?format=json')).status === 200, 'fresh/second.csv');
    expect(await json('/table/full/fresh/second?format=json')).toEqual({ x: [3] });
  });
});

/** The fenced blocks of one language in docs/files.md, in order ('' for blocks without one). */
function docBlocks(language: string): string[] {
  const blocks: string[] = [];
  let open: { language: string; lines: string[] } | undefined;
  for (const line of readFileSync(join(__dirname, '..', '..', 'docs', 'files.md'), 'utf8').split('\n')) {
    if (!line.startsWith('```')) open?.lines.push(line);
    else if (open) {
      if (open.language === language) blocks.push(`${open.lines.join('\n')}\n`);
      open = undefined;
    } else open = { language: line.slice(3).trim(), lines: [] };
  }
  return blocks;
}

describe('tiled serve directory refusing bad input before it listens', () => {
  it.each([
    [['/nonexistent/tiled-folder'], '/nonexistent/tiled-folder does not exist'],
    [['.', '--ext', 'tif=image/tiff'], `--ext "tif=image/tiff": expected '.ext=mimetype', e.g. '.tif=image/tiff' (with the leading dot)`],
    [['.', '--adapter', 'text/x-foo=./nowhere.js:open'], `Cannot load the adapter for "text/x-foo" (--adapter 'text/x-foo=./nowhere.js:open'): file `],
    [['.', '--include-ext', 'csv'], '--include-ext "csv": include the leading dot, e.g. .csv'],
  ])('exits 2 for %j', async (args, message) => {
    const result = await runTiled(['serve', 'directory', ...args, '--port', '0']);
    expect({ code: result.code, stderr: result.stderr }).toEqual({ code: 2, stderr: expect.stringContaining(message) });
  });
});

describe('tree: directory in a YAML configuration (docs/files.md)', () => {
  let dir: string;

  beforeAll(() => {
    // Laid out as a user would have it: tiled-ts installed, the adapter next to the configuration.
    dir = mkdtempSync(join(tmpdir(), 'tiled-dir-config-'));
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(__dirname, '..', '..'), join(dir, 'node_modules', 'tiled-ts'));
    copyFileSync(ADAPTER, join(dir, 'numbers-adapter.js'));
    writeFileSync(join(dir, 'data', 'values.num'), '3\n1\n');
    writeFileSync(join(dir, 'data', 'table.csv'), 'a\n1\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints what docs/files.md shows for `tiled serve directory ./data`, and honours --keep-ext and --include-ext', async () => {
    const server = await startTiled(['serve', 'directory', './data', '--api-key', KEY, '--keep-ext', '--include-ext', '.csv', '--ext', '.num=text/csv'], { cwd: dir });
    try {
      await server.waitForOutput('Indexing complete.');
      const shown = docBlocks('').find((block) => block.includes('Server is up.'))!;
      const port = new URL(server.url).port;
      for (const line of shown.trim().split('\n')) expect(server.output()).toContain(line.replace(':8000', `:${port}`));
      const listing = (await (await fetch(`${server.api}/search/?fields=`, { headers: { authorization: `Apikey ${KEY}` } })).json()) as { data: { id: string }[] };
      expect(listing.data.map((d) => d.id)).toEqual(['table.csv']);
    } finally {
      await server.stop();
    }
  });

  it('shows the adapter the tests load', () => {
    expect(docBlocks('js')).toContain(readFileSync(ADAPTER, 'utf8'));
  });

  it('loads a third-party adapter named in adapters_by_mimetype', async () => {
    const [yaml] = docBlocks('yaml');
    expect(yaml).toContain('adapters_by_mimetype: {text/x-numbers: ./numbers-adapter.js:openNumbers}');
    writeFileSync(join(dir, 'config.yml'), `${yaml}authentication:\n  single_user_api_key: ${KEY}\n`);
    const server = await startTiled(['serve', 'config', join(dir, 'config.yml')]);
    try {
      const response = await fetch(`${server.api}/table/full/files/values?format=json`, { headers: { authorization: `Apikey ${KEY}` } });
      expect(await response.json()).toEqual({ value: [3, 1] });
      const csv = await fetch(`${server.api}/table/full/files/table?format=json`, { headers: { authorization: `Apikey ${KEY}` } });
      expect(await csv.json()).toEqual({ a: [1] });
    } finally {
      await server.stop();
    }
  });

  it('refuses an adapter that cannot be loaded, naming the file, the key path and what was expected', async () => {
    const config = join(dir, 'bad.yml');
    writeFileSync(config, ['trees:', '  - path: /', '    tree: directory', '    args:', '      directory: ./data', '      adapters_by_mimetype: {text/x-numbers: ./missing.js:open}', ''].join('\n'));
    const result = await runTiled(['serve', 'config', config, '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`Cannot load the adapter for "text/x-numbers" (trees[0].args.adapters_by_mimetype["text/x-numbers"] in ${config}): file ${join(dir, 'missing.js')} not found`);
  });
});
