import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/**
 * The double-submit CSRF defence, as Tiled 0.2.16 does it (test/compat/fixtures/tiled-0.2.16/13-csrf-cookies.txt):
 * a browser holding the tiled_api_key cookie must not be made to write by another site. Only
 * cookie-authenticated unsafe requests are checked; header and bearer credentials cannot be forged cross-site.
 */
describe('CSRF protection of cookie-authenticated writes', () => {
  let dir: string;
  let server: RunningServer;
  let key: string;

  const createKey = (headers: Record<string, string>, query = ''): Promise<Response> =>
    fetch(`${server.api}/auth/apikey${query}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ expires_in: 60, scopes: ['read:metadata'], note: 'csrf test' }),
    });

  const keyCount = async (): Promise<number> => {
    const whoami = await fetch(`${server.api}/auth/whoami`, { headers: { authorization: `Apikey ${key}` } });
    return ((await whoami.json()) as { api_keys: unknown[] }).api_keys.length;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-csrf-'));
    const config = writeToyConfig(dir, { users: { alice: 'secret1' }, databaseUri: `sqlite:///${join(dir, 'auth.db')}` });
    server = await startTiled(['serve', 'config', config]);
    const login = await fetch(`${server.api}/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'username=alice&password=secret1',
    });
    const { access_token: accessToken } = (await login.json()) as { access_token: string };
    // A key with alice's full scopes (inherit), so only CSRF can stand between it and a new key.
    const created = await fetch(`${server.api}/auth/apikey`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ expires_in: null, scopes: null, note: 'cookie key' }),
    });
    key = ((await created.json()) as { secret: string }).secret;
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets a cookie-authenticated GET through without any CSRF token', async () => {
    const response = await fetch(`${server.api}/metadata/`, { headers: { cookie: `tiled_api_key=${key}` } });
    expect(response.status).toBe(200);
  });

  it.each([
    ['no tiled_csrf cookie', { cookie: `tiled_api_key=KEY` }, 'Expected tiled_csrf_token cookie'],
    ['no x-csrf header', { cookie: `tiled_api_key=KEY; tiled_csrf=abc123` }, 'Expected csrf query parameter or x-csrf header'],
    ['a mismatching x-csrf header', { cookie: `tiled_api_key=KEY; tiled_csrf=abc123`, 'x-csrf': 'zzz' }, 'Double-submit CSRF tokens do not match'],
  ])('refuses a cookie-authenticated POST with %s: 403, plain text, and no key is made', async (_case, headers, message) => {
    const withKey = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, value.replace('KEY', key)]));
    const before = await keyCount();
    const response = await createKey(withKey);
    expect(response.status).toBe(403);
    expect(response.headers.get('content-type')).toBeNull();
    expect(await response.text()).toBe(message);
    expect(await keyCount()).toBe(before);
  });

  it('accepts a cookie-authenticated POST whose x-csrf header matches the cookie', async () => {
    const response = await createKey({ cookie: `tiled_api_key=${key}; tiled_csrf=abc123`, 'x-csrf': 'abc123' });
    expect(response.status).toBe(200);
    expect((await response.json()) as { secret: string }).toHaveProperty('secret');
  });

  it('accepts a matching csrf query parameter (where Tiled answers 500)', async () => {
    const response = await createKey({ cookie: `tiled_api_key=${key}; tiled_csrf=abc123` }, '?csrf=abc123');
    expect(response.status).toBe(200);
  });

  it('does not check header-authenticated writes, even with a stray tiled_csrf cookie', async () => {
    const response = await createKey({ authorization: `Apikey ${key}`, cookie: 'tiled_csrf=abc123' });
    expect(response.status).toBe(200);
  });

  it('sets a fresh 43-character tiled_csrf cookie only when the request has none', async () => {
    const first = await fetch(`${server.api}/`);
    expect(first.headers.get('set-cookie')).toMatch(/^tiled_csrf=[\w-]{43}; HttpOnly; Path=\/; SameSite=lax$/);
    const again = await fetch(`${server.api}/`, { headers: { cookie: 'tiled_csrf=abc123' } });
    expect(again.headers.get('set-cookie')).toBeNull();
  });
});
