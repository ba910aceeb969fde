import { mkdtempSync, rmSync } from 'node:fs';
import { Client } from 'pg';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, EngineName, testEngines, TestDatabase } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/**
 * Revocation holds at once across processes: two real server processes share one database (a SQLite file,
 * and PostgreSQL when TILED_TEST_POSTGRES_URI is set). B has the credential in its cache (it just accepted
 * it); A revokes it; the very next use on B, sent the moment A answers, is refused. Repeated, because the
 * failure this guards against was a race of a few milliseconds.
 */
const PASSWORDS = { alice: 'alice-pw' } as const;
const ROUNDS = 20;

describe.each(testEngines())('revocation across two processes (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let dir: string;
  let a: RunningServer;
  let b: RunningServer;

  async function login(server: RunningServer): Promise<{ access_token: string; refresh_token: string }> {
    const response = await fetch(`${server.api}/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: PASSWORDS.alice }).toString(),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { access_token: string; refresh_token: string };
  }

  const metadata = (server: RunningServer, authorization: string): Promise<number> =>
    fetch(`${server.api}/metadata/`, { headers: { authorization } }).then(async (response) => {
      await response.arrayBuffer();
      return response.status;
    });

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-revocation-'));
    const config = writeToyConfig(dir, { users: PASSWORDS, secretKeys: ['revocation-e2e-signing-key'], databaseUri: db.uri });
    a = await startTiled(['serve', 'config', config]);
    b = await startTiled(['serve', 'config', config]);
  }, 60_000);

  afterAll(async () => {
    await a?.stop();
    await b?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should refuse an API key on B right after A revoked it', async () => {
    const { access_token } = await login(a);
    const results: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const created = await fetch(`${a.api}/auth/apikey`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ expires_in: 600, scopes: ['read:metadata'] }),
      });
      const { secret } = (await created.json()) as { secret: string };
      expect(await metadata(b, `Apikey ${secret}`)).toBe(200);
      expect(await metadata(b, `Apikey ${secret}`)).toBe(200);
      const revoked = await fetch(`${a.api}/auth/apikey?first_eight=${secret.slice(0, 8)}`, { method: 'DELETE', headers: { authorization: `Bearer ${access_token}` } });
      expect(revoked.status).toBe(204);
      results.push(await metadata(b, `Apikey ${secret}`));
    }
    expect(results).toEqual(Array(ROUNDS).fill(401));
  }, 60_000);

  it("should refuse a session's access token on B right after A logged it out", async () => {
    const results: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const { access_token, refresh_token } = await login(a);
      expect(await metadata(b, `Bearer ${access_token}`)).toBe(200);
      expect(await metadata(b, `Bearer ${access_token}`)).toBe(200);
      const logout = await fetch(`${a.api}/auth/session/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token }),
      });
      expect(logout.status).toBe(204);
      results.push(await metadata(b, `Bearer ${access_token}`));
    }
    expect(results).toEqual(Array(ROUNDS).fill(401));
  }, 60_000);

  if (engine === 'postgres') {
    it('should listen for revocations on one connection per server, shared by API keys and sessions', async () => {
      const client = new Client({ connectionString: db.uri });
      await client.connect();
      try {
        const { rows } = await client.query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND query ILIKE 'LISTEN%'",
        );
        expect(rows).toHaveLength(2);
      } finally {
        await client.end();
      }
    });
  }
});
