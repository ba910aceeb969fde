import { DataSource } from 'typeorm';
import { createTestDatabase, testEngines, TestDatabase } from '../../test/helpers/postgres';
import { initializeDatabase, upgradeDatabase } from './admin-database';
import { connect, openDatabase } from './data-source';
import { parseDatabaseUri, redactDatabaseUri } from './database-uri';
import { RoleEntity } from './entities';
import { ALL_SCOPES } from '../auth/scopes';

describe('parseDatabaseUri', () => {
  it('should resolve sqlite:/// paths against the working directory and sqlite://// as absolute', () => {
    expect(parseDatabaseUri('sqlite:///./tiled_auth.db', '/srv/app')).toEqual({ engine: 'sqlite', file: '/srv/app/tiled_auth.db', inMemory: false });
    expect(parseDatabaseUri('sqlite:////var/lib/auth.db', '/srv')).toEqual({ engine: 'sqlite', file: '/var/lib/auth.db', inMemory: false });
    expect(parseDatabaseUri('sqlite+aiosqlite:///:memory:')).toEqual({ engine: 'sqlite', file: ':memory:', inMemory: true });
    expect(parseDatabaseUri('sqlite:///file:authdb?mode=memory&cache=shared&uri=true').engine).toBe('sqlite');
    expect(parseDatabaseUri('postgresql+asyncpg://u:p@h:5432/db')).toEqual({ engine: 'postgres', url: 'postgresql://u:p@h:5432/db' });
  });

  it('should reject other schemes without echoing the password', () => {
    expect(() => parseDatabaseUri('mysql://root:hunter2@db/x')).toThrow(/unsupported database "mysql"/);
    expect(() => parseDatabaseUri('mysql://root:hunter2@db/x')).not.toThrow(/hunter2/);
    expect(redactDatabaseUri('postgresql://u:s3cr%40t@h/db')).toBe('postgresql://u:***@h/db');
  });
});

describe.each(testEngines())('authentication database on %s', (engine) => {
  let db: TestDatabase;
  beforeEach(async () => {
    db = await createTestDatabase(engine);
  });
  afterEach(async () => {
    await db.drop();
  });

  it('should refuse to open an uninitialised database, naming the command to run', async () => {
    await expect(openDatabase(db.uri, { initIfNotExists: false })).rejects.toThrow(
      `Run \`tiled admin initialize-database ${redactDatabaseUri(db.uri)}\``,
    );
  });

  it('should initialise with migrations whose schema matches the entities exactly, and seed the roles', async () => {
    expect(await initializeDatabase(db.uri)).toMatch(/initialised\.$/);
    expect(await initializeDatabase(db.uri)).toMatch(/already initialised/);
    expect(await upgradeDatabase(db.uri)).toMatch(/already up to date/);
    const ds: DataSource = await openDatabase(db.uri, { initIfNotExists: false });
    try {
      // If a migration and an entity disagree, TypeORM would need SQL to synchronise them.
      const pending = await ds.driver.createSchemaBuilder().log();
      expect(pending.upQueries.map((q) => q.query)).toEqual([]);
      const roles = await ds.getRepository(RoleEntity).find({ order: { id: 'ASC' } });
      expect(roles.map((r) => r.name)).toEqual(['user', 'admin']);
      expect(new Set(roles[1].scopes)).toEqual(new Set(ALL_SCOPES));
      expect(roles[0].scopes).toContain('create:apikeys');
      expect(roles[0].scopes).not.toContain('admin:apikeys');
    } finally {
      await ds.destroy();
    }
  });
});

describe('opening a database that is newer than its migrations', () => {
  it('should report an outdated database with the upgrade command', async () => {
    const db = await createTestDatabase('sqlite');
    try {
      const { dataSource } = await connect(db.uri);
      // Simulates a database initialised by an older release: the schema exists, the last migration is missing.
      await dataSource.runMigrations();
      await dataSource.query(`DELETE FROM tiled_migrations`);
      await dataSource.destroy();
      await expect(openDatabase(db.uri, { initIfNotExists: true })).rejects.toThrow(/tiled admin upgrade-database/);
    } finally {
      await db.drop();
    }
  });
});
