import fc from 'fast-check';
import { seededRandom } from '../../bench/sql-search-fixture';
import type { NewNode } from '../../bench/sql-search-fixture';
import type { Filter, SortKey } from '../../src/catalog/query/filter-ast';
import { toPredicate } from '../../src/catalog/query/filters';
import type { Candidate } from '../../src/catalog/query/filters';
import type { SearchQuery } from '../../src/catalog/writable/sql-search';

/*
 * Generated catalogs and queries for checking a search against the in-memory path (filters.ts, sorting.ts,
 * distinct.ts): used by the SQL search's own spec and by the HTTP spec of a served catalog.
 */

const COLORS = ['red', 'Red', 'green', 'blue', 'grün', 'red green'];
const WORDS = ['alpha', 'beta', 'gamma', 'Delta', 'omega', 'x_ray', 'émile', 'sample42'];
const MIX = [1, '1', true, false, null, 'abc', 2.5, 0, -1, 'B'];
const SPECS = [
  { name: 'xdi', version: '1.0' },
  { name: 'BlueskyRun', version: null },
  { name: 'other', version: '2' },
];

export function generate(count: number, seed: number, prefix = 'node'): NewNode[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)];
  const maybe = (p: number): boolean => random() < p;
  const nodes: NewNode[] = [];
  for (let i = 0; i < count; i++) {
    const metadata: Record<string, unknown> = {};
    if (maybe(0.8)) metadata.color = pick(COLORS);
    if (maybe(0.7)) metadata.n = maybe(0.2) ? Math.floor(random() * 10) - 5 + 0.5 : Math.floor(random() * 11) - 5;
    if (maybe(0.3)) metadata.flag = maybe(0.5);
    if (maybe(0.6)) metadata.tags = Array.from({ length: Math.floor(random() * 4) }, () => pick(['a', 'b', 'c', 1, 2, { k: 1 }, [1]]));
    if (maybe(0.5)) metadata.nested = maybe(0.8) ? { a: { b: pick([1, 2, 'x', 'y', null]) } } : { a: pick([3, 'flat']) };
    if (maybe(0.5)) metadata.mix = pick(MIX);
    if (maybe(0.7)) metadata.title = Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(WORDS)).join(pick([' ', '-', ', ']));
    // Stored with one key order: PostgreSQL's jsonb forgets it, so /distinct there counts {a, b} and {b, a} as one
    // value where the in-memory tally sees two (docs/search.md). Queries still use both orders.
    if (maybe(0.2)) metadata.obj = pick([{ a: 1, b: [1, 2] }, { a: 2 }, []]);
    if (maybe(0.1)) metadata['dot.key'] = 'dotted';
    if (maybe(0.5)) metadata.sample_id = pick(['S1', 'S2', 3, 'é', [1]]);
    if (maybe(0.2)) metadata['a[0]'] = pick([1, 2]);
    nodes.push({
      key: `${prefix}${i}`,
      family: pick(['container', 'array', 'table']),
      metadata,
      specs: SPECS.filter(() => maybe(0.3)),
      accessBlob: { user: pick(['alice', 'bob']), tags: ['t1', 't2', 't3'].filter(() => maybe(0.4)) },
    });
  }
  return nodes;
}

// Keys and values the generated queries draw from: present, missing, nested, non-object intermediates.
export const KEYS = ['color', 'n', 'flag', 'tags', 'nested.a.b', 'nested.a', 'nested', 'mix', 'title', 'obj', 'missing', 'dot.key', 'nested.a.b.c', 'sample_id', 'a[0]', 'tags.0'];
/** Sorting compares composite values by their JSON text, which differs between engines: kept to scalars. */
export const SORT_KEYS = ['color', 'n', 'flag', 'nested.a.b', 'mix', 'title', 'missing', 'sample_id'];
export const VALUES: unknown[] = ['red', 'Red', 'green', 'a', 'x', '1', 'abc', 'S1', 'é', 1, 2, 3, 2.5, -3, 0, 1.5, true, false, null, [1], [1, 2], { k: 1 }, { a: 1, b: [1, 2] }, { b: [1, 2], a: 1 }];

/**
 * PostgreSQL's text-search parser, which Tiled's catalog uses, also splits words at `_` (so `x` finds `x_ray`)
 * and keeps `1.5` whole; the in-memory filter does neither (docs/search.md). Terms that tell them apart are
 * left to the test that shows the difference.
 */
export const FULLTEXT_ALL = ['alpha', 'ALPHA beta', 'x_ray', 'émile', 'red', 'grün', 'sample42', 'nothing', 'red-green', '', 'x'];
const FULLTEXT_BOTH = FULLTEXT_ALL.filter((t) => t !== 'x');
const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom(...VALUES);
export const filterArb = (engine: string): fc.Arbitrary<Filter> => fc.oneof(
  fc.record({ type: fc.constant('fulltext' as const), text: fc.constantFrom(...(engine === 'sqlite' ? FULLTEXT_ALL : FULLTEXT_BOTH)) }),
  fc.record({ type: fc.constant('keys_filter' as const), keys: fc.array(fc.constantFrom('node1', 'node2', 'node50', 'nope', 'node299'), { maxLength: 3 }) }),
  fc.record({
    type: fc.constant('regex' as const),
    key,
    pattern: fc.constantFrom('^re', 'e.$', '[0-9]', 'RED', 'a|b', '^$', '(?i)gr', 'ü'),
    caseSensitive: fc.boolean(),
  }),
  fc.record({ type: fc.constantFrom('eq' as const, 'noteq' as const), key, value }),
  fc.record({ type: fc.constant('comparison' as const), operator: fc.constantFrom('lt' as const, 'le' as const, 'gt' as const, 'ge' as const), key, value }),
  fc.record({ type: fc.constant('contains' as const), key, value }),
  fc.record({ type: fc.constantFrom('in' as const, 'notin' as const), key, value: fc.array(value, { maxLength: 3 }) }),
  fc.record({ type: fc.constant('keypresent' as const), key, exists: fc.boolean() }),
  fc.record({ type: fc.constant('like' as const), key, pattern: fc.constantFrom('re%', '%e_', '_l%', '%', 'R%', '%a%a%', '', 'red', 'gr_n', '\\%') }),
  fc.record({ type: fc.constant('specs' as const), include: fc.array(fc.constantFrom('xdi', 'BlueskyRun', 'nope'), { maxLength: 2 }), exclude: fc.array(fc.constantFrom('xdi', 'other'), { maxLength: 2 }) }),
  fc.record({ type: fc.constant('structure_family' as const), value: fc.constantFrom('container', 'array', 'table', 'sparse') }),
);
export const sortArb: fc.Arbitrary<SortKey[]> = fc
  .tuple(
    fc.uniqueArray(fc.record({ key: fc.constantFrom(...SORT_KEYS), direction: fc.constantFrom(1 as const, -1 as const) }), { maxLength: 3, selector: (s) => s.key }),
    fc.option(fc.constantFrom(1 as const, -1 as const)),
  )
  .map(([keys, tail]) => (tail === null ? keys : [...keys, { key: '', direction: tail }]));
export const queryArb = (engine: string): fc.Arbitrary<SearchQuery> => fc.record({
  filters: fc.array(filterArb(engine), { maxLength: 3 }),
  lookups: fc.oneof({ weight: 4, arbitrary: fc.constant([]) }, { weight: 1, arbitrary: fc.array(fc.constantFrom('node3', 'node4', 'nope'), { minLength: 1, maxLength: 2 }) }),
});

export interface Reference {
  id: number;
  candidate: Candidate;
}

/** What CatalogService's in-memory path answers for these children. */
export function inMemory(children: readonly Reference[], query: SearchQuery, lookupMode: 'search' | 'distinct'): Candidate[] {
  const predicates = query.filters.map(toPredicate).filter((p) => p !== null);
  let matches = children.map((c) => c.candidate).filter((c) => predicates.every((p) => p(c)));
  const lookups = new Set(query.lookups);
  if (lookups.size) {
    matches = lookupMode === 'search' && lookups.size > 1 ? [] : matches.filter((c) => lookups.has(c.key));
  }
  return matches;
}
