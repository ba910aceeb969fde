import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTiled, startTiled } from '../helpers/tiled-process';

const FIXTURES = join(__dirname, '..', 'fixtures', 'plugins');

/**
 * A deployment directory like a user's: the config file, a vendored plugin folder next to it, and an
 * installed package under node_modules. Relative specifiers must resolve against this directory, not cwd.
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tiled-plugins-'));
  symlinkSync(FIXTURES, join(dir, 'vendor'));
  mkdirSync(join(dir, 'node_modules', '@acme'), { recursive: true });
  symlinkSync(join(FIXTURES, 'static-users'), join(dir, 'node_modules', '@acme', 'tiled-static-users'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, authenticator: string, args: string): string {
  const file = join(dir, `${name}.yml`);
  writeFileSync(
    file,
    `authentication:\n  providers:\n    - provider: corp\n      authenticator: "${authenticator}"\n      args: ${args}\ntrees: [{path: /, tree: demo}]\n`,
  );
  return file;
}

async function loginStatus(api: string, username: string, password: string): Promise<number> {
  const response = await fetch(`${api}/auth/provider/corp/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }).toString(),
  });
  return response.status;
}

describe('loading a third-party authenticator from YAML', () => {
  it.each([
    ['by path relative to the config file (CommonJS, named export)', './vendor/static-users:StaticUsersAuthenticator'],
    ['by package name from the config directory (default export)', '@acme/tiled-static-users'],
    ['by package name and export', '@acme/tiled-static-users:StaticUsersAuthenticator'],
  ])('should log users in when loaded %s', async (_label, specifier) => {
    // Started from another working directory on purpose: resolution must not depend on cwd.
    const server = await startTiled(['serve', 'config', config('ok', specifier, '{users: {dana: "pw-dana"}}')], { cwd: tmpdir() });
    try {
      expect(server.output()).toContain('static-users@1.2.0');
      expect(await loginStatus(server.api, 'dana', 'pw-dana')).toBe(200);
      expect(await loginStatus(server.api, 'dana', 'nope')).toBe(401);
      const about = (await (await fetch(`${server.api}/`)).json()) as { authentication: { providers: { confirmation_message: string }[] } };
      expect(about.authentication.providers[0].confirmation_message).toBe('Welcome, {id}.');
    } finally {
      await server.stop();
    }
  });

  it('should load an ES module plugin', async () => {
    const server = await startTiled(['serve', 'config', config('esm', './vendor/esm-plugin/index.mjs', '{password: open-sesame}')]);
    try {
      expect(await loginStatus(server.api, 'erin', 'open-sesame')).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('should answer 503 (not "wrong password") when the plugin throws at login', async () => {
    const server = await startTiled(['serve', 'config', config('down', './vendor/broken/throws-at-login.js', '{}')]);
    try {
      const response = await fetch(`${server.api}/auth/provider/corp/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'username=a&password=b',
      });
      expect(response.status).toBe(503);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/unavailable/);
    } finally {
      await server.stop();
    }
  });

  it('should load the dummy built-in with a loud warning', async () => {
    const server = await startTiled(['serve', 'config', config('dummy', 'tiled.authenticators:DummyAuthenticator', '{}')]);
    try {
      expect(server.output()).toMatch(/ANY username with ANY password/);
      expect(await loginStatus(server.api, 'anyone', 'anything')).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('authenticators that cannot be loaded stop startup (exit 2) with one clear line', () => {
  it.each([
    ['a missing file', './vendor/nope.js', '{}', /no file or folder at .*vendor\/nope\.js .*resolve against the config file's directory/],
    ['a missing package', '@acme/not-installed:X', '{}', /package "@acme\/not-installed" not found from .*Install it next to the config file/],
    ['a module that throws on import', './vendor/broken/throws-on-import.js', '{}', /was found but threw while loading: cannot reach the license server/],
    ['a wrong plugin API version', './vendor/broken/wrong-api-version.js', '{}', /written for plugin API version 99, but this server implements version 1/],
    ['a missing method', './vendor/broken/missing-method.js', '{}', /an internal authenticator needs an authenticate\(\) method/],
    ['a missing export', './vendor/static-users:NoSuchExport', '{users: {}}', /has no export named "NoSuchExport"/],
    ['args failing the schema', './vendor/static-users:StaticUsersAuthenticator', '{users: {dana: 5}, extra: 1}', /Invalid args .*authentication\.providers\[0\]\.args: unknown key "extra"; authentication\.providers\[0\]\.args\.users\.dana: must be string/],
    ['dictionary args failing the schema', 'dictionary', '{}', /authentication\.providers\[0\]\.args: missing required key "users_to_passwords"/],
  ])('should explain %s', async (_label, specifier, args, expected) => {
    const file = config('bad', specifier, args);
    const result = await runTiled(['serve', 'config', file, '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(expected);
    expect(result.stderr).toContain(file);
    expect(result.stdout).not.toMatch(/running on/);
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});
