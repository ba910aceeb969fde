import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase, testEngines } from '../helpers/postgres';
import { runTiled, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

const USERS = { alice: 'secret1' };

describe('tiled serve --scalable', () => {
  let dir: string;
  // No single-user key or secret keys may leak in from the developer's environment.
  const env = { TILED_SINGLE_USER_API_KEY: undefined, TILED_SECRET_KEYS: undefined };

  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tiled-scalable-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses single-user mode with a generated key, and starts once the key is fixed', async () => {
    const refused = await runTiled(['serve', 'demo', '--scalable', '--port', '0'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--scalable: this configuration cannot run as several replicas:');
    expect(refused.stderr).toContain('set --api-key, TILED_SINGLE_USER_API_KEY or authentication.single_user_api_key');
    expect(refused.stderr).not.toContain('Use the following URL');

    const server = await startTiled(['serve', 'demo', '--scalable'], { env: { ...env, TILED_SINGLE_USER_API_KEY: 'ScalableKey0123456789' } });
    try {
      const response = await fetch(`${server.api}/metadata/`, { headers: { authorization: 'Apikey ScalableKey0123456789' } });
      expect(response.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('lists every problem of a multi-user configuration at once: no secret keys, an SQLite or missing database', async () => {
    const transient = await runTiled(['serve', 'config', writeToyConfig(dir, { users: USERS }, 'transient.yml'), '--scalable', '--port', '0'], { env });
    expect(transient.code).toBe(2);
    expect(transient.stderr).toContain('authentication.secret_keys (or TILED_SECRET_KEYS) is not set');
    expect(transient.stderr).toContain('there is no database section');

    const sqlite = await runTiled(
      ['serve', 'config', writeToyConfig(dir, { users: USERS, secretKeys: ['k1'], databaseUri: `sqlite:///${join(dir, 'auth.db')}` }, 'sqlite.yml'), '--scalable', '--port', '0'],
      { env },
    );
    expect(sqlite.code).toBe(2);
    expect(sqlite.stderr).toContain('database.uri is not PostgreSQL');
    expect(sqlite.stderr).not.toContain('secret_keys');
  });

  const postgres = testEngines().includes('postgres') ? it : it.skip;
  postgres('starts a multi-user server on PostgreSQL with fixed secret keys', async () => {
    const db: TestDatabase = await createTestDatabase('postgres');
    try {
      const file = writeToyConfig(dir, { users: USERS, secretKeys: ['${SCALABLE_SECRET}'], databaseUri: db.uri }, 'postgres.yml');
      const server = await startTiled(['serve', 'config', file, '--scalable'], { env: { ...env, SCALABLE_SECRET: 'replicas-share-this' } });
      try {
        const login = await fetch(`${server.api}/auth/provider/toy/token`, { method: 'POST', body: new URLSearchParams({ username: 'alice', password: 'secret1' }) });
        expect(login.status).toBe(200);
      } finally {
        await server.stop();
      }
    } finally {
      await db.drop();
    }
  });
});

describe('tiled serve --verbose --log-timestamps', () => {
  it('begins each access-log line with its UTC time', async () => {
    const server = await startTiled(['serve', 'demo', '--api-key', 'TimestampKey0123456789', '--verbose', '--log-timestamps']);
    try {
      await fetch(`${server.api}/metadata/`, { headers: { authorization: 'Apikey TimestampKey0123456789' } });
      await server.waitForOutput(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \[[0-9a-f]{16}\] 127\.0\.0\.1:\d+ \(singleuser\) - "GET \/api\/v1\/metadata\/ HTTP\/1\.1" 200$/m);
    } finally {
      await server.stop();
    }
  });
});
