import { decode } from '@msgpack/msgpack';
import { useDemoServer } from '../helpers/tiled-process';

interface Resource {
  id: string;
  attributes: Record<string, unknown> & { metadata: Record<string, unknown> | null; ancestors: string[] };
  links: Record<string, string> | null;
}
interface SearchDocument {
  data: Resource[];
  links: { self: string; first: string; next: string | null };
  meta: { count: number };
}

describe('catalog metadata, search and distinct (tiled serve demo)', () => {
  const demo = useDemoServer();

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => demo.get(path, headers);
  const search = async (path: string): Promise<SearchDocument> => (await (await get(path)).json()) as SearchDocument;

  describe('GET /metadata', () => {
    it('describes the root container with Tiled\'s envelope and links', async () => {
      const response = await get('/metadata/');
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({
        data: {
          id: '',
          attributes: {
            ancestors: [],
            structure_family: 'container',
            specs: [],
            metadata: { title: 'tiled-ts demo tree', version: 1 },
            structure: { contents: null, count: 10 },
            access_blob: null,
            sorting: [{ key: '_', direction: 1 }],
            data_sources: null,
          },
          links: { self: `${demo.server.api}/metadata/`, search: `${demo.server.api}/search/`, full: `${demo.server.api}/container/full/` },
          meta: null,
        },
        error: null,
        links: null,
        meta: {},
      });
    });

    it('matches the reference server for the small array', async () => {
      const body = (await (await get('/metadata/small')).json()) as { data: Resource };
      expect(body.data.attributes.structure).toEqual({
        data_type: { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null },
        chunks: [[10], [10]],
        shape: [10, 10],
        dims: null,
        resizable: false,
      });
      expect(body.data.links).toEqual({
        self: `${demo.server.api}/metadata/small`,
        full: `${demo.server.api}/array/full/small`,
        block: `${demo.server.api}/array/block/small?block={0},{1}`,
      });
    });

    it('carries the same content in msgpack, with dates as Timestamps', async () => {
      const json = (await (await get('/metadata/experiments/run_1', { accept: 'application/json' })).json()) as { data: Resource };
      const response = await get('/metadata/experiments/run_1', { accept: 'application/x-msgpack' });
      expect(response.headers.get('content-type')).toBe('application/x-msgpack');
      const packed = decode(new Uint8Array(await response.arrayBuffer())) as { data: Resource };
      const started = packed.data.attributes.metadata!.started;
      expect(started).toBeInstanceOf(Date);
      expect((started as Date).toISOString()).toBe('2024-01-15T09:30:00.000Z');
      expect(json.data.attributes.metadata!.started).toBe('2024-01-15T09:30:00+00:00');
      const { started: _a, ...restJson } = json.data.attributes.metadata!;
      const { started: _b, ...restPacked } = packed.data.attributes.metadata!;
      expect(restPacked).toEqual(restJson);
      expect(packed.data.attributes.specs).toEqual([{ name: 'xdi', version: '1.0' }]);
      expect(packed.data.links).toEqual(json.data.links);
    });

    it('answers 304 to a matching If-None-Match and a new ETag for other params', async () => {
      const first = await get('/metadata/nested');
      const etag = first.headers.get('etag')!;
      expect((await get('/metadata/nested', { 'if-none-match': etag })).status).toBe(304);
      const other = await get('/metadata/nested?omit_links=true');
      expect(other.headers.get('etag')).not.toBe(etag);
      expect(((await other.json()) as { data: Resource }).data.links).toBeNull();
    });
  });

  describe('GET /search', () => {
    it('visits every child of a 200-child container exactly once following links.next', async () => {
      const seen: string[] = [];
      let url: string | null = `${demo.server.api}/search/many?page[limit]=37`;
      let pages = 0;
      while (url) {
        const doc = (await (await fetch(url, { headers: demo.auth })).json()) as SearchDocument;
        expect(doc.meta.count).toBe(200);
        seen.push(...doc.data.map((d) => d.id));
        url = doc.links.next;
        pages++;
      }
      expect(pages).toBe(6);
      expect(new Set(seen).size).toBe(200);
      expect(seen).toHaveLength(200);
    });

    it('writes pagination links as the reference server does', async () => {
      const doc = await search('/search/?page[offset]=1&page[limit]=2');
      expect(doc.data.map((d) => d.id)).toEqual(['medium', 'ints']);
      expect(doc.links).toEqual({
        self: `${demo.server.api}/search/?page[offset]=1&page[limit]=2`,
        first: `${demo.server.api}/search/?page[limit]=2`,
        next: `${demo.server.api}/search/?page[offset]=3&page[limit]=2`,
      });
      const empty = await search('/search/?page[limit]=0');
      expect(empty.data).toEqual([]);
      expect(empty.links.next).toBe(`${demo.server.api}/search/?page[offset]=0&page[limit]=0`);
    });

    it('returns keys only for fields= and only metadata for fields=metadata', async () => {
      const keys = await search('/search/?page[limit]=1&fields=');
      expect(keys.data[0].attributes).toEqual({ ancestors: [], structure_family: null, specs: null, metadata: null, structure: null, access_blob: null, sorting: null, data_sources: null });
      expect(keys.data[0].links).toEqual({ self: `${demo.server.api}/metadata/small` });
      const meta = await search('/search/?fields=metadata&page[limit]=5');
      expect(meta.data[0].attributes.metadata).toEqual({ units: 'counts', kind: 'small' });
      expect(meta.data[0].attributes.structure).toBeNull();
      expect(meta.data.find((d) => d.id === 'nested')!.attributes.structure_family).toBe('container');
    });

    it('sorts by metadata keys and reverses the default order', async () => {
      const reversed = await search('/search/many?sort=-&fields=&page[limit]=2');
      expect(reversed.data.map((d) => d.id)).toEqual(['item_199', 'item_198']);
      const byScore = await search('/search/many?sort=-score&sort=index&fields=metadata&page[limit]=300');
      const scores = byScore.data.map((d) => d.attributes.metadata!.score as number);
      expect(scores).toEqual([...scores].sort((a, b) => b - a));
    });

    it('applies every filter type', async () => {
      const ids = async (filters: string): Promise<string[]> => (await search(`/search/many?fields=&page[limit]=300&${filters}`)).data.map((d) => d.id);
      const q = (name: string, field: string, value: string): string => `filter[${name}][condition][${field}]=${encodeURIComponent(value)}`;
      expect(await ids(q('eq', 'key', 'index') + '&' + q('eq', 'value', '3'))).toEqual(['item_003']);
      expect(await ids(q('noteq', 'key', 'parity') + '&' + q('noteq', 'value', '"even"'))).toHaveLength(100);
      expect(await ids(`${q('comparison', 'operator', 'lt')}&${q('comparison', 'key', 'index')}&${q('comparison', 'value', '2')}`)).toEqual(['item_000', 'item_001']);
      expect(await ids(q('contains', 'key', 'tags') + '&' + q('contains', 'value', '"tenth"'))).toHaveLength(20);
      expect(await ids(q('in', 'key', 'index') + '&' + q('in', 'value', '[5, 7, 999]'))).toEqual(['item_005', 'item_007']);
      expect(await ids(q('notin', 'key', 'group') + '&' + q('notin', 'value', '[0,1,2,3,4,5]'))).toHaveLength(28);
      expect(await ids(q('keypresent', 'key', 'flagged') + '&' + q('keypresent', 'exists', 'true'))).toHaveLength(50);
      expect(await ids(q('regex', 'key', 'color') + '&' + q('regex', 'pattern', '^R') + '&' + q('regex', 'case_sensitive', 'false'))).toHaveLength(67);
      expect(await ids(q('like', 'key', 'color') + '&' + q('like', 'pattern', '"gr%"'))).toHaveLength(67);
      expect(await ids(q('specs', 'include', '["quintet"]') + '&' + q('specs', 'exclude', '[]'))).toHaveLength(40);
      expect(await ids(q('fulltext', 'text', 'tenth'))).toHaveLength(20);
      expect(await ids(q('lookup', 'key', 'item_042'))).toEqual(['item_042']);
      expect(await ids(q('structure_family', 'value', 'array'))).toHaveLength(200);
      // Two queries of one type are zipped and ANDed.
      expect(await ids(`${q('eq', 'key', 'parity')}&${q('eq', 'key', 'group')}&${q('eq', 'value', '"odd"')}&${q('eq', 'value', '3')}`)).toEqual(
        Array.from({ length: 200 }, (_, i) => i).filter((i) => i % 2 === 1 && i % 7 === 3).map((i) => `item_${String(i).padStart(3, '0')}`),
      );
    });

    it('gives the same page in msgpack as in JSON', async () => {
      const json = await search('/search/many?page[limit]=100');
      const packed = decode(new Uint8Array(await (await get('/search/many?page[limit]=100', { accept: 'application/x-msgpack' })).arrayBuffer()));
      expect(packed).toEqual(json);
    });

    it('counts matches for fields=count', async () => {
      const doc = await search('/search/many?fields=count&filter[eq][condition][key]=color&filter[eq][condition][value]=%22red%22');
      expect(doc.meta.count).toBe(67);
    });
  });

  describe('GET /distinct', () => {
    it('lists distinct metadata values with counts, structure families and specs', async () => {
      const body = await (await get('/distinct/many?metadata=color&structure_families=true&specs=true&counts=true')).json();
      expect(body).toEqual({
        metadata: { color: [{ value: 'red', count: 67 }, { value: 'green', count: 67 }, { value: 'blue', count: 66 }] },
        structure_families: [{ value: 'array', count: 200 }],
        specs: [{ value: [{ name: 'quintet', version: null }], count: 40 }, { value: [], count: 160 }],
      });
      const root = await (await get('/distinct/?metadata=kind')).json();
      expect(root).toEqual({ metadata: { kind: [{ value: 'small', count: null }, { value: 'medium', count: null }, { value: 'table', count: null }, { value: 'big', count: null }] }, structure_families: null, specs: null });
    });
  });
});
