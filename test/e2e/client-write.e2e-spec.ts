import { join } from 'node:path';
import { Float64, Int32, Table, Utf8, vectorFromArray } from 'apache-arrow';
import { ArrayNode, Container, fromUri, TableNode, TiledClientError } from '../../src/client';
import { docBlocks, printedLines, runTsExample } from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = 'e'.repeat(64);
const PAGE = join(__dirname, '..', '..', 'docs', 'client.md');

describe('the TypeScript client writing to `tiled serve catalog --temp`', () => {
  let server: RunningServer;
  let client: Container;

  beforeAll(async () => {
    server = await startTiled(['serve', 'catalog', '--temp', '--api-key', KEY]);
    client = (await fromUri(server.url, { apiKey: KEY })) as Container;
  });
  afterAll(async () => server?.stop());

  for (const example of docBlocks(PAGE).filter((block) => block.kind === 'ts-catalog')) {
    it(`docs/client.md example at line ${example.line} prints what its comments say`, async () => {
      const source = example.body.join('\n').split('http://localhost:8000').join(server.url);
      const result = await runTsExample(source, { TILED_API_KEY: KEY, TILED_CACHE_DIR: join(__dirname, 'no-such-cache') });
      expect(result.stderr).toBe('');
      expect(result.stdout.trim().split('\n')).toEqual(printedLines(source));
    });
  }

  it('writes an int32 array block by block over an uneven grid and reads each block back', async () => {
    const values = Int32Array.from({ length: 20 }, (_, i) => i);
    const array = await client.writeArray(values, { key: 'grid', shape: [4, 5], chunks: [[3, 1], [2, 2, 1]], metadata: { unit: 'counts' } });
    expect(array.dtype).toBe('<i4');
    expect(Array.from((await array.read()).data as Int32Array)).toEqual(Array.from(values));
    expect(Array.from((await array.readBlock([1, 2])).data as Int32Array)).toEqual([19]);
  });

  it('extends an array with patch', async () => {
    const grid = (await client.get('grid')) as ArrayNode;
    const grown = await grid.patch(Int32Array.from([-1, -1, -1, -1, -1]), { offset: [4, 0], shape: [1, 5], extend: true });
    expect(grown.shape).toEqual([5, 5]);
    expect(Array.from((await grown.read({ slice: '4' })).data as Int32Array)).toEqual([-1, -1, -1, -1, -1]);
  });

  it('writes a table and reads it back', async () => {
    const rows = new Table({ t: vectorFromArray([0.5, 1.5], new Float64()), n: vectorFromArray([7, 8], new Int32()), s: vectorFromArray(['u', 'v'], new Utf8()) });
    const table = await client.writeTable(rows, { key: 'events' });
    expect(table.columns).toEqual(['t', 'n', 's']);
    const back = await ((await client.get('events')) as TableNode).read();
    expect(back.getChild('s')?.toArray()).toEqual(['u', 'v']);
  });

  it('appends rows to an appendable table', async () => {
    const batch = (values: number[]): Table => new Table({ t: vectorFromArray(values, new Float64()) });
    const log = await client.writeTable(batch([1, 2]), { key: 'log', appendable: true });
    await log.appendRows(batch([3]));
    expect(Array.from((await log.read()).getChild('t')!.toArray() as Float64Array)).toEqual([1, 2, 3]);
  });

  it('replaces metadata and keeps the old as a revision', async () => {
    const grid = (await client.get('grid')) as ArrayNode;
    const replaced = await grid.replaceMetadata({ unit: 'photons' }, { specs: [{ name: 'image' }] });
    expect(replaced.metadata).toEqual({ unit: 'photons' });
    expect(replaced.specs).toEqual([{ name: 'image', version: null }]);
    const revisions = (await (await fetch(`${server.api}/revisions/grid`, { headers: { authorization: `Apikey ${KEY}` } })).json()) as { meta: { count: number } };
    expect(revisions.meta.count).toBe(1);
  });

  it('surfaces a taken key as a 409 TiledClientError, and a refused delete as a 409 too', async () => {
    const taken = await client.createContainer({ key: 'grid' }).catch((error: unknown) => error);
    expect(taken).toBeInstanceOf(TiledClientError);
    expect((taken as TiledClientError).status).toBe(409);
    const grid = (await client.get('grid')) as ArrayNode;
    const refused = await grid.delete().catch((error: unknown) => error);
    expect((refused as TiledClientError).status).toBe(409);
    await grid.delete({ externalOnly: false });
    expect(await client.get('grid').catch((error: TiledClientError) => error.status)).toBe(404);
  });
});
