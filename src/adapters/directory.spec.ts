import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterRegistration } from './adapter.types';
import type { TableNode } from '../catalog/tree/tree.types';
import { DirectoryIndex, stripSuffixes, walkDirectory, type DirectoryOptions, type WalkEntry } from './directory';
import { AdapterRegistry, createAdapterRegistry, loadAdapter, parseAdapterOption, parseExtOption } from './registry';
import { BUILTIN_ADAPTERS } from './builtin-adapters';

/** Naming-only registrations: the walk never opens files, so these formats need no real adapter here. */
const named = (mimetype: string, extensions: string[] = [], directory = false): AdapterRegistration => ({
  mimetype,
  extensions,
  directory,
  open: () => Promise.reject(new Error('not opened by the walk')),
});
const REGISTRY = new AdapterRegistry(BUILTIN_ADAPTERS, {
  adapters: [named('image/tiff'), named('multipart/related;type=image/tiff'), named('application/x-zarr', [], true), named('application/x-hdf5')],
});

describe('walkDirectory', () => {
  let dir: string;
  const warnings: string[] = [];
  const logger = { log: () => undefined, warn: (m: unknown) => void warnings.push(String(m)) };
  const touch = (path: string): void => {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), 'x');
  };
  const walk = async (options: DirectoryOptions = {}): Promise<Map<string, WalkEntry>> => {
    const out = new Map<string, WalkEntry>();
    for await (const entry of walkDirectory(dir, { registry: REGISTRY, logger, ...options })) out.set(entry.segments.join('/'), entry);
    return out;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-walk-'));
    warnings.length = 0;
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('should key files by their name without extensions, unless keepExt', async () => {
    touch('measurements.csv');
    touch('thing.tar.csv');
    touch('notes.txt');
    touch('.hidden.csv');
    touch('sub/inner.csv');
    mkdirSync(join(dir, '.git'));
    touch('.git/config.csv');
    const entries = await walk();
    expect([...entries.keys()]).toEqual(['measurements', 'sub', 'thing', 'sub/inner']);
    expect(entries.get('measurements')).toMatchObject({ mimetype: 'text/csv', directory: false, paths: [join(dir, 'measurements.csv')] });
    expect(entries.get('sub')).toMatchObject({ mimetype: null, directory: true });
    const kept = await walk({ keepExt: true });
    expect([...kept.keys()]).toEqual(['measurements.csv', 'sub', 'thing.tar.csv', 'sub/inner.csv']);
  });

  it('should group numbered TIFF files of one folder into one sequence entry', async () => {
    for (const name of ['frame_001.tif', 'frame_003.tif', 'frame_002.tif', '7.tif', 'single.tif', 'other_1.tiff']) touch(name);
    const entries = await walk();
    expect(entries.get('frame_')).toMatchObject({
      mimetype: 'multipart/related;type=image/tiff',
      paths: ['frame_001.tif', 'frame_002.tif', 'frame_003.tif'].map((n) => join(dir, n)),
    });
    expect(entries.get('_unnamed')?.paths).toEqual([join(dir, '7.tif')]);
    expect(entries.get('other_')?.paths).toEqual([join(dir, 'other_1.tiff')]);
    expect(entries.get('single')).toMatchObject({ mimetype: 'image/tiff', paths: [join(dir, 'single.tif')] });
  });

  it('should serve a Zarr store folder as one entry, by name or by its marker file', async () => {
    touch('scan.zarr/.zgroup');
    touch('scan.zarr/a/.zarray');
    touch('plain/zarr.json');
    touch('odd.csv/inner.csv');
    const entries = await walk();
    expect([...entries.keys()]).toEqual(['odd', 'plain', 'scan', 'odd/inner']);
    expect(entries.get('odd')).toMatchObject({ mimetype: null, directory: true });
    expect(entries.get('scan')).toMatchObject({ mimetype: 'application/x-zarr', directory: true, paths: [join(dir, 'scan.zarr')] });
    expect(entries.get('plain')).toMatchObject({ mimetype: 'application/x-zarr', directory: true });
  });

  it('should leave out every file of a key collision, with a warning', async () => {
    touch('a.csv');
    touch('a.h5');
    touch('b.csv');
    expect([...(await walk()).keys()]).toEqual(['b']);
    expect(warnings.join('\n')).toMatch(/a\.csv, a\.h5 would all be served as "a"/);
  });

  it('should keep only the extensions of includeExt, and honour --ext mappings', async () => {
    touch('a.csv');
    touch('b.h5');
    touch('c.dat');
    expect([...(await walk({ includeExt: ['.csv'] })).keys()]).toEqual(['a']);
    const registry = new AdapterRegistry(BUILTIN_ADAPTERS, { mimetypesByFileExt: new Map([parseExtOption('.dat=text/csv')]) });
    expect((await walk({ registry })).get('c')?.mimetype).toBe('text/csv');
  });

  it('should skip links pointing outside the folder unless allowed, and link loops', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'tiled-outside-'));
    try {
      writeFileSync(join(outside, 'secret.csv'), 'a\n1\n');
      symlinkSync(join(outside, 'secret.csv'), join(dir, 'secret.csv'));
      symlinkSync(outside, join(dir, 'elsewhere'));
      touch('sub/x.csv');
      symlinkSync(dir, join(dir, 'sub', 'loop'));
      symlinkSync(join(dir, 'sub', 'x.csv'), join(dir, 'inside.csv'));
      const entries = await walk();
      expect([...entries.keys()]).toEqual(['inside', 'sub', 'sub/x']);
      expect(warnings.join('\n')).toMatch(/secret\.csv: a symbolic link pointing outside/);
      expect(warnings.join('\n')).toMatch(/sub\/loop: a symbolic link loop/);
      const allowed = await walk({ allowSymlinksOutside: true });
      expect(allowed.get('secret')?.paths).toEqual([join(outside, 'secret.csv')]);
      expect(allowed.get('elsewhere/secret')).toBeDefined();
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('DirectoryIndex', () => {
  it('should answer a broken file with its own error and leave it out of the listing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-index-'));
    try {
      writeFileSync(join(dir, 'good.csv'), 'a\n1\n');
      writeFileSync(join(dir, 'bad.csv'), 'a,b\n1\n');
      const warnings: string[] = [];
      const index = new DirectoryIndex(dir, { logger: { log: () => undefined, warn: (m: unknown) => void warnings.push(String(m)) } });
      await index.refresh();
      expect(await index.root.keys()).toEqual(['good']);
      await expect(index.root.get('bad')).rejects.toMatchObject({ status: 422, detail: expect.stringMatching(/^bad\.csv: Not a valid CSV file/) });
      expect(warnings).toEqual([expect.stringMatching(/Cannot open bad\.csv as text\/csv/)]);
      const good = await index.root.get('good');
      expect(await index.root.get('good')).toBe(good);
      writeFileSync(join(dir, 'good.csv'), 'a\n1\n2\n');
      await index.refresh();
      const changed = await index.root.get('good');
      expect(changed).not.toBe(good);
      rmSync(join(dir, 'good.csv'));
      await expect(Promise.resolve((changed as TableNode).readPartition(0))).rejects.toMatchObject({ status: 404, detail: 'good.csv: The file no longer exists' });
      expect(warnings[warnings.length - 1]).toMatch(/Cannot read good\.csv: good\.csv: The file no longer exists/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DirectoryIndex errors', () => {
  it('should tell the client a failing adapter\'s message with paths inside the folder only', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-index-'));
    try {
      writeFileSync(join(dir, 'x.boom'), '');
      const boom: AdapterRegistration = { mimetype: 'application/x-boom', extensions: ['.boom'], open: ({ paths }) => Promise.reject(new Error(`cannot parse ${paths[0]}`)) };
      const index = new DirectoryIndex(dir, { registry: new AdapterRegistry([boom]), logger: { log: () => undefined, warn: () => undefined } });
      await index.refresh();
      await expect(index.root.get('x')).rejects.toMatchObject({ status: 500, detail: 'x.boom: cannot parse x.boom' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('AdapterRegistry', () => {
  it('should resolve compound extensions longest first and Tiled defaults', () => {
    const registry = createAdapterRegistry({ mimetypesByFileExt: new Map([['.ome.csv', 'text/x-ome']]) });
    expect(registry.mimetypeOf('a.ome.csv')).toBe('text/x-ome');
    expect(registry.mimetypeOf('a.CSV')).toBe('text/csv');
    expect(registry.mimetypeOf('book.xlsx')).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(registry.mimetypeOf('x.nxs')).toBe('application/x-hdf5');
    expect(registry.mimetypeOf('README')).toBeUndefined();
    expect(registry.lookup('Text/CSV')).toBeDefined();
    expect(stripSuffixes('thing.tar.gz')).toBe('thing');
  });

  it('should take Tiled\'s Python adapter names as the built-in adapter of the same mimetype', async () => {
    const where = { where: 'adapters_by_mimetype', baseDir: tmpdir() };
    expect((await loadAdapter('text/csv', 'tiled.adapters.csv:read_csv', where)).open).toBe(BUILTIN_ADAPTERS[0].open);
    await expect(loadAdapter('application/x-netcdf', 'tiled.adapters.netcdf:read', where)).rejects.toThrow(
      'Cannot load the adapter for "application/x-netcdf" (adapters_by_mimetype): "tiled.adapters.netcdf:read" is one of Tiled\'s Python adapters and tiled-ts has no built-in adapter for application/x-netcdf',
    );
  });

  it('should refuse malformed --ext and --adapter options with the expected spelling', () => {
    expect(() => parseExtOption('tif=image/tiff')).toThrow("expected '.ext=mimetype'");
    expect(() => parseAdapterOption('./x.js:open')).toThrow("expected 'mimetype=module:export'");
    expect(parseAdapterOption('text/x-foo = ./x.js:open')).toEqual(['text/x-foo', './x.js:open']);
  });
});
