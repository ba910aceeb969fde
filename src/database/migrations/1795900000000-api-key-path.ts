import { MigrationInterface, QueryRunner, TableColumn } from 'typeorm';

/**
 * API keys may be bound to a subtree of the catalog (docs/access-control.md). Beyond Tiled, so the column
 * is nullable and existing keys keep reaching the whole catalog.
 */
export class ApiKeyPath1795900000000 implements MigrationInterface {
  name = 'ApiKeyPath1795900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn('api_keys', new TableColumn({ name: 'path', type: 'varchar', length: '1023', isNullable: true }));
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('api_keys', 'path');
  }
}
