/**
 * Search, distinct and counts over the catalog's `nodes` table, in SQL, on SQLite and PostgreSQL.
 *
 * The functions the catalog calls (`parentId` null = the root's children):
 *
 * | Function | Returns |
 * |---|---|
 * | `searchChildren(dataSource, parentId, query, sorting, offset, limit)` | `{ count, rows }`: the matches before paging, and one page of rows |
 * | `countChildren(dataSource, parentId, query)` | the number of matches |
 * | `distinctChildren(dataSource, parentId, query, request)` | /distinct's body: `{ metadata, structure_families, specs }` |
 * | `visibleChildCounts(dataSource, parentIds, filters)` | per container, the children the access policy's filters let through |
 * | `prepareSearchConnection(dataSource)` | registers the SQLite functions below; idempotent, called by the others too |
 *
 * `query` is `{ filters, lookups }` as `parseFilters` (src/catalog/query/filters.ts) returns it and
 * `ChildSearchRequest` (src/catalog/tree/tree.types.ts) carries it. Results equal the in-memory path's
 * (CatalogService): the children every filter accepts, in sort order with the node id (insertion order)
 * breaking ties, so a page boundary is the same node whichever query reads it. Differences, all in corners:
 * docs/search.md "Where SQL and the in-memory path differ".
 *
 * Safety: every value, JSON path and pattern is a bound parameter; no text from a request is spliced into
 * SQL. `regex` runs on RE2 (re2js), linear in the text: on SQLite as a registered function, on PostgreSQL as a
 * post-filter in JS over the rows the other filters let through, because PostgreSQL's own regex engine
 * backtracks and reads a different dialect than Tiled's Python `re`. `like` is LIKE on PostgreSQL (its matcher
 * gives up early instead of backtracking) and RE2 on SQLite, whose LIKE ignores case.
 */
import type { DataSource } from 'typeorm';
import { accessFilterSql } from '../access/access-sql';
import { ACCESS_GRANT_PREFIX, PG_VALUE_TEXT_BYTES } from './sql-search-migration';
import type { ChildDistinctRequest, ChildDistinctResult, DistinctValue, Metadata, Spec, StructureFamily } from '../tree/tree.types';
import { WORD, fulltextTerms } from '../query/filter-ast';
import type { Filter, SortKey } from '../query/filter-ast';
import { deepEqual } from '../query/filters';
import { distinctOf } from '../query/distinct';
import { likeMatcher, regexMatcher } from '../query/patterns';
import type { StringMatcher } from '../query/patterns';

export type Engine = 'sqlite' | 'postgres';

/** What the search needs of a parsed query (`ParsedFilters` and `ChildSearchRequest` both fit). */
export interface SearchQuery {
  readonly filters: readonly Filter[];
  readonly lookups: readonly string[];
}

/** A `nodes` row, its JSON columns decoded. */
export interface NodeRow {
  id: number;
  key: string;
  structure_family: string;
  metadata: Metadata;
  specs: Spec[];
  access_blob: unknown;
  time_created: unknown;
  time_updated: unknown;
}

export interface SearchResult {
  count: number;
  rows: NodeRow[];
}

/** Rows the PostgreSQL regex post-filter checks before letting other requests in. */
const POST_FILTER_SLICE = 2000;

// ---------------------------------------------------------------------------------------------------
// SQL fragments: text with placeholders plus their values, composed in order so `?` and `$n` line up.

const MARK = '\u0001';

class Param {
  constructor(readonly value: unknown) {}
}

interface Frag {
  readonly text: string;
  readonly params: readonly unknown[];
}

function isFrag(x: unknown): x is Frag {
  return typeof x === 'object' && x !== null && 'text' in x && 'params' in x;
}

/** A fragment: interpolations are bound values (`v(x)`) or other fragments, never raw strings. */
function sql(strings: TemplateStringsArray, ...values: (Frag | Param)[]): Frag {
  let text = strings[0];
  const params: unknown[] = [];
  values.forEach((value, i) => {
    if (value instanceof Param) {
      text += MARK;
      params.push(value.value);
    } else if (isFrag(value)) {
      text += value.text;
      params.push(...value.params);
    }
    text += strings[i + 1];
  });
  return { text, params };
}

const v = (value: unknown): Param => new Param(value);
const raw = (text: string): Frag => ({ text, params: [] });
const TRUE = raw('(1 = 1)');
const FALSE = raw('(1 = 0)');

function join(frags: readonly Frag[], separator: string): Frag {
  return { text: frags.map((f) => f.text).join(separator), params: frags.flatMap((f) => f.params) };
}

const and = (frags: readonly Frag[]): Frag => (frags.length ? sql`(${join(frags, ' AND ')})` : TRUE);
const or = (frags: readonly Frag[]): Frag => (frags.length ? sql`(${join(frags, ' OR ')})` : FALSE);

function render(frag: Frag, engine: Engine): { text: string; params: unknown[] } {
  const pieces = frag.text.split(MARK);
  const text = pieces.reduce((out, piece, i) => out + (engine === 'sqlite' ? '?' : `$${i}`) + piece);
  return { text, params: [...frag.params] };
}

// ---------------------------------------------------------------------------------------------------
// Connections

/** The little of better-sqlite3's handle this module uses. */
interface SqliteHandle {
  function(name: string, options: { deterministic: boolean; varargs?: boolean }, fn: (...args: unknown[]) => unknown): unknown;
}

const prepared = new WeakSet<object>();
/** Compiled patterns per text, bounded so varied queries cannot grow memory without limit. */
const matcherCache = new Map<string, StringMatcher>();
const MATCHER_CACHE_SIZE = 256;

function cachedMatcher(id: string, build: () => StringMatcher): StringMatcher {
  let matcher = matcherCache.get(id);
  if (!matcher) {
    if (matcherCache.size >= MATCHER_CACHE_SIZE) matcherCache.clear();
    matcher = build();
    matcherCache.set(id, matcher);
  }
  return matcher;
}

export function engineOf(dataSource: DataSource): Engine {
  return dataSource.options.type === 'postgres' ? 'postgres' : 'sqlite';
}

/**
 * Give a SQLite connection the functions search calls: RE2-backed `regex` and `like` (linear-time,
 * case-sensitive as Tiled's are) and JSON deep equality for object and array values.
 */
export function registerSqliteSearchFunctions(handle: SqliteHandle): void {
  handle.function('tiled_regexp', { deterministic: true }, (pattern, caseSensitive, text) => {
    if (typeof text !== 'string') return 0;
    const p = String(pattern);
    const cs = Number(caseSensitive) === 1;
    return cachedMatcher(`r${cs ? 1 : 0}${p}`, () => regexMatcher(p, cs))(text) ? 1 : 0;
  });
  handle.function('tiled_like', { deterministic: true }, (pattern, text) => {
    if (typeof text !== 'string') return 0;
    const p = String(pattern);
    return cachedMatcher(`l${p}`, () => likeMatcher(p))(text) ? 1 : 0;
  });
  handle.function('tiled_json_equal', { deterministic: true }, (a, b) => {
    if (typeof a !== 'string' || typeof b !== 'string') return 0;
    return deepEqual(JSON.parse(a), JSON.parse(b)) ? 1 : 0;
  });
}

/** Registers the SQLite functions on the DataSource's connection once; nothing to do on PostgreSQL. */
export function prepareSearchConnection(dataSource: DataSource): void {
  if (engineOf(dataSource) !== 'sqlite') return;
  const handle = (dataSource.driver as unknown as { databaseConnection?: SqliteHandle }).databaseConnection;
  if (handle && prepared.has(handle)) return;
  if (typeof handle?.function !== 'function') {
    throw new Error('SQL search on SQLite needs the better-sqlite3 driver: it registers the regex, like and JSON equality functions on the connection');
  }
  registerSqliteSearchFunctions(handle);
  prepared.add(handle);
}

async function run(dataSource: DataSource, frag: Frag): Promise<Record<string, unknown>[]> {
  const { text, params } = render(frag, engineOf(dataSource));
  return (await dataSource.query(text, params)) as Record<string, unknown>[];
}

// ---------------------------------------------------------------------------------------------------
// A metadata value at a dotted key

function splitKey(key: string): string[] {
  return key.split('.');
}

/** SQLite JSON path with every label quoted, so `.` and `[` inside a label stay literal. */
function sqlitePath(key: string): string {
  return '$' + splitKey(key).map((part) => `."${part.replace(/["\\]/g, (c) => `\\${c}`)}"`).join('');
}

/** The value as jsonb, or NULL when missing; `->` with a text operand never indexes into an array, as `dig` doesn't. */
function pgJson(key: string): Frag {
  let frag = raw('n.metadata');
  for (const part of splitKey(key)) frag = sql`${frag} -> ${v(part)}::text`;
  return sql`(${frag})`;
}

/** A nested object holding `value` at `key`: what `metadata @>` needs to use the GIN index. */
function nested(key: string, value: unknown): unknown {
  return splitKey(key).reduceRight<unknown>((inner, part) => ({ [part]: inner }), value);
}

/** The three views of one JSON value SQLite needs: its type, its SQL atom, its JSON text. */
interface SqliteValue {
  type: Frag;
  atom: Frag;
  json: Frag;
}

const N_METADATA = raw('n.metadata');

/** `metadata`: the node's metadata column, or a subquery reading it when the rows come from an index (`Driven`). */
function sqliteValue(key: string, metadata: Frag = N_METADATA): SqliteValue {
  const p = sqlitePath(key);
  return {
    type: sql`json_type(${metadata}, ${v(p)})`,
    atom: sql`json_extract(${metadata}, ${v(p)})`,
    json: sql`(${metadata} -> ${v(p)})`,
  };
}

const SQLITE_NUMBER = raw("('integer', 'real')");

/** SQLite: the value equals `value` as `deepEqual` has it (booleans are not the numbers 1 and 0). */
function sqliteEquals(at: SqliteValue, value: unknown): Frag {
  if (value === null) return sql`${at.type} = 'null'`;
  if (value === true) return sql`${at.type} = 'true'`;
  if (value === false) return sql`${at.type} = 'false'`;
  // The value test first: it rejects most rows, and SQLite evaluates AND left to right.
  if (typeof value === 'number') return sql`(${at.atom} = ${v(value)} AND ${at.type} IN ${SQLITE_NUMBER})`;
  if (typeof value === 'string') return sql`(${at.atom} = ${v(value)} AND ${at.type} = 'text')`;
  const type = Array.isArray(value) ? 'array' : 'object';
  return sql`(${at.type} = ${v(type)} AND tiled_json_equal(${at.json}, ${v(JSON.stringify(value))}) = 1)`;
}

// ---------------------------------------------------------------------------------------------------
// Filters

/** A filter PostgreSQL leaves to JS: RE2 over the string at `key`. */
interface PostFilter {
  key: string;
  matches: StringMatcher;
}

interface Plan {
  where: Frag;
  post: PostFilter[];
  /** SQLite, when every condition is a set of ids read from an index: the same matches without reading `nodes`. */
  driven?: Driven;
}

/**
 * SQLite: matches read from covering indexes alone. `from` names them `n` with a single column `id` (the rows
 * of one unique id set, which already holds only `parent`'s children); `where` intersects the other sets.
 */
interface Driven {
  from: Frag;
  where: Frag;
  /** Every condition, each as a probe by node id. */
  probes: Frag;
}

/**
 * A condition `n.id IN (ids)`. `ids` selects a column `id`; `ofParent`: only children of the searched parent;
 * `unique`: no id twice. One that is both can feed the query's rows in place of the `nodes` table.
 * `probe`: the same condition for one node, looked up by its id in an index keyed by node.
 */
interface IdSet extends Frag {
  readonly ids: Frag;
  readonly ofParent: boolean;
  readonly unique: boolean;
  readonly probe: Frag;
}

function idSet(ids: Frag, ofParent: boolean, unique: boolean, probe: Frag): IdSet {
  return { ...sql`n.id IN (${ids})`, ids, ofParent, unique, probe };
}

const isIdSet = (frag: Frag): frag is IdSet => 'ids' in frag;

/**
 * The path under which `nodes_metadata_values` (sql-search-migration.ts) holds a key's scalar values, written
 * as json_tree's `fullkey` writes it: a label of a letter then letters and digits bare, any other label in
 * double quotes. Labels with `[`, `]`, `"` or `\` (and empty ones) are not indexed; null sends the filter to
 * the JSON functions instead.
 */
function indexedPath(key: string): string | null {
  let path = '$';
  for (const part of splitKey(key)) {
    if (/^[A-Za-z][A-Za-z0-9]*$/.test(part)) path += `.${part}`;
    else if (/^[^"\\[\]]+$/.test(part)) path += `."${part}"`;
    else return null;
  }
  return path;
}

const parentIs = (parentId: number | null): Frag => (parentId === null ? raw('parent IS NULL') : sql`parent = ${v(parentId)}`);

/** SQLite, through the value index: nodes whose scalar at `path` satisfies `test` (on columns `type`, `value`). */
function indexed(parentId: number | null, path: string, test: Frag): IdSet {
  // One row per (node, path): a node is in the set at most once.
  return idSet(
    sql`SELECT node_id AS id FROM nodes_metadata_values WHERE ${parentIs(parentId)} AND path = ${v(path)} AND ${test}`,
    true,
    true,
    sql`EXISTS (SELECT 1 FROM nodes_metadata_values WHERE node_id = n.id AND path = ${v(path)} AND ${test})`,
  );
}

/** SQLite, through the value index: the scalar equals `value`; null for objects and arrays, which it does not hold. */
function indexedEquals(parentId: number | null, path: string, value: unknown): IdSet | null {
  if (value === null) return indexed(parentId, path, raw(`type = 'null'`));
  if (value === true) return indexed(parentId, path, raw(`type = 'true'`));
  if (value === false) return indexed(parentId, path, raw(`type = 'false'`));
  if (typeof value === 'number') return indexed(parentId, path, sql`value = ${v(value)} AND type IN ${SQLITE_NUMBER}`);
  if (typeof value === 'string') return indexed(parentId, path, sql`value = ${v(value)} AND type = 'text'`);
  return null;
}

function sqliteFilter(filter: Filter, parentId: number | null): Frag {
  switch (filter.type) {
    case 'fulltext': {
      const terms = fulltextTerms(filter.text);
      if (terms.length === 0) return TRUE;
      if (!terms.every((t) => WORD.test(t))) return FALSE;
      // Quoted, each term is one FTS5 string; space-separated strings are ANDed.
      return sql`n.id IN (SELECT rowid FROM nodes_fts WHERE nodes_fts MATCH ${v(terms.map((t) => `"${t}"`).join(' '))})`;
    }
    case 'keys_filter':
      return sql`n.key IN (SELECT value FROM json_each(${v(JSON.stringify(filter.keys))}))`;
    case 'regex': {
      const at = sqliteValue(filter.key);
      return sql`(${at.type} = 'text' AND tiled_regexp(${v(filter.pattern)}, ${v(filter.caseSensitive ? 1 : 0)}, ${at.atom}) = 1)`;
    }
    case 'eq': {
      const path = indexedPath(filter.key);
      return (path === null ? null : indexedEquals(parentId, path, filter.value)) ?? sqliteEquals(sqliteValue(filter.key), filter.value);
    }
    case 'noteq': {
      const at = sqliteValue(filter.key);
      return sql`(${at.type} IS NOT NULL AND NOT ${sqliteEquals(at, filter.value)})`;
    }
    case 'comparison': {
      const at = sqliteValue(filter.key);
      const op = raw({ lt: '<', le: '<=', gt: '>', ge: '>=' }[filter.operator]);
      const path = indexedPath(filter.key);
      if (path && typeof filter.value === 'number') return indexed(parentId, path, sql`value ${op} ${v(filter.value)} AND type IN ${SQLITE_NUMBER}`);
      if (path && typeof filter.value === 'string') return indexed(parentId, path, sql`value ${op} ${v(filter.value)} AND type = 'text'`);
      if (typeof filter.value === 'number') return sql`(${at.type} IN ${SQLITE_NUMBER} AND ${at.atom} ${op} ${v(filter.value)})`;
      if (typeof filter.value === 'string') return sql`(${at.type} = 'text' AND ${at.atom} ${op} ${v(filter.value)})`;
      return FALSE;
    }
    case 'contains': {
      const at = sqliteValue(filter.key);
      const element: SqliteValue = { type: raw('e.type'), atom: raw('e.atom'), json: raw('e.value') };
      return sql`(${at.type} = 'array' AND EXISTS (SELECT 1 FROM json_each(n.metadata, ${v(sqlitePath(filter.key))}) e WHERE ${sqliteEquals(element, filter.value)}))`;
    }
    case 'in':
    case 'notin': {
      const at = sqliteValue(filter.key);
      const found = or(filter.value.map((item) => sqliteEquals(at, item)));
      return filter.type === 'in' ? found : sql`(${at.type} IS NOT NULL AND NOT ${found})`;
    }
    case 'keypresent': {
      const at = sqliteValue(filter.key);
      return filter.exists ? sql`${at.type} IS NOT NULL` : sql`${at.type} IS NULL`;
    }
    case 'like': {
      const at = sqliteValue(filter.key);
      return sql`(${at.type} = 'text' AND tiled_like(${v(filter.pattern)}, ${at.atom}) = 1)`;
    }
    case 'specs': {
      const has = (name: string): Frag => sql`EXISTS (SELECT 1 FROM json_each(n.specs) s WHERE json_extract(s.value, '$.name') = ${v(name)})`;
      return and([...filter.include.map(has), ...filter.exclude.map((name) => sql`NOT ${has(name)}`)]);
    }
    case 'structure_family':
      return sql`n.structure_family = ${v(filter.value)}`;
    case 'access_blob_filter':
      return sqliteAccess(filter, parentId);
  }
}

/** The `nodes_access_grants` principals an `access_blob_filter` lets through: its user and its tags. */
function accessPrincipals(filter: Extract<Filter, { type: 'access_blob_filter' }>): string[] {
  return [...(filter.userId !== null ? [ACCESS_GRANT_PREFIX.user + filter.userId] : []), ...[...new Set(filter.tags)].map((tag) => ACCESS_GRANT_PREFIX.tag + tag)];
}

/**
 * Tiled's `access_blob_filter` on SQLite, read from `nodes_access_grants` (sql-search-migration.ts): the
 * children whose blob names the user or one of the tags, found by index instead of by parsing every blob.
 * The catalog's `access_blob` is NOT NULL, so the NULL blob that passes in `accessFilterSql` does not arise.
 */
function sqliteAccess(filter: Extract<Filter, { type: 'access_blob_filter' }>, parentId: number | null): Frag {
  const principals = accessPrincipals(filter);
  if (principals.length === 0) return FALSE;
  // One index range per principal, merged by SQLite's UNION in id order: distinct ids, already sorted, so a
  // listing pages through them and a count counts them without a temporary table.
  const arms = principals.map((p) => sql`SELECT node_id AS id FROM nodes_access_grants WHERE ${parentIs(parentId)} AND principal = ${v(p)}`);
  // One probe of the (node_id, principal) index.
  const probe = sql`EXISTS (SELECT 1 FROM nodes_access_grants g WHERE g.node_id = n.id AND g.principal IN (${join(principals.map((p) => sql`${v(p)}`), ', ')}))`;
  return idSet(join(arms, ' UNION '), true, true, probe);
}

/**
 * Tiled's `access_blob_filter` as access-sql.ts writes it for every SQL catalog (one translation, shared
 * with the access-control code), its placeholders turned into this module's bound values.
 */
function accessFrag(engine: Engine, filter: Extract<Filter, { type: 'access_blob_filter' }>): Frag {
  const condition = accessFilterSql(engine, 'n.access_blob', { kind: 'queries', queries: [{ type: 'access_blob_filter', user_id: filter.userId, tags: [...filter.tags] }] });
  const text = condition.sql.replace(engine === 'sqlite' ? /\?/g : /\$\d+/g, MARK);
  return { text: `(${text})`, params: condition.params };
}

function pgTyped(key: string, type: string): Frag {
  return sql`jsonb_typeof(${pgJson(key)}) = ${v(type)}`;
}

/** PostgreSQL: the expression the full-text GIN index is built on (sql-search-migration.ts); keep them identical. */
export const PG_FULLTEXT_VECTOR = `jsonb_to_tsvector('simple'::regconfig, n.metadata, '["string"]'::jsonb)`;

function pgFilter(filter: Filter, post: PostFilter[]): Frag {
  switch (filter.type) {
    case 'fulltext': {
      const terms = fulltextTerms(filter.text);
      if (terms.length === 0) return TRUE;
      if (!terms.every((t) => WORD.test(t))) return FALSE;
      return sql`${raw(PG_FULLTEXT_VECTOR)} @@ plainto_tsquery('simple', ${v(terms.join(' '))})`;
    }
    case 'keys_filter':
      return sql`n.key = ANY(${v(filter.keys)}::text[])`;
    case 'regex':
      post.push({ key: filter.key, matches: regexMatcher(filter.pattern, filter.caseSensitive) });
      return pgTyped(filter.key, 'string');
    case 'eq':
      // Containment is implied by equality and can use the GIN index; equality then decides.
      return sql`(n.metadata @> ${v(JSON.stringify(nested(filter.key, filter.value)))}::jsonb AND ${pgJson(filter.key)} = ${v(JSON.stringify(filter.value))}::jsonb)`;
    case 'noteq':
      return sql`(${pgJson(filter.key)} IS NOT NULL AND ${pgJson(filter.key)} <> ${v(JSON.stringify(filter.value))}::jsonb)`;
    case 'comparison': {
      const op = raw({ lt: '<', le: '<=', gt: '>', ge: '>=' }[filter.operator]);
      if (typeof filter.value === 'number') {
        return sql`(${pgTyped(filter.key, 'number')} AND ${pgJson(filter.key)} ${op} ${v(JSON.stringify(filter.value))}::jsonb)`;
      }
      if (typeof filter.value === 'string') {
        // Code-point order, as JS compares, whatever the database's collation.
        return sql`(${pgTyped(filter.key, 'string')} AND (${pgJson(filter.key)} #>> '{}') COLLATE "C" ${op} ${v(filter.value)}::text COLLATE "C")`;
      }
      return FALSE;
    }
    case 'contains': {
      const value = JSON.stringify(filter.value);
      // `@>` on arrays is containment, looser than element equality for nested values: it only pre-filters.
      return sql`(n.metadata @> ${v(JSON.stringify(nested(filter.key, [filter.value])))}::jsonb AND ${pgTyped(filter.key, 'array')} AND EXISTS (SELECT 1 FROM jsonb_array_elements(${pgJson(filter.key)}) e(value) WHERE e.value = ${v(value)}::jsonb))`;
    }
    case 'in':
    case 'notin': {
      const found = sql`${pgJson(filter.key)} = ANY(${v(filter.value.map((item) => JSON.stringify(item)))}::jsonb[])`;
      return filter.type === 'in' ? sql`COALESCE(${found}, false)` : sql`(${pgJson(filter.key)} IS NOT NULL AND NOT COALESCE(${found}, false))`;
    }
    case 'keypresent':
      return filter.exists ? sql`${pgJson(filter.key)} IS NOT NULL` : sql`${pgJson(filter.key)} IS NULL`;
    case 'like':
      // No escape character: `\` is literal, as in Tiled's LIKE.
      return sql`(${pgTyped(filter.key, 'string')} AND (${pgJson(filter.key)} #>> '{}') LIKE ${v(filter.pattern)}::text ESCAPE '')`;
    case 'specs': {
      const has = (name: string): Frag => sql`COALESCE(n.specs, '[]'::jsonb) @> ${v(JSON.stringify([{ name }]))}::jsonb`;
      return and([...filter.include.map(has), ...filter.exclude.map((name) => sql`NOT ${has(name)}`)]);
    }
    case 'structure_family':
      return sql`n.structure_family = ${v(filter.value)}`;
    case 'access_blob_filter':
      return accessFrag('postgres', filter);
  }
}

type LookupMode = 'search' | 'distinct';

function plan(engine: Engine, parentId: number | null, query: SearchQuery, lookupMode: LookupMode): Plan | null {
  const post: PostFilter[] = [];
  const where: Frag[] = [parentId === null ? raw('n.parent IS NULL') : sql`n.parent = ${v(parentId)}`];
  const lookups = [...new Set(query.lookups)];
  if (lookups.length) {
    // /search: one child by key, or none when two keys are asked for (as Tiled 0.2.16); /distinct: any of them.
    if (lookupMode === 'search' && lookups.length > 1) return null;
    where.push(engine === 'sqlite' ? sql`n.key IN (SELECT value FROM json_each(${v(JSON.stringify(lookups))}))` : sql`n.key = ANY(${v(lookups)}::text[])`);
  }
  const conditions = query.filters.map((filter) => (engine === 'sqlite' ? sqliteFilter(filter, parentId) : pgFilter(filter, post)));
  where.push(...conditions);
  return { where: and(where), post, driven: lookups.length ? undefined : drivenBy(conditions) };
}

/** Driven rows (SQLite) when every condition is an id set and one of them can feed the rows. */
function drivenBy(conditions: readonly Frag[]): Driven | undefined {
  if (!conditions.every(isIdSet)) return undefined;
  const sets = conditions as IdSet[];
  const driver = sets.find((s) => s.ofParent && s.unique);
  if (!driver) return undefined;
  return { from: sql`(${driver.ids}) n`, where: and(sets.filter((s) => s !== driver)), probes: and(sets.map((s) => s.probe)) };
}

// ---------------------------------------------------------------------------------------------------
// Sorting

function sqliteOrder(at: SqliteValue, dir: Frag): Frag {
  return join(
    [
      sql`(${at.type} IS NULL) ${dir}`,
      sql`CASE ${at.type} WHEN 'true' THEN 0 WHEN 'false' THEN 0 WHEN 'integer' THEN 0 WHEN 'real' THEN 0 WHEN 'text' THEN 1 ELSE 2 END ${dir}`,
      sql`CASE WHEN ${at.type} IN ('true', 'false', 'integer', 'real') THEN ${at.atom} END ${dir}`,
      sql`CASE WHEN ${at.type} = 'text' THEN ${at.atom} END ${dir}`,
      sql`CASE WHEN ${at.type} IN ('object', 'array', 'null') THEN ${at.json} END ${dir}`,
    ],
    ', ',
  );
}

function pgOrder(json: Frag, dir: Frag): Frag {
  const type = sql`jsonb_typeof(${json})`;
  return join(
    [
      sql`(${json} IS NULL) ${dir}`,
      sql`CASE ${type} WHEN 'boolean' THEN 0 WHEN 'number' THEN 0 WHEN 'string' THEN 1 ELSE 2 END ${dir}`,
      sql`CASE ${type} WHEN 'number' THEN (${json} #>> '{}')::numeric WHEN 'boolean' THEN CASE WHEN ${json} = 'true'::jsonb THEN 1 ELSE 0 END END ${dir}`,
      sql`(CASE WHEN ${type} = 'string' THEN ${json} #>> '{}' END) COLLATE "C" ${dir}`,
      sql`(CASE WHEN ${type} IN ('object', 'array', 'null') THEN ${json}::text END) COLLATE "C" ${dir}`,
    ],
    ', ',
  );
}

/**
 * ORDER BY as the in-memory sort has it: per key, missing values after present ones, then booleans and
 * numbers, strings, everything else (the whole reversed for `-key`); ties by insertion order, reversed by a
 * trailing `-_`. The node id last makes the order total, so offset pages are well defined.
 */
function orderBy(engine: Engine, sorting: readonly SortKey[], metadata: Frag = N_METADATA): Ordering {
  const parts: Frag[] = [];
  const extracted: Frag[] = [];
  let tiebreak = 'ASC';
  let indexedOnly = true;
  for (const { key, direction } of sorting) {
    if (key === '') {
      tiebreak = direction < 0 ? 'DESC' : 'ASC';
      continue;
    }
    const dir = raw(direction < 0 ? 'DESC' : 'ASC');
    const i = extracted.length;
    if (engine === 'sqlite') {
      const at = sqliteValue(key, metadata);
      const path = indexedPath(key);
      if (path) {
        // A scalar comes from the value index; only objects, arrays and missing keys have their JSON parsed.
        extracted.push(sql`LEFT JOIN nodes_metadata_values ${raw(`s${i}`)} ON ${raw(`s${i}`)}.node_id = n.id AND ${raw(`s${i}`)}.path = ${v(path)}`);
        const type = sql`COALESCE(${raw(`s${i}`)}.type, ${at.type})`;
        parts.push(sqliteOrder({ type, atom: raw(`s${i}.value`), json: at.json }, dir));
      } else {
        indexedOnly = false;
        parts.push(sqliteOrder(at, dir));
      }
    } else {
      extracted.push(sql`${pgJson(key)} AS ${raw(`s${i}`)}`);
      parts.push(pgOrder(raw(`sk.s${i}`), dir));
    }
  }
  parts.push(raw(`n.id ${tiebreak}`));
  return { engine, extracted, order: join(parts, ', '), indexedOnly };
}

/**
 * The ORDER BY list, and what extracts sort values once per matching row: LEFT JOINs on SQLite's value index,
 * columns of a LATERAL subquery on PostgreSQL.
 */
interface Ordering {
  engine: Engine;
  extracted: Frag[];
  order: Frag;
  /** SQLite: every key's scalars come from the value index (only missing keys, objects and arrays read the JSON). */
  indexedOnly: boolean;
}

/** `SELECT select` over the matches in order, then `tail` (LIMIT/OFFSET). */
function sorted(p: Plan, ordering: Ordering, select: Frag, tail: Frag = raw(''), from: Frag = raw('nodes n'), where: Frag = p.where): Frag {
  const { extracted, order } = ordering;
  if (extracted.length === 0) return sql`SELECT ${select} FROM ${from} WHERE ${where} ORDER BY ${order} ${tail}`;
  if (ordering.engine === 'postgres') {
    return sql`SELECT ${select} FROM ${from} CROSS JOIN LATERAL (SELECT ${join(extracted, ', ')}) sk WHERE ${where} ORDER BY ${order} ${tail}`;
  }
  return sql`SELECT ${select} FROM ${from} ${join(extracted, ' ')} WHERE ${where} ORDER BY ${order} ${tail}`;
}

// ---------------------------------------------------------------------------------------------------
// Queries

const COLUMNS = raw('n.id, n.key, n.structure_family, n.metadata, n.specs, n.access_blob, n.time_created, n.time_updated');

function decoded(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

function toRow(r: Record<string, unknown>): NodeRow {
  return {
    id: Number(r.id),
    key: String(r.key),
    structure_family: String(r.structure_family),
    metadata: (decoded(r.metadata) ?? {}) as Metadata,
    specs: (decoded(r.specs) ?? []) as Spec[],
    access_blob: decoded(r.access_blob) ?? null,
    time_created: r.time_created,
    time_updated: r.time_updated,
  };
}

/** Children counted by `inSortKeyOrder`'s check, per match: more, and the matches are too sparse to walk to. */
const SORT_SCAN_RATIO = 20;

/**
 * SQLite, one sort key: the page's ids read in the order of the value index's (parent, path, value) range,
 * each checked by probes, instead of looking up and sorting every match's value; null when that is not
 * exact or not cheaper. Exact when every child holds a non-null scalar at the key (a missing key, an
 * object, an array or null would sort outside the range: first under `-key`), which two counts check:
 * SQLite orders numbers (booleans as 1 and 0) before text, as the general ORDER BY does. Cheaper when the
 * rows to walk, about (offset + limit) × children / matches, are fewer than the matches; the walk is bounded,
 * and a page it cannot complete within the bound falls back to the sort.
 */
async function inSortKeyOrder(
  dataSource: DataSource,
  parentId: number | null,
  driven: Driven,
  sorting: readonly SortKey[],
  offset: number,
  limit: number,
  count: number,
): Promise<number[] | null> {
  const keys = sorting.filter((s) => s.key !== '');
  const path = keys.length === 1 ? indexedPath(keys[0].key) : null;
  if (path === null || count === 0) return null;
  if (offset >= count) return [];
  const tiebreak = sorting.filter((s) => s.key === '').at(-1)?.direction ?? 1;
  const children = await everyChildValued(dataSource, parentId, path, SORT_SCAN_RATIO * count);
  if (children === null) return null;
  const walk = Math.ceil(((offset + limit) * children) / count);
  if (walk > count) return null;
  const budget = 2 * walk + 200;
  const dir = raw(keys[0].direction < 0 ? 'DESC' : 'ASC');
  const ties = raw(tiebreak < 0 ? 'DESC' : 'ASC');
  const rows = await run(
    dataSource,
    sql`SELECT n.id FROM (SELECT node_id AS id, value AS v FROM nodes_metadata_values WHERE ${parentIs(parentId)} AND path = ${v(path)} AND value IS NOT NULL
      ORDER BY value ${dir}, node_id ${ties} LIMIT ${v(budget)}) n WHERE ${driven.probes} ORDER BY n.v ${dir}, n.id ${ties} LIMIT ${v(limit)} OFFSET ${v(offset)}`,
  );
  // Exact when the walk reached the page's end: a full page, or the last match.
  return rows.length === limit || offset + rows.length === count ? rows.map((r) => Number(r.id)) : null;
}

/**
 * Per DataSource, answers about a container (how many children it has when each holds a sortable value at
 * a key) kept under the database's version when they were counted: a kept answer is used only while the
 * version is the same. At most 256 per DataSource; past that they are all dropped.
 */
class ContainerChecks {
  private readonly byDataSource = new WeakMap<DataSource, Map<string, { version: string; children: number | null }>>();

  get(dataSource: DataSource, key: string, version: string): number | null | undefined {
    const kept = this.byDataSource.get(dataSource)?.get(key);
    return kept && kept.version === version ? kept.children : undefined;
  }

  keep(dataSource: DataSource, key: string, version: string, children: number | null): void {
    let checks = this.byDataSource.get(dataSource);
    if (!checks) this.byDataSource.set(dataSource, (checks = new Map()));
    if (checks.size >= 256) checks.clear();
    checks.set(key, { version, children });
  }
}

/** `everyChildValued`'s answers, under `total_changes()` of the connection and `data_version` (other connections' commits). */
const valuedChecks = new ContainerChecks();

/**
 * SQLite: how many children `parentId` has when each holds a non-null scalar at `path`; null when one does
 * not, or when there are more than `cap` (counting stops there). Two index counts over the whole container,
 * so the answer is kept until the database changes: this connection's `total_changes()` and the file's
 * `data_version` (another process's commit) both move with every write, so a kept answer is never stale.
 */
async function everyChildValued(dataSource: DataSource, parentId: number | null, path: string, cap: number): Promise<number | null> {
  const [row] = await run(dataSource, raw(`SELECT total_changes() || '/' || (SELECT data_version FROM pragma_data_version) AS version`));
  const version = String(row.version);
  const key = `${parentId}|${path}`;
  // Inside a write transaction (this process shares its connection) the counts may include what a rollback
  // takes back without moving `total_changes()`: such answers are used once, not kept.
  const writing = (dataSource.driver as unknown as { databaseConnection?: { inTransaction?: boolean } }).databaseConnection?.inTransaction === true;
  const kept = writing ? undefined : valuedChecks.get(dataSource, key, version);
  if (kept !== undefined) return kept !== null && kept <= cap ? kept : null;
  const capped = (rows: Frag): Frag => sql`(SELECT count(*) FROM (${rows} LIMIT ${v(cap + 1)}))`;
  const [check] = await run(
    dataSource,
    sql`SELECT ${capped(sql`SELECT 1 FROM nodes INDEXED BY nodes_parent_id WHERE ${parentIs(parentId)}`)} AS children,
      ${capped(sql`SELECT 1 FROM nodes_metadata_values WHERE ${parentIs(parentId)} AND path = ${v(path)} AND value IS NOT NULL`)} AS valued`,
  );
  const children = Number(check.children);
  // Over the cap the counts are not the container's: nothing to keep.
  if (children > cap) return null;
  const answer = Number(check.valued) === children ? children : null;
  if (!writing) valuedChecks.keep(dataSource, key, version, answer);
  return answer;
}

/** SQLite: the rows of `ids`, in that order. */
async function rowsByIds(dataSource: DataSource, ids: readonly number[]): Promise<NodeRow[]> {
  if (ids.length === 0) return [];
  const rows = await run(dataSource, sql`SELECT ${COLUMNS} FROM nodes n WHERE n.id IN (SELECT value FROM json_each(${v(JSON.stringify(ids))}))`);
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  return ids.flatMap((id) => (byId.has(id) ? [toRow(byId.get(id) as Record<string, unknown>)] : []));
}

// ---------------------------------------------------------------------------------------------------
// PostgreSQL through its value table (`PG_VALUES_MIGRATION`)

/**
 * The condition on a `nodes_metadata_values` row (alias `a`) that holds exactly when `filter` accepts its
 * node, as `pgFilter` decides it: `eq` on a scalar (a string no longer than the table keeps) and number
 * comparisons. Null for any other filter. A node lacking the key has no row, so fails as it does there.
 */
function pgValueTest(filter: Filter, a: string): Frag | null {
  const col = (name: string): Frag => raw(`${a}.${name}`);
  if (filter.type !== 'eq' && !(filter.type === 'comparison' && typeof filter.value === 'number')) return null;
  const at = sql`${col('path')} = ${v(splitKey(filter.key))}::text[]`;
  const value = filter.value;
  if (filter.type === 'comparison') {
    const op = raw({ lt: '<', le: '<=', gt: '>', ge: '>=' }[filter.operator]);
    return sql`${at} AND ${col('rank')} = 0 AND ${col('num')} ${op} ${v(String(value))}::numeric AND ${col('type')} = 'number'`;
  }
  if (value === null) return sql`${at} AND ${col('rank')} = 2 AND ${col('num')} IS NULL AND ${col('str')} = 'null' AND ${col('type')} = 'null'`;
  if (typeof value === 'boolean') return sql`${at} AND ${col('rank')} = 0 AND ${col('num')} = ${v(value ? 1 : 0)} AND ${col('type')} = 'boolean'`;
  // jsonb compares numbers as numeric (1.0 = 1), as `num` does.
  if (typeof value === 'number') return sql`${at} AND ${col('rank')} = 0 AND ${col('num')} = ${v(String(value))}::numeric AND ${col('type')} = 'number'`;
  if (typeof value === 'string' && Buffer.byteLength(value) <= PG_VALUE_TEXT_BYTES) {
    return sql`${at} AND ${col('rank')} = 1 AND ${col('num')} IS NULL AND ${col('str')} = ${v(value)}::text AND ${col('type')} = 'string'`;
  }
  return null;
}

/**
 * PostgreSQL, when every filter is one `pgValueTest` answers and the page is sorted by at most one key:
 * the count from the first filter's index range (the others probed per match by node id), the page in node
 * id order or, for one key, in the order of the key's index range as `inSortKeyOrder` reads SQLite's. Null
 * when that does not apply, for the general query to answer.
 */
async function pgIndexedSearch(
  dataSource: DataSource,
  parentId: number | null,
  query: SearchQuery,
  sorting: readonly SortKey[],
  offset: number,
  limit: number,
): Promise<SearchResult | null> {
  if (query.lookups.length || query.filters.length === 0) return null;
  const tests = query.filters.map((filter) => pgValueTest(filter, 'f'));
  if (tests.some((t) => t === null)) return null;
  const keys = sorting.filter((s) => s.key !== '');
  if (keys.length > 1) return null;
  const ties = raw((sorting.filter((s) => s.key === '').at(-1)?.direction ?? 1) < 0 ? 'DESC' : 'ASC');
  // OFFSET 0 keeps the planner from turning the probe into a join that reads every match's row: the walk
  // below probes a few hundred nodes, one index lookup each.
  const probe = (test: Frag | null): Frag => sql`EXISTS (SELECT 1 FROM nodes_metadata_values f WHERE f.node_id = n.id AND ${test as Frag} OFFSET 0)`;
  const from = sql`(SELECT f.node_id AS id FROM nodes_metadata_values f WHERE f.${parentIs(parentId)} AND ${tests[0] as Frag}) n`;
  const where = and(tests.slice(1).map(probe));
  const path = keys.length ? splitKey(keys[0].key) : null;
  // The version first (read before any check's counts, as `everyChildSortable` needs), with the count.
  const [first] = await run(dataSource, sql`SELECT (${raw(PG_VALUES_VERSION)}) AS version, (SELECT count(*) FROM ${from} WHERE ${where}) AS count`);
  const count = Number(first.count);
  const children = path ? await everyChildSortable(dataSource, parentId, path, String(first.version)) : null;
  if (path && children === null) return null;
  if (limit <= 0 || offset >= count) return { count, rows: [] };
  const page = sql`LIMIT ${v(limit)} OFFSET ${v(offset)}`;
  if (!path || children === null) {
    const ids = sql`SELECT n.id FROM ${from} WHERE ${where} ORDER BY n.id ${ties} ${page}`;
    return { count, rows: (await run(dataSource, sql`SELECT ${COLUMNS} FROM (${ids}) w JOIN nodes n ON n.id = w.id ORDER BY n.id ${ties}`)).map(toRow) };
  }
  const walk = Math.ceil(((offset + limit) * children) / count);
  if (walk > count) return null;
  const dir = raw(keys[0].direction < 0 ? 'DESC' : 'ASC');
  const order = (a: string, id: string): Frag => raw(`${a}.rank ${dir.text}, ${a}.num ${dir.text}, ${a}.str ${dir.text}, ${a}.${id} ${ties.text}`);
  const walked = sql`SELECT n.id, n.rank, n.num, n.str FROM (SELECT s.node_id AS id, s.rank, s.num, s.str FROM nodes_metadata_values s
      WHERE s.${parentIs(parentId)} AND s.path = ${v(path)}::text[] ORDER BY ${order('s', 'node_id')} LIMIT ${v(2 * walk + 200)}) n
    WHERE ${and(tests.map(probe))} ORDER BY ${order('n', 'id')} ${page}`;
  const rows = await run(dataSource, sql`SELECT ${COLUMNS} FROM (${walked}) w JOIN nodes n ON n.id = w.id ORDER BY ${order('w', 'id')}`);
  // Exact when the walk reached the page's end: a full page, or the last match.
  if (rows.length !== limit && offset + rows.length !== count) return null;
  return { count, rows: rows.map(toRow) };
}

const PG_VALUES_VERSION = `SELECT last_value || '/' || is_called FROM nodes_metadata_values_version`;

/** `everyChildSortable`'s answers, under the value table's version sequence. */
const sortableChecks = new ContainerChecks();

/**
 * PostgreSQL: how many children `parentId` has when each holds a value at `path` that the value index orders
 * exactly (a number, a boolean or a kept string); null when one does not (a missing key, an object, an
 * array, null or a long string sorts by the general ORDER BY). Two counts over the whole container, so the
 * answer is kept until `nodes_metadata_values_version` moves (every write moves it, rollbacks included).
 * Kept only when no writing transaction was in progress as the counts were taken: one that had moved the
 * sequence and committed later would otherwise leave a stale answer under the current version.
 */
async function everyChildSortable(dataSource: DataSource, parentId: number | null, path: readonly string[], version: string): Promise<number | null> {
  const key = JSON.stringify([parentId, path]);
  const kept = sortableChecks.get(dataSource, key, version);
  if (kept !== undefined) return kept;
  const [check] = await run(
    dataSource,
    // This connection's own uncommitted writes (a rollback would not move the sequence back) count as one.
    sql`SELECT (SELECT count(*) FROM pg_snapshot_xip(pg_current_snapshot())) + (pg_current_xact_id_if_assigned() IS NOT NULL)::int AS writers,
      (SELECT count(*) FROM nodes WHERE ${parentIs(parentId)}) AS children,
      (SELECT count(*) FROM nodes_metadata_values WHERE ${parentIs(parentId)} AND path = ${v(path)}::text[] AND rank < 2 AND (rank = 0 OR str IS NOT NULL)) AS sortable`,
  );
  const children = Number(check.children);
  const answer = Number(check.sortable) === children ? children : null;
  if (Number(check.writers) === 0) sortableChecks.keep(dataSource, key, version, answer);
  return answer;
}

/** PostgreSQL with a regex: every row the SQL filters pass, in order, checked by RE2 in slices. */
async function postFiltered(dataSource: DataSource, p: Plan, ordering: Ordering, select: Frag): Promise<Record<string, unknown>[]> {
  const values = p.post.map((f, i) => sql`${pgJson(f.key)} #>> '{}' AS ${raw(`post_${i}`)}`);
  const rows = await run(dataSource, sorted(p, ordering, sql`${select}, ${join(values, ', ')}`));
  const out: Record<string, unknown>[] = [];
  for (let start = 0; start < rows.length; start += POST_FILTER_SLICE) {
    for (const row of rows.slice(start, start + POST_FILTER_SLICE)) {
      if (p.post.every((f, i) => typeof row[`post_${i}`] === 'string' && f.matches(row[`post_${i}`] as string))) out.push(row);
    }
    if (start + POST_FILTER_SLICE < rows.length) await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/** The matching children of `parentId`, sorted; one page of rows and the total count. */
export async function searchChildren(
  dataSource: DataSource,
  parentId: number | null,
  query: SearchQuery,
  sorting: readonly SortKey[],
  offset: number,
  limit: number,
): Promise<SearchResult> {
  prepareSearchConnection(dataSource);
  const engine = engineOf(dataSource);
  const p = plan(engine, parentId, query, 'search');
  if (!p) return { count: 0, rows: [] };
  if (engine === 'postgres') {
    if (limit <= 0) {
      const count = await pgAccessCount(dataSource, parentId, query);
      if (count !== undefined) return { count, rows: [] };
    }
    const indexedResult = await pgIndexedSearch(dataSource, parentId, query, sorting, offset, limit);
    if (indexedResult) return indexedResult;
  }
  const ordering = orderBy(engine, sorting);
  if (p.post.length) {
    // Ids and the regex targets only; the page's rows are read afterwards.
    const all = await postFiltered(dataSource, p, ordering, raw('n.id'));
    const ids = all.slice(offset, offset + limit).map((r) => Number(r.id));
    if (ids.length === 0) return { count: all.length, rows: [] };
    const byId = new Map((await run(dataSource, sql`SELECT ${COLUMNS} FROM nodes n WHERE n.id = ANY(${v(ids)}::integer[])`)).map((r) => [Number(r.id), r]));
    return { count: all.length, rows: ids.flatMap((id) => (byId.has(id) ? [toRow(byId.get(id) as Record<string, unknown>)] : [])) };
  }
  // On SQLite the (parent, id) index answers the parent test and the id lists of indexed filters without
  // reading a row; left to itself (after ANALYZE) the planner may fetch every match's row by primary key.
  // Driven matches come from the value and access indexes alone.
  const from = p.driven?.from ?? raw(engine === 'sqlite' ? 'nodes n INDEXED BY nodes_parent_id' : 'nodes n');
  const where = p.driven?.where ?? p.where;
  const counted = async (): Promise<number> => Number((await run(dataSource, sql`SELECT count(*) AS count FROM ${from} WHERE ${where}`))[0].count);
  if (limit <= 0) return { count: await counted(), rows: [] };
  const page = sql`LIMIT ${v(limit)} OFFSET ${v(offset)}`;
  if (p.driven) {
    // Sort ids and sort keys only; a node's metadata is read only when its sort value is not a scalar of the
    // value index, and the page's rows afterwards.
    const drivenOrdering = orderBy(engine, sorting, raw('(SELECT m.metadata FROM nodes m WHERE m.id = n.id)'));
    if (drivenOrdering.indexedOnly) {
      const count = await counted();
      const ids =
        (await inSortKeyOrder(dataSource, parentId, p.driven, sorting, offset, limit, count)) ??
        (await run(dataSource, sorted(p, drivenOrdering, raw('n.id'), page, from, where))).map((r) => Number(r.id));
      return { count, rows: await rowsByIds(dataSource, ids) };
    }
  }
  if (engine === 'sqlite') {
    // Counting through SQLite's indexes is cheap, and a page without a window count keeps its top-N sort.
    const rows = await run(dataSource, sorted(p, ordering, COLUMNS, page));
    const count = offset === 0 && rows.length < limit ? rows.length : await counted();
    return { count, rows: rows.map(toRow) };
  }
  // PostgreSQL reads the matches once: the count rides along with the page.
  const rows = await run(dataSource, sorted(p, ordering, sql`${COLUMNS}, count(*) OVER () AS total_count`, page));
  // Past the last match there is no row to carry the count.
  const count = rows.length ? Number(rows[0].total_count) : offset > 0 ? await counted() : 0;
  return { count, rows: rows.map(toRow) };
}

/** The one `access_blob_filter` of a query that has nothing else: what the access policy adds to a listing. */
function onlyAccessFilter(query: SearchQuery): Extract<Filter, { type: 'access_blob_filter' }> | undefined {
  const [filter] = query.filters;
  return query.lookups.length === 0 && query.filters.length === 1 && filter.type === 'access_blob_filter' ? filter : undefined;
}

/**
 * PostgreSQL: how many children of `parentId` the access policy alone lets through, from the grants table's
 * (parent, principal, node_id) index without reading a node (PgAccessGrants1796000000012). Undefined for
 * any other query.
 */
async function pgAccessCount(dataSource: DataSource, parentId: number | null, query: SearchQuery): Promise<number | undefined> {
  const filter = onlyAccessFilter(query);
  if (!filter) return undefined;
  const principals = accessPrincipals(filter);
  if (principals.length === 0) return 0;
  const [row] = await run(dataSource, sql`SELECT count(DISTINCT node_id) AS count FROM nodes_access_grants WHERE ${parentIs(parentId)} AND principal = ANY(${v(principals)}::text[])`);
  return Number(row.count);
}

/** How many children of `parentId` match. */
export async function countChildren(dataSource: DataSource, parentId: number | null, query: SearchQuery): Promise<number> {
  return (await searchChildren(dataSource, parentId, query, [], 0, 0)).count;
}

/**
 * How many children each of `parentIds` has that pass the access policy's filters (`access_blob_filter`
 * only), in one statement: a page of containers under a policy shows each one's visible count without a
 * query per container. Null when `filters` holds anything else.
 */
export async function visibleChildCounts(dataSource: DataSource, parentIds: readonly number[], filters: readonly Filter[]): Promise<Map<number, number> | null> {
  const access = filters.filter((f): f is Extract<Filter, { type: 'access_blob_filter' }> => f.type === 'access_blob_filter');
  if (access.length !== filters.length) return null;
  prepareSearchConnection(dataSource);
  const engine = engineOf(dataSource);
  const out = new Map<number, number>();
  if (parentIds.length === 0) return out;
  if (engine === 'postgres' && access.length === 1) {
    const principals = accessPrincipals(access[0]);
    if (principals.length === 0) return out;
    const rows = await run(
      dataSource,
      sql`SELECT parent, count(DISTINCT node_id) AS count FROM nodes_access_grants WHERE parent = ANY(${v([...parentIds])}::integer[]) AND principal = ANY(${v(principals)}::text[]) GROUP BY parent`,
    );
    for (const r of rows) out.set(Number(r.parent), Number(r.count));
    return out;
  }
  const conditions = access.map((filter) => {
    if (engine === 'postgres') return accessFrag('postgres', filter);
    const set = sqliteAccess(filter, null);
    return isIdSet(set) ? set.probe : set;
  });
  const parents = join(parentIds.map((id) => sql`${v(id)}`), ', ');
  const rows = await run(dataSource, sql`SELECT n.parent AS parent, count(*) AS count FROM nodes n WHERE n.parent IN (${parents}) AND ${and(conditions)} GROUP BY n.parent`);
  for (const r of rows) out.set(Number(r.parent), Number(r.count));
  return out;
}

/** /distinct over the matching children of `parentId`: values in the order of their first node. */
export async function distinctChildren(
  dataSource: DataSource,
  parentId: number | null,
  query: SearchQuery,
  request: Pick<ChildDistinctRequest, 'metadata' | 'structureFamilies' | 'specs' | 'counts'>,
): Promise<ChildDistinctResult> {
  prepareSearchConnection(dataSource);
  const engine = engineOf(dataSource);
  const p = plan(engine, parentId, query, 'distinct');
  const empty = (): DistinctValue[] => [];
  if (!p) {
    return {
      metadata: request.metadata.length ? Object.fromEntries(request.metadata.map((k) => [k, empty()])) : null,
      structure_families: request.structureFamilies ? empty() : null,
      specs: request.specs ? empty() : null,
    };
  }
  const shape = (rows: Record<string, unknown>[], decode: (value: unknown) => unknown): DistinctValue[] =>
    rows.map((r) => ({ value: decode(r.value), count: request.counts ? Number(r.count) : null }));
  const specsValue = (value: unknown): unknown => ((decoded(value) ?? []) as Spec[]).map((s) => ({ name: s.name, version: s.version ?? null }));

  if (p.post.length) {
    // Few rows survive a regex in practice; tally them as the in-memory path does.
    const rows = await postFiltered(dataSource, p, orderBy(engine, []), raw('n.id, n.structure_family, n.metadata, n.specs'));
    const candidates = rows.map((r) => ({
      key: '',
      family: String(r.structure_family) as StructureFamily,
      metadata: (decoded(r.metadata) ?? {}) as Metadata,
      specs: (decoded(r.specs) ?? []) as Spec[],
    }));
    return distinctOf(candidates, request);
  }

  const grouped = async (value: Frag, present: Frag): Promise<Record<string, unknown>[]> =>
    run(dataSource, sql`SELECT ${value} AS value, count(*) AS count, min(n.id) AS first_id FROM nodes n WHERE ${p.where} AND ${present} GROUP BY 1 ORDER BY first_id`);
  const metadata: [string, DistinctValue[]][] = [];
  for (const key of request.metadata) {
    const value = engine === 'sqlite' ? sqliteValue(key).json : pgJson(key);
    // SQLite hands back JSON text; node-postgres has already decoded the jsonb.
    const decode = engine === 'sqlite' ? (text: unknown): unknown => JSON.parse(String(text)) : (json: unknown): unknown => json;
    metadata.push([key, shape(await grouped(value, sql`${value} IS NOT NULL`), decode)]);
  }
  return {
    metadata: request.metadata.length ? Object.fromEntries(metadata) : null,
    structure_families: request.structureFamilies ? shape(await grouped(raw('n.structure_family'), TRUE), String) : null,
    specs: request.specs ? shape(await grouped(raw(engine === 'sqlite' ? 'json(n.specs)' : 'n.specs'), TRUE), specsValue) : null,
  };
}
