import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Context, NotAuthenticatedError, TiledClientError } from '../../src/client';
import { ClientHome } from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';

/** Access tokens live two seconds here, so refresh is exercised without long waits. */
const CONFIG = `
authentication:
  providers:
    - provider: toy
      authenticator: dictionary
      args:
        users_to_passwords: { alice: secret1, admin: admin-pw }
        confirmation_message: "You have logged in as {id}."
  tiled_admins:
    - { provider: toy, id: admin }
  access_token_max_age: 2
database:
  uri: sqlite:///./auth.db
  init_if_not_exists: true
trees:
  - path: /
    tree: demo
`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('client authentication against a multi-user server', () => {
  let server: RunningServer;
  let dir: string;
  let cache: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-client-auth-'));
    cache = join(dir, 'tokens');
    writeFileSync(join(dir, 'config.yml'), CONFIG);
    server = await startTiled(['serve', 'config', 'config.yml'], { cwd: dir });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a wrong password with the server\'s 401', async () => {
    const context = await Context.connect(server.url, { tokenCacheDir: cache });
    const failure = await context.login('alice', 'wrong').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TiledClientError);
    expect(failure).toMatchObject({ status: 401, detail: 'Incorrect username or password' });
  });

  it('logs in with a password and caches the tokens readable only by the user', async () => {
    const context = await Context.connect(server.url, { tokenCacheDir: cache });
    const tokens = await context.login('alice', 'secret1');
    expect(tokens.identity).toEqual({ id: 'alice', provider: 'toy' });
    expect((await context.whoami())?.identities.map((identity) => identity.id)).toEqual(['alice']);
    for (const file of ['access_token', 'refresh_token']) {
      expect(statSync(join(context.tokenDirectory!, file)).mode & 0o777).toBe(0o600);
    }
    expect(context.tokenDirectory).toBe(join(cache, encodeURIComponent(`${server.url}/api/v1/`)));
  });

  it('refreshes an expired access token, storing the rotated refresh token every time', async () => {
    const context = await Context.connect(server.url, { tokenCacheDir: cache });
    await context.login('alice', 'secret1');
    const refreshFile = join(context.tokenDirectory!, 'refresh_token');
    const first = readFileSync(refreshFile, 'utf8');
    await sleep(2500);
    expect((await context.whoami())?.identities[0].id).toBe('alice');
    const second = readFileSync(refreshFile, 'utf8');
    expect(second).not.toBe(first);
    // A second process starts from the cache; had the old token been kept, reusing it would end the session.
    await sleep(2500);
    const other = await Context.connect(server.url, { tokenCacheDir: cache });
    expect(other.useCachedTokens()).toBe(true);
    expect((await other.whoami())?.identities[0].id).toBe('alice');
    expect(readFileSync(refreshFile, 'utf8')).not.toBe(second);
  });

  it('creates, inspects and revokes API keys; a revoked key is refused at once', async () => {
    const context = await Context.connect(server.url, { tokenCacheDir: cache });
    await context.login('alice', 'secret1');
    const key = await context.createApiKey({ scopes: ['read:metadata'], expiresIn: '10m', note: 'ci' });
    expect(key.secret).toMatch(/^[0-9a-f]{72}$/);
    expect(key.first_eight).toBe(key.secret.slice(0, 8));
    expect(key.scopes).toEqual(['read:metadata']);
    const expires = new Date(key.expiration_time as Date).getTime();
    expect(Math.abs(expires - (Date.now() + 600_000))).toBeLessThan(10_000);

    const withKey = await Context.connect(server.url, { apiKey: key.secret, rememberMe: false });
    expect(await withKey.whichApiKey()).toMatchObject({ first_eight: key.first_eight, note: 'ci' });
    expect((await withKey.whoami())?.identities[0].id).toBe('alice');

    await context.revokeApiKey(key.first_eight);
    const failure = await withKey.whoami().catch((error: unknown) => error);
    expect(failure).toMatchObject({ status: 401, detail: 'Invalid API key' });
  });

  it('refuses to create a key with scopes the user does not hold, with the server\'s 403 detail', async () => {
    const context = await Context.connect(server.url, { tokenCacheDir: cache });
    await context.login('alice', 'secret1');
    const failure = await context.createApiKey({ scopes: ['admin:apikeys'] }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TiledClientError);
    expect((failure as TiledClientError).status).toBe(403);
    expect((failure as TiledClientError).detail).toMatch(/^Requested scopes \['admin:apikeys'\] must be a subset/);
  });

  it('logs out: the session ends on the server and the cached tokens are gone', async () => {
    const context = await Context.connect(server.url, { tokenCacheDir: cache });
    await context.login('alice', 'secret1');
    const refreshToken = readFileSync(join(context.tokenDirectory!, 'refresh_token'), 'utf8');
    await context.logout();
    expect(() => statSync(join(context.tokenDirectory!, 'refresh_token'))).toThrow();
    const response = await fetch(`${server.api}/auth/session/refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: refreshToken }),
    });
    expect(response.status).toBe(401);
    const fresh = await Context.connect(server.url, { tokenCacheDir: cache });
    expect(fresh.useCachedTokens()).toBe(false);
    await expect(fresh.refresh()).rejects.toBeInstanceOf(NotAuthenticatedError);
  });
});

describe('tiled CLI login, whoami, admin against a multi-user server', () => {
  let server: RunningServer;
  let dir: string;
  let home: ClientHome;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-cli-auth-'));
    writeFileSync(join(dir, 'config.yml'), CONFIG);
    server = await startTiled(['serve', 'config', 'config.yml'], { cwd: dir });
    home = new ClientHome();
    await home.run(['profile', 'create', server.url, '--name', 'local']);
  });
  afterAll(async () => {
    await server.stop();
    home.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('says "Not authenticated." before login, and refuses to prompt without a terminal', async () => {
    expect((await home.run(['whoami'])).stdout).toBe('Not authenticated.\n');
    const list = await home.run(['api_key', 'list']);
    expect(list.code).toBe(1);
    expect(list.stderr).toMatch(/^Error: Not authenticated\. Cannot prompt .*TILED_API_KEY.*\n$/);
  });

  it('rejects a wrong password read from stdin in one line, exit 1', async () => {
    const result = await home.run(['login'], { input: 'alice\nnope\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('Error: 401 Incorrect username or password\n');
  });

  it('logs in from stdin and keeps working across access-token expiry', async () => {
    const login = await home.run(['login'], { input: 'alice\nsecret1\n' });
    expect(login.stdout).toBe('You have logged in as alice.\n');
    expect(login.code).toBe(0);
    for (let i = 0; i < 2; i++) {
      await sleep(2500);
      expect((await home.run(['whoami'])).stdout).toBe('alice\n');
    }
  });

  it('keeps admin commands to admins: alice is refused with the server\'s detail', async () => {
    const result = await home.run(['admin', 'list-principals']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: 401 Not enough permissions/);
  });

  it('lets an admin create a service principal, give it a key, list and revoke it', async () => {
    await home.run(['logout']);
    expect((await home.run(['login'], { input: 'admin\nadmin-pw\n' })).code).toBe(0);
    const created = await home.run(['admin', 'create-service-principal', '--role', 'user']);
    expect(created.code).toBe(0);
    const principal = JSON.parse(created.stdout) as { uuid: string; type: string };
    expect(principal.type).toBe('service');

    const key = await home.run(['admin', 'create-api-key', principal.uuid, '--scopes', 'read:metadata', '--note', 'robot']);
    expect(key.stdout).toMatch(/^[0-9a-f]{72}\n$/);
    const response = await fetch(`${server.api}/metadata/`, { headers: { authorization: `Apikey ${key.stdout.trim()}` } });
    expect(response.status).toBe(200);

    const listed = await home.run(['admin', 'api-key', 'list', principal.uuid]);
    expect(listed.stdout).toMatch(new RegExp(`^${key.stdout.slice(0, 8)} +- +\\S+ +robot +read:metadata$`, 'm'));
    const shown = JSON.parse((await home.run(['admin', 'show-principal', principal.uuid])).stdout) as { api_keys: unknown[] };
    expect(shown.api_keys).toHaveLength(1);
    const all = JSON.parse((await home.run(['admin', 'list-principals'])).stdout) as { uuid: string }[];
    expect(all.map((p) => p.uuid)).toContain(principal.uuid);

    expect((await home.run(['admin', 'api-key', 'revoke', principal.uuid, key.stdout.slice(0, 8)])).code).toBe(0);
    const after = await fetch(`${server.api}/metadata/`, { headers: { authorization: `Apikey ${key.stdout.trim()}` } });
    expect(after.status).toBe(401);
  });

  it('refuses a malformed principal id before asking the server', async () => {
    const result = await home.run(['admin', 'show-principal', 'not-a-uuid']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'not-a-uuid' is not a principal UUID");
  });
});

describe('concurrent requests after the access token expired', () => {
  let server: RunningServer;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-client-concurrent-'));
    writeFileSync(join(dir, 'config.yml'), CONFIG);
    server = await startTiled(['serve', 'config', 'config.yml', '--verbose'], { cwd: dir });
  });
  afterAll(async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('share one refresh, so the rotated refresh token is never reused and the session survives', async () => {
    const context = await Context.connect(server.url, { rememberMe: false });
    await context.login('alice', 'secret1');
    await sleep(2500);
    const refreshesBefore = server.output().split('/auth/session/refresh').length;
    const results = await Promise.all(Array.from({ length: 5 }, () => context.whoami()));
    expect(results.map((principal) => principal?.identities[0].id)).toEqual(Array(5).fill('alice'));
    // The server's access log shows one refresh request, not one per waiting request.
    const refreshesLogged = (): number => server.output().split('/auth/session/refresh').length - refreshesBefore;
    // Log lines reach the pipe after the responses they describe: wait for the first, then allow stragglers.
    for (const deadline = Date.now() + 5000; refreshesLogged() < 1 && Date.now() < deadline; ) await sleep(20);
    await sleep(300);
    expect(refreshesLogged()).toBe(1);
    await sleep(2500);
    expect((await context.whoami())?.identities[0].id).toBe('alice');
  });
});
