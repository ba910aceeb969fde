import { MigrationInterface, QueryRunner } from 'typeorm';
import { PG_ACCESS_GRANTS_MIGRATION } from '../sql-search-migration';

/**
 * PostgreSQL: a grants table of each node's access tags and user, kept by a trigger (sql-search-migration.ts
 * lists it), so a count under the access policy reads an index. Nothing on SQLite, which has had its own
 * since SqlAccess1796000000010.
 */
export class PgAccessGrants1796000000012 implements MigrationInterface {
  name = PG_ACCESS_GRANTS_MIGRATION.name;

  async up(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of PG_ACCESS_GRANTS_MIGRATION.up[engine]) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of PG_ACCESS_GRANTS_MIGRATION.down[engine]) await q.query(statement);
  }
}
