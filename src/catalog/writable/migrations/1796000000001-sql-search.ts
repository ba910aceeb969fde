import { SQL_SEARCH_MIGRATION, sqlMigrationClass } from '../sql-search-migration';

/**
 * The indexes, value table and full-text tables search in SQL reads (sql-search-migration.ts lists them),
 * so /search, /distinct and listings of a catalog run in the database instead of in memory.
 */
export const SqlSearch1796000000001 = sqlMigrationClass(SQL_SEARCH_MIGRATION);
