import { MigrationInterface, QueryRunner, Table, TableForeignKey, TableIndex } from 'typeorm';
import { ALL_SCOPES } from '../../auth/scopes';

/**
 * Tiled 0.2.16's default roles. `user` is Tiled's list verbatim; `admin` deliberately holds every
 * scope of the registry (Tiled's fresh `admin` lacks create/revoke:apikeys, which stranded
 * admin-role service principals; this project's issue asks for all scopes).
 */
export const DEFAULT_ROLES: { name: string; description: string; scopes: readonly string[] }[] = [
  {
    name: 'user',
    description: 'Default Role for users.',
    scopes: [
      'read:metadata',
      'read:data',
      'create:node',
      'write:metadata',
      'write:data',
      'delete:revision',
      'delete:node',
      'create:apikeys',
      'revoke:apikeys',
    ],
  },
  { name: 'admin', description: 'Role with elevated privileges.', scopes: ALL_SCOPES },
];

const id = { name: 'id', type: 'integer', isPrimary: true, isGenerated: true, generationStrategy: 'increment' } as const;
const timeCreated = { name: 'time_created', type: 'bigint', isNullable: false } as const;
// Constraint and index names are left to TypeORM's naming strategy so they match what the entities expect.
const principalFk = (onUpdate = 'NO ACTION'): TableForeignKey =>
  new TableForeignKey({
    columnNames: ['principal_id'],
    referencedTableName: 'principals',
    referencedColumnNames: ['id'],
    onDelete: 'CASCADE',
    onUpdate,
  });

/** Every table of the authentication database, with the same names and types the entities declare. */
export class InitialSchema1760000000000 implements MigrationInterface {
  name = 'InitialSchema1760000000000';

  async up(q: QueryRunner): Promise<void> {
    const postgres = q.connection.driver.options.type === 'postgres';
    // The literal TypeORM itself would write for the entities' `default: false` on each engine.
    const sqlFalse = postgres ? false : 0;
    await q.createTable(
      new Table({
        name: 'principals',
        columns: [
          id,
          { name: 'uuid', type: 'varchar', length: '36', isNullable: false },
          { name: 'type', type: 'varchar', length: '16', isNullable: false },
          timeCreated,
        ],
        indices: [new TableIndex({ name: 'ix_principals_uuid', columnNames: ['uuid'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'roles',
        columns: [
          id,
          { name: 'name', type: 'varchar', length: '255', isNullable: false },
          { name: 'description', type: 'varchar', length: '1023', isNullable: true },
          { name: 'scopes', type: 'text', isNullable: false },
          timeCreated,
        ],
        indices: [new TableIndex({ name: 'ix_roles_name', columnNames: ['name'], isUnique: true })],
      }),
    );
    await q.createTable(
      new Table({
        name: 'principal_role_association',
        columns: [
          { name: 'principal_id', type: 'integer', isPrimary: true },
          { name: 'role_id', type: 'integer', isPrimary: true },
        ],
        indices: [
          new TableIndex({ columnNames: ['principal_id'] }),
          new TableIndex({ columnNames: ['role_id'] }),
        ],
        foreignKeys: [
          principalFk('CASCADE'),
          new TableForeignKey({
            columnNames: ['role_id'],
            referencedTableName: 'roles',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
            onUpdate: 'CASCADE',
          }),
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'identities',
        columns: [
          { name: 'id', type: 'varchar', length: '255', isPrimary: true },
          { name: 'provider', type: 'varchar', length: '255', isPrimary: true },
          { name: 'principal_id', type: 'integer', isNullable: false },
          { name: 'latest_login', type: 'bigint', isNullable: true },
          timeCreated,
        ],
        foreignKeys: [principalFk()],
      }),
    );
    await q.createTable(
      new Table({
        name: 'api_keys',
        columns: [
          id,
          { name: 'first_eight', type: 'varchar', length: '8', isNullable: false },
          { name: 'hashed_secret', type: 'varchar', length: '64', isNullable: false },
          { name: 'expiration_time', type: 'bigint', isNullable: true },
          { name: 'latest_activity', type: 'bigint', isNullable: true },
          { name: 'note', type: 'varchar', length: '1023', isNullable: true },
          { name: 'scopes', type: 'text', isNullable: false },
          { name: 'access_tags', type: 'text', isNullable: true },
          { name: 'principal_id', type: 'integer', isNullable: false },
          { name: 'revoked_at', type: 'bigint', isNullable: true },
          timeCreated,
        ],
        indices: [
          new TableIndex({ name: 'ix_api_keys_first_eight', columnNames: ['first_eight'], isUnique: true }),
          new TableIndex({ name: 'ix_api_keys_hashed_secret', columnNames: ['hashed_secret'], isUnique: true }),
        ],
        foreignKeys: [principalFk()],
      }),
    );
    await q.createTable(
      new Table({
        name: 'sessions',
        columns: [
          id,
          { name: 'uuid', type: 'varchar', length: '36', isNullable: false },
          { name: 'time_last_refreshed', type: 'bigint', isNullable: true },
          { name: 'refresh_count', type: 'integer', isNullable: false, default: 0 },
          { name: 'expiration_time', type: 'bigint', isNullable: false },
          { name: 'principal_id', type: 'integer', isNullable: false },
          { name: 'revoked', type: 'boolean', isNullable: false, default: sqlFalse },
          { name: 'state', type: 'text', isNullable: false },
          { name: 'refresh_token_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'previous_refresh_token_id', type: 'varchar', length: '64', isNullable: true },
          { name: 'refresh_token_rotated_at', type: 'bigint', isNullable: true },
          timeCreated,
        ],
        indices: [new TableIndex({ name: 'ix_sessions_uuid', columnNames: ['uuid'], isUnique: true })],
        foreignKeys: [principalFk()],
      }),
    );
    const now = Date.now();
    const placeholders = postgres ? '$1, $2, $3, $4' : '?, ?, ?, ?';
    for (const role of DEFAULT_ROLES) {
      await q.query(`INSERT INTO roles (name, description, scopes, time_created) VALUES (${placeholders})`, [
        role.name,
        role.description,
        JSON.stringify(role.scopes),
        now,
      ]);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    for (const table of ['sessions', 'api_keys', 'identities', 'principal_role_association', 'roles', 'principals']) {
      await q.dropTable(table);
    }
  }
}
