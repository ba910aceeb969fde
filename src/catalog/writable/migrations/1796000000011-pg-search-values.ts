import { MigrationInterface, QueryRunner } from 'typeorm';
import { PG_VALUES_MIGRATION } from '../sql-search-migration';

/**
 * PostgreSQL: a value table of each node's metadata, kept by a trigger (sql-search-migration.ts lists it), so
 * `eq`, number comparisons, their counts and one-key sorts read btree indexes. Nothing on SQLite, which has
 * had its own since SqlSearch1796000000001.
 */
export class PgSearchValues1796000000011 implements MigrationInterface {
  name = PG_VALUES_MIGRATION.name;

  async up(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of PG_VALUES_MIGRATION.up[engine]) await q.query(statement);
  }

  async down(q: QueryRunner): Promise<void> {
    const engine = q.connection.driver.options.type === 'postgres' ? 'postgres' : 'sqlite';
    for (const statement of PG_VALUES_MIGRATION.down[engine]) await q.query(statement);
  }
}
