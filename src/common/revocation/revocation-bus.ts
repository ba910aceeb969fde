import type { Client, ClientConfig } from 'pg';
import type { DataSource } from 'typeorm';
import { lazyRequire } from '../lazy-require';
import type { PlainLogger } from '../logging/plain-logger';

/** Only servers on PostgreSQL use its driver. */
const pg = lazyRequire<typeof import('pg')>('pg');

/**
 * PostgreSQL channel on which every replica announces revoked credentials. Payloads: the hex SHA-256 of an
 * API key's secret (64 hex), or `session:<32-hex sid>` for a revoked login session.
 */
export const REVOCATION_CHANNEL = 'tiled_revocations';

export interface RevocationListener {
  evict(hashedSecret: string): void;
  /** False while revocations by other processes could be missed; the cache must not be trusted then. */
  setAvailable(available: boolean): void;
}

/** The process's one revocation bus, shared by every credential cache (API keys, sessions). */
export const REVOCATION_BUS = Symbol('RevocationBus');

/**
 * Tells the other server processes sharing the database that a credential (API key or session) was revoked.
 * One bus per process: each cache subscribes its listener, and every listener hears every payload (each
 * ignores the others' kind). The channel stays open while anyone listens.
 */
export interface RevocationBus {
  subscribe(listener: RevocationListener): Promise<void>;
  /** The last listener to leave closes the channel. */
  unsubscribe(listener: RevocationListener): Promise<void>;
  publish(hashedSecret: string): Promise<void>;
}

/** SQLite: no way to notify other processes; the cache TTL bounds how long they may trust a revoked credential. */
export class LocalRevocationBus implements RevocationBus {
  async subscribe(): Promise<void> {}
  async unsubscribe(): Promise<void> {}
  async publish(): Promise<void> {}
}

/**
 * PostgreSQL LISTEN/NOTIFY on one dedicated connection per process (a pooled one could be handed to someone
 * else and lose the LISTEN). While that connection is down every cache is switched off, never trusted blindly.
 */
export class PostgresRevocationBus implements RevocationBus {
  private client: Client | undefined;
  private readonly listeners = new Set<RevocationListener>();
  private available = false;
  private connecting: Promise<void> | undefined;
  private stopped = false;
  private retryMs = 500;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly dataSource: DataSource,
    private readonly logger: PlainLogger,
  ) {}

  /** The first subscriber opens the connection; later ones join it and learn whether it is up. */
  async subscribe(listener: RevocationListener): Promise<void> {
    this.listeners.add(listener);
    listener.setAvailable(this.available);
    this.connecting ??= this.connect();
    await this.connecting;
  }

  async unsubscribe(listener: RevocationListener): Promise<void> {
    this.listeners.delete(listener);
    if (this.listeners.size === 0) await this.stop();
  }

  async publish(hashedSecret: string): Promise<void> {
    await this.dataSource.query('SELECT pg_notify($1, $2)', [REVOCATION_CHANNEL, hashedSecret]);
  }

  private async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (client) await client.end().catch(() => undefined);
  }

  private setAvailable(available: boolean): void {
    this.available = available;
    for (const listener of this.listeners) listener.setAvailable(available);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new (pg().Client)(this.clientConfig());
    let failed = false;
    const onFailure = (error?: Error): void => {
      if (failed) return;
      failed = true;
      this.setAvailable(false);
      if (this.client === client) this.client = undefined;
      client.end().catch(() => undefined);
      if (this.stopped) return;
      this.logger.warn(`Revocation channel lost (${error?.message ?? 'connection ended'}); credential caches off until it is back`);
      this.retryTimer = setTimeout(() => void this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 30000);
    };
    client.on('error', onFailure);
    client.on('end', () => onFailure());
    client.on('notification', (message) => {
      if (message.channel !== REVOCATION_CHANNEL || !message.payload) return;
      for (const listener of this.listeners) listener.evict(message.payload);
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${REVOCATION_CHANNEL}`);
    } catch (error) {
      onFailure(error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (this.stopped) {
      await client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.retryMs = 500;
    this.setAvailable(true);
  }

  /** The same connection settings TypeORM's pool uses. */
  private clientConfig(): ClientConfig {
    const pool = (this.dataSource.driver as unknown as { master?: { options?: ClientConfig } }).master;
    if (pool?.options) {
      const { connectionString, host, port, user, password, database, ssl } = pool.options;
      return { connectionString, host, port, user, password, database, ssl, application_name: 'tiled-revocations-listener' };
    }
    const options = this.dataSource.options as { url?: string; host?: string; port?: number; username?: string; database?: string };
    return { connectionString: options.url, host: options.host, port: options.port, user: options.username, database: options.database };
  }
}
