import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, EngineName, testEngines, TestDatabase } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/**
 * The per-principal caps (100 API keys, 200 sessions) over real HTTP against the real CLI, on SQLite and,
 * when TILED_TEST_POSTGRES_URI is set, PostgreSQL: they hold when requests race for the last places, and
 * only credentials that still work count against them.
 */
const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', carol: 'carol-pw' } as const;
type User = keyof typeof PASSWORDS;

describe.each(testEngines())('per-principal caps (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let dir: string;
  let server: RunningServer;

  const api = (path: string): string => `${server.api}${path}`;

  function login(user: User): Promise<Response> {
    return fetch(api('/auth/provider/toy/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user, password: PASSWORDS[user] }).toString(),
    });
  }

  async function tokensOf(user: User): Promise<{ access_token: string; refresh_token: string }> {
    const response = await login(user);
    expect(response.status).toBe(200);
    return (await response.json()) as { access_token: string; refresh_token: string };
  }

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-limits-'));
    server = await startTiled(['serve', 'config', writeToyConfig(dir, { users: PASSWORDS, secretKeys: ['limits-e2e-signing-key'], databaseUri: db.uri })]);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should create exactly 100 of 150 API keys requested in parallel, and refuse the other 50 with 400', async () => {
    const { access_token } = await tokensOf('alice');
    const responses = await Promise.all(
      Array.from({ length: 150 }, () =>
        fetch(api('/auth/apikey'), {
          method: 'POST',
          headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ expires_in: null, scopes: ['read:metadata'] }),
        }),
      ),
    );
    const bodies = await Promise.all(responses.map(async (response) => ({ status: response.status, body: (await response.json()) as { detail?: string; secret?: string } })));
    expect(bodies.filter((r) => r.status === 200)).toHaveLength(100);
    const refused = bodies.filter((r) => r.status !== 200);
    expect(refused.map((r) => r.status)).toEqual(Array(50).fill(400));
    expect(new Set(refused.map((r) => r.body.detail))).toEqual(
      new Set([
        'This Principal already has 100 API keys which is greater than or equal to the maximum number allowed, 100. Some API keys must be deleted before creating new ones.',
      ]),
    );
    // Every created key works, and revoking one makes room for exactly one more.
    const secrets = bodies.filter((r) => r.status === 200).map((r) => r.body.secret!);
    expect(new Set(secrets).size).toBe(100);
    expect((await fetch(api('/metadata/'), { headers: { authorization: `Apikey ${secrets[99]}` } })).status).toBe(200);
    const revoke = await fetch(api(`/auth/apikey?first_eight=${secrets[0].slice(0, 8)}`), { method: 'DELETE', headers: { authorization: `Bearer ${access_token}` } });
    expect(revoke.status).toBe(204);
    const again = await Promise.all(
      [1, 2].map(() =>
        fetch(api('/auth/apikey'), {
          method: 'POST',
          headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ expires_in: null, scopes: ['read:metadata'] }),
        }),
      ),
    );
    expect(again.map((r) => r.status).sort()).toEqual([200, 400]);
  }, 60_000);

  it('should open exactly 200 of 210 sessions requested four at a time, and refuse the other 10 with 400', async () => {
    // Four in flight, not all at once: the login throttle counts each attempt in flight as a possible
    // failure, and a fifth concurrent one for the same account would be throttled (429), not capped.
    const statuses: number[] = [];
    const details = new Set<string>();
    let started = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (started < 210) {
          started++;
          const response = await login('carol');
          statuses.push(response.status);
          if (response.status !== 200) details.add(((await response.json()) as { detail: string }).detail);
          else await response.arrayBuffer();
        }
      }),
    );
    expect(statuses.filter((s) => s === 200)).toHaveLength(200);
    expect(statuses.filter((s) => s !== 200)).toEqual(Array(10).fill(400));
    expect(details).toEqual(
      new Set([
        'This Principal already has 200 sessions which is greater than or equal to the maximum number allowed, 200. Some Sessions must be closed before creating new ones.',
      ]),
    );
  }, 60_000);

  it('should still log in after 250 login/logout cycles: closed sessions do not count against the cap', async () => {
    for (let cycle = 0; cycle < 250; cycle++) {
      const { refresh_token } = await tokensOf('bob');
      const logout = await fetch(api('/auth/logout'), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token }),
      });
      expect(logout.status).toBe(200);
    }
    const { access_token } = await tokensOf('bob');
    const whoami = await fetch(api('/auth/whoami'), { headers: { authorization: `Bearer ${access_token}` } });
    expect(whoami.status).toBe(200);
  }, 120_000);
});
