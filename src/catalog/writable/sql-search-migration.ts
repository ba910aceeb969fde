import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Indexes and full-text tables that search in SQL (sql-search.ts) relies on, as plain SQL for the catalog's
 * migration list. Run `up` after the migration that creates `nodes`; `down` undoes exactly this one.
 *
 * | Object | Engine | Serves |
 * |---|---|---|
 * | `nodes_parent_id` (parent, id) | both | every search: a parent's children in insertion order, the tiebreak and default page order |
 * | `nodes_fts` + 3 triggers | SQLite | `fulltext`: FTS5 over the metadata's string values, kept in step with `nodes` by triggers |
 * | `nodes_metadata_values` + 3 triggers | SQLite | `eq`, `comparison` and sorting: each scalar by (parent, path, value, type, node_id) and (node_id, path, type, value), both covering, so these need not parse every node's JSON |
 * | `nodes_metadata_gin` (jsonb_path_ops) | PostgreSQL | `eq` and `contains` (searched as `metadata @> …` first) |
 * | `nodes_specs_gin` (jsonb_path_ops) | PostgreSQL | `specs` |
 * | `nodes_fulltext_gin` | PostgreSQL | `fulltext`: the tsvector of the metadata's string values |
 *
 * (parent, key) is covered by the table's unique constraint, which serves `lookup` and `keys_filter`.
 * `SQL_ACCESS_MIGRATION` below adds what the access policy's filter reads, `PG_VALUES_MIGRATION` PostgreSQL's
 * value table.
 */

/** Only string values are indexed (not keys, not numbers), as the in-memory fulltext filter reads them. */
const SQLITE_FTS_TEXT = `(SELECT group_concat(value, ' ') FROM json_tree(new.metadata) WHERE type = 'text')`;

/**
 * Every scalar of the metadata reached through objects only (as a dotted key reads it: no `[` from an array
 * index in its path), under json_tree's `fullkey`; `sql-search.ts` `indexedPath` builds the same text.
 * Paths with a backslash (an escaped quote in a label) are left out, as `indexedPath` never asks for them.
 */
const SQLITE_VALUES = (row: string): string => `INSERT INTO nodes_metadata_values (node_id, parent, path, type, value)
         SELECT ${row}.id, ${row}.parent, fullkey, type, atom FROM json_tree(${row}.metadata)
         WHERE type NOT IN ('object', 'array') AND instr(fullkey, '[') = 0 AND instr(fullkey, char(92)) = 0`;

export interface SqlMigration {
  readonly name: string;
  readonly up: Readonly<Record<'sqlite' | 'postgres', readonly string[]>>;
  readonly down: Readonly<Record<'sqlite' | 'postgres', readonly string[]>>;
}

/** A TypeORM migration class that runs `migration`'s statements for the connection's engine. */
export function sqlMigrationClass(migration: SqlMigration): new () => MigrationInterface {
  const engineOf = (q: QueryRunner): 'sqlite' | 'postgres' => (q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite');
  return class implements MigrationInterface {
    name = migration.name;

    async up(q: QueryRunner): Promise<void> {
      for (const statement of migration.up[engineOf(q)]) await q.query(statement);
    }

    async down(q: QueryRunner): Promise<void> {
      for (const statement of migration.down[engineOf(q)]) await q.query(statement);
    }
  };
}

export const SQL_SEARCH_MIGRATION: SqlMigration = {
  name: 'SqlSearch1796000000001',
  up: {
    sqlite: [
      'CREATE INDEX IF NOT EXISTS nodes_parent_id ON nodes (parent, id)',
      // Letters, digits and `_` make words, accents kept, as the in-memory filter splits them.
      `CREATE VIRTUAL TABLE IF NOT EXISTS nodes_fts USING fts5(words, content = '', contentless_delete = 1, tokenize = "unicode61 remove_diacritics 0 tokenchars '_'")`,
      `CREATE TRIGGER IF NOT EXISTS nodes_fts_insert AFTER INSERT ON nodes BEGIN
         INSERT INTO nodes_fts (rowid, words) VALUES (new.id, ${SQLITE_FTS_TEXT});
       END`,
      `CREATE TRIGGER IF NOT EXISTS nodes_fts_update AFTER UPDATE OF metadata ON nodes BEGIN
         DELETE FROM nodes_fts WHERE rowid = old.id;
         INSERT INTO nodes_fts (rowid, words) VALUES (new.id, ${SQLITE_FTS_TEXT});
       END`,
      `CREATE TRIGGER IF NOT EXISTS nodes_fts_delete AFTER DELETE ON nodes BEGIN
         DELETE FROM nodes_fts WHERE rowid = old.id;
       END`,
      `INSERT INTO nodes_fts (rowid, words)
         SELECT id, (SELECT group_concat(value, ' ') FROM json_tree(nodes.metadata) WHERE type = 'text') FROM nodes
         WHERE id NOT IN (SELECT rowid FROM nodes_fts)`,
      `CREATE TABLE IF NOT EXISTS nodes_metadata_values (
         node_id INTEGER NOT NULL,
         parent INTEGER NULL,
         path TEXT NOT NULL,
         type TEXT NOT NULL,
         value -- no declared type: no affinity, so the string '1' stays a string
       )`,
      // Covering: a filter's subquery reads node ids from the index alone.
      'CREATE INDEX IF NOT EXISTS nodes_metadata_values_lookup ON nodes_metadata_values (parent, path, value, type, node_id)',
      'CREATE INDEX IF NOT EXISTS nodes_metadata_values_node ON nodes_metadata_values (node_id, path, type, value)',
      `CREATE TRIGGER IF NOT EXISTS nodes_metadata_values_insert AFTER INSERT ON nodes BEGIN
         ${SQLITE_VALUES('new')};
       END`,
      `CREATE TRIGGER IF NOT EXISTS nodes_metadata_values_update AFTER UPDATE OF metadata, parent ON nodes BEGIN
         DELETE FROM nodes_metadata_values WHERE node_id = old.id;
         ${SQLITE_VALUES('new')};
       END`,
      `CREATE TRIGGER IF NOT EXISTS nodes_metadata_values_delete AFTER DELETE ON nodes BEGIN
         DELETE FROM nodes_metadata_values WHERE node_id = old.id;
       END`,
      `${SQLITE_VALUES('nodes').replace('FROM json_tree(nodes.metadata)', 'FROM nodes, json_tree(nodes.metadata)')}
         AND nodes.id NOT IN (SELECT node_id FROM nodes_metadata_values)`,
    ],
    postgres: [
      'CREATE INDEX IF NOT EXISTS nodes_parent_id ON nodes (parent, id)',
      'CREATE INDEX IF NOT EXISTS nodes_metadata_gin ON nodes USING gin (metadata jsonb_path_ops)',
      'CREATE INDEX IF NOT EXISTS nodes_specs_gin ON nodes USING gin (specs jsonb_path_ops)',
      // Must read exactly as PG_FULLTEXT_VECTOR in sql-search.ts (with the table's name for `n`) for the planner to use it.
      `CREATE INDEX IF NOT EXISTS nodes_fulltext_gin ON nodes USING gin (jsonb_to_tsvector('simple'::regconfig, metadata, '["string"]'::jsonb))`,
    ],
  },
  down: {
    sqlite: [
      'DROP TRIGGER IF EXISTS nodes_metadata_values_delete',
      'DROP TRIGGER IF EXISTS nodes_metadata_values_update',
      'DROP TRIGGER IF EXISTS nodes_metadata_values_insert',
      'DROP TABLE IF EXISTS nodes_metadata_values',
      'DROP TRIGGER IF EXISTS nodes_fts_delete',
      'DROP TRIGGER IF EXISTS nodes_fts_update',
      'DROP TRIGGER IF EXISTS nodes_fts_insert',
      'DROP TABLE IF EXISTS nodes_fts',
      'DROP INDEX IF EXISTS nodes_parent_id',
    ],
    postgres: [
      'DROP INDEX IF EXISTS nodes_fulltext_gin',
      'DROP INDEX IF EXISTS nodes_specs_gin',
      'DROP INDEX IF EXISTS nodes_metadata_gin',
      'DROP INDEX IF EXISTS nodes_parent_id',
    ],
  },
};

/**
 * A node's access principals as `nodes_access_grants` holds them (SQLite): `tag:` + each string of the blob's
 * `tags` array, `user:` + its `user` string. Exactly what `blobPasses` (node-access.ts) looks at: a tag that is
 * not a string, `tags` that is not an array, a `user` that is not a string grant nothing.
 */
export const ACCESS_GRANT_PREFIX = { tag: 'tag:', user: 'user:' } as const;

const SQLITE_GRANTS = (row: string): string => `INSERT INTO nodes_access_grants (node_id, parent, principal)
         SELECT ${row}.id, ${row}.parent, '${ACCESS_GRANT_PREFIX.tag}' || t.value FROM json_each(${row}.access_blob, '$.tags') AS t
           WHERE json_type(${row}.access_blob, '$.tags') = 'array' AND t.type = 'text'
         UNION
         SELECT ${row}.id, ${row}.parent, '${ACCESS_GRANT_PREFIX.user}' || json_extract(${row}.access_blob, '$.user')
           WHERE json_type(${row}.access_blob, '$.user') = 'text'`;

/**
 * What the access policy's `access_blob_filter` reads (sql-search.ts), so a filtered listing or count walks an
 * index instead of parsing every child's blob:
 *
 * | Object | Engine | Serves |
 * |---|---|---|
 * | `nodes_access_grants` + 3 triggers | SQLite | one row per (node, principal), indexed by (parent, principal, node_id): the children a caller's tags and user may see |
 * | `nodes_access_tags_gin` | PostgreSQL | `access_blob -> 'tags' ?| tags` |
 * | `nodes_access_user` | PostgreSQL | `access_blob ->> 'user' = user` |
 */
export const SQL_ACCESS_MIGRATION: SqlMigration = {
  name: 'SqlAccess1796000000010',
  up: {
    sqlite: [
      `CREATE TABLE IF NOT EXISTS nodes_access_grants (
         node_id INTEGER NOT NULL,
         parent INTEGER NULL,
         principal TEXT NOT NULL
       )`,
      'CREATE INDEX IF NOT EXISTS nodes_access_grants_lookup ON nodes_access_grants (parent, principal, node_id)',
      'CREATE INDEX IF NOT EXISTS nodes_access_grants_node ON nodes_access_grants (node_id, principal)',
      `CREATE TRIGGER IF NOT EXISTS nodes_access_grants_insert AFTER INSERT ON nodes BEGIN
         ${SQLITE_GRANTS('new')};
       END`,
      `CREATE TRIGGER IF NOT EXISTS nodes_access_grants_update AFTER UPDATE OF access_blob, parent ON nodes BEGIN
         DELETE FROM nodes_access_grants WHERE node_id = old.id;
         ${SQLITE_GRANTS('new')};
       END`,
      `CREATE TRIGGER IF NOT EXISTS nodes_access_grants_delete AFTER DELETE ON nodes BEGIN
         DELETE FROM nodes_access_grants WHERE node_id = old.id;
       END`,
      `INSERT INTO nodes_access_grants (node_id, parent, principal)
         SELECT n.id, n.parent, '${ACCESS_GRANT_PREFIX.tag}' || t.value FROM nodes n, json_each(n.access_blob, '$.tags') AS t
           WHERE json_type(n.access_blob, '$.tags') = 'array' AND t.type = 'text' AND n.id NOT IN (SELECT node_id FROM nodes_access_grants)
         UNION
         SELECT n.id, n.parent, '${ACCESS_GRANT_PREFIX.user}' || json_extract(n.access_blob, '$.user') FROM nodes n
           WHERE json_type(n.access_blob, '$.user') = 'text' AND n.id NOT IN (SELECT node_id FROM nodes_access_grants)`,
    ],
    postgres: [
      "CREATE INDEX IF NOT EXISTS nodes_access_tags_gin ON nodes USING gin ((access_blob -> 'tags'))",
      "CREATE INDEX IF NOT EXISTS nodes_access_user ON nodes (parent, (access_blob ->> 'user'))",
    ],
  },
  down: {
    sqlite: [
      'DROP TRIGGER IF EXISTS nodes_access_grants_delete',
      'DROP TRIGGER IF EXISTS nodes_access_grants_update',
      'DROP TRIGGER IF EXISTS nodes_access_grants_insert',
      'DROP TABLE IF EXISTS nodes_access_grants',
    ],
    postgres: ['DROP INDEX IF EXISTS nodes_access_user', 'DROP INDEX IF EXISTS nodes_access_tags_gin'],
  },
};

/**
 * PostgreSQL: the longest string (in UTF-8 bytes) `nodes_metadata_values` keeps in `str`. A btree entry may
 * not pass about 2,700 bytes, so longer strings (and objects and arrays whose JSON text is longer) are kept
 * with `str` NULL: the row still says the key is present, and search takes the JSON path where it matters.
 */
export const PG_VALUE_TEXT_BYTES = 1000;

/**
 * PostgreSQL: every value of a node's metadata reached through objects only (as a dotted key reads it with
 * `->`), by path as a text array, with its `jsonb_typeof`, its sort rank as sql-search.ts `pgOrder` ranks it
 * (booleans and numbers 0, strings 1, the rest 2), `num` (numbers; booleans as 1 and 0) and `str` (a string's
 * text, or the JSON text of an object, an array or null, both collated "C").
 */
const PG_VALUES_FUNCTION = `CREATE OR REPLACE FUNCTION tiled_metadata_values(metadata jsonb)
  RETURNS TABLE (path text[], type text, rank smallint, num numeric, str text) LANGUAGE sql IMMUTABLE AS $$
    WITH RECURSIVE t(path, value) AS (
      SELECT ARRAY[e.key], e.value FROM jsonb_each(CASE WHEN jsonb_typeof(metadata) = 'object' THEN metadata ELSE '{}'::jsonb END) e
      UNION ALL
      SELECT t.path || e.key, e.value FROM t, jsonb_each(CASE WHEN jsonb_typeof(t.value) = 'object' THEN t.value ELSE '{}'::jsonb END) e
    )
    SELECT path, type,
      (CASE type WHEN 'number' THEN 0 WHEN 'boolean' THEN 0 WHEN 'string' THEN 1 ELSE 2 END)::smallint,
      CASE type WHEN 'number' THEN (value #>> '{}')::numeric WHEN 'boolean' THEN CASE WHEN value = 'true'::jsonb THEN 1 ELSE 0 END END,
      CASE WHEN octet_length(text) <= ${PG_VALUE_TEXT_BYTES} THEN text END
    FROM (SELECT t.path, t.value, jsonb_typeof(t.value) AS type,
            CASE WHEN jsonb_typeof(t.value) = 'string' THEN t.value #>> '{}' WHEN jsonb_typeof(t.value) IN ('object', 'array', 'null') THEN t.value::text END AS text
          FROM t) v
  $$`;

/**
 * Runs in the writing statement's transaction. `jit = off`: the recursive query's row estimate is far above
 * the JIT threshold, and compiling it cost about 10 ms per inserted node. The sequence moves with every
 * change, so sql-search.ts can keep an answer about a container until the next write (never rolled back).
 */
const PG_VALUES_TRIGGER_FUNCTION = `CREATE OR REPLACE FUNCTION nodes_metadata_values_sync() RETURNS trigger LANGUAGE plpgsql SET jit = off AS $$
  BEGIN
    PERFORM nextval('nodes_metadata_values_version');
    IF TG_OP <> 'INSERT' THEN DELETE FROM nodes_metadata_values WHERE node_id = OLD.id; END IF;
    IF TG_OP <> 'DELETE' THEN
      INSERT INTO nodes_metadata_values (node_id, parent, path, type, rank, num, str)
        SELECT NEW.id, NEW.parent, v.path, v.type, v.rank, v.num, v.str FROM tiled_metadata_values(NEW.metadata) v;
    END IF;
    RETURN NULL;
  END
  $$`;

/**
 * PostgreSQL's value table, so `eq` and number comparisons, their counts and a one-key sort read btree
 * indexes instead of evaluating JSON on every child (sql-search.ts `pgIndexedSearch`):
 *
 * | Object | Serves |
 * |---|---|
 * | `nodes_metadata_values` + trigger `nodes_metadata_values_sync` | one row per (node, path) for every value reached through objects |
 * | `nodes_metadata_values_lookup` (parent, path, rank, num, str, node_id) INCLUDE (type) | a filter's ids and count read from the index alone; a container's values at a key in sort order |
 * | `nodes_metadata_values_node` (node_id, path) INCLUDE (type, rank, num, str) | one node's value at a key: the other filters' probes |
 * | sequence `nodes_metadata_values_version` | moves with every write: cached container checks know when they are stale |
 */
export const PG_VALUES_MIGRATION: SqlMigration = {
  name: 'PgSearchValues1796000000011',
  up: {
    sqlite: [],
    postgres: [
      `CREATE TABLE IF NOT EXISTS nodes_metadata_values (
         node_id integer NOT NULL,
         parent integer NULL,
         path text[] NOT NULL,
         type text NOT NULL,
         rank smallint NOT NULL,
         num numeric NULL,
         str text COLLATE "C" NULL
       )`,
      'CREATE SEQUENCE IF NOT EXISTS nodes_metadata_values_version',
      PG_VALUES_FUNCTION,
      PG_VALUES_TRIGGER_FUNCTION,
      'DROP TRIGGER IF EXISTS nodes_metadata_values_sync ON nodes',
      'CREATE TRIGGER nodes_metadata_values_sync AFTER INSERT OR DELETE OR UPDATE OF metadata, parent ON nodes FOR EACH ROW EXECUTE FUNCTION nodes_metadata_values_sync()',
      // After the trigger: a node written meanwhile is the trigger's, one already there the backfill's.
      `INSERT INTO nodes_metadata_values (node_id, parent, path, type, rank, num, str)
         SELECT n.id, n.parent, v.path, v.type, v.rank, v.num, v.str FROM nodes n, tiled_metadata_values(n.metadata) v
         WHERE NOT EXISTS (SELECT 1 FROM nodes_metadata_values m WHERE m.node_id = n.id)`,
      'CREATE INDEX IF NOT EXISTS nodes_metadata_values_lookup ON nodes_metadata_values (parent, path, rank, num, str, node_id) INCLUDE (type)',
      'CREATE INDEX IF NOT EXISTS nodes_metadata_values_node ON nodes_metadata_values (node_id, path) INCLUDE (type, rank, num, str)',
    ],
  },
  down: {
    sqlite: [],
    postgres: [
      'DROP TRIGGER IF EXISTS nodes_metadata_values_sync ON nodes',
      'DROP FUNCTION IF EXISTS nodes_metadata_values_sync()',
      'DROP TABLE IF EXISTS nodes_metadata_values',
      'DROP FUNCTION IF EXISTS tiled_metadata_values(jsonb)',
      'DROP SEQUENCE IF EXISTS nodes_metadata_values_version',
    ],
  },
};

/**
 * PostgreSQL: a node's access principals, as SQLite's `nodes_access_grants` holds them (and from the same
 * rule: the blob's `tags` strings, its `user` string), kept by a trigger.
 */
const PG_GRANTS_TRIGGER_FUNCTION = `CREATE OR REPLACE FUNCTION nodes_access_grants_sync() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP <> 'INSERT' THEN DELETE FROM nodes_access_grants WHERE node_id = OLD.id; END IF;
    IF TG_OP <> 'DELETE' THEN
      INSERT INTO nodes_access_grants (node_id, parent, principal)
        SELECT DISTINCT NEW.id, NEW.parent, '${ACCESS_GRANT_PREFIX.tag}' || (t.value #>> '{}')
          FROM jsonb_array_elements(CASE WHEN jsonb_typeof(NEW.access_blob -> 'tags') = 'array' THEN NEW.access_blob -> 'tags' ELSE '[]'::jsonb END) t
          WHERE jsonb_typeof(t.value) = 'string'
        UNION
        SELECT NEW.id, NEW.parent, '${ACCESS_GRANT_PREFIX.user}' || (NEW.access_blob ->> 'user')
          WHERE jsonb_typeof(NEW.access_blob -> 'user') = 'string';
    END IF;
    RETURN NULL;
  END
  $$`;

/**
 * PostgreSQL's grants table, so a count under the access policy reads one index range per principal instead
 * of every child's blob (sql-search.ts `pgAccessCount`; listings keep the GIN index of SqlAccess1796000000010):
 *
 * | Object | Serves |
 * |---|---|
 * | `nodes_access_grants` + trigger `nodes_access_grants_sync` | one row per (node, principal) |
 * | `nodes_access_grants_lookup` (parent, principal, node_id) | a container's children a caller's tags and user may see, from the index alone |
 * | `nodes_access_grants_node` (node_id, principal) | a node's own grants: what the trigger deletes |
 */
export const PG_ACCESS_GRANTS_MIGRATION: SqlMigration = {
  name: 'PgAccessGrants1796000000012',
  up: {
    sqlite: [],
    postgres: [
      `CREATE TABLE IF NOT EXISTS nodes_access_grants (
         node_id integer NOT NULL,
         parent integer NULL,
         principal text NOT NULL
       )`,
      PG_GRANTS_TRIGGER_FUNCTION,
      'DROP TRIGGER IF EXISTS nodes_access_grants_sync ON nodes',
      'CREATE TRIGGER nodes_access_grants_sync AFTER INSERT OR DELETE OR UPDATE OF access_blob, parent ON nodes FOR EACH ROW EXECUTE FUNCTION nodes_access_grants_sync()',
      // After the trigger: a node written meanwhile is the trigger's, one already there the backfill's.
      `INSERT INTO nodes_access_grants (node_id, parent, principal)
         SELECT DISTINCT n.id, n.parent, '${ACCESS_GRANT_PREFIX.tag}' || (t.value #>> '{}')
           FROM nodes n, jsonb_array_elements(CASE WHEN jsonb_typeof(n.access_blob -> 'tags') = 'array' THEN n.access_blob -> 'tags' ELSE '[]'::jsonb END) t
           WHERE jsonb_typeof(t.value) = 'string' AND NOT EXISTS (SELECT 1 FROM nodes_access_grants g WHERE g.node_id = n.id)
         UNION
         SELECT n.id, n.parent, '${ACCESS_GRANT_PREFIX.user}' || (n.access_blob ->> 'user') FROM nodes n
           WHERE jsonb_typeof(n.access_blob -> 'user') = 'string' AND NOT EXISTS (SELECT 1 FROM nodes_access_grants g WHERE g.node_id = n.id)`,
      'CREATE INDEX IF NOT EXISTS nodes_access_grants_lookup ON nodes_access_grants (parent, principal, node_id)',
      'CREATE INDEX IF NOT EXISTS nodes_access_grants_node ON nodes_access_grants (node_id, principal)',
    ],
  },
  down: {
    sqlite: [],
    postgres: ['DROP TRIGGER IF EXISTS nodes_access_grants_sync ON nodes', 'DROP FUNCTION IF EXISTS nodes_access_grants_sync()', 'DROP TABLE IF EXISTS nodes_access_grants'],
  },
};

/** Every migration above, in order: what a `nodes` table needs for search (the bench fixture applies them all). */
export const SQL_MIGRATIONS: readonly SqlMigration[] = [SQL_SEARCH_MIGRATION, SQL_ACCESS_MIGRATION, PG_VALUES_MIGRATION, PG_ACCESS_GRANTS_MIGRATION];
