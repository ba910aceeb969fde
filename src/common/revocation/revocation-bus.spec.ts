import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { createTestDatabase, testEngines, TestDatabase } from '../../../test/helpers/postgres';
import { openDatabase } from '../../database/data-source';
import type { PlainLogger } from '../logging/plain-logger';
import { PostgresRevocationBus, RevocationListener } from './revocation-bus';

const quiet: PlainLogger = { log: () => undefined, warn: () => undefined, error: () => undefined };

interface Recorder extends RevocationListener {
  heard: string[];
  available: boolean;
}

function recorder(): Recorder {
  const r: Recorder = {
    heard: [],
    available: true,
    evict: (payload) => r.heard.push(payload),
    setAvailable: (available) => {
      r.available = available;
    },
  };
  return r;
}

async function eventually(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
}

const onPostgres = testEngines().includes('postgres') ? describe : describe.skip;

onPostgres(`${PostgresRevocationBus.name} (one per process, several caches)`, () => {
  let db: TestDatabase;
  let dataSource: DataSource;

  /** Connections of the test database whose last statement was a LISTEN. */
  async function listenConnections(): Promise<number> {
    const client = new Client({ connectionString: db.uri });
    await client.connect();
    try {
      const result = await client.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
      );
      return Number(result.rows[0].n);
    } finally {
      await client.end();
    }
  }

  beforeEach(async () => {
    db = await createTestDatabase('postgres');
    dataSource = await openDatabase(db.uri, { initIfNotExists: true });
  });

  afterEach(async () => {
    await dataSource.destroy();
    await db.drop();
  });

  it('should serve every subscriber from one LISTEN connection, closed when the last one leaves', async () => {
    const sut = new PostgresRevocationBus(dataSource, quiet);
    const apiKeys = recorder();
    const sessions = recorder();
    await sut.subscribe(apiKeys);
    await sut.subscribe(sessions);
    expect(apiKeys.available && sessions.available).toBe(true);
    expect(await listenConnections()).toBe(1);

    const elsewhere = new PostgresRevocationBus(dataSource, quiet);
    await elsewhere.publish('session:0123');
    await eventually(() => apiKeys.heard.length > 0 && sessions.heard.length > 0);
    expect(apiKeys.heard).toEqual(['session:0123']);
    expect(sessions.heard).toEqual(['session:0123']);

    await sut.unsubscribe(apiKeys);
    await elsewhere.publish('ab'.repeat(32));
    await eventually(() => sessions.heard.length > 1);
    expect(sessions.heard).toEqual(['session:0123', 'ab'.repeat(32)]);
    expect(apiKeys.heard).toEqual(['session:0123']);

    await sut.unsubscribe(sessions);
    expect(await listenConnections()).toBe(0);
  });
});
