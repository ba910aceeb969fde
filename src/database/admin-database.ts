import { connect, migrate, schemaState } from './data-source';
import { redactDatabaseUri } from './database-uri';

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

/** `tiled admin upgrade-database <uri>`: apply pending migrations to an initialised database. */
export async function upgradeDatabase(uri: string): Promise<string> {
  const { dataSource } = await connect(uri);
  try {
    const state = await schemaState(dataSource);
    if (state === 'uninitialised') {
      throw new Error(
        `Database ${redactDatabaseUri(uri)} has not been initialised; run \`tiled admin initialize-database ${redactDatabaseUri(uri)}\``,
      );
    }
    const applied = await migrate(dataSource);
    return applied.length === 0
      ? `Database ${redactDatabaseUri(uri)} is already up to date.`
      : `Database ${redactDatabaseUri(uri)} upgraded (${applied.join(', ')}).`;
  } finally {
    await dataSource.destroy();
  }
}
