import { PG_VALUES_MIGRATION, sqlMigrationClass } from '../sql-search-migration';

/**
 * PostgreSQL: a value table of each node's metadata, kept by a trigger (sql-search-migration.ts lists it), so
 * `eq`, number comparisons, their counts and one-key sorts read btree indexes. Nothing on SQLite, which has
 * had its own since SqlSearch1796000000001.
 */
export const PgSearchValues1796000000011 = sqlMigrationClass(PG_VALUES_MIGRATION);
