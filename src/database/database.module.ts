import { DynamicModule, Global, Logger, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AUTH_ENTITIES } from './entities';
import { openDatabase } from './data-source';
import { redactDatabaseUri, TRANSIENT_DATABASE_URI } from './database-uri';
import type { DatabaseConfig } from '../config/app-config';

/**
 * The authentication database as a Nest module. The DataSource is opened (and its schema checked)
 * before Nest starts, so a database problem is a clear startup error rather than a DI failure.
 * Feature modules register their repositories with `TypeOrmModule.forFeature([Entity])`.
 */
@Global()
@Module({})
export class DatabaseModule {
  /** Wrap an already opened DataSource (tests, and the multi-user module builder). */
  static forDataSource(dataSource: DataSource): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSource.options, entities: AUTH_ENTITIES }),
          dataSourceFactory: async () => dataSource,
        }),
        TypeOrmModule.forFeature(AUTH_ENTITIES),
      ],
      exports: [TypeOrmModule],
    };
  }

  /** Open the configured database (or the transient in-memory one) and wrap it. */
  static async forConfig(database: DatabaseConfig | undefined): Promise<DynamicModule> {
    return DatabaseModule.forDataSource(await openConfiguredDatabase(database));
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
