import { isAbsolute, resolve } from 'node:path';
import type { DataSourceOptions } from 'typeorm';

/** What `database.uri` means once parsed. */
export type ParsedDatabaseUri =
  | { engine: 'sqlite'; /** `:memory:` or an absolute path */ file: string; inMemory: boolean }
  | { engine: 'postgres'; url: string };

/** Tiled's default when multi-user mode has no `database` section: nothing survives a restart. */
export const TRANSIENT_DATABASE_URI = 'sqlite:///:memory:';

export class DatabaseUriError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseUriError';
  }
}

/** Replace the password of a URI with `***` so messages and logs never carry it. */
export function redactDatabaseUri(uri: string): string {
  return uri.replace(/^([a-z0-9+]+:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');
}

/**
 * Accepts Tiled's spellings: `sqlite:///relative/path` (relative to cwd), `sqlite:////abs/path`,
 * `sqlite:///:memory:`, Tiled's own in-memory URI, and `postgresql://…` (SQLAlchemy driver suffixes
 * such as `+aiosqlite` / `+asyncpg` are ignored, so a Tiled config needs no edit).
 */
export function parseDatabaseUri(uri: string, cwd: string = process.cwd()): ParsedDatabaseUri {
  const match = /^([a-z0-9]+)(?:\+[a-z0-9_]+)?:\/\/(.*)$/i.exec(uri.trim());
  if (!match) {
    throw new DatabaseUriError(
      `database.uri ${JSON.stringify(redactDatabaseUri(uri))} is not a database URI; expected sqlite:///path/to/file.db, sqlite:///:memory: or postgresql://user@host:5432/dbname`,
    );
  }
  const scheme = match[1].toLowerCase();
  const rest = match[2];
  if (scheme === 'sqlite') {
    if (!rest.startsWith('/')) {
      throw new DatabaseUriError(
        `database.uri ${JSON.stringify(uri)}: SQLite URIs have three slashes before a relative path (sqlite:///data/auth.db) and four before an absolute one (sqlite:////var/lib/tiled/auth.db)`,
      );
    }
    const path = rest.slice(1).split('?')[0];
    if (path === '' || path === ':memory:' || (path.startsWith('file:') && /mode=memory/.test(rest))) {
      return { engine: 'sqlite', file: ':memory:', inMemory: true };
    }
    return { engine: 'sqlite', file: isAbsolute(path) ? path : resolve(cwd, path), inMemory: false };
  }
  if (scheme === 'postgresql' || scheme === 'postgres') {
    return { engine: 'postgres', url: `postgresql://${rest}` };
  }
  throw new DatabaseUriError(
    `database.uri ${JSON.stringify(redactDatabaseUri(uri))}: unsupported database ${JSON.stringify(scheme)}; use sqlite:///… or postgresql://…`,
  );
}

/** TypeORM options for a parsed URI. Never `synchronize`: the schema comes from migrations only. */
export function dataSourceOptions(
  parsed: ParsedDatabaseUri,
  extra: Pick<DataSourceOptions, 'entities' | 'migrations'> & { poolSize?: number },
): DataSourceOptions {
  const common = {
    entities: extra.entities,
    migrations: extra.migrations,
    migrationsTableName: 'tiled_migrations',
    synchronize: false,
    logging: false,
  } as const;
  if (parsed.engine === 'sqlite') {
    // WAL lets readers proceed while a login writes; irrelevant (and unsupported) for :memory:.
    // Our own better-sqlite3, not whichever TypeORM would require from its folder: in a deployment that
    // installed tiled-ts, TypeORM's optional peer range (^12) makes npm put a 12.x beside it, and 12 aborts
    // the process on Node >= 24.19. (This repository's own "overrides" do not apply to an installed package.)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const driver: unknown = require('better-sqlite3');
    return { ...common, type: 'better-sqlite3', driver, database: parsed.file, enableWAL: !parsed.inMemory, timeout: 5000 };
  }
  return { ...common, type: 'postgres', url: parsed.url, extra: { max: extra.poolSize ?? 5 } };
}
