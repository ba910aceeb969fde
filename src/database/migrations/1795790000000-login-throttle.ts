import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * Password-login throttle counters move from process memory into the authentication database, so
 * replicas behind a load balancer share one allowance. Nothing to migrate: the in-memory counters end
 * with the process that is stopped for the upgrade.
 */
export class LoginThrottle1795790000000 implements MigrationInterface {
  name = 'LoginThrottle1795790000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'login_failures',
        columns: [
          { name: 'key', type: 'varchar', length: '80', isPrimary: true },
          { name: 'failures', type: 'integer', isNullable: false },
          { name: 'first_failure_at', type: 'bigint', isNullable: false },
          { name: 'blocked_until', type: 'bigint', isNullable: true },
        ],
        indices: [new TableIndex({ name: 'ix_login_failures_first_failure_at', columnNames: ['first_failure_at'] })],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('login_failures');
  }
}
