import { SQL_ACCESS_MIGRATION, sqlMigrationClass } from '../sql-search-migration';

/**
 * An index of each node's access tags and user (sql-search-migration.ts lists it), so a listing or count
 * filtered by the access policy reads an index instead of every child's access blob.
 */
export const SqlAccess1796000000010 = sqlMigrationClass(SQL_ACCESS_MIGRATION);
