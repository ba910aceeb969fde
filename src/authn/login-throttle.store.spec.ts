import type { DataSource } from 'typeorm';
import { createTestDatabase, testEngines, TestDatabase } from '../../test/helpers/postgres';
import { openDatabase } from '../database/data-source';
import { ACCOUNT_POLICY, Admission, LoginThrottle, ThrottlePolicy } from './login-throttle';
import { LoginThrottleStore } from './login-throttle.store';

interface Row {
  key: string;
  failures: number | string;
}

/**
 * The counters in a real database, on each engine. "Replicas" are separate data sources (separate
 * connections, as separate processes have) on one database.
 */
describe.each(testEngines())(`${LoginThrottleStore.name} on %s`, (engine) => {
  let db: TestDatabase;
  let replicaA: DataSource;
  let replicaB: DataSource;
  let now: number;
  const generousAddress: ThrottlePolicy = { ...ACCOUNT_POLICY, freeFailures: 1000 };

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    replicaA = await openDatabase(db.uri, { initIfNotExists: true });
    replicaB = await openDatabase(db.uri, { initIfNotExists: false });
  });
  afterAll(async () => {
    await replicaA?.destroy();
    await replicaB?.destroy();
    await db?.drop();
  });
  beforeEach(async () => {
    now = Date.parse('2026-11-27T12:00:00Z');
    await replicaA.query('DELETE FROM login_failures');
  });

  function throttleOn(dataSource: DataSource, address: ThrottlePolicy = generousAddress): LoginThrottle {
    return new LoginThrottle(new LoginThrottleStore(dataSource), { account: ACCOUNT_POLICY, address }, () => now);
  }

  async function rows(): Promise<Row[]> {
    return replicaA.query('SELECT "key", failures FROM login_failures ORDER BY "key"');
  }

  it('should let exactly the free allowance through when 50 attempts arrive at once, split over two replicas', async () => {
    const [a, b] = [throttleOn(replicaA), throttleOn(replicaB)];
    const admissions: Admission[] = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).admit('toy', 'alice', `10.0.0.${i}`)));
    expect(admissions.filter((admission) => admission.allowed)).toHaveLength(ACCOUNT_POLICY.freeFailures);
    for (const refused of admissions.filter((admission) => !admission.allowed)) expect(refused).toEqual({ allowed: false, retryAfterMs: 1000 });
    const accounts = (await rows()).filter((row) => row.key.startsWith('account:'));
    expect(accounts.map((row) => Number(row.failures))).toEqual([ACCOUNT_POLICY.freeFailures]);
  });

  it('should let exactly the free allowance through for one address trying many accounts at once', async () => {
    const sut = throttleOn(replicaA, { ...ACCOUNT_POLICY, freeFailures: 7 });
    const admissions = await Promise.all(Array.from({ length: 40 }, (_, i) => sut.admit('toy', `user${i}`, '203.0.113.9')));
    expect(admissions.filter((admission) => admission.allowed)).toHaveLength(7);
  });

  it('should make one replica refuse what another counted, and keep the count for the next process', async () => {
    const a = throttleOn(replicaA);
    for (let i = 0; i < ACCOUNT_POLICY.freeFailures; i++) expect((await a.admit('toy', 'alice', '10.0.0.1')).allowed).toBe(true);
    expect(await throttleOn(replicaB).admit('toy', 'alice', '10.0.0.2')).toEqual({ allowed: false, retryAfterMs: 1000 });
    now += 1000;
    expect((await throttleOn(replicaB).admit('toy', 'alice', '10.0.0.2')).allowed).toBe(true);
    expect(await a.admit('toy', 'alice', '10.0.0.1')).toEqual({ allowed: false, retryAfterMs: 2000 });
  });

  it('should clear the account and give back the address after a success, also across replicas', async () => {
    const a = throttleOn(replicaA);
    for (let i = 0; i < 3; i++) await a.admit('toy', 'alice', '10.0.0.1');
    const right = await throttleOn(replicaB).admit('toy', 'alice', '10.0.0.1');
    if (!right.allowed) throw new Error('refused');
    await throttleOn(replicaB).succeeded(right.attempt);
    expect((await rows()).map((row) => [row.key, Number(row.failures)])).toEqual([['address:10.0.0.1', 3]]);
  });

  it('should store no row for an attempt it refuses, so a blocked sprayer of usernames grows nothing', async () => {
    const sut = throttleOn(replicaA, { ...ACCOUNT_POLICY, freeFailures: 2 });
    for (const user of ['u1', 'u2']) expect((await sut.admit('toy', user, '198.51.100.7')).allowed).toBe(true);
    const before = await rows();
    const refused = await Promise.all(Array.from({ length: 20 }, (_, i) => sut.admit('toy', `spray${i}`, '198.51.100.7')));
    expect(refused.every((admission) => !admission.allowed)).toBe(true);
    expect(await rows()).toEqual(before);
  });

  it('should keep neither the username nor anything long in the key', async () => {
    const sut = throttleOn(replicaA);
    await sut.admit('toy', 'correct horse battery staple', '10.0.0.1');
    await sut.admit('toy', 'x'.repeat(100_000), '10.0.0.1');
    const stored = await rows();
    expect(stored).toHaveLength(3);
    for (const row of stored) expect(row.key.length).toBeLessThanOrEqual(72);
    expect(JSON.stringify(stored)).not.toMatch(/horse|xxxx/);
  });
});
