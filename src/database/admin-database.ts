import { MigrationExecutor } from 'typeorm';
import { connect, loadMigrations, migrate, MigrationClass, schemaState } from './data-source';
import { redactDatabaseUri } from './database-uri';

/** Alembic's name for "before the first migration", accepted by `downgrade-database`. */
const BASE = 'base';

/**
 * `tiled admin initialize-database <uri>`: create every table and seed the default roles.
 * Resolves to a one-line message for the user; throws an Error with a clear message otherwise.
 */
export async function initializeDatabase(uri: string): Promise<string> {
  const { dataSource } = await connect(uri);
  try {
    const state = await schemaState(dataSource);
    if (state === 'current') return `Database ${redactDatabaseUri(uri)} is already initialised and up to date.`;
    if (state === 'outdated') {
      throw new Error(
        `Database ${redactDatabaseUri(uri)} is already initialised but outdated; run \`tiled admin upgrade-database ${redactDatabaseUri(uri)}\``,
      );
    }
    await migrate(dataSource);
    return `Database ${redactDatabaseUri(uri)} initialised.`;
  } finally {
    await dataSource.destroy();
  }
}

/**
 * `tiled admin upgrade-database <uri> [revision]`: apply pending migrations to an initialised database,
 * all of them or up to and including `revision`.
 */
export async function upgradeDatabase(uri: string, revision?: string): Promise<string> {
  const all = loadMigrations();
  const upTo = revision === undefined ? all : all.slice(0, indexOfRevision(all, revision, false) + 1);
  const { dataSource } = await connect(uri, { migrations: upTo });
  try {
    const state = await schemaState(dataSource);
    if (state === 'uninitialised') {
      throw new Error(
        `Database ${redactDatabaseUri(uri)} has not been initialised; run \`tiled admin initialize-database ${redactDatabaseUri(uri)}\``,
      );
    }
    const applied = await migrate(dataSource);
    return applied.length === 0
      ? `Database ${redactDatabaseUri(uri)} is already ${revision === undefined ? 'up to date' : `at or past ${revision}`}.`
      : `Database ${redactDatabaseUri(uri)} upgraded (${applied.join(', ')}).`;
  } finally {
    await dataSource.destroy();
  }
}

/**
 * `tiled admin downgrade-database <uri> <revision>`: undo migrations, newest first, each in its own
 * transaction, until `revision` is the newest applied one (`base`: undo them all). For going back to an
 * older tiled-ts after an upgrade; the data that only newer tables held is lost.
 */
export async function downgradeDatabase(uri: string, revision: string): Promise<string> {
  const all = loadMigrations();
  const target = indexOfRevision(all, revision, true);
  const { dataSource } = await connect(uri, { migrations: all });
  try {
    if ((await schemaState(dataSource)) === 'uninitialised') {
      throw new Error(`Database ${redactDatabaseUri(uri)} has not been initialised; there is nothing to downgrade.`);
    }
    const executor = new MigrationExecutor(dataSource);
    const keep = new Set(all.slice(0, target + 1).map(migrationName));
    const known = new Set(all.map(migrationName));
    const undone: string[] = [];
    for (;;) {
      const executed = await executor.getExecutedMigrations();
      // TypeORM lists executed migrations newest first.
      const newest = executed[0];
      if (!newest || keep.has(newest.name)) break;
      if (!known.has(newest.name)) {
        throw new Error(`Database ${redactDatabaseUri(uri)} has migration ${newest.name}, which this version of tiled-ts does not know; downgrade it with the version that applied it.`);
      }
      await dataSource.undoLastMigration({ transaction: 'each' });
      undone.push(newest.name);
    }
    if (target < 0) {
      // Without its bookkeeping table the database is plainly uninitialised again, as `initialize-database` expects.
      await dataSource.query(`DROP TABLE IF EXISTS ${dataSource.driver.escape(dataSource.options.migrationsTableName ?? 'migrations')}`);
    }
    return undone.length === 0
      ? `Database ${redactDatabaseUri(uri)} is already at ${revision}.`
      : `Database ${redactDatabaseUri(uri)} downgraded to ${revision} (undid ${undone.join(', ')}).`;
  } finally {
    await dataSource.destroy();
  }
}

/** Where `revision` (a migration's name or its timestamp) sits in `migrations`; -1 for `base`. */
function indexOfRevision(migrations: MigrationClass[], revision: string, allowBase: boolean): number {
  if (allowBase && revision === BASE) return -1;
  const names = migrations.map(migrationName);
  // Migration names end in their 13-digit timestamp, which is accepted on its own.
  const index = names.findIndex((name) => name === revision || (/^\d{13}$/.test(revision) && name.endsWith(revision)));
  if (index < 0) {
    const known = [...(allowBase ? [BASE] : []), ...names].join(', ');
    throw new Error(`Unknown revision '${revision}'. Known revisions, oldest first: ${known}`);
  }
  return index;
}

function migrationName(migration: MigrationClass): string {
  return new migration().name ?? migration.name;
}
