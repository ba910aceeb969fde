import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode as msgpackDecode } from '@msgpack/msgpack';
import { createTestDatabase, EngineName, runSql, testEngines, TestDatabase } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/**
 * API keys over real HTTP against the real CLI (`tiled serve config`), on SQLite and, when
 * TILED_TEST_POSTGRES_URI is set, PostgreSQL. Logins use the dictionary provider `toy`.
 */
const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', admin: 'admin-pw' } as const;
type User = keyof typeof PASSWORDS;

describe.each(testEngines())('API keys on the server (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let dir: string;
  let server: RunningServer;
  const tokens = {} as Record<User, string>;

  const api = (path: string): string => `${server.api}${path}`;
  const bearer = (user: User): Record<string, string> => ({ authorization: `Bearer ${tokens[user]}` });
  const apikey = (secret: string): Record<string, string> => ({ authorization: `Apikey ${secret}` });

  async function login(user: User): Promise<string> {
    const response = await fetch(api('/auth/provider/toy/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: user, password: PASSWORDS[user] }).toString(),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  async function createKey(headers: Record<string, string>, body: unknown, path = '/auth/apikey'): Promise<Response> {
    return fetch(api(path), { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async function newKey(user: User, body: unknown = { expires_in: null, scopes: null }): Promise<{ secret: string; first_eight: string }> {
    const response = await createKey(bearer(user), body);
    expect(response.status).toBe(200);
    return (await response.json()) as { secret: string; first_eight: string };
  }

  const metadataWith = (secret: string): Promise<Response> => fetch(api('/metadata/'), { headers: apikey(secret) });

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-apikeys-'));
    server = await startTiled(['serve', 'config', writeToyConfig(dir, { users: PASSWORDS, admins: ['admin'], secretKeys: ['apikeys-e2e-signing-key'], databaseUri: db.uri })]);
    for (const user of Object.keys(PASSWORDS) as User[]) tokens[user] = await login(user);
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe('POST /auth/apikey', () => {
    it('should refuse an anonymous caller with 401', async () => {
      const response = await createKey({}, { expires_in: null, scopes: null });
      expect(response.status).toBe(401);
    });

    it("should refuse scopes the owner lacks with 403 naming them", async () => {
      const response = await createKey(bearer('alice'), { expires_in: 600, scopes: ['admin:apikeys'], note: 'x' });
      expect(response.status).toBe(403);
      const { detail } = (await response.json()) as { detail: string };
      expect(detail).toMatch(/^Requested scopes \['admin:apikeys'\] must be a subset of the principal's scopes \[.*'read:metadata'.*\]\./);
      expect(detail).toContain("Not held: ['admin:apikeys']");
    });

    it('should answer malformed bodies with FastAPI-shaped 422s', async () => {
      const response = await createKey(bearer('alice'), { expires_in: 'soon', scopes: ['read:metadata'] });
      expect(response.status).toBe(422);
      expect(response.headers.get('content-type')).toBe('application/json');
      expect(await response.json()).toEqual({
        detail: [{ type: 'int_parsing', loc: ['body', 'expires_in'], msg: 'Input should be a valid integer, unable to parse string as an integer', input: 'soon' }],
      });
    });

    it('should mint a 72-hex key shown once, with Tiled\'s response shape', async () => {
      const response = await createKey(bearer('alice'), { expires_in: 600, scopes: ['read:metadata'], note: 'x' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/json');
      const body = (await response.json()) as Record<string, unknown>;
      expect(Object.keys(body)).toEqual(['first_eight', 'expiration_time', 'note', 'scopes', 'access_tags', 'latest_activity', 'secret']);
      expect(body.secret).toMatch(/^[0-9a-f]{72}$/);
      expect(body).toMatchObject({ first_eight: (body.secret as string).slice(0, 8), note: 'x', scopes: ['read:metadata'], access_tags: null, latest_activity: null });
      expect(body.expiration_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$/);
    });

    it('should not let a key mint a key with more scopes than itself', async () => {
      const narrow = await newKey('alice', { scopes: ['read:metadata', 'create:apikeys'] });
      const wider = await createKey(apikey(narrow.secret), { scopes: ['read:data'] });
      expect(wider.status).toBe(403);
      const inherit = await createKey(apikey(narrow.secret), { scopes: null });
      expect(inherit.status).toBe(403);
      const same = await createKey(apikey(narrow.secret), { scopes: ['read:metadata'] });
      expect(same.status).toBe(200);
    });
  });

  describe('using keys', () => {
    it('should let a read:metadata key read metadata but not array data', async () => {
      const key = await newKey('alice', { expires_in: 600, scopes: ['read:metadata'], note: 'metadata only' });
      expect((await fetch(api('/metadata/small'), { headers: apikey(key.secret) })).status).toBe(200);
      const data = await fetch(api('/array/full/small'), { headers: { ...apikey(key.secret), accept: 'application/octet-stream' } });
      expect(data.status).toBe(401);
      expect(await data.json()).toEqual({ detail: "Not enough permissions. Requires scopes ['read:data']. Request had scopes ['read:metadata']" });
      expect(data.headers.get('www-authenticate')).toBe('Bearer scope="read:data"');
    });

    it('should refuse a key once it has expired', async () => {
      // Two seconds: expiry has second resolution, so a one-second key may already be dead when first used.
      const response = await createKey(bearer('alice'), { expires_in: 2, scopes: ['read:metadata'], note: 'short' });
      const key = (await response.json()) as { secret: string; expiration_time: string };
      expect((await metadataWith(key.secret)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, Date.parse(key.expiration_time) - Date.now() + 200));
      const expired = await metadataWith(key.secret);
      expect(expired.status).toBe(401);
      expect(await expired.json()).toEqual({ detail: 'Invalid API key' });
      const inspect = await fetch(api('/auth/apikey'), { headers: apikey(key.secret) });
      expect(inspect.status).toBe(401);
    });
  });

  describe('GET /auth/apikey', () => {
    it('should describe the presented key, as msgpack with timestamps when asked', async () => {
      const key = await newKey('alice', { expires_in: 600, scopes: ['read:metadata'], note: 'inspect me' });
      const response = await fetch(api('/auth/apikey'), { headers: { ...apikey(key.secret), accept: 'application/x-msgpack' } });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('application/x-msgpack');
      const body = msgpackDecode(new Uint8Array(await response.arrayBuffer())) as Record<string, unknown>;
      expect(body).toMatchObject({ first_eight: key.first_eight, note: 'inspect me', scopes: ['read:metadata'] });
      expect(body.expiration_time).toBeInstanceOf(Date);
      expect(body).not.toHaveProperty('secret');
    });

    it('should say when no key was presented', async () => {
      const response = await fetch(api('/auth/apikey'), { headers: bearer('alice') });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'No API key was provided with this request.' });
    });
  });

  describe('DELETE /auth/apikey', () => {
    it('should revoke by first eight; the next request is 401 and a second revoke 404', async () => {
      const key = await newKey('alice');
      expect((await metadataWith(key.secret)).status).toBe(200);
      const revoke = await fetch(api(`/auth/apikey?first_eight=${key.first_eight}`), { method: 'DELETE', headers: bearer('alice') });
      expect(revoke.status).toBe(204);
      expect((await metadataWith(key.secret)).status).toBe(401);
      const again = await fetch(api(`/auth/apikey?first_eight=${key.first_eight}`), { method: 'DELETE', headers: bearer('alice') });
      expect(again.status).toBe(404);
      expect(await again.json()).toEqual({ detail: 'The currently-authenticated PrincipalType.user has no such API key.' });
    });

    it('should revoke by the full key', async () => {
      const key = await newKey('alice');
      expect((await metadataWith(key.secret)).status).toBe(200);
      const revoke = await fetch(api(`/auth/apikey?first_eight=${key.secret}`), { method: 'DELETE', headers: bearer('alice') });
      expect(revoke.status).toBe(204);
      expect((await metadataWith(key.secret)).status).toBe(401);
    });

    it("should not let a user revoke another user's key, answering as for an unknown key", async () => {
      const key = await newKey('alice');
      const theirs = await fetch(api(`/auth/apikey?first_eight=${key.first_eight}`), { method: 'DELETE', headers: bearer('bob') });
      const unknown = await fetch(api('/auth/apikey?first_eight=00000000'), { method: 'DELETE', headers: bearer('bob') });
      expect(theirs.status).toBe(404);
      expect(await theirs.json()).toEqual(await unknown.json());
      expect((await metadataWith(key.secret)).status).toBe(200);
    });

    it('should require first_eight', async () => {
      const response = await fetch(api('/auth/apikey'), { method: 'DELETE', headers: bearer('alice') });
      expect(response.status).toBe(422);
      expect(await response.json()).toEqual({ detail: [{ type: 'missing', loc: ['query', 'first_eight'], msg: 'Field required', input: null }] });
    });
  });

  describe('admin principal routes', () => {
    it('should refuse them to a plain user with 401', async () => {
      const response = await fetch(api('/auth/principal'), { headers: bearer('alice') });
      expect(response.status).toBe(401);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/^Not enough permissions\. Requires scopes \['read:principals'\]/);
    });

    it('should refuse an unknown role with a clear 4xx, not a 500', async () => {
      const response = await fetch(api('/auth/principal?role=nonexistent'), { method: 'POST', headers: bearer('admin') });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
      expect(JSON.stringify(await response.json())).toContain('nonexistent');
    });

    it('should let an admin mint a key for a service principal and revoke it', async () => {
      const created = await fetch(api('/auth/principal?role=user'), { method: 'POST', headers: bearer('admin') });
      expect(created.status).toBe(200);
      const service = (await created.json()) as { uuid: string; type: string; api_keys: unknown[] };
      expect(service).toMatchObject({ type: 'service', api_keys: [], identities: [], sessions: [], latest_activity: null });

      const beyond = await createKey(bearer('admin'), { expires_in: 600, scopes: ['admin:apikeys'] }, `/auth/principal/${service.uuid}/apikey`);
      expect(beyond.status).toBe(403);

      const minted = await createKey(bearer('admin'), { expires_in: 600, scopes: ['read:metadata', 'read:data'], note: 'svc' }, `/auth/principal/${service.uuid}/apikey`);
      expect(minted.status).toBe(200);
      const key = (await minted.json()) as { secret: string; first_eight: string };
      expect((await metadataWith(key.secret)).status).toBe(200);

      const shown = await fetch(api(`/auth/principal/${service.uuid.replace(/-/g, '')}`), { headers: bearer('admin') });
      expect(shown.status).toBe(200);
      expect(((await shown.json()) as { api_keys: { first_eight: string }[] }).api_keys.map((k) => k.first_eight)).toEqual([key.first_eight]);

      const revoke = await fetch(api(`/auth/principal/${service.uuid}/apikey?first_eight=${key.first_eight}`), { method: 'DELETE', headers: bearer('admin') });
      expect(revoke.status).toBe(204);
      expect((await metadataWith(key.secret)).status).toBe(401);
      const again = await fetch(api(`/auth/principal/${service.uuid}/apikey?first_eight=${key.first_eight}`), { method: 'DELETE', headers: bearer('admin') });
      expect(again.status).toBe(404);
      expect(await again.json()).toEqual({ detail: `The principal ${service.uuid} has no such API key.` });
    });

    it('should answer unknown and malformed principal ids with 404 and 422', async () => {
      const unknown = await fetch(api('/auth/principal/00000000-0000-4000-8000-000000000000'), { headers: bearer('admin') });
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ detail: 'No such Principal 00000000-0000-4000-8000-000000000000' });
      const malformed = await fetch(api('/auth/principal/not-a-uuid'), { headers: bearer('admin') });
      expect(malformed.status).toBe(422);
      expect(((await malformed.json()) as { detail: { type: string; loc: string[] }[] }).detail[0]).toMatchObject({ type: 'uuid_parsing', loc: ['path', 'uuid'] });
      const mint = await createKey(bearer('admin'), { scopes: null }, '/auth/principal/00000000-0000-4000-8000-000000000000/apikey');
      expect(mint.status).toBe(404);
      expect(await mint.json()).toEqual({ detail: 'Principal 00000000-0000-4000-8000-000000000000 does not exist or insufficient permissions.' });
    });

    it("should let an inherit key follow its owner's role changes", async () => {
      const created = await fetch(api('/auth/principal?role=user'), { method: 'POST', headers: bearer('admin') });
      const service = (await created.json()) as { uuid: string };
      const minted = await createKey(bearer('admin'), { expires_in: null, scopes: null }, `/auth/principal/${service.uuid}/apikey`);
      const key = (await minted.json()) as { secret: string };
      expect((await fetch(api('/auth/principal'), { headers: apikey(key.secret) })).status).toBe(401);

      // Roles have no HTTP API (as in Tiled); an operator changes them in the database.
      await runSql(
        db,
        `INSERT INTO principal_role_association (principal_id, role_id)
         SELECT p.id, r.id FROM principals p, roles r WHERE p.uuid = $1 AND r.name = 'admin'`,
        [service.uuid],
      );
      // Role changes made outside the server reach cached keys within the cache lifetime (2 s).
      await new Promise((resolve) => setTimeout(resolve, 2200));
      expect((await fetch(api('/auth/principal'), { headers: apikey(key.secret) })).status).toBe(200);

      await runSql(
        db,
        `DELETE FROM principal_role_association WHERE principal_id = (SELECT id FROM principals WHERE uuid = $1)
         AND role_id = (SELECT id FROM roles WHERE name = 'admin')`,
        [service.uuid],
      );
      await new Promise((resolve) => setTimeout(resolve, 2200));
      expect((await fetch(api('/auth/principal'), { headers: apikey(key.secret) })).status).toBe(401);
    });
  });

  describe('the 100-key limit', () => {
    it('should refuse the 101st working key with 400 and accept one again after a revoke', async () => {
      const created = await fetch(api('/auth/principal?role=user'), { method: 'POST', headers: bearer('admin') });
      const service = (await created.json()) as { uuid: string };
      const path = `/auth/principal/${service.uuid}/apikey`;
      let last = '';
      for (let i = 0; i < 100; i++) {
        const response = await createKey(bearer('admin'), { scopes: ['read:metadata'] }, path);
        expect(response.status).toBe(200);
        last = ((await response.json()) as { first_eight: string }).first_eight;
      }
      const refused = await createKey(bearer('admin'), { scopes: ['read:metadata'] }, path);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { detail: string }).detail).toBe(
        'This Principal already has 100 API keys which is greater than or equal to the maximum number allowed, 100. Some API keys must be deleted before creating new ones.',
      );
      await fetch(api(`${path}?first_eight=${last}`), { method: 'DELETE', headers: bearer('admin') });
      expect((await createKey(bearer('admin'), { scopes: ['read:metadata'] }, path)).status).toBe(200);
    });
  });

  if (engine === 'postgres') {
    describe('two server processes sharing one PostgreSQL database', () => {
      let replica: RunningServer;
      beforeAll(async () => {
        replica = await startTiled(['serve', 'config', join(dir, 'config.yml')]);
      });
      afterAll(async () => replica?.stop());

      it('should refuse a key on B right after it was revoked on A', async () => {
        const key = await newKey('alice');
        const onB = (): Promise<Response> => fetch(`${replica.api}/metadata/`, { headers: apikey(key.secret) });
        expect((await onB()).status).toBe(200);
        expect((await onB()).status).toBe(200);
        const revoke = await fetch(api(`/auth/apikey?first_eight=${key.first_eight}`), { method: 'DELETE', headers: bearer('alice') });
        expect(revoke.status).toBe(204);
        const after = await onB();
        expect(after.status).toBe(401);
        expect(await after.json()).toEqual({ detail: 'Invalid API key' });
      });
    });
  }
});
