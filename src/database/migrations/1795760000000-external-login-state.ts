import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

const timeCreated = { name: 'time_created', type: 'bigint', isNullable: false } as const;
const expirationTime = { name: 'expiration_time', type: 'bigint', isNullable: false } as const;

/**
 * External-login state (authorization requests, device-code requests, wrong-user-code counts) moves from
 * process memory into the authentication database, so several replicas can serve one login.
 * Nothing to migrate: pending logins last minutes, and an upgrade restart already ended them.
 */
export class ExternalLoginState1795760000000 implements MigrationInterface {
  name = 'ExternalLoginState1795760000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'external_login_requests',
        columns: [
          { name: 'hashed_state', type: 'varchar', length: '64', isPrimary: true },
          { name: 'provider', type: 'varchar', length: '255', isNullable: false },
          { name: 'purpose', type: 'varchar', length: '16', isNullable: false },
          { name: 'code_verifier', type: 'varchar', length: '128', isNullable: false },
          { name: 'nonce', type: 'varchar', length: '128', isNullable: false },
          { name: 'redirect_uri', type: 'text', isNullable: false },
          { name: 'client_state', type: 'text', isNullable: true },
          { name: 'hashed_device_code', type: 'varchar', length: '64', isNullable: true },
          { name: 'failed_attempts', type: 'integer', isNullable: false, default: 0 },
          expirationTime,
          timeCreated,
        ],
        indices: [new TableIndex({ name: 'ix_external_login_requests_expiration_time', columnNames: ['expiration_time'] })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'device_login_requests',
        columns: [
          { name: 'hashed_device_code', type: 'varchar', length: '64', isPrimary: true },
          { name: 'hashed_user_code', type: 'varchar', length: '64', isNullable: false },
          { name: 'provider', type: 'varchar', length: '255', isNullable: false },
          { name: 'interval_ms', type: 'integer', isNullable: false },
          { name: 'last_polled_at', type: 'bigint', isNullable: true },
          { name: 'identity', type: 'text', isNullable: true },
          expirationTime,
          timeCreated,
        ],
        indices: [
          new TableIndex({ name: 'ix_device_login_requests_hashed_user_code', columnNames: ['hashed_user_code'], isUnique: true }),
          new TableIndex({ name: 'ix_device_login_requests_expiration_time', columnNames: ['expiration_time'] }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'user_code_failures',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' },
          { name: 'address', type: 'varchar', length: '255', isNullable: false },
          timeCreated,
        ],
        indices: [new TableIndex({ name: 'ix_user_code_failures_address_time', columnNames: ['address', 'time_created'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['user_code_failures', 'device_login_requests', 'external_login_requests']) await q.dropTable(table);
  }
}
