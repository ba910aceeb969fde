import type { DataSource, EntityManager } from 'typeorm';
import { Decide, FORGET_AFTER_MS, ThrottleCounter, ThrottleStore } from './login-throttle';

/** The few better-sqlite3 calls used here (it ships no types). */
interface SqliteStatement {
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
}
interface SqliteHandle {
  prepare(sql: string): SqliteStatement;
  transaction<T>(work: () => T): { immediate(): T };
}

interface CounterRow {
  failures: number | string;
  first_failure_at: number | string;
  blocked_until: number | string | null;
}

const COLUMNS = 'failures, first_failure_at, blocked_until';
const SELECT = `SELECT ${COLUMNS} FROM login_failures WHERE "key" = ?`;
const UPSERT = `INSERT INTO login_failures ("key", ${COLUMNS}) VALUES (?, ?, ?, ?)
  ON CONFLICT ("key") DO UPDATE SET failures = excluded.failures, first_failure_at = excluded.first_failure_at, blocked_until = excluded.blocked_until`;
const DELETE = `DELETE FROM login_failures WHERE "key" = ?`;
/**
 * PostgreSQL: takes the row lock and reads the row in one statement, also for a key nobody has counted
 * yet (a placeholder with 0 failures, never left behind). A plain SELECT … FOR UPDATE would lock nothing
 * for a missing row, and two replicas could both read "no failures yet".
 */
const LOCK_AND_READ = `INSERT INTO login_failures ("key", ${COLUMNS}) VALUES (?, 0, 0, NULL)
  ON CONFLICT ("key") DO UPDATE SET failures = login_failures.failures RETURNING ${COLUMNS}`;
const STALE = 'first_failure_at < ? AND (blocked_until IS NULL OR blocked_until <= ?)';

/**
 * The throttle's counters in the authentication database (table login_failures). Each update is one
 * transaction that holds what it read until it has written:
 * - PostgreSQL: each key is locked (LOCK_AND_READ) in sorted order, so two logins sharing an address or
 *   an account wait for each other instead of deadlocking, then written in the same transaction.
 * - SQLite: TypeORM runs every query of a process on one shared connection, so its async transactions
 *   would interleave. better-sqlite3 is synchronous: the whole read-decide-write runs as one
 *   BEGIN IMMEDIATE transaction without yielding to the event loop, so nothing in this process comes in
 *   between, and another process on the same file waits for the write lock (the busy timeout). Inside a
 *   transaction TypeORM has open it becomes a savepoint of that one (and would be undone with it).
 */
export class LoginThrottleStore implements ThrottleStore {
  private sqlite: { db: SqliteHandle; select: SqliteStatement; upsert: SqliteStatement; remove: SqliteStatement } | undefined;

  constructor(private readonly dataSource: DataSource) {}

  async update<T>(keys: readonly string[], decide: Decide<T>): Promise<T> {
    return this.dataSource.options.type === 'postgres' ? this.updatePostgres(keys, decide) : this.updateSqlite(keys, decide);
  }

  private updatePostgres<T>(keys: readonly string[], decide: Decide<T>): Promise<T> {
    return this.dataSource.transaction(async (manager: EntityManager) => {
      const read = new Map<string, ThrottleCounter | undefined>();
      for (const key of [...keys].sort()) {
        const [row] = (await manager.query(numbered(LOCK_AND_READ), [key])) as CounterRow[];
        read.set(key, toCounter(row));
      }
      const { writes, result } = decide(keys.map((key) => read.get(key)));
      for (const [i, key] of keys.entries()) {
        const write = writes[i] === undefined && read.get(key) === undefined ? null : writes[i];
        if (write !== undefined) await manager.query(numbered(write === null ? DELETE : UPSERT), toParams(key, write));
      }
      return result;
    });
  }

  private updateSqlite<T>(keys: readonly string[], decide: Decide<T>): T {
    if (!this.sqlite) {
      const db = (this.dataSource.driver as unknown as { databaseConnection: SqliteHandle }).databaseConnection;
      this.sqlite = { db, select: db.prepare(SELECT), upsert: db.prepare(UPSERT), remove: db.prepare(DELETE) };
    }
    const { db, select, upsert, remove } = this.sqlite;
    return db
      .transaction(() => {
        const { writes, result } = decide(keys.map((key) => toCounter(select.get(key) as CounterRow | undefined)));
        for (const [i, key] of keys.entries()) {
          const write = writes[i];
          if (write !== undefined) (write === null ? remove : upsert).run(...toParams(key, write));
        }
        return result;
      })
      .immediate();
  }
}

/**
 * Deletes the counters whose window has passed and whose wait has ended (they count for nothing), so
 * an attacker trying many usernames or addresses cannot grow the table without bound. Returns how many.
 */
export async function deleteForgottenCounters(dataSource: DataSource, now: number): Promise<number> {
  const postgres = dataSource.options.type === 'postgres';
  // PostgreSQL: SKIP LOCKED, because a counter a login holds is in use, and waiting for it while holding
  // rows that login wants next would deadlock the two.
  const sql = postgres
    ? numbered(`DELETE FROM login_failures WHERE "key" IN (SELECT "key" FROM login_failures WHERE ${STALE} FOR UPDATE SKIP LOCKED)`)
    : `DELETE FROM login_failures WHERE ${STALE}`;
  const runner = dataSource.createQueryRunner();
  try {
    const result = await runner.query(sql, [now - FORGET_AFTER_MS, now], true);
    return (result as { affected?: number }).affected ?? 0;
  } finally {
    await runner.release();
  }
}

/** A row with 0 failures is a PostgreSQL lock placeholder, not a counter. */
function toCounter(row: CounterRow | undefined): ThrottleCounter | undefined {
  if (!row || Number(row.failures) === 0) return undefined;
  return { failures: Number(row.failures), firstFailureAt: Number(row.first_failure_at), blockedUntil: row.blocked_until == null ? 0 : Number(row.blocked_until) };
}

function toParams(key: string, write: ThrottleCounter | null): unknown[] {
  return write === null ? [key] : [key, write.failures, write.firstFailureAt, write.blockedUntil || null];
}

/** The statements are written with `?` (SQLite); PostgreSQL numbers its placeholders. */
function numbered(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
