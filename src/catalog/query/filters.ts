import { BadRequestError } from '../../common/errors/tiled-http.error';
import type { Metadata, Spec, StructureFamily } from '../tree/tree.types';
import type { Query } from '../http/query-params';
import { likeMatcher, regexMatcher } from './patterns';
import { fulltextTerms } from './filter-ast';
import type { ComparisonOperator, Filter } from './filter-ast';

export type { Filter } from './filter-ast';

/** What a filter sees of a child. */
export interface Candidate {
  key: string;
  family: StructureFamily;
  metadata: Metadata;
  specs: readonly Spec[];
}

export type Predicate = (c: Candidate) => boolean;

export interface ParsedFilters {
  /** The filters as data, for trees that run them elsewhere (a database). */
  filters: Filter[];
  /** The same filters as in-memory predicates (access_blob_filter has none). */
  predicates: Predicate[];
  /** `lookup` keys, applied after the other filters by direct child lookup, as Tiled 0.2.16 does. */
  lookups: string[];
}

const FILTER_PARAM = /^filter\[([^\]]+)\]\[condition\]\[([^\]]+)\]$/;

/** Most filter conditions one request may carry; each one is evaluated against every child. */
export const MAX_FILTERS = 64;

/**
 * Each query type and its fields, in the order Tiled's client encodes them. A Map, because the name comes
 * from the request: `filter[constructor]` must be an unknown filter, not Object.prototype's member.
 */
export const QUERY_FIELDS: ReadonlyMap<string, readonly string[]> = new Map(Object.entries({
  fulltext: ['text'],
  lookup: ['key'],
  keys_filter: ['keys'],
  regex: ['key', 'pattern', 'case_sensitive'],
  eq: ['key', 'value'],
  noteq: ['key', 'value'],
  comparison: ['operator', 'key', 'value'],
  contains: ['key', 'value'],
  in: ['key', 'value'],
  notin: ['key', 'value'],
  keypresent: ['key', 'exists'],
  like: ['key', 'pattern'],
  specs: ['include', 'exclude'],
  structure_family: ['value'],
  access_blob_filter: ['user_id', 'tags'],
}));

const OPTIONAL: ReadonlyMap<string, readonly string[]> = new Map(Object.entries({
  regex: ['case_sensitive'],
  specs: ['include', 'exclude'],
  keypresent: ['exists'],
  access_blob_filter: ['user_id', 'tags'],
}));

function json(name: string, field: string, raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    throw new BadRequestError(`Could not decode filter[${name}][condition][${field}]: ${JSON.stringify(raw)} is not valid JSON`);
  }
}

function jsonList(name: string, field: string, raw: string | undefined): unknown[] {
  if (raw === undefined) return [];
  const value = json(name, field, raw);
  if (!Array.isArray(value)) throw new BadRequestError(`filter[${name}][condition][${field}] must be a JSON list, not ${raw}`);
  return value;
}

function jsonBool(name: string, field: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  const lower = raw.toLowerCase();
  if (lower === 'true' || lower === '1') return true;
  if (lower === 'false' || lower === '0') return false;
  throw new BadRequestError(`filter[${name}][condition][${field}] must be true or false, not ${JSON.stringify(raw)}`);
}

/** The value at a dotted metadata path, or undefined. */
export function dig(metadata: Metadata, key: string): unknown {
  let current: unknown = metadata;
  for (const part of key.split('.')) {
    if (current === null || typeof current !== 'object' || Array.isArray(current) || current instanceof Date) return undefined;
    if (!Object.prototype.hasOwnProperty.call(current, part)) return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/** Dates in metadata compare with the ISO strings a client can send. */
function comparable(value: unknown): unknown {
  return value instanceof Date ? value.toISOString().replace(/\.000Z$/, '+00:00') : value;
}

export function deepEqual(a: unknown, b: unknown): boolean {
  a = comparable(a);
  b = comparable(b);
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function compare(op: ComparisonOperator, left: unknown, right: unknown): boolean {
  left = comparable(left);
  right = comparable(right);
  const bothNumbers = typeof left === 'number' && typeof right === 'number';
  const bothStrings = typeof left === 'string' && typeof right === 'string';
  if (!bothNumbers && !bothStrings) return false;
  const l = left as number | string;
  const r = right as number | string;
  switch (op) {
    case 'lt':
      return l < r;
    case 'le':
      return l <= r;
    case 'gt':
      return l > r;
    default:
      return l >= r;
  }
}

function words(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') {
    for (const w of value.toLowerCase().split(/[^\p{L}\p{N}_]+/u)) if (w) into.add(w);
  } else if (Array.isArray(value)) value.forEach((v) => words(v, into));
  else if (value && typeof value === 'object' && !(value instanceof Date)) Object.values(value).forEach((v) => words(v, into));
}

function text(f: Record<string, string | undefined>, field: string): string {
  return f[field] ?? '';
}

/** One filter's fields, decoded and validated: a filter, a `lookup` key, or null for none. */
function decode(name: string, f: Record<string, string | undefined>): Filter | string {
  switch (name) {
    case 'fulltext':
      return { type: 'fulltext', text: text(f, 'text') };
    case 'lookup':
      return text(f, 'key');
    case 'keys_filter':
      return { type: 'keys_filter', keys: jsonList(name, 'keys', f.keys).map(String) };
    case 'regex':
      return { type: 'regex', key: text(f, 'key'), pattern: text(f, 'pattern'), caseSensitive: jsonBool(name, 'case_sensitive', f.case_sensitive, true) };
    case 'eq':
    case 'noteq':
      return { type: name, key: text(f, 'key'), value: json(name, 'value', text(f, 'value')) };
    case 'comparison': {
      const op = text(f, 'operator');
      if (op !== 'lt' && op !== 'le' && op !== 'gt' && op !== 'ge') {
        throw new BadRequestError(`filter[comparison][condition][operator] must be one of lt, le, gt, ge, not ${JSON.stringify(op)}`);
      }
      return { type: 'comparison', operator: op, key: text(f, 'key'), value: json(name, 'value', text(f, 'value')) };
    }
    case 'contains':
      return { type: 'contains', key: text(f, 'key'), value: json(name, 'value', text(f, 'value')) };
    case 'in':
    case 'notin':
      return { type: name, key: text(f, 'key'), value: jsonList(name, 'value', f.value) };
    case 'keypresent':
      return { type: 'keypresent', key: text(f, 'key'), exists: jsonBool(name, 'exists', f.exists, true) };
    case 'like': {
      const pattern = json(name, 'pattern', text(f, 'pattern'));
      if (typeof pattern !== 'string') throw new BadRequestError('filter[like][condition][pattern] must be a JSON string');
      return { type: 'like', key: text(f, 'key'), pattern };
    }
    case 'specs':
      return { type: 'specs', include: jsonList(name, 'include', f.include).map(String), exclude: jsonList(name, 'exclude', f.exclude).map(String) };
    case 'structure_family':
      return { type: 'structure_family', value: text(f, 'value') };
    default:
      // access_blob_filter: Tiled's client sends `tags` as a JSON list; a bare user id is a string.
      return { type: 'access_blob_filter', userId: f.user_id ?? null, tags: f.tags === undefined ? [] : jsonList(name, 'tags', f.tags).map(String) };
  }
}

/**
 * The in-memory form of a filter, or null when it constrains nothing here: in-memory trees carry no
 * access blobs, and this server configures no access policy that would add the filter.
 * Building it also validates what only compiling can (regex and like patterns), so a bad pattern is a 400
 * whichever path runs the search.
 */
export function toPredicate(filter: Filter): Predicate | null {
  switch (filter.type) {
    case 'fulltext': {
      const terms = fulltextTerms(filter.text);
      return (c) => {
        const have = new Set<string>();
        words(c.metadata, have);
        return terms.every((t) => have.has(t));
      };
    }
    case 'keys_filter': {
      const keys = new Set(filter.keys);
      return (c) => keys.has(c.key);
    }
    case 'regex': {
      const matches = regexMatcher(filter.pattern, filter.caseSensitive);
      const key = filter.key;
      return (c) => {
        const v = dig(c.metadata, key);
        return typeof v === 'string' && matches(v);
      };
    }
    case 'eq':
    case 'noteq': {
      const { key, value } = filter;
      return filter.type === 'eq'
        ? (c) => deepEqual(dig(c.metadata, key), value)
        : (c) => {
            const v = dig(c.metadata, key);
            return v !== undefined && !deepEqual(v, value);
          };
    }
    case 'comparison': {
      const { operator, key, value } = filter;
      return (c) => compare(operator, dig(c.metadata, key), value);
    }
    case 'contains': {
      const { key, value } = filter;
      return (c) => {
        const v = dig(c.metadata, key);
        return Array.isArray(v) && v.some((item) => deepEqual(item, value));
      };
    }
    case 'in':
    case 'notin': {
      const { key, value: list, type } = filter;
      return (c) => {
        const v = dig(c.metadata, key);
        if (v === undefined) return false;
        const found = list.some((item) => deepEqual(v, item));
        return type === 'in' ? found : !found;
      };
    }
    case 'keypresent': {
      const { key, exists } = filter;
      return (c) => (dig(c.metadata, key) !== undefined) === exists;
    }
    case 'like': {
      const matches = likeMatcher(filter.pattern);
      const key = filter.key;
      return (c) => {
        const v = dig(c.metadata, key);
        return typeof v === 'string' && matches(v);
      };
    }
    case 'specs': {
      const { include, exclude } = filter;
      return (c) => {
        const names = new Set(c.specs.map((s) => s.name));
        return include.every((s) => names.has(s)) && !exclude.some((s) => names.has(s));
      };
    }
    case 'structure_family': {
      const value = filter.value;
      return (c) => c.family === value;
    }
    case 'access_blob_filter':
      return null;
  }
}

/**
 * Decode `filter[NAME][condition][FIELD]` parameters (docs/catalog.md): repeated fields are zipped
 * into one query each; unknown names are ignored, as Tiled does.
 */
export function parseFilters(query: Query): ParsedFilters {
  const grouped = new Map<string, Map<string, string[]>>();
  for (const [param, value] of Object.entries(query)) {
    const match = FILTER_PARAM.exec(param);
    if (!match || value === undefined) continue;
    const [, name, field] = match;
    const known = QUERY_FIELDS.get(name);
    if (!known) continue;
    if (!known.includes(field)) {
      throw new BadRequestError(`Unknown field '${field}' for filter '${name}'; expected ${known.join(', ')}`);
    }
    const fields = grouped.get(name) ?? new Map<string, string[]>();
    fields.set(field, Array.isArray(value) ? value : [value]);
    grouped.set(name, fields);
  }
  const filters: Filter[] = [];
  const predicates: Predicate[] = [];
  const lookups: string[] = [];
  let conditions = 0;
  for (const fields of grouped.values()) conditions += Math.max(0, ...[...fields.values()].map((v) => v.length));
  if (conditions > MAX_FILTERS) throw new BadRequestError(`Too many filter conditions: ${conditions}; at most ${MAX_FILTERS} are accepted per request`);
  for (const [name, fields] of grouped) {
    const counts = new Set([...fields.values()].map((v) => v.length));
    if (counts.size > 1) throw new BadRequestError(`filter[${name}] has a different number of values for its fields ${[...fields.keys()].join(', ')}`);
    const optional = OPTIONAL.get(name) ?? [];
    for (const required of QUERY_FIELDS.get(name) ?? []) {
      if (!fields.has(required) && !optional.includes(required)) {
        throw new BadRequestError(`filter[${name}] needs filter[${name}][condition][${required}]`);
      }
    }
    const n = [...counts][0] ?? 0;
    for (let i = 0; i < n; i++) {
      const f: Record<string, string | undefined> = {};
      for (const [field, values] of fields) f[field] = values[i];
      const decoded = decode(name, f);
      if (typeof decoded === 'string') {
        lookups.push(decoded);
        continue;
      }
      filters.push(decoded);
      const predicate = toPredicate(decoded);
      if (predicate) predicates.push(predicate);
    }
  }
  return { filters, predicates, lookups };
}
