import { join } from 'node:path';
import { createNodesDatabase, insertNodes, seededRandom } from '../../bench/sql-search-fixture';
import type { NewNode, NodesDatabase } from '../../bench/sql-search-fixture';
import { distinctOf } from '../../src/catalog/query/distinct';
import { parseFilters } from '../../src/catalog/query/filters';
import type { Candidate } from '../../src/catalog/query/filters';
import { applySort, parseSort } from '../../src/catalog/query/sorting';
import type { StructureFamily } from '../../src/catalog/tree/tree.types';
import { RunningServer, startTiled } from '../helpers/tiled-process';

/*
 * A tree whose container answers search and distinct itself (here in SQL, as the writable catalog does):
 * Tiled's wire parameters reach it decoded, and what comes back over HTTP is what the in-memory path gives.
 * The fixture's keys() is empty, so a child in any answer came through the hook.
 */

const KEY = 'c'.repeat(64);
const auth = { authorization: `Apikey ${KEY}` };

function children(count: number): NewNode[] {
  const random = seededRandom(3);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  return Array.from({ length: count }, (_, i) => ({
    key: `run${i}`,
    family: pick(['array', 'container']),
    metadata: { color: pick(['red', 'green', 'blue']), temperature: Math.floor(random() * 40), ...(random() < 0.5 ? { sample: pick(['Si', 'Ge']) } : {}) },
    specs: random() < 0.3 ? [{ name: 'xdi', version: '1.0' }] : [],
  }));
}

describe('a container that searches for itself (ContainerNode.search and .distinct)', () => {
  let db: NodesDatabase;
  let server: RunningServer;
  const nodes = children(60);
  const candidates: Candidate[] = nodes.map((n) => ({ key: n.key, family: n.family as StructureFamily, metadata: n.metadata, specs: n.specs ?? [] }));

  beforeAll(async () => {
    db = await createNodesDatabase('sqlite');
    const [parent] = await insertNodes(db, null, [{ key: 'parent', family: 'container', metadata: {} }]);
    await insertNodes(db, parent, nodes);
    const database = String(db.dataSource.options.database);
    server = await startTiled(['serve', 'module', './sql-search-tree.js:tree', '--api-key', KEY], {
      cwd: join(__dirname, '..', 'fixtures', 'trees'),
      env: { SQL_SEARCH_TREE_DB: database },
    });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
  });

  it('answers a filtered, sorted page with what the in-memory search gives, and Tiled links', async () => {
    const params = new URLSearchParams([
      ['filter[eq][condition][key]', 'color'],
      ['filter[eq][condition][value]', '"red"'],
      ['filter[comparison][condition][operator]', 'ge'],
      ['filter[comparison][condition][key]', 'temperature'],
      ['filter[comparison][condition][value]', '10'],
      ['sort', '-temperature'],
      ['page[offset]', '2'],
      ['page[limit]', '4'],
      ['fields', 'metadata'],
    ]);
    const response = await fetch(`${server.api}/search/?${params}`, { headers: auth });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { data: { id: string; attributes: { metadata: unknown } }[]; meta: { count: number }; links: { next: string | null } };
    const predicates = parseFilters(Object.fromEntries(params)).predicates;
    const expected = applySort(candidates.filter((c) => predicates.every((p) => p(c))), parseSort(['-temperature']));
    expect(expected.length).toBeGreaterThan(6);
    expect(body.meta.count).toBe(expected.length);
    expect(body.data.map((d) => d.id)).toEqual(expected.slice(2, 6).map((c) => c.key));
    expect(body.data[0].attributes.metadata).toEqual(expected[2].metadata);
    expect(body.links.next).toBe(`${server.api}/search/?page[offset]=6&page[limit]=4`);
  });

  it('counts the children through the hook', async () => {
    const root = (await (await fetch(`${server.api}/metadata/`, { headers: auth })).json()) as { data: { attributes: { structure: { count: number } } } };
    expect(root.data.attributes.structure.count).toBe(60);
    const child = await fetch(`${server.api}/metadata/run7`, { headers: auth });
    expect(child.status).toBe(200);
  });

  it('answers /distinct with the in-memory values, order and counts', async () => {
    const response = await fetch(`${server.api}/distinct/?metadata=color&metadata=sample&structure_families=true&specs=true&counts=true`, { headers: auth });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(distinctOf(candidates, { metadata: ['color', 'sample'], structureFamilies: true, specs: true, counts: true }));
  });

  it('refuses a bad pattern with 400 before the tree sees it', async () => {
    const params = new URLSearchParams([
      ['filter[regex][condition][key]', 'color'],
      ['filter[regex][condition][pattern]', '(a'],
    ]);
    const response = await fetch(`${server.api}/search/?${params}`, { headers: auth });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/not a valid regular expression/);
  });
});
