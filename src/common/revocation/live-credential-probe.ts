import type { DataSource } from 'typeorm';

/** The better-sqlite3 calls used here (it ships no types). */
interface SqliteStatement {
  get(...params: unknown[]): unknown;
}
interface SqliteHandle {
  prepare(sql: string): SqliteStatement;
}

const API_KEY_LIVE = 'SELECT 1 AS live FROM api_keys WHERE id = ? AND revoked_at IS NULL';
const SESSION_LIVE = 'SELECT 1 AS live FROM sessions WHERE id = ? AND NOT revoked';

/**
 * Confirms, on every use of a cached credential, that its row still exists and is not revoked: one
 * primary-key read, so a revocation made by any process sharing the database is refused by the very next
 * request here. The cache still saves the expensive part of a lookup (owner, roles, identities, scopes).
 *
 * Why not only the PostgreSQL NOTIFY that evicts caches: it reaches other processes a few milliseconds
 * after the revoking request has already answered, and on SQLite there is nothing to deliver it at all.
 *
 * SQLite: a prepared statement on better-sqlite3's connection, synchronous and a few microseconds, so the
 * hot path of a single server stays as it was. PostgreSQL: one indexed round trip on the pool.
 */
export class LiveCredentialProbe {
  private sqlite: { apiKey: SqliteStatement; session: SqliteStatement } | undefined;

  constructor(private readonly dataSource: DataSource) {}

  apiKeyLive(keyId: number): Promise<boolean> {
    return this.probe(API_KEY_LIVE, 'apiKey', keyId);
  }

  sessionLive(sessionId: number): Promise<boolean> {
    return this.probe(SESSION_LIVE, 'session', sessionId);
  }

  private async probe(sql: string, which: 'apiKey' | 'session', id: number): Promise<boolean> {
    if (this.dataSource.options.type === 'postgres') {
      const rows = (await this.dataSource.query(sql.replace('?', '$1'), [id])) as unknown[];
      return rows.length > 0;
    }
    if (!this.sqlite) {
      const db = (this.dataSource.driver as unknown as { databaseConnection: SqliteHandle }).databaseConnection;
      this.sqlite = { apiKey: db.prepare(API_KEY_LIVE), session: db.prepare(SESSION_LIVE) };
    }
    return this.sqlite[which].get(id) !== undefined;
  }
}
