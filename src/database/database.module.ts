import { DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AUTH_ENTITIES } from './entities';
import { DatabaseOpenError, openDatabase } from './data-source';
import { DatabaseUriError, dataSourceOptions, parseDatabaseUri, redactDatabaseUri, TRANSIENT_DATABASE_URI } from './database-uri';
import type { DatabaseConfig } from '../config/app-config';
import { ConfigError } from '../config/config-loader';

/**
 * The authentication database as a Nest module. Opening it (and checking its schema) fails fast with a
 * ConfigError naming the problem, which the CLI prints as one clear startup error (exit 2).
 * Feature modules register their repositories with `TypeOrmModule.forFeature([Entity])`.
 */
@Global()
@Module({})
export class DatabaseModule {
  /** The configured database (or the transient in-memory one), opened while Nest builds the application. */
  static forRootAsync(database: DatabaseConfig | undefined): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () =>
            asConfigError(async () => ({
              ...dataSourceOptions(parseDatabaseUri(database?.uri ?? TRANSIENT_DATABASE_URI), { entities: AUTH_ENTITIES }),
              // openDatabase has its own clear errors; TypeORM's retries would only repeat them, slowly.
              toRetry: () => false,
            })),
          dataSourceFactory: () => asConfigError(() => openConfiguredDatabase(database)),
        }),
        TypeOrmModule.forFeature(AUTH_ENTITIES),
      ],
      exports: [TypeOrmModule],
    };
  }
}

async function asConfigError<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof DatabaseOpenError || error instanceof DatabaseUriError) throw new ConfigError(error.message);
    throw error;
  }
}

const logger = new Logger('Database');

export async function openConfiguredDatabase(database: DatabaseConfig | undefined): Promise<DataSource> {
  if (!database) {
    logger.warn(
      'No database is configured: using a transient in-memory database. Logins, sessions and API keys are lost when the server stops; set database.uri to keep them.',
    );
    return openDatabase(TRANSIENT_DATABASE_URI, { initIfNotExists: true });
  }
  const dataSource = await openDatabase(database.uri, {
    initIfNotExists: database.init_if_not_exists,
    poolSize: database.pool_size,
  });
  logger.log(`Authentication database: ${redactDatabaseUri(database.uri)}`);
  return dataSource;
}
