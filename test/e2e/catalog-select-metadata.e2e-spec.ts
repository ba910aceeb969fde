import { decode } from '@msgpack/msgpack';
import { useDemoServer } from '../helpers/tiled-process';

interface Resource {
  id: string;
  attributes: Record<string, unknown> & { metadata: Record<string, unknown> | null };
  links: Record<string, string> | null;
}

const MALFORMED = "Malformed 'select_metadata' parameter raised JMESPathError: ";

describe('select_metadata on /metadata and /search (tiled serve demo)', () => {
  const demo = useDemoServer();

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => demo.get(path, headers);
  const select = (expression: string): string => `select_metadata=${encodeURIComponent(expression)}`;
  const resource = async (path: string): Promise<Resource> => ((await (await get(path)).json()) as { data: Resource }).data;
  const page = async (path: string): Promise<Resource[]> => ((await (await get(path)).json()) as { data: Resource[] }).data;

  const expectMalformed = async (path: string, detail: RegExp): Promise<void> => {
    const response = await get(path);
    expect({ path, status: response.status }).toEqual({ path, status: 400 });
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as { detail: string };
    expect(body.detail.startsWith(MALFORMED)).toBe(true);
    expect(body.detail.slice(MALFORMED.length)).toMatch(detail);
  };

  describe('bad expressions', () => {
    it('answers 400 naming the parse error, on both routes, before building any resource', async () => {
      await expectMalformed(`/metadata/nested?${select('sample.')}`, /column 7.*sample\.$/);
      await expectMalformed(`/metadata/nested?${select('')}`, /column 0/);
      await expectMalformed(`/search/?${select('sample[')}`, /sample\[$/);
      // Nothing would be selected from an empty page, yet the expression is still refused.
      await expectMalformed(`/search/?page[limit]=0&${select('$.sample')}`, /unknown token "\$"/);
    });

    it('answers 400 when the expression fails on the metadata it is given', async () => {
      await expectMalformed(`/metadata/nested?${select('abs(description)')}`, /abs\(\).*"number".*"string"/);
      await expectMalformed(`/search/?${select('nope(@)')}`, /Unknown function: nope\(\)/);
    });

    it('lets the 422 of another bad parameter come first, as FastAPI validates before the route runs', async () => {
      const response = await get(`/search/?page[limit]=301&${select('sample.')}`);
      expect(response.status).toBe(422);
    });
  });

  describe('GET /metadata', () => {
    it('replaces the metadata with {"selected": …} and leaves the rest of the resource alone', async () => {
      const plain = await resource('/metadata/nested');
      const selected = await resource(`/metadata/nested?${select('sample.id')}`);
      expect(selected.attributes.metadata).toEqual({ selected: 7 });
      expect({ ...selected.attributes, metadata: null }).toEqual({ ...plain.attributes, metadata: null });
      expect(selected.links).toEqual(plain.links);
      // Documents are cached by query string: the plain document is still the full metadata.
      expect((await resource('/metadata/nested')).attributes.metadata).toEqual({ description: 'a nested container', sample: { id: 7, tags: ['x', 'y'] } });
    });

    it('selects null when nothing matches, including names every JavaScript object inherits', async () => {
      for (const expression of ['sample.nope', 'missing.deeper[0]', 'constructor', '__proto__', 'sample.toString', 'sample.tags[5]']) {
        expect({ expression, metadata: (await resource(`/metadata/nested?${select(expression)}`)).attributes.metadata }).toEqual({ expression, metadata: { selected: null } });
      }
    });

    it('evaluates full JMESPath: projections, filters, functions, multi-select', async () => {
      const metadataOf = async (expression: string): Promise<unknown> => (await resource(`/metadata/experiments/run_2?${select(expression)}`)).attributes.metadata;
      expect(await metadataOf('sample.name')).toEqual({ selected: 'germanium' });
      expect(await metadataOf('{who: operator, cold: contains(tags, `"cold"`)}')).toEqual({ selected: { who: 'bob', cold: true } });
      expect(await metadataOf('tags[?starts_with(@, `"p"`)]')).toEqual({ selected: ['production'] });
      expect(await metadataOf('length(keys(@))')).toEqual({ selected: 5 });
      expect(await metadataOf('{warm: sample.temperature > `100`}')).toEqual({ selected: { warm: false } });
    });

    it('writes a selected date as Tiled does: ISO text in JSON, a Timestamp in msgpack', async () => {
      const path = `/metadata/experiments/run_1?${select('[started, sample]')}`;
      const json = await resource(path);
      expect(json.attributes.metadata).toEqual({ selected: ['2024-01-15T09:30:00+00:00', { name: 'silicon', temperature: 295.5 }] });
      const response = await get(path, { accept: 'application/x-msgpack' });
      expect(response.headers.get('content-type')).toBe('application/x-msgpack');
      const packed = (decode(new Uint8Array(await response.arrayBuffer())) as { data: Resource }).data;
      const [started, sample] = (packed.attributes.metadata as { selected: unknown[] }).selected;
      expect(started).toBeInstanceOf(Date);
      expect((started as Date).toISOString()).toBe('2024-01-15T09:30:00.000Z');
      expect(sample).toEqual({ name: 'silicon', temperature: 295.5 });
    });

    it('has nothing to select from when fields leaves the metadata out', async () => {
      const attributes = (await resource(`/metadata/nested?fields=structure&${select('sample.id')}`)).attributes;
      expect(attributes.metadata).toBeNull();
      expect(attributes.structure).toEqual({ contents: null, count: 2 });
    });
  });

  describe('GET /search', () => {
    it('selects from every resource of the page', async () => {
      const data = await page(`/search/experiments?${select('sample.name')}`);
      expect(data.map((d) => [d.id, d.attributes.metadata])).toEqual([
        ['run_1', { selected: 'silicon' }],
        ['run_2', { selected: 'germanium' }],
      ]);
      const many = await page(`/search/many?page[limit]=3&fields=metadata&${select('index')}`);
      expect(many.map((d) => d.attributes.metadata)).toEqual([{ selected: 0 }, { selected: 1 }, { selected: 2 }]);
      expect(many[0].attributes.structure).toBeNull();
    });

    it('works alongside filters, and keys-only fields stay keys only', async () => {
      const filtered = await page(`/search/many?filter[eq][condition][key]=index&filter[eq][condition][value]=3&${select('[color, parity]')}`);
      expect(filtered.map((d) => [d.id, d.attributes.metadata])).toEqual([['item_003', { selected: ['red', 'odd'] }]]);
      const keys = await page(`/search/many?page[limit]=2&fields=&${select('index')}`);
      expect(keys.map((d) => d.attributes.metadata)).toEqual([null, null]);
    });

    it('gives the same page in msgpack as in JSON', async () => {
      const path = `/search/many?page[limit]=50&${select('{i: index, t: tags[0], f: flagged}')}`;
      const json = await (await get(path)).json();
      const packed = decode(new Uint8Array(await (await get(path, { accept: 'application/x-msgpack' })).arrayBuffer()));
      expect(packed).toEqual(json);
      expect((json as { data: Resource[] }).data[0].attributes.metadata).toEqual({ selected: expect.objectContaining({ i: 0 }) });
    });
  });
});
