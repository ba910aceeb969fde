import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DataSource } from 'typeorm';
import { ACCOUNT_POLICY, accountKey, ADDRESS_POLICY, LoginThrottle } from '../../src/authn/login-throttle';
import { LoginThrottleStore } from '../../src/authn/login-throttle.store';
import { SessionHousekeeping } from '../../src/authn/session-housekeeping';
import { initializeDatabase } from '../../src/database/admin-database';
import { connect } from '../../src/database/data-source';
import { ApiKeyEntity, PrincipalEntity, SessionEntity } from '../../src/database/entities';
import { createTestDatabase, EngineName, testEngines, TestDatabase } from '../helpers/postgres';

/**
 * Housekeeping against real databases (SQLite file and, when configured, PostgreSQL): expired and revoked
 * sessions and login-throttle counters that count for nothing go; live sessions, live counters and every
 * API-key row stay. The server runs it every 600 s; the interval is a constructor
 * argument, so this test runs it every 100 ms.
 */
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

class CapturingLogger {
  readonly lines: string[] = [];
  log(message: string): void {
    this.lines.push(message);
  }
  warn(message: string): void {
    this.lines.push(`WARN ${message}`);
  }
  error(message: string): void {
    this.lines.push(`ERROR ${message}`);
  }
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe.each(testEngines())('SessionHousekeeping (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let dataSource: DataSource;
  let principalId: number;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    await initializeDatabase(db.uri);
    dataSource = (await connect(db.uri)).dataSource;
    const principal = await dataSource.getRepository(PrincipalEntity).save({ uuid: randomUUID(), type: 'user', timeCreated: new Date() });
    principalId = principal.id;
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await db?.drop();
  });

  async function addSession(expiresInMs: number, revoked = false): Promise<SessionEntity> {
    return dataSource.getRepository(SessionEntity).save({
      uuid: randomUUID(),
      timeLastRefreshed: null,
      refreshCount: 0,
      expirationTime: new Date(Date.now() + expiresInMs),
      principalId,
      revoked,
      state: {},
      refreshTokenId: null,
      previousRefreshTokenId: null,
      refreshTokenRotatedAt: null,
      timeCreated: new Date(),
    });
  }

  async function addKey(expiresInMs: number | null, revokedAt: Date | null): Promise<number> {
    const key = await dataSource.getRepository(ApiKeyEntity).save({
      firstEight: randomUUID().slice(0, 8),
      hashedSecret: randomUUID().replace(/-/g, '').padEnd(64, '1'),
      expirationTime: expiresInMs === null ? null : new Date(Date.now() + expiresInMs),
      latestActivity: null,
      note: null,
      scopes: ['read:metadata'],
      accessTags: null,
      principalId,
      revokedAt,
      timeCreated: new Date(),
    });
    return key.id;
  }

  it('should delete only expired and revoked sessions on its timer, log the counts, and keep every API key', async () => {
    const expired = await addSession(-HOUR);
    const live = await addSession(HOUR);
    const revokedLive = await addSession(HOUR, true);
    const keys = [await addKey(-365 * 24 * HOUR, null), await addKey(null, new Date(Date.now() - 365 * 24 * HOUR)), await addKey(HOUR, null)];

    const logger = new CapturingLogger();
    const housekeeping = new SessionHousekeeping(dataSource, logger, 100);
    housekeeping.start();
    try {
      await waitFor(() => logger.lines.length > 0);
    } finally {
      await housekeeping.onModuleDestroy();
    }
    expect(logger.lines).toEqual(['Housekeeping: deleted 2 expired or revoked session(s) and 0 stale login-failure counter(s)']);

    const sessionIds = (await dataSource.getRepository(SessionEntity).find()).map((s) => s.id);
    expect(sessionIds).not.toContain(expired.id);
    expect(sessionIds).not.toContain(revokedLive.id);
    expect(sessionIds).toContain(live.id);
    const keyIds = (await dataSource.getRepository(ApiKeyEntity).find()).map((k) => k.id);
    expect(keyIds).toEqual(expect.arrayContaining(keys));
  });

  it('should stay quiet when there is nothing to delete, and stop ticking once stopped', async () => {
    const logger = new CapturingLogger();
    const housekeeping = new SessionHousekeeping(dataSource, logger, 50);
    housekeeping.start();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await housekeeping.onModuleDestroy();
    expect(logger.lines).toEqual([]);

    await addSession(-HOUR);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await housekeeping.sweep()).toEqual({ sessions: 1, loginFailures: 0 });
    expect(logger.lines).toEqual([]);
  });

  it('should forget login-throttle counters once their window has passed and their wait has ended, and only those', async () => {
    const sweepAt = Date.now();
    const attemptsAt = (at: number) => new LoginThrottle(new LoginThrottleStore(dataSource), undefined, () => at);
    // 20 minutes before the sweep: the 15-minute window has passed; 5 failures (the free allowance) started a 1 s wait.
    for (let i = 0; i < 5; i++) await attemptsAt(sweepAt - 20 * MINUTE).admit('toy', 'mallory', '192.0.2.1');
    // 10 minutes before: still in its window.
    await attemptsAt(sweepAt - 10 * MINUTE).admit('toy', 'alice', '192.0.2.2');
    // As long ago, but under a policy whose first wait is an hour, so that wait is still running.
    const hourLong = { account: { ...ACCOUNT_POLICY, baseDelayMs: HOUR, maxDelayMs: HOUR }, address: ADDRESS_POLICY };
    const waiting = new LoginThrottle(new LoginThrottleStore(dataSource), hourLong, () => sweepAt - 20 * MINUTE);
    for (let i = 0; i < 5; i++) await waiting.admit('toy', 'bob', '192.0.2.3');

    const logger = new CapturingLogger();
    const housekeeping = new SessionHousekeeping(dataSource, logger, 100, () => new Date(sweepAt));
    housekeeping.start();
    try {
      await waitFor(() => logger.lines.length > 0);
    } finally {
      await housekeeping.onModuleDestroy();
    }
    expect(logger.lines).toEqual(['Housekeeping: deleted 0 expired or revoked session(s) and 3 stale login-failure counter(s)']);
    const left = ((await dataSource.query('SELECT "key" FROM login_failures')) as { key: string }[]).map((row) => row.key).sort();
    expect(left).toEqual([accountKey('toy', 'alice'), accountKey('toy', 'bob'), 'address:192.0.2.2'].sort());
  });
});

describe('SessionHousekeeping timer', () => {
  it('should not keep a process alive', async () => {
    // The built module, in a process of its own: if the 600 s interval held the event loop, this would hang.
    const built = join(__dirname, '..', '..', 'dist', 'src', 'authn', 'session-housekeeping.js');
    const script = `const { SessionHousekeeping } = require(${JSON.stringify(built)});
      new SessionHousekeeping({}, console).start();
      console.log('started');`;
    const started = Date.now();
    const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], { timeout: 10_000 });
    expect(stdout.trim()).toBe('started');
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
