import { ArrayNode, Container, fromUri, queries, TableNode, TiledClientError } from '../../src/client';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = 'b'.repeat(64);

async function collect<T>(iterator: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterator) items.push(item);
  return items;
}

describe('TypeScript client browsing `tiled serve demo`', () => {
  let server: RunningServer;
  let root: Container;

  beforeAll(async () => {
    server = await startTiled(['serve', 'demo', '--api-key', KEY]);
    root = (await fromUri(server.url, { apiKey: KEY })) as Container;
  });
  afterAll(async () => server.stop());

  it('surfaces a wrong key as TiledClientError with the server\'s status and detail', async () => {
    const failure = await fromUri(server.url, { apiKey: 'c'.repeat(64) }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TiledClientError);
    expect(failure).toMatchObject({ status: 401, detail: 'Invalid API key', message: '401 Invalid API key' });
  });

  it('picks the key up from TILED_API_KEY when none is passed', async () => {
    process.env.TILED_API_KEY = KEY;
    try {
      const node = await fromUri(server.url);
      expect(node.metadata).toEqual({ title: 'tiled-ts demo tree', version: 1 });
    } finally {
      delete process.env.TILED_API_KEY;
    }
  });

  it('takes the key from ?api_key= in the URI and opens the node the URI points at', async () => {
    const vec = await fromUri(`${server.url}/api/v1/metadata/nested/vec?api_key=${KEY}`);
    expect(vec).toBeInstanceOf(ArrayNode);
    expect((vec as ArrayNode).shape).toEqual([5]);
  });

  it('lists the root container\'s keys lazily', async () => {
    const keys = await collect(root.keys());
    expect(keys.slice(0, 5)).toEqual(['small', 'medium', 'ints', 'table', 'nested']);
    expect(await root.length()).toBe(keys.length);
  });

  it('follows links.next across pages of a large container', async () => {
    const many = (await root.get('many')) as Container;
    const count = await many.length();
    expect(count).toBeGreaterThan(100);
    const keys = await collect(many.keys());
    expect(keys).toHaveLength(count);
    expect(new Set(keys).size).toBe(count);
    expect(keys[0]).toBe('item_000');
  });

  it('searches with filters that the server applies, keeping them on every page', async () => {
    const many = (await root.get('many')) as Container;
    const even = many.search(queries.eq('parity', 'even'));
    const keys = await collect(even.keys());
    expect(keys.length).toBe(Math.ceil((await many.length()) / 2));
    expect(keys.every((key) => Number(key.slice(5)) % 2 === 0)).toBe(true);
    const items = await collect(even.search(queries.comparison('lt', 'index', 10)).items());
    expect(items.map(([key]) => key)).toEqual(['item_000', 'item_002', 'item_004', 'item_006', 'item_008']);
    expect(items[1][1].metadata).toMatchObject({ index: 2, parity: 'even' });
  });

  it('reads an array as a typed array with its shape', async () => {
    const small = (await root.get('small')) as ArrayNode;
    expect(small.dtype).toBe('<f8');
    const full = await small.read();
    expect(full.shape).toEqual([10, 10]);
    expect(full.data).toBeInstanceOf(Float64Array);
    expect(Array.from(full.data.slice(0, 3) as Float64Array)).toEqual([0, 0.25, 0.5]);
    const part = await small.read({ slice: '1:3,::5' });
    expect(part.shape).toEqual([2, 2]);
    expect(Array.from(part.data as Float64Array)).toEqual([2.5, 3.75, 5, 6.25]);
  });

  it('reads int32 data and single chunks', async () => {
    const ints = (await root.get('ints')) as ArrayNode;
    const data = await ints.read();
    expect(data.data).toBeInstanceOf(Int32Array);
    expect(Array.from(data.data as Int32Array)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    const medium = (await root.get('medium')) as ArrayNode;
    const block = await medium.readBlock([1, 0]);
    expect(block.shape).toEqual([50, 50]);
    expect((block.data as Float64Array)[0]).toBe(5000);
  });

  it('reads a table into an Arrow table, whole or by partition and column', async () => {
    const table = (await root.get('table')) as TableNode;
    expect(table.columns).toEqual(['x', 'y', 'name']);
    const all = await table.read();
    expect(all.numRows).toBe(6);
    expect(all.getChild('name')?.toArray()).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    const second = await table.readPartition(1, { columns: ['x'] });
    expect(second.schema.fields.map((field) => field.name)).toEqual(['x']);
    expect(Array.from(second.getChild('x')!.toArray() as BigInt64Array)).toEqual([3n, 4n, 5n]);
  });

  it('reports a missing node with the server\'s 404 detail', async () => {
    const failure = await root.get('does-not-exist').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TiledClientError);
    expect((failure as TiledClientError).status).toBe(404);
  });
});
