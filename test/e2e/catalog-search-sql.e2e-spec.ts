/* eslint-disable @typescript-eslint/no-explicit-any -- response documents are walked ad hoc, as a client would */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { queries, queryParams } from '../../src/client/queries';
import type { Query } from '../../src/client/queries';
import { distinctOf } from '../../src/catalog/query/distinct';
import type { Filter, SortKey } from '../../src/catalog/query/filter-ast';
import { applySort } from '../../src/catalog/query/sorting';
import type { StructureFamily } from '../../src/catalog/tree/tree.types';
import type { SearchQuery } from '../../src/catalog/writable/sql-search';
import { KEYS, generate, inMemory, queryArb, sortArb } from '../helpers/generated-catalog';
import type { Reference } from '../helpers/generated-catalog';
import { createTestDatabase, EngineName, TestDatabase, testEngines } from '../helpers/postgres';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

/*
 * A served catalog (`tree: catalog`) searches in its database: nodes written through the API, then
 * generated filters, sorts, pages and /distinct requests over HTTP answer exactly what the in-memory path
 * answers for the same nodes, on SQLite and PostgreSQL.
 */

const KEY = 'd'.repeat(64);
const AUTH = { authorization: `Apikey ${KEY}` };
const JSON_HEADERS = { ...AUTH, 'content-type': 'application/json' };
const FLOAT64 = { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null };
const COUNT = 240;

/** A parsed filter in the wire form Tiled's clients send. */
function wire(filter: Filter): Query {
  switch (filter.type) {
    case 'fulltext':
      return queries.fullText(filter.text);
    case 'keys_filter':
      return queries.keysFilter([...filter.keys]);
    case 'regex':
      return queries.regex(filter.key, filter.pattern, filter.caseSensitive);
    case 'eq':
      return queries.eq(filter.key, filter.value);
    case 'noteq':
      return queries.noteq(filter.key, filter.value);
    case 'comparison':
      return queries.comparison(filter.operator, filter.key, filter.value);
    case 'contains':
      return queries.contains(filter.key, filter.value);
    case 'in':
      return queries.in(filter.key, [...filter.value]);
    case 'notin':
      return queries.notIn(filter.key, [...filter.value]);
    case 'keypresent':
      return queries.keyPresent(filter.key, filter.exists);
    case 'like':
      return queries.like(filter.key, filter.pattern);
    case 'specs':
      return queries.specs([...filter.include], [...filter.exclude]);
    case 'structure_family':
      return queries.structureFamily(filter.value);
    case 'access_blob_filter':
      throw new Error('sent by the server itself, never by a client');
  }
}

function params(query: SearchQuery): URLSearchParams {
  return queryParams([...query.filters.map(wire), ...query.lookups.map((k) => queries.lookup(k))]);
}

const sortParams = (sorting: readonly SortKey[]): string[] => sorting.map((s) => `${s.direction < 0 ? '-' : ''}${s.key === '' ? '_' : s.key}`);

describe.each(testEngines())('a served catalog searches in SQL (%s)', (engine: EngineName) => {
  let server: RunningServer;
  let db: TestDatabase;
  let dir: string;
  const children: Reference[] = [];

  const post = async (path: string, body: unknown): Promise<void> => {
    const response = await fetch(`${server.api}/metadata/${path}`, { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify(body) });
    if (response.status !== 200) throw new Error(`POST ${path}: ${response.status} ${await response.text()}`);
  };
  const getJson = async (path: string): Promise<Record<string, any>> => {
    const response = await fetch(`${server.api}/${path}`, { headers: AUTH });
    if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return (await response.json()) as Record<string, any>;
  };

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-catalog-search-'));
    const config = join(dir, 'config.yml');
    writeFileSync(config, ['trees:', '  - path: /', '    tree: catalog', `    args: {uri: "${db.uri}", writable_storage: ["./data"], init_if_not_exists: true}`].join('\n'));
    server = await startTiled(['serve', 'config', config, '--api-key', KEY]);
    // Decoys at the root: another container's children must never appear in `parent`'s answers.
    await post('', { id: 'parent', structure_family: 'container', metadata: {}, specs: [] });
    await post('', { id: 'other', structure_family: 'container', metadata: {}, specs: [] });
    for (const node of generate(20, 11)) await post('other', { id: node.key, structure_family: 'container', metadata: node.metadata, specs: node.specs });
    // Tables need column data; containers and (empty) arrays are enough for structure_family filters.
    const nodes = generate(COUNT, 42).map((n) => ({ ...n, family: n.family === 'table' ? 'container' : n.family }));
    for (let start = 0; start < nodes.length; start += 8) {
      await Promise.all(
        nodes.slice(start, start + 8).map((n) => {
          const dataSources = n.family === 'array'
            ? [{ structure_family: 'array', structure: { data_type: FLOAT64, chunks: [[1]], shape: [1], dims: null, resizable: false }, id: null, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' }]
            : [];
          return post('parent', { id: n.key, structure_family: n.family, metadata: n.metadata, specs: n.specs, data_sources: dataSources });
        }),
      );
    }
    // Concurrent creation: the database's ids, not the generated order, are the insertion order.
    const ids = (await getJson(`search/parent?page[limit]=300`)).data.map((d: { id: string }) => d.id) as string[];
    const byKey = new Map(nodes.map((n) => [n.key, n]));
    for (const key of ids) {
      const n = byKey.get(key)!;
      children.push({ id: children.length, candidate: { key, family: n.family as StructureFamily, metadata: n.metadata, specs: n.specs ?? [] } });
    }
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists, counts and pages the children written through the API', async () => {
    expect(children.map((c) => c.candidate.key).sort()).toEqual(generate(COUNT, 42).map((n) => n.key).sort());
    expect((await getJson('metadata/parent')).data.attributes.structure.count).toBe(COUNT);
    const page = await getJson('search/parent?page[offset]=230&page[limit]=20');
    expect(page.meta.count).toBe(COUNT);
    expect(page.data.map((d: { id: string }) => d.id)).toEqual(children.slice(230).map((c) => c.candidate.key));
    const arrayChild = children.find((c) => c.candidate.family === 'array')!;
    const found = page.data.concat((await getJson(`search/parent?filter[lookup][condition][key]=${arrayChild.candidate.key}`)).data);
    expect(found.at(-1).attributes).toMatchObject({ structure_family: 'array', structure: { shape: [1] }, metadata: arrayChild.candidate.metadata });
  });

  it('answers generated filters, sorts and pages over HTTP as the in-memory search does', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb(engine), sortArb, fc.nat(COUNT + 10), fc.integer({ min: 0, max: 40 }), async (query, sorting, offset, limit) => {
        const expected = applySort(inMemory(children, query, 'search'), sorting);
        const search = params(query);
        for (const sort of sortParams(sorting)) search.append('sort', sort);
        search.set('page[offset]', String(offset));
        search.set('page[limit]', String(limit));
        search.set('fields', 'metadata');
        const body = await getJson(`search/parent?${search}`);
        expect(body.meta.count).toBe(expected.length);
        expect(body.data.map((d: { id: string }) => d.id)).toEqual(expected.slice(offset, offset + limit).map((c) => c.key));
        for (const d of body.data) expect(d.attributes.metadata).toEqual(expected.find((c) => c.key === d.id)?.metadata);
      }),
      { numRuns: 150, seed: 20261203 },
    );
  });

  it('answers generated /distinct requests with the in-memory values, order and counts', async () => {
    await fc.assert(
      fc.asyncProperty(queryArb(engine), fc.uniqueArray(fc.constantFrom(...KEYS), { maxLength: 3 }), fc.boolean(), fc.boolean(), async (query, metadata, specs, counts) => {
        const request = { metadata, structureFamilies: true, specs, counts };
        const search = params(query);
        for (const key of metadata) search.append('metadata', key);
        search.set('structure_families', 'true');
        search.set('specs', String(specs));
        search.set('counts', String(counts));
        expect(await getJson(`distinct/parent?${search}`)).toEqual(distinctOf(inMemory(children, query, 'distinct'), request));
      }),
      { numRuns: 60, seed: 20261204 },
    );
  });

  it('pages through every child exactly once in insertion order while others are being created', async () => {
    const before = children.map((c) => c.candidate.key);
    let writes = 0;
    const writer = (async (): Promise<void> => {
      for (; writes < 30; writes++) await post('parent', { id: `late${writes}`, structure_family: 'container', metadata: { late: writes }, specs: [] });
    })();
    const seen: string[] = [];
    for (let offset = 0; ; offset += 25) {
      const body = await getJson(`search/parent?page[offset]=${offset}&page[limit]=25`);
      seen.push(...body.data.map((d: { id: string }) => d.id));
      if (!body.links.next) break;
    }
    await writer;
    expect(seen.slice(0, before.length)).toEqual(before);
    expect(seen.slice(before.length)).toEqual(Array.from({ length: seen.length - before.length }, (_, i) => `late${i}`));
    expect((await getJson('search/parent?page[limit]=0')).meta.count).toBe(COUNT + 30);
  });
});

describe('the search migration on an existing SQLite catalog', () => {
  it('upgrade-database adds it, indexing the nodes already there; downgrade-database takes it away again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-catalog-upgrade-'));
    const db = join(dir, 'catalog.db');
    try {
      expect((await runTiled(['catalog', 'init', db])).code).toBe(0);
      const down = await runTiled(['catalog', 'downgrade-database', `sqlite:///${db}`, 'CatalogInitial1796000000000']);
      expect(down.stderr).toMatch(/undid PgAccessGrants1796000000012, PgSearchValues1796000000011, SqlAccess1796000000010, SqlSearch1796000000001/);
      // A catalog written before search in SQL existed: its rows have no full-text or value index entries.
      const refused = await runTiled(['serve', 'catalog', db, '--api-key', KEY]);
      expect(refused.stderr).toMatch(/needs to be upgraded.*tiled catalog upgrade-database/);
      const { DataSource } = await import('typeorm');
      const raw = new DataSource({ type: 'better-sqlite3', database: db });
      await raw.initialize();
      await raw.query(`INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated) VALUES ('old', NULL, 'container', '{"title": "written before", "n": 3}', '[]', '{}', 0, 0)`);
      await raw.destroy();
      expect((await runTiled(['catalog', 'upgrade-database', `sqlite:///${db}`])).stderr).toMatch(/upgraded \(SqlSearch1796000000001, SqlAccess1796000000010, PgSearchValues1796000000011, PgAccessGrants1796000000012\)/);
      const server = await startTiled(['serve', 'catalog', db, '--api-key', KEY]);
      try {
        const search = async (query: string): Promise<string[]> =>
          ((await (await fetch(`${server.api}/search/?${query}`, { headers: AUTH })).json()) as { data: { id: string }[] }).data.map((d) => d.id);
        expect(await search('filter[fulltext][condition][text]=before')).toEqual(['old']);
        expect(await search('filter[eq][condition][key]=n&filter[eq][condition][value]=3')).toEqual(['old']);
      } finally {
        await server.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
