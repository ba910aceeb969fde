import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, EngineName, runSql, testEngines, TestDatabase } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/**
 * Bearer access tokens over real HTTP against the real CLI: their scopes follow the principal's roles in the
 * database (not the `scp` frozen at login), and a revoked session's tokens stop at once — in the process that
 * revoked it and, through PostgreSQL NOTIFY, in another process sharing the database (on SQLite: within 2 s).
 */
/** The cache lifetime of principal→scopes and session lookups is 2 s; this is a little more. */
const CACHE_TTL_PLUS_MS = 2300;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Tokens {
  access_token: string;
  refresh_token: string;
  principal: string;
}

const GRANT_ADMIN = `INSERT INTO principal_role_association (principal_id, role_id)
  SELECT p.id, r.id FROM principals p, roles r WHERE p.uuid = $1 AND r.name = 'admin'`;
const REVOKE_ADMIN = `DELETE FROM principal_role_association WHERE principal_id = (SELECT id FROM principals WHERE uuid = $1)
  AND role_id = (SELECT id FROM roles WHERE name = 'admin')`;

const hyphenated = (hex: string): string => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;

describe.each(testEngines())('Bearer access tokens follow roles and revocations (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let dir: string;
  let first: RunningServer;
  let second: RunningServer;

  async function login(server: RunningServer, user: 'alice' | 'bob'): Promise<Tokens> {
    const response = await fetch(`${server.api}/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user, password: `${user}-pw` }).toString(),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as Tokens;
  }

  const get = (server: RunningServer, path: string, token: string): Promise<Response> =>
    fetch(`${server.api}${path}`, { headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-scopes-'));
    // Both servers must verify each other's tokens.
    const config = writeToyConfig(dir, { users: { alice: 'alice-pw', bob: 'bob-pw' }, secretKeys: ['scopes-e2e-signing-key'], databaseUri: db.uri });
    first = await startTiled(['serve', 'config', config]);
    second = await startTiled(['serve', 'config', config]);
  });

  afterAll(async () => {
    await first?.stop();
    await second?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('scopes from roles', () => {
    it('should give an existing access token admin scopes once the role is granted in the database, and take them away again', async () => {
      const tokens = await login(first, 'alice');
      const before = await get(first, '/auth/principal', tokens.access_token);
      expect(before.status).toBe(401);
      expect(((await before.json()) as { detail: string }).detail).toMatch(/^Not enough permissions/);

      await runSql(db, GRANT_ADMIN, [hyphenated(tokens.principal)]);
      await sleep(CACHE_TTL_PLUS_MS);
      // Same token, minted while alice was a plain user: its `scp` says so, the server no longer cares.
      const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as { scp: string[] };
      expect(claims.scp).not.toContain('admin:read:principals');
      expect((await get(first, '/auth/principal', tokens.access_token)).status).toBe(200);
      expect((await get(second, '/auth/principal', tokens.access_token)).status).toBe(200);

      await runSql(db, REVOKE_ADMIN, [hyphenated(tokens.principal)]);
      await sleep(CACHE_TTL_PLUS_MS);
      expect((await get(first, '/auth/principal', tokens.access_token)).status).toBe(401);
      expect((await get(first, '/metadata/', tokens.access_token)).status).toBe(200);
    });

    it('should still write the current role scopes into new tokens for clients that read `scp`', async () => {
      const tokens = await login(first, 'bob');
      const claims = JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as { scp: string[] };
      expect(claims.scp).toEqual(expect.arrayContaining(['read:metadata', 'read:data', 'create:apikeys']));
      expect(claims.scp).not.toContain('admin:apikeys');
    });
  });

  describe('revoked sessions', () => {
    it('should refuse the access token right after logout with it', async () => {
      const tokens = await login(first, 'alice');
      expect((await get(first, '/auth/whoami', tokens.access_token)).status).toBe(200);
      const logout = await fetch(`${first.api}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
      expect(logout.status).toBe(200);
      const after = await get(first, '/metadata/', tokens.access_token);
      expect(after.status).toBe(401);
      expect(await after.json()).toEqual({ detail: 'Session has been revoked. Please re-authenticate.' });
    });

    it('should refuse the access token right after DELETE /auth/session/revoke/{id}', async () => {
      const tokens = await login(first, 'bob');
      const other = await login(first, 'bob');
      const sid = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
      const revoke = await fetch(`${first.api}/auth/session/revoke/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${other.access_token}` } });
      expect(revoke.status).toBe(204);
      expect((await get(first, '/metadata/', tokens.access_token)).status).toBe(401);
      // Only that session: bob's other login goes on working.
      expect((await get(first, '/metadata/', other.access_token)).status).toBe(200);
    });

    it(`should stop the token in another server process sharing the database ${engine === 'postgres' ? 'at once (NOTIFY)' : 'within the cache lifetime'}`, async () => {
      const tokens = await login(first, 'alice');
      // The second process has the session cached as live.
      expect((await get(second, '/metadata/', tokens.access_token)).status).toBe(200);
      const revoke = await fetch(`${first.api}/auth/session/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: tokens.refresh_token }),
      });
      expect(revoke.status).toBe(204);
      if (engine === 'postgres') {
        // NOTIFY is delivered asynchronously; allow it a moment, far below the 2 s cache lifetime.
        await sleep(200);
      } else {
        await sleep(CACHE_TTL_PLUS_MS);
      }
      expect((await get(second, '/metadata/', tokens.access_token)).status).toBe(401);
    });

    it('should refuse a token whose session row was deleted (housekeeping, or an operator)', async () => {
      const tokens = await login(first, 'bob');
      const sid = (JSON.parse(Buffer.from(tokens.access_token.split('.')[1], 'base64url').toString()) as { sid: string }).sid;
      await runSql(db, 'DELETE FROM sessions WHERE uuid = $1', [hyphenated(sid)]);
      await sleep(CACHE_TTL_PLUS_MS);
      expect((await get(first, '/metadata/', tokens.access_token)).status).toBe(401);
    });
  });
});
