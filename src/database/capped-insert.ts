import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs a count-then-insert under a cap so that concurrent requests cannot both see room for one more row
 * (150 parallel key creations must yield exactly 100 keys, not 150).
 *
 * - PostgreSQL: one transaction that first takes a transaction-scoped advisory lock on `lockKey`, so every
 *   process sharing the database waits for the holder's commit before it counts.
 * - SQLite: TypeORM runs every query of a process on one shared connection, so all such work of the
 *   process is serialised (one writer per file anyway) and each runs in one transaction that holds the
 *   file's write lock from its first statement, so other processes sharing the file wait their turn. Statements of other requests that interleave on the shared connection join that
 *   transaction, so `work` must report "no room" by its return value, never by throwing: a rollback would
 *   undo their writes too.
 *
 * `work` counts and inserts through the manager it is given; whatever it returns is returned.
 */
export async function underCapLock<T>(dataSource: DataSource, lockKey: string, work: (manager: EntityManager) => Promise<T>): Promise<T> {
  if (dataSource.options.type === 'postgres') {
    return dataSource.transaction(async (manager) => {
      await manager.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`tiled:${lockKey}`]);
      return work(manager);
    });
  }
  const table = dataSource.options.migrationsTableName ?? 'migrations';
  return serialised(dataSource, () =>
    dataSource.transaction(async (manager) => {
      // TypeORM begins SQLite transactions DEFERRED: the count would take a read snapshot, and if another
      // process committed a write after it, the insert fails at once with SQLITE_BUSY_SNAPSHOT ("database
      // is locked", a 500) without waiting. A write as the first statement takes the write lock up front,
      // as BEGIN IMMEDIATE would, waiting out other processes within the busy timeout.
      await manager.query(`UPDATE "${table}" SET "id" = "id" WHERE 0`);
      return work(manager);
    }),
  );
}

/** Per SQLite data source, the tail of the queue of capped inserts waiting for their turn. */
const queues = new WeakMap<DataSource, Promise<unknown>>();

function serialised<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(dataSource) ?? Promise.resolve();
  const result = previous.then(work, work);
  queues.set(
    dataSource,
    result.then(
      () => undefined,
      () => undefined,
    ),
  );
  return result;
}
