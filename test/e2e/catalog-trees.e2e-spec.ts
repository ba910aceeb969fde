import { join } from 'node:path';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

const FIXTURES = join(__dirname, '..', 'fixtures', 'trees');

describe('tree modules (tiled serve module)', () => {
  describe('a CommonJS module exporting a tree factory (the docs/catalog.md example)', () => {
    let server: RunningServer;
    let auth: Record<string, string>;

    beforeAll(async () => {
      server = await startTiled(['serve', 'module', './example-tree.js:tree', '--api-key', 'a'.repeat(64)], { cwd: FIXTURES });
      auth = { authorization: `Apikey ${'a'.repeat(64)}` };
    });
    afterAll(async () => server.stop());

    it('serves the tree at the root, with the default args', async () => {
      const root = (await (await fetch(`${server.api}/metadata/`, { headers: auth })).json()) as { data: { attributes: Record<string, unknown> } };
      expect(root.data.attributes.metadata).toEqual({ owner: 'nobody' });
      expect(root.data.attributes.specs).toEqual([{ name: 'example', version: null }]);
      const search = (await (await fetch(`${server.api}/search/`, { headers: auth })).json()) as { data: { id: string }[] };
      expect(search.data.map((d) => d.id)).toEqual(['temperatures', 'grid', 'log']);
    });

    it('serves its arrays and tables', async () => {
      const grid = await fetch(`${server.api}/array/full/grid?format=json`, { headers: auth });
      expect(await grid.json()).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      const block = await fetch(`${server.api}/array/block/grid?block=1,0&format=json`, { headers: auth });
      expect(await block.json()).toEqual([[4, 5, 6]]);
      const log = await fetch(`${server.api}/table/full/log`, { headers: { ...auth, accept: 'text/csv' } });
      expect(await log.text()).toBe('step,ok,note\n1,True,start\n2,False,stop\n');
    });
  });

  it('serves an ES module exporting a plain tree object', async () => {
    const server = await startTiled(['serve', 'module', join(FIXTURES, 'esm-tree.mjs') + ':tree', '--api-key', 'b'.repeat(64)]);
    try {
      const response = await fetch(`${server.api}/array/full/values?format=json`, { headers: { authorization: `Apikey ${'b'.repeat(64)}` } });
      expect(await response.json()).toEqual([1, 2, 3]);
    } finally {
      await server.stop();
    }
  });

  describe('a tree that cannot be loaded stops startup with exit status 2 and one clear line', () => {
    const cases: [string, RegExp][] = [
      ['./nowhere.js:tree', /Cannot load tree "\.\/nowhere\.js:tree" \(trees\[0\]\.tree from the command line\): file .*nowhere\.js not found/],
      ['no-such-package-xyz:tree', /package "no-such-package-xyz" not found from .*Install it next to the config/],
      ['./example-tree.js:missing', /has no export "missing" \(it exports: .*tree/],
      ['./not-a-tree.js:tree', /is not a tree: 'family' must be 'container', 'array' or 'table', got "forest"/],
      ['./syntax-error.js:tree', /syntax-error\.js failed to load: SyntaxError/],
      ['./throws.js:tree', /calling tree\(args\) failed: database unreachable/],
    ];
    it.each(cases)('%s', async (specifier, message) => {
      const result = await runTiled(['serve', 'module', specifier, '--port', '0'], { cwd: FIXTURES });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    });
  });
});
