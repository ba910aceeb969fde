import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initializeDatabase } from '../../src/database/admin-database';
import { createTestDatabase, testEngines, TestDatabase } from '../helpers/postgres';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

const TOY = join(__dirname, '..', '..', 'example_configs', 'toy_authentication.yml');

interface Tokens {
  access_token: string;
  refresh_token: string;
}

async function login(api: string, username: string, password: string, provider = 'toy'): Promise<Response> {
  return fetch(`${api}/auth/provider/${provider}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
}

async function loginOk(api: string, username: string, password: string, provider = 'toy'): Promise<Tokens> {
  const response = await login(api, username, password, provider);
  expect(response.status).toBe(200);
  return (await response.json()) as Tokens;
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}

async function whoami(api: string, accessToken: string): Promise<{ uuid: string; sessions: { uuid: string; revoked: boolean }[]; roles: { name: string }[] }> {
  const response = await fetch(`${api}/auth/whoami`, { headers: { authorization: `Bearer ${accessToken}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as { uuid: string; sessions: { uuid: string; revoked: boolean }[]; roles: { name: string }[] };
}

describe('the toy_authentication example (the API-keys guide)', () => {
  let dir: string;
  let server: RunningServer;
  // Exactly the guide's command: only alice's variable is set.
  const env = { ALICE_PASSWORD: 'secret1', BOB_PASSWORD: undefined, CARA_PASSWORD: undefined, ADMIN_PASSWORD: undefined };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-toy-'));
    server = await startTiled(['serve', 'config', TOY], { cwd: dir, env });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should list the provider in the about document', async () => {
    const about = (await (await fetch(`${server.api}/`)).json()) as { authentication: Record<string, unknown> };
    expect(about.authentication).toEqual({
      required: true,
      providers: [
        {
          provider: 'toy',
          mode: 'internal',
          links: { auth_endpoint: `${server.api}/auth/provider/toy/token` },
          confirmation_message: 'You have logged in as {id}.',
          extra_scopes: null,
        },
      ],
      links: {
        whoami: `${server.api}/auth/whoami`,
        apikey: `${server.api}/auth/apikey`,
        refresh_session: `${server.api}/auth/session/refresh`,
        revoke_session: `${server.api}/auth/session/revoke/{session_id}`,
        logout: `${server.api}/auth/logout`,
      },
    });
  });

  it('should refuse a wrong password and an unknown user with the same 401, and a missing field with 422', async () => {
    for (const [user, password] of [['alice', 'WRONG'], ['mallory', 'x']]) {
      const response = await login(server.api, user, password);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer');
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({ detail: 'Incorrect username or password' });
    }
    const missing = await fetch(`${server.api}/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice',
    });
    expect(missing.status).toBe(422);
    expect(((await missing.json()) as { detail: { loc: string[] }[] }).detail[0].loc).toEqual(['body', 'password']);
    expect((await login(server.api, 'alice', 'x', 'nosuch')).status).toBe(404);
  });

  it('should log alice in, show her in whoami, and rotate refresh tokens', async () => {
    const response = await login(server.api, 'alice', 'secret1');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as Tokens & Record<string, unknown>;
    expect(body).toMatchObject({ expires_in: 900, refresh_token_expires_in: 604800, token_type: 'bearer', identity: { id: 'alice', provider: 'toy' } });
    expect(body.principal).toMatch(/^[0-9a-f]{32}$/);
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ sub: body.principal, sub_typ: 'user', type: 'access', ids: [{ id: 'alice', idp: 'toy' }], state: {} });
    expect(claims.scp).toEqual(expect.arrayContaining(['read:metadata', 'create:apikeys']));

    const me = await whoami(server.api, body.access_token);
    expect(me.uuid.replace(/-/g, '')).toBe(body.principal);
    expect(me.roles.map((r) => r.name)).toEqual(['user']);

    const metadata = await fetch(`${server.api}/metadata/`, { headers: { authorization: `Bearer ${body.access_token}` } });
    expect(metadata.status).toBe(200);

    const refreshed = await postJson(`${server.api}/auth/session/refresh`, { refresh_token: body.refresh_token });
    expect(refreshed.status).toBe(200);
    const next = (await refreshed.json()) as Tokens & Record<string, unknown>;
    expect(Object.keys(next).sort()).toEqual(['access_token', 'expires_in', 'refresh_token', 'refresh_token_expires_in', 'token_type']);
    expect(next.refresh_token).not.toBe(body.refresh_token);
    expect((await whoami(server.api, next.access_token)).uuid).toBe(me.uuid);
  });

  it('should revoke the whole session when an already-used refresh token comes back', async () => {
    const first = await loginOk(server.api, 'alice', 'secret1');
    const second = (await (await postJson(`${server.api}/auth/session/refresh`, { refresh_token: first.refresh_token })).json()) as Tokens;
    // Past the grace window for concurrent duplicates, the old token is a replay.
    await new Promise((resolve) => setTimeout(resolve, 5500));
    const replay = await postJson(`${server.api}/auth/session/refresh`, { refresh_token: first.refresh_token });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ detail: 'Session has expired. Please re-authenticate.' });
    // The legitimate holder of the newest token is logged out too: the session is dead.
    expect((await postJson(`${server.api}/auth/session/refresh`, { refresh_token: second.refresh_token })).status).toBe(401);
    expect((await fetch(`${server.api}/auth/whoami`, { headers: { authorization: `Bearer ${second.access_token}` } })).status).toBe(401);
  });

  it('should accept a concurrent duplicate refresh within the grace window', async () => {
    const tokens = await loginOk(server.api, 'alice', 'secret1');
    const [a, b] = await Promise.all([
      postJson(`${server.api}/auth/session/refresh`, { refresh_token: tokens.refresh_token }),
      postJson(`${server.api}/auth/session/refresh`, { refresh_token: tokens.refresh_token }),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
  });

  it('should reject malformed refresh requests and refresh tokens used as bearer tokens', async () => {
    const tokens = await loginOk(server.api, 'alice', 'secret1');
    const missing = await postJson(`${server.api}/auth/session/refresh`, {});
    expect(missing.status).toBe(422);
    const garbage = await postJson(`${server.api}/auth/session/refresh`, { refresh_token: 'garbage' });
    expect(garbage.status).toBe(401);
    expect(await garbage.json()).toEqual({ detail: 'Could not validate credentials' });
    const accessAsRefresh = await postJson(`${server.api}/auth/session/refresh`, { refresh_token: tokens.access_token });
    expect(accessAsRefresh.status).toBe(401);
    const refreshAsBearer = await fetch(`${server.api}/metadata/`, { headers: { authorization: `Bearer ${tokens.refresh_token}` } });
    expect(refreshAsBearer.status).toBe(401);
    expect(await refreshAsBearer.json()).toEqual({ detail: 'Could not validate credentials' });
  });

  it('should revoke the session on logout and by id', async () => {
    const tokens = await loginOk(server.api, 'alice', 'secret1');
    const out = await fetch(`${server.api}/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(out.status).toBe(200);
    expect(await out.json()).toEqual({});
    expect((await postJson(`${server.api}/auth/session/refresh`, { refresh_token: tokens.refresh_token })).status).toBe(401);

    const other = await loginOk(server.api, 'alice', 'secret1');
    const revoke = await postJson(`${server.api}/auth/session/revoke`, { refresh_token: other.refresh_token });
    expect(revoke.status).toBe(204);
    expect((await postJson(`${server.api}/auth/session/refresh`, { refresh_token: other.refresh_token })).status).toBe(401);

    const third = await loginOk(server.api, 'alice', 'secret1');
    const me = await whoami(server.api, third.access_token);
    const sid = JSON.parse(Buffer.from(third.refresh_token.split('.')[1], 'base64url').toString()).sid as string;
    const target = me.sessions.find((s) => s.uuid.replace(/-/g, '') === sid)!;
    const deleted = await fetch(`${server.api}/auth/session/revoke/${target.uuid}`, { method: 'DELETE', headers: { authorization: `Bearer ${third.access_token}` } });
    expect(deleted.status).toBe(204);
    const anonymous = await fetch(`${server.api}/auth/session/revoke/${target.uuid}`, { method: 'DELETE' });
    expect(anonymous.status).toBe(401);
  });

  it('should answer whoami with null for anonymous callers', async () => {
    const response = await fetch(`${server.api}/auth/whoami`);
    expect(response.status).toBe(200);
    expect(await response.json()).toBeNull();
  });

  it('should throttle repeated failures with 429 and Retry-After, per account', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await login(server.api, 'cara', `guess${i}`)).status);
    expect(statuses.slice(0, 5)).toEqual([401, 401, 401, 401, 401]);
    const throttled = await login(server.api, 'cara', 'another');
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
    // Other accounts are unaffected.
    expect((await login(server.api, 'alice', 'secret1')).status).toBe(200);
  });

  it('should keep principals across a restart (SQLite file next to the working directory)', async () => {
    const before = await whoami(server.api, (await loginOk(server.api, 'alice', 'secret1')).access_token);
    await server.stop();
    server = await startTiled(['serve', 'config', TOY], { cwd: dir, env });
    const after = await whoami(server.api, (await loginOk(server.api, 'alice', 'secret1')).access_token);
    expect(after.uuid).toBe(before.uuid);
  });
});

describe.each(testEngines())('multi-user mode on %s', (engine) => {
  let db: TestDatabase;
  let dir: string;
  let server: RunningServer | undefined;
  const env = { ALICE_PASSWORD: 'secret1', BOB_PASSWORD: 'secret2' };

  function writeConfig(initIfNotExists: boolean): string {
    const file = join(dir, 'config.yml');
    writeFileSync(
      file,
      [
        'authentication:',
        '  providers:',
        '    - provider: toy',
        '      authenticator: tiled.authenticators:DictionaryAuthenticator',
        '      args:',
        '        users_to_passwords: {alice: "${ALICE_PASSWORD}", bob: "${BOB_PASSWORD}"}',
        '  tiled_admins: [{provider: toy, id: bob}]',
        '  secret_keys: ["first-key-signs", "old-key-verifies"]',
        'database:',
        `  uri: "${db.uri}"`,
        `  init_if_not_exists: ${initIfNotExists}`,
        'trees: [{path: /, tree: demo}]',
        '',
      ].join('\n'),
    );
    return file;
  }

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-mu-'));
  });
  afterAll(async () => {
    await server?.stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('should refuse to start on an uninitialised database, naming the command, and without the password', async () => {
    const result = await runTiled(['serve', 'config', writeConfig(false), '--port', '0'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('tiled admin initialize-database');
    expect(result.stderr.trim().split('\n').pop()).not.toMatch(/at .*\.js:\d+/);
  });

  it('should serve after initialize-database, with the Tiled spelling of the dictionary authenticator', async () => {
    expect(await initializeDatabase(db.uri)).toMatch(/initialised/);
    server = await startTiled(['serve', 'config', writeConfig(false)], { env });
    const alice = await loginOk(server.api, 'alice', 'secret1');
    const bob = await loginOk(server.api, 'bob', 'secret2');
    const aliceMe = await whoami(server.api, alice.access_token);
    const bobMe = await whoami(server.api, bob.access_token);
    expect(bobMe.roles.map((r) => r.name)).toEqual(['user', 'admin']);
    expect(bobMe.sessions.map((s) => s.uuid)).not.toContain(aliceMe.sessions[0].uuid);

    // Bob cannot revoke alice's session, and cannot tell it apart from a missing one.
    const attempt = await fetch(`${server.api}/auth/session/revoke/${aliceMe.sessions[0].uuid}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${bob.access_token}` },
    });
    expect(attempt.status).toBe(404);
    expect(await attempt.json()).toEqual({ detail: 'Sessions does not exist or requester has insufficient permissions' });
    expect((await whoami(server.api, alice.access_token)).sessions[0].revoked).toBe(false);

    const refreshed = await postJson(`${server.api}/auth/session/refresh`, { refresh_token: alice.refresh_token });
    expect(refreshed.status).toBe(200);
  });
});
