import { PG_ACCESS_GRANTS_MIGRATION, sqlMigrationClass } from '../sql-search-migration';

/**
 * PostgreSQL: a grants table of each node's access tags and user, kept by a trigger (sql-search-migration.ts
 * lists it), so a count under the access policy reads an index. Nothing on SQLite, which has had its own
 * since SqlAccess1796000000010.
 */
export const PgAccessGrants1796000000012 = sqlMigrationClass(PG_ACCESS_GRANTS_MIGRATION);
