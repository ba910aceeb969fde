import type { AccessQuery } from '../../plugins-api';
import type { ChildFilter } from './node-access';

export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlCondition {
  /** A boolean SQL expression over the blob column. */
  sql: string;
  params: unknown[];
}

/**
 * The WHERE-clause form of a child filter, for a catalog that keeps each node's access blob in a JSON
 * column (TEXT on SQLite, JSONB on PostgreSQL): the same decision `passes` makes in memory, as Tiled 0.2.16's
 * SQL catalog makes it for `access_blob_filter` — a node passes if its `user` equals `user_id` or its `tags`
 * share one with `tags`. A NULL blob passes, as in memory: the node is governed by its parent, which the
 * lookup has already let through. Placeholders are numbered from `firstParam` on PostgreSQL (`$n`), `?` on SQLite.
 */
export function accessFilterSql(dialect: SqlDialect, column: string, filter: ChildFilter, firstParam = 1): SqlCondition {
  const yes = dialect === 'postgres' ? 'TRUE' : '1';
  const no = dialect === 'postgres' ? 'FALSE' : '0';
  if (filter.kind === 'all') return { sql: yes, params: [] };
  if (filter.kind === 'none') return { sql: no, params: [] };
  const params: unknown[] = [];
  const next = (value: unknown): string => {
    params.push(value);
    return dialect === 'postgres' ? `$${firstParam + params.length - 1}` : '?';
  };
  const parts = filter.queries.map((query) => `(${column} IS NULL OR ${matchOne(dialect, column, query, next, no)})`);
  return { sql: parts.length ? parts.join(' AND ') : yes, params };
}

function matchOne(dialect: SqlDialect, column: string, query: AccessQuery, next: (value: unknown) => string, no: string): string {
  const alternatives: string[] = [];
  if (query.user_id !== null) {
    // Only a string names a user (as blobPasses reads a blob): `->>` would turn a number 5 into '5'.
    alternatives.push(
      dialect === 'postgres'
        ? `((${column} ->> 'user') = ${next(query.user_id)} AND jsonb_typeof(${column} -> 'user') = 'string')`
        : `(json_extract(${column}, '$.user') = ${next(query.user_id)} AND json_type(${column}, '$.user') = 'text')`,
    );
  }
  if (query.tags.length) {
    alternatives.push(
      dialect === 'postgres'
        ? // `?|` in operator form, so the GIN index on `access_blob -> 'tags'` (SqlAccess migration) serves it.
          `((${column} -> 'tags') ?| ${next([...query.tags])}::text[] AND jsonb_typeof(${column} -> 'tags') = 'array')`
        : `EXISTS (SELECT 1 FROM json_each(${column}, '$.tags') AS t WHERE t.value IN (${query.tags.map((tag) => next(tag)).join(', ')}))`,
    );
  }
  return alternatives.length ? `(${alternatives.join(' OR ')})` : no;
}
