import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

const TREES = join(__dirname, '..', 'fixtures', 'trees');

/** How often `text` occurs in the server's output. */
function occurrences(server: RunningServer, text: string): number {
  return server.output().split(text).length - 1;
}

/** GET with the request target exactly as written: `fetch` drops a `#…` part, which the server's router reads as a query. */
function rawGet(server: RunningServer, target: string): Promise<number> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    get({ host: hostname, port, path: target }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    }).on('error', reject);
  });
}

/**
 * Keys in URLs never reach a log line, however the name is spelled, while the request still
 * authenticates: the server's own access log (`--verbose`) and its 500 log are read as an operator would.
 * docs/authentication.md, "Logs and secrets".
 */
describe('a single-user server with the access log on', () => {
  let server: RunningServer;
  let key: string;
  beforeAll(async () => {
    // A tree whose child `broken` throws an unexpected error: the 500 path, logged with the URL.
    server = await startTiled(['serve', 'module', `${join(TREES, 'broken-child.js')}:tree`, '--verbose'], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
    key = server.printedKey!;
  });
  afterAll(() => server?.stop());

  it.each([
    ['?api%5Fkey=', 'a percent-encoded underscore'],
    ['?%61pi_key=', 'a percent-encoded letter'],
    ['?x=1&API%5fKEY=nothing&api_key=', 'a second, case-variant name before it'],
  ])('should accept the key as %s (%s) and log it as api_key=[redacted]', async (query) => {
    const response = await fetch(`${server.api}/metadata/${query}${key}`);
    expect(response.status).toBe(200);
    await server.waitForOutput(/"GET \/api\/v1\/metadata\/\?\S*api_key=\[redacted\] HTTP\/1\.1" 200/);
    // Once: the connect banner printed at startup, on purpose.
    expect(occurrences(server, key)).toBe(1);
  });

  it('should accept the key after a # (the router starts the query there) and not log it', async () => {
    expect(await rawGet(server, `/api/v1/metadata/#api_key=${key}`)).toBe(200);
    await server.waitForOutput('"GET /api/v1/metadata/#api_key=[redacted] HTTP/1.1" 200');
    expect(occurrences(server, key)).toBe(1);
  });

  it('should log an unexpected error (500) with the key redacted, in the error line and the access line', async () => {
    const response = await fetch(`${server.api}/metadata/broken?api%5Fkey=${key}`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ detail: 'Internal server error' });
    await server.waitForOutput('"GET /api/v1/metadata/broken?api_key=[redacted] HTTP/1.1" 500');
    expect(server.output()).toContain('Unhandled error on GET /api/v1/metadata/broken?api_key=[redacted]');
    expect(server.output()).toContain('storage backend offline');
    expect(occurrences(server, key)).toBe(1);
  });
});

describe('a multi-user server with the access log on', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-log-redaction-'));
    const config = writeToyConfig(dir, { users: { alice: 'alice-password' }, secretKeys: ['log-redaction-e2e-secret'] });
    server = await startTiled(['serve', 'config', config, '--verbose']);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function login(username: string, password: string): Promise<Response> {
    return fetch(`${server.api}/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
    });
  }

  it('should revoke a key given whole as ?first_eight= and log only its first eight characters', async () => {
    const { access_token: token } = (await (await login('alice', 'alice-password')).json()) as { access_token: string };
    const bearer = { authorization: `Bearer ${token}` };
    const created = await fetch(`${server.api}/auth/apikey`, { method: 'POST', headers: { ...bearer, 'content-type': 'application/json' }, body: JSON.stringify({ note: 'to revoke' }) });
    expect(created.status).toBe(200);
    const { secret } = (await created.json()) as { secret: string };
    // The key works in a URL, spelled to slip past a spelling-based redactor, and is not logged.
    expect((await fetch(`${server.api}/auth/apikey?%61pi_key=${secret}`)).status).toBe(200);

    const revoked = await fetch(`${server.api}/auth/apikey?first_eight=${secret}`, { method: 'DELETE', headers: bearer });
    expect(revoked.status).toBe(204);
    await server.waitForOutput(`"DELETE /api/v1/auth/apikey?first_eight=${secret.slice(0, 8)}[redacted] HTTP/1.1" 204`);
    expect((await fetch(`${server.api}/auth/apikey`, { headers: { authorization: `Apikey ${secret}` } })).status).toBe(401);
    expect(server.output()).not.toContain(secret);
    expect(server.output()).not.toContain(secret.slice(8));
    expect(server.output()).not.toContain(token);
  });

  it('should log a failed login with the provider and a tag, never the typed user name (often a password in the wrong box)', async () => {
    const typedAsUsername = 'alice-password';
    expect((await login(typedAsUsername, '')).status).toBe(401);
    expect((await login(typedAsUsername, 'also wrong')).status).toBe(401);
    expect((await login('bob', 'whatever')).status).toBe(401);
    await server.waitForOutput(/(Failed login: provider "toy", user #[0-9a-f]{12} from 127\.0\.0\.1[^\n]*\n[^]*){3}/);
    const tags = [...server.output().matchAll(/Failed login: provider "toy", user #([0-9a-f]{12})/g)].map((match) => match[1]);
    // The same name gets the same tag, so an operator can still see one account being tried again and again.
    expect(tags).toHaveLength(3);
    expect(tags[0]).toBe(tags[1]);
    expect(tags[2]).not.toBe(tags[0]);
    expect(server.output()).not.toContain(typedAsUsername);
    expect(server.output()).not.toMatch(/\bbob\b/);
  });
});
