import { parseDatabaseUri } from '../database/database-uri';
import { AppConfig, isSingleUser } from './app-config';

/**
 * What stops this configuration from running as several identical processes behind a load balancer
 * (`tiled serve --scalable`). Each problem is something one process would keep to itself: a key it
 * made up, or state only it can see.
 */
export function scalabilityProblems(config: AppConfig, apiKeyFlag: string | undefined): string[] {
  const problems: string[] = [];
  const { authentication, database } = config;
  if (isSingleUser(config)) {
    if (apiKeyFlag === undefined && authentication.single_user_api_key === undefined) {
      problems.push(
        'single-user mode would generate a random API key in each process, so each replica would accept a different key: set --api-key, TILED_SINGLE_USER_API_KEY or authentication.single_user_api_key',
      );
    }
    return problems;
  }
  if (!authentication.secret_keys?.length) {
    problems.push(
      'authentication.secret_keys (or TILED_SECRET_KEYS) is not set: each replica would sign tokens with its own random key and refuse the tokens of the others',
    );
  }
  if (!database) {
    problems.push('there is no database section: each replica would keep logins and API keys in its own in-memory database; set database.uri to postgresql://…');
  } else if (!isPostgres(database.uri)) {
    problems.push(
      'database.uri is not PostgreSQL: replicas cannot share an SQLite file across hosts, and a revoked key or session reaches the other processes at once only through PostgreSQL notifications; use postgresql://…',
    );
  }
  return problems;
}

/** Tiled's spellings with a driver (`postgresql+asyncpg://`) are PostgreSQL too. */
function isPostgres(uri: string): boolean {
  try {
    return parseDatabaseUri(uri).engine === 'postgres';
  } catch {
    // A malformed URI is reported, with its fix, when the server opens the database.
    return true;
  }
}
