import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, DataSourceOptions, MigrationExecutor, MigrationInterface } from 'typeorm';
import { dataSourceOptions, DatabaseUriError, parseDatabaseUri, ParsedDatabaseUri, redactDatabaseUri } from '../../database/database-uri';

type MigrationClass = new () => MigrationInterface;

/** Its own bookkeeping table, so a catalog and an authentication database may even share one PostgreSQL database. */
export const CATALOG_MIGRATIONS_TABLE = 'tiled_catalog_migrations';

export class CatalogDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogDatabaseError';
  }
}

/** Every migration in ./migrations, in file-name order. */
export function catalogMigrations(): MigrationClass[] {
  const dir = join(__dirname, 'migrations');
  const classes: MigrationClass[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    for (const value of Object.values(require(join(dir, file)) as Record<string, unknown>)) {
      if (typeof value === 'function' && typeof (value as { prototype?: { up?: unknown } }).prototype?.up === 'function') classes.push(value as MigrationClass);
    }
  }
  return classes;
}

/**
 * Tiled's spellings of a catalog location: a SQLAlchemy URL (`sqlite+aiosqlite:///…`, `postgresql+asyncpg://…`)
 * or a bare file path, which means a SQLite file.
 */
export function parseCatalogUri(uri: string, cwd: string = process.cwd()): ParsedDatabaseUri {
  const text = catalogUriText(uri);
  try {
    return parseDatabaseUri(text, cwd);
  } catch (error) {
    if (error instanceof DatabaseUriError) throw new CatalogDatabaseError(error.message.replace(/^database\.uri/, 'catalog uri'));
    throw error;
  }
}

/** A bare file path as the SQLite URI it means (how Tiled prints it). */
export function catalogUriText(uri: string): string {
  return uri.includes('://') ? uri : `sqlite:///${uri}`;
}

/**
 * In WAL mode, `synchronous = NORMAL` syncs the log at checkpoints instead of at every commit: a killed
 * server loses nothing it acknowledged and the file stays consistent; only an operating-system crash or
 * power loss may lose the last commits. Per-commit syncing capped node creation at about a third of the
 * rate (docs/benchmarks.md).
 */
function syncNormal(db: { pragma(text: string): unknown }): void {
  db.pragma('synchronous = NORMAL');
}

export async function connectCatalog(uri: string, options: { cwd?: string; migrations?: MigrationClass[] } = {}): Promise<DataSource> {
  const parsed = parseCatalogUri(uri, options.cwd);
  const base = dataSourceOptions(parsed, { entities: [], migrations: options.migrations ?? catalogMigrations() });
  const dataSource = new DataSource({
    ...base,
    migrationsTableName: CATALOG_MIGRATIONS_TABLE,
    ...(base.type === 'better-sqlite3' ? { prepareDatabase: syncNormal } : {}),
  } as DataSourceOptions);
  try {
    await dataSource.initialize();
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new CatalogDatabaseError(`Cannot open the catalog database ${redactDatabaseUri(uri)}: ${redactDatabaseUri(reason)}`);
  }
  return dataSource;
}

export type CatalogSchemaState = 'uninitialised' | 'outdated' | 'current';

export async function catalogSchemaState(dataSource: DataSource): Promise<CatalogSchemaState> {
  const runner = dataSource.createQueryRunner();
  try {
    if (!(await runner.hasTable(CATALOG_MIGRATIONS_TABLE))) return 'uninitialised';
  } finally {
    await runner.release();
  }
  return (await dataSource.showMigrations()) ? 'outdated' : 'current';
}

/**
 * Open the catalog a server will serve. An uninitialised database is initialised only when asked
 * (`init_if_not_exists`, `--init`, `--temp`); an outdated one stops startup with the command that fixes it.
 */
export async function openCatalogDatabase(uri: string, options: { initIfNotExists: boolean; cwd?: string }): Promise<DataSource> {
  const dataSource = await connectCatalog(uri, options);
  try {
    const state = await catalogSchemaState(dataSource);
    if (state === 'uninitialised') {
      if (!options.initIfNotExists) {
        throw new CatalogDatabaseError(
          `The catalog database ${redactDatabaseUri(uri)} has not been initialised. Run \`tiled catalog init ${redactDatabaseUri(uri)}\`, or set init_if_not_exists: true`,
        );
      }
      await dataSource.runMigrations({ transaction: 'each' });
    } else if (state === 'outdated') {
      throw new CatalogDatabaseError(
        `The catalog database ${redactDatabaseUri(uri)} needs to be upgraded to this version of tiled-ts. Back it up, then run \`tiled catalog upgrade-database ${redactDatabaseUri(uri)}\``,
      );
    }
    return dataSource;
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}

/** `tiled catalog init [--if-not-exists] URI`; resolves to what to print (nothing for an existing one with --if-not-exists). */
export async function initCatalog(uri: string, ifNotExists: boolean): Promise<string> {
  const dataSource = await connectCatalog(uri);
  try {
    const state = await catalogSchemaState(dataSource);
    if (state !== 'uninitialised') {
      if (ifNotExists) return '';
      throw new CatalogDatabaseError(`Database at ${redactDatabaseUri(catalogUriText(uri))} is already initialized.`);
    }
    await dataSource.runMigrations({ transaction: 'each' });
    // Tiled's two lines.
    return `Database ${redactDatabaseUri(catalogUriText(uri))} is new. Creating tables.\nDatabase initialized.`;
  } finally {
    await dataSource.destroy();
  }
}

/** `tiled catalog upgrade-database URI [REVISION]`. */
export async function upgradeCatalog(uri: string, revision?: string): Promise<string> {
  const all = catalogMigrations();
  const upTo = revision === undefined ? all : all.slice(0, indexOfRevision(all, revision, false) + 1);
  const dataSource = await connectCatalog(uri, { migrations: upTo });
  try {
    if ((await catalogSchemaState(dataSource)) === 'uninitialised') {
      throw new CatalogDatabaseError(`Catalog database ${redactDatabaseUri(uri)} has not been initialised; run \`tiled catalog init ${redactDatabaseUri(uri)}\``);
    }
    const applied = (await dataSource.runMigrations({ transaction: 'each' })).map((m) => m.name);
    return applied.length === 0
      ? `Catalog database ${redactDatabaseUri(uri)} is already up to date.`
      : `Catalog database ${redactDatabaseUri(uri)} upgraded (${applied.join(', ')}).`;
  } finally {
    await dataSource.destroy();
  }
}

/** `tiled catalog downgrade-database URI REVISION` (`base` undoes every migration). */
export async function downgradeCatalog(uri: string, revision: string): Promise<string> {
  const all = catalogMigrations();
  const target = indexOfRevision(all, revision, true);
  const dataSource = await connectCatalog(uri, { migrations: all });
  try {
    if ((await catalogSchemaState(dataSource)) === 'uninitialised') {
      throw new CatalogDatabaseError(`Catalog database ${redactDatabaseUri(uri)} has not been initialised; there is nothing to downgrade.`);
    }
    const keep = new Set(all.slice(0, target + 1).map(nameOf));
    const executor = new MigrationExecutor(dataSource);
    const undone: string[] = [];
    for (;;) {
      const newest = (await executor.getExecutedMigrations())[0];
      if (!newest || keep.has(newest.name)) break;
      await dataSource.undoLastMigration({ transaction: 'each' });
      undone.push(newest.name);
    }
    if (target < 0) await dataSource.query(`DROP TABLE IF EXISTS ${CATALOG_MIGRATIONS_TABLE}`);
    return undone.length === 0
      ? `Catalog database ${redactDatabaseUri(uri)} is already at ${revision}.`
      : `Catalog database ${redactDatabaseUri(uri)} downgraded to ${revision} (undid ${undone.join(', ')}).`;
  } finally {
    await dataSource.destroy();
  }
}

function nameOf(migration: MigrationClass): string {
  return new migration().name ?? migration.name;
}

function indexOfRevision(migrations: MigrationClass[], revision: string, allowBase: boolean): number {
  if (allowBase && revision === 'base') return -1;
  const names = migrations.map(nameOf);
  const index = names.findIndex((name) => name === revision || (/^\d{13}$/.test(revision) && name.endsWith(revision)));
  if (index < 0) throw new CatalogDatabaseError(`Unknown revision '${revision}'. Known revisions, oldest first: ${[...(allowBase ? ['base'] : []), ...names].join(', ')}`);
  return index;
}
