import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/**
 * Env contract for database-backed tests:
 * - `TILED_TEST_POSTGRES_URI` (e.g. postgresql://postgres@127.0.0.1:5432/postgres): a server URI whose user may
 *   CREATE DATABASE. Each test run creates its own fresh database from it and drops it afterwards.
 * - `CI=true` without that variable, or with a server that cannot be reached, fails the suite instead of skipping.
 * Locally, without the variable, only SQLite runs.
 */
export const POSTGRES_ENV = 'TILED_TEST_POSTGRES_URI';

export interface TestDatabase {
  engine: 'sqlite' | 'postgres';
  uri: string;
  drop(): Promise<void>;
}

export type EngineName = 'sqlite' | 'postgres';

export function testEngines(): EngineName[] {
  const wantPostgres = Boolean(process.env[POSTGRES_ENV]) || process.env.CI === 'true';
  return wantPostgres ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** A fresh, empty database of the given engine. */
export async function createTestDatabase(engine: EngineName): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-db-'));
    return { engine, uri: `sqlite:///${join(dir, 'auth.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const serverUri = process.env[POSTGRES_ENV];
  if (!serverUri) {
    throw new Error(`CI=true but ${POSTGRES_ENV} is not set: the PostgreSQL half of the suite cannot be skipped in CI`);
  }
  const name = `tiled_test_${randomBytes(6).toString('hex')}`;
  await withClient(serverUri, (client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(serverUri);
  url.pathname = `/${name}`;
  return {
    engine,
    uri: url.toString(),
    drop: () => withClient(serverUri, (client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

async function withClient<T>(uri: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: uri, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
  } catch (error) {
    throw new Error(`PostgreSQL at ${uri.replace(/:[^:@/]*@/, ':***@')} (${POSTGRES_ENV}) is not reachable: ${(error as Error).message}`, { cause: error });
  }
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** better-sqlite3 ships no types; this is the little of it `runSql` uses. */
interface SqliteHandle {
  prepare(statement: string): { run(...params: unknown[]): unknown };
  close(): void;
}

/**
 * Run one statement against a test database from outside the server, as an operator would (granting a
 * role, expiring a key). Write it with PostgreSQL's `$1` placeholders; they become `?` on SQLite.
 */
export async function runSql(db: TestDatabase, statement: string, params: (string | number)[] = []): Promise<void> {
  if (db.engine === 'sqlite') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as new (file: string) => SqliteHandle;
    const handle = new Database(db.uri.slice('sqlite:///'.length));
    try {
      handle.prepare(statement.replace(/\$\d+/g, '?')).run(...params);
    } finally {
      handle.close();
    }
    return;
  }
  const client = new Client({ connectionString: db.uri });
  await client.connect();
  try {
    await client.query(statement, params);
  } finally {
    await client.end();
  }
}
