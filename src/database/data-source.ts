import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, MigrationInterface } from 'typeorm';
import { AUTH_ENTITIES } from './entities';
import { dataSourceOptions, parseDatabaseUri, ParsedDatabaseUri, redactDatabaseUri } from './database-uri';

export type MigrationClass = new () => MigrationInterface;

/**
 * Every migration in src/database/migrations/, in file-name order. Other features add a file there and
 * it runs; nothing has to be registered by hand.
 */
export function loadMigrations(dir: string = join(__dirname, 'migrations')): MigrationClass[] {
  const files = readdirSync(dir)
    .filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts') && !/\.spec\./.test(f))
    .sort();
  const classes: MigrationClass[] = [];
  for (const file of files) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(join(dir, file)) as Record<string, unknown>;
    for (const value of Object.values(exported)) {
      if (typeof value === 'function' && typeof (value as { prototype?: { up?: unknown } }).prototype?.up === 'function') {
        classes.push(value as MigrationClass);
      }
    }
  }
  return classes;
}

export type SchemaState = 'uninitialised' | 'outdated' | 'current';

export class DatabaseOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseOpenError';
  }
}

/** A connected but not yet schema-checked data source for `uri`. */
export async function connect(
  uri: string,
  options: { poolSize?: number; cwd?: string; migrations?: MigrationClass[] } = {},
): Promise<{ dataSource: DataSource; parsed: ParsedDatabaseUri }> {
  const parsed = parseDatabaseUri(uri, options.cwd);
  const dataSource = new DataSource(
    dataSourceOptions(parsed, { entities: AUTH_ENTITIES, migrations: options.migrations ?? loadMigrations(), poolSize: options.poolSize }),
  );
  try {
    await dataSource.initialize();
  } catch (error) {
    throw new DatabaseOpenError(`Cannot open the authentication database ${redactDatabaseUri(uri)}: ${describeError(error)}`);
  }
  return { dataSource, parsed };
}

export async function schemaState(dataSource: DataSource): Promise<SchemaState> {
  const runner = dataSource.createQueryRunner();
  try {
    const tracked = await runner.hasTable(dataSource.options.migrationsTableName ?? 'migrations');
    if (!tracked) return 'uninitialised';
  } finally {
    await runner.release();
  }
  return (await dataSource.showMigrations()) ? 'outdated' : 'current';
}

/** Apply every pending migration, each in its own transaction. Returns the names applied. */
export async function migrate(dataSource: DataSource): Promise<string[]> {
  const applied = await dataSource.runMigrations({ transaction: 'each' });
  return applied.map((m) => m.name);
}

export interface OpenDatabaseOptions {
  initIfNotExists: boolean;
  poolSize?: number;
  cwd?: string;
}

/**
 * Open the authentication database the server will use. A transient in-memory database is always
 * initialised; otherwise an uninitialised (without init_if_not_exists) or outdated database stops
 * startup with the command that fixes it — the server never changes a real schema on its own.
 */
export async function openDatabase(uri: string, options: OpenDatabaseOptions): Promise<DataSource> {
  const { dataSource, parsed } = await connect(uri, options);
  try {
    const state = await schemaState(dataSource);
    const inMemory = parsed.engine === 'sqlite' && parsed.inMemory;
    if (state === 'uninitialised') {
      if (!inMemory && !options.initIfNotExists) {
        throw new DatabaseOpenError(
          `The authentication database ${redactDatabaseUri(uri)} has not been initialised. Run \`tiled admin initialize-database ${redactDatabaseUri(uri)}\`, or set database.init_if_not_exists: true`,
        );
      }
      await migrate(dataSource);
    } else if (state === 'outdated') {
      if (!inMemory) {
        throw new DatabaseOpenError(
          `The authentication database ${redactDatabaseUri(uri)} needs to be upgraded to this version of tiled-ts. Back it up, then run \`tiled admin upgrade-database ${redactDatabaseUri(uri)}\``,
        );
      }
      await migrate(dataSource);
    }
    return dataSource;
  } catch (error) {
    await dataSource.destroy().catch(() => undefined);
    throw error;
  }
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactDatabaseUri(message.split('\n')[0]);
}
