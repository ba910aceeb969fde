import { MigrationInterface, QueryRunner } from 'typeorm';
import { SQL_ACCESS_MIGRATION } from '../sql-search-migration';

/**
 * An index of each node's access tags and user (sql-search-migration.ts lists it), so a listing or count
 * filtered by the access policy reads an index instead of every child's access blob.
 */
export class SqlAccess1796000000010 implements MigrationInterface {
  name = SQL_ACCESS_MIGRATION.name;

  async up(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of SQL_ACCESS_MIGRATION.up[engine]) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of SQL_ACCESS_MIGRATION.down[engine]) await q.query(statement);
  }
}
