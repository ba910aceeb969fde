/**
 * Search filters, encoded as Tiled's `filter[NAME][condition][FIELD]=…` parameters
 * (docs/catalog.md). Values the server parses as JSON are JSON-encoded here.
 */
export interface Query {
  name: string;
  fields: Record<string, string>;
}

const json = (value: unknown): string => JSON.stringify(value);

export const queries = {
  fullText: (text: string): Query => ({ name: 'fulltext', fields: { text } }),
  lookup: (key: string): Query => ({ name: 'lookup', fields: { key } }),
  keysFilter: (keys: string[]): Query => ({ name: 'keys_filter', fields: { keys: json(keys) } }),
  regex: (key: string, pattern: string, caseSensitive = true): Query => ({
    name: 'regex',
    fields: { key, pattern, case_sensitive: json(caseSensitive) },
  }),
  eq: (key: string, value: unknown): Query => ({ name: 'eq', fields: { key, value: json(value) } }),
  noteq: (key: string, value: unknown): Query => ({ name: 'noteq', fields: { key, value: json(value) } }),
  comparison: (operator: 'lt' | 'gt' | 'le' | 'ge', key: string, value: unknown): Query => ({
    name: 'comparison',
    fields: { operator, key, value: json(value) },
  }),
  contains: (key: string, value: unknown): Query => ({ name: 'contains', fields: { key, value: json(value) } }),
  in: (key: string, values: unknown[]): Query => ({ name: 'in', fields: { key, value: json(values) } }),
  notIn: (key: string, values: unknown[]): Query => ({ name: 'notin', fields: { key, value: json(values) } }),
  keyPresent: (key: string, exists = true): Query => ({ name: 'keypresent', fields: { key, exists: json(exists) } }),
  like: (key: string, pattern: string): Query => ({ name: 'like', fields: { key, pattern: json(pattern) } }),
  specs: (include: string[], exclude: string[] = []): Query => ({
    name: 'specs',
    fields: { include: json(include), exclude: json(exclude) },
  }),
  structureFamily: (value: string): Query => ({ name: 'structure_family', fields: { value } }),
};

/** Several queries of one kind repeat every field; the server zips them back together. */
export function queryParams(list: readonly Query[]): URLSearchParams {
  const params = new URLSearchParams();
  for (const query of list) {
    for (const [field, value] of Object.entries(query.fields)) params.append(`filter[${query.name}][condition][${field}]`, value);
  }
  return params;
}
