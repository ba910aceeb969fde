import { MigrationInterface, QueryRunner, TableColumn, TableIndex } from 'typeorm';

/**
 * Pending external logins remember the client address that started them, so the number in progress can be
 * capped per address (and per provider, with the second index) instead of only in total: a flood from one
 * address then no longer stops everyone else's logins. Rows started before the upgrade get an empty address.
 */
export class PendingLoginAddress1795800000000 implements MigrationInterface {
  name = 'PendingLoginAddress1795800000000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'external_login_requests',
      new TableColumn({ name: 'client_address', type: 'varchar', length: '64', isNullable: false, default: "''" }),
    );
    await q.createIndex(
      'external_login_requests',
      new TableIndex({ name: 'ix_external_login_requests_address_expiration', columnNames: ['client_address', 'expiration_time'] }),
    );
    await q.createIndex(
      'external_login_requests',
      new TableIndex({ name: 'ix_external_login_requests_provider_expiration', columnNames: ['provider', 'expiration_time'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('external_login_requests', 'ix_external_login_requests_provider_expiration');
    await q.dropIndex('external_login_requests', 'ix_external_login_requests_address_expiration');
    await q.dropColumn('external_login_requests', 'client_address');
  }
}
