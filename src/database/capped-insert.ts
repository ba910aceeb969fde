import type { DataSource, EntityManager } from 'typeorm';

/**
 * Runs a count-then-insert under a cap so that concurrent requests cannot both see room for one more row
 * (150 parallel key creations must yield exactly 100 keys, not 150).
 *
 * - PostgreSQL: one transaction that first takes a transaction-scoped advisory lock on `lockKey`, so every
 *   process sharing the database waits for the holder's commit before it counts.
 * - SQLite: TypeORM runs every query of a process on one shared connection, so the work is serialised per
 *   `lockKey` inside this process and runs in one transaction; another process writing the same file in
 *   between makes the commit fail (SQLite's single writer) rather than letting the cap be exceeded.
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
  return serialised(dataSource, lockKey, () => dataSource.transaction(work));
}

/** Per data source and key, the tail of the queue of work waiting for its turn. */
const queues = new WeakMap<DataSource, Map<string, Promise<unknown>>>();

function serialised<T>(dataSource: DataSource, key: string, work: () => Promise<T>): Promise<T> {
  let byKey = queues.get(dataSource);
  if (!byKey) queues.set(dataSource, (byKey = new Map()));
  const previous = byKey.get(key) ?? Promise.resolve();
  const result = previous.then(work, work);
  const tail = result.then(
    () => undefined,
    () => undefined,
  );
  byKey.set(key, tail);
  // The map only holds keys with work pending, so it cannot grow with the number of principals ever seen.
  void tail.then(() => {
    if (byKey.get(key) === tail) byKey.delete(key);
  });
  return result;
}
