import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, testEngines, TestDatabase } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/** The default policy's free allowance per account (docs/authentication.md, "Brute-force protection"). */
const FREE_FAILURES = 5;

function login(server: RunningServer, username: string, password: string): Promise<Response> {
  return fetch(`${server.api}/auth/provider/toy/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

function tally(statuses: number[]): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/**
 * Two tiled-ts processes on one authentication database with the same secret keys, as behind a load
 * balancer: the failed-password counters are the database's, so the replicas share one allowance, and
 * an attempt is counted before the password is checked, so a parallel burst gets no more than it either.
 */
describe.each(testEngines())('password-login throttling shared by two replicas on one %s database', (engine) => {
  let db: TestDatabase;
  let dir: string;
  let a: RunningServer;
  let b: RunningServer;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-throttle-'));
    const config = writeToyConfig(dir, { users: { alice: 'secret1', bob: 'secret2', cara: 'secret3' }, secretKeys: ['throttle-e2e-secret'], databaseUri: db.uri });
    // One after the other: the first one initialises the database.
    a = await startTiled(['serve', 'config', config]);
    b = await startTiled(['serve', 'config', config]);
  }, 60000);
  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should answer 429 with Retry-After on replica B for an account that failed on replica A, even with the right password', async () => {
    for (let i = 0; i < FREE_FAILURES; i++) {
      const wrong = await login(a, 'cara', `guess${i}`);
      expect(wrong.status).toBe(401);
      expect(await wrong.json()).toEqual({ detail: 'Incorrect username or password' });
    }
    const throttled = await login(b, 'cara', 'secret3');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await throttled.json()).toEqual({ detail: 'Too many failed login attempts. Try again later.' });
    // The user name is logged as a keyed tag, the same on both replicas since they share the secret key.
    await b.waitForOutput(/Login throttled: provider "toy", user #[0-9a-f]{12} from 127\.0\.0\.1/);
    const failedTag = /Failed login: provider "toy", user #([0-9a-f]{12})/.exec(a.output())?.[1];
    expect(failedTag).toBeDefined();
    expect(b.output()).toContain(`Login throttled: provider "toy", user #${failedTag} from`);
    expect(a.output() + b.output()).not.toMatch(/cara|secret3/);
    // Other accounts are unaffected.
    expect((await login(b, 'bob', 'secret2')).status).toBe(200);
  });

  it('should let a parallel burst of wrong passwords try only the free allowance, then accept the right password once the wait is over', async () => {
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => login(a, 'alice', `burst${i}`)));
    expect(tally(burst.map((response) => response.status))).toEqual({ 401: FREE_FAILURES, 429: 60 - FREE_FAILURES });
    const waits = burst.filter((response) => response.status === 429).map((response) => Number(response.headers.get('retry-after')));
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(1);

    await new Promise((resolve) => setTimeout(resolve, Math.max(...waits) * 1000));
    const right = await login(b, 'alice', 'secret1');
    expect(right.status).toBe(200);
    const { access_token: accessToken } = (await right.json()) as { access_token: string };
    expect((await fetch(`${a.api}/auth/whoami`, { headers: { authorization: `Bearer ${accessToken}` } })).status).toBe(200);
  });

  it('should let a burst split over both replicas try no more than one replica alone would', async () => {
    const burst = await Promise.all(Array.from({ length: 60 }, (_, i) => login(i % 2 ? a : b, 'bob', `burst${i}`)));
    expect(tally(burst.map((response) => response.status))).toEqual({ 401: FREE_FAILURES, 429: 60 - FREE_FAILURES });
  });
});
