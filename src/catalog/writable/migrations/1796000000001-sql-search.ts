import { MigrationInterface, QueryRunner } from 'typeorm';
import { SQL_SEARCH_MIGRATION } from '../sql-search-migration';

/**
 * The indexes, value table and full-text tables search in SQL reads (sql-search-migration.ts lists them),
 * so /search, /distinct and listings of a catalog run in the database instead of in memory.
 */
export class SqlSearch1796000000001 implements MigrationInterface {
  name = SQL_SEARCH_MIGRATION.name;

  async up(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of SQL_SEARCH_MIGRATION.up[engine]) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of SQL_SEARCH_MIGRATION.down[engine]) await q.query(statement);
  }
}
