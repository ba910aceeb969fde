/** The slice of better-sqlite3 the tags database uses (the package ships no types and this is all we need). */
export interface SqliteStatement {
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): unknown;
}

export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): void;
  transaction<T>(fn: () => T): () => T;
  close(): void;
}

export function openSqlite(file: string, options: { readonly?: boolean; fileMustExist?: boolean } = {}): SqliteDatabase {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (file: string, options: object) => SqliteDatabase;
  return new Database(file, options);
}
