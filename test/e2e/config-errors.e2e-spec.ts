import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { runTiled, startTiled } from '../helpers/tiled-process';

const FIXTURES = join(__dirname, '..', 'fixtures', 'configs');

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Run `tiled serve config <path>` on a known port; it must exit 2 without ever listening. */
async function serveBroken(path: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  const port = await freePort();
  const result = await runTiled(['serve', 'config', path, '--port', String(port)], { env });
  expect(result.code).toBe(2);
  expect(await isListening(port)).toBe(false);
  expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/); // no stack trace
  expect(result.stderr).not.toMatch(/running on/);
  return result.stderr;
}

describe('tiled serve config with a broken configuration', () => {
  it('names an unknown key, its file and the keys allowed there', async () => {
    const stderr = await serveBroken(join(FIXTURES, 'unknown-key.yml'));
    expect(stderr).toMatch(/unknown-key\.yml: authentication\.provders: unknown key; expected one of: providers,/);
  });

  it('names a wrong type with its key path', async () => {
    const stderr = await serveBroken(join(FIXTURES, 'wrong-type.yml'));
    expect(stderr).toMatch(/wrong-type\.yml: authentication\.providers\[0\]\.args: expected a mapping or null, got the string/);
  });

  it('names an unset ${VAR} and where it was used', async () => {
    const stderr = await serveBroken(join(FIXTURES, 'unset-variable.yml'), { FIXTURE_UNSET_PASSWORD: undefined });
    expect(stderr).toMatch(
      /unset-variable\.yml: authentication\.providers\[0\]\.args\.users_to_passwords\.alice: environment variable FIXTURE_UNSET_PASSWORD is not set/,
    );
  });

  it('names both files when a directory sets a key twice', async () => {
    const stderr = await serveBroken(join(FIXTURES, 'duplicate-key-dir'));
    expect(stderr).toMatch(/duplicate-key-dir\/b\.yml: authentication: this key is also set in \S*duplicate-key-dir\/a\.yml/);
  });

  it('refuses a provider name that cannot appear in a URL', async () => {
    const stderr = await serveBroken(join(FIXTURES, 'bad-provider-name.yml'));
    expect(stderr).toMatch(/bad-provider-name\.yml: authentication\.providers\[0\]\.provider: expected a name made of letters, digits, "_" and "-"/);
  });

  it("refuses 'catalog' and 'trees' together, as Tiled does", async () => {
    const stderr = await serveBroken(join(FIXTURES, 'catalog.yml'));
    expect(stderr).toMatch(/catalog\.yml: catalog: The configuration 'catalog' specifies a single catalog/);
  });

  it('says a missing file is missing', async () => {
    const stderr = await serveBroken(join(FIXTURES, 'no-such-file.yml'));
    expect(stderr).toMatch(/no-such-file\.yml: no such configuration file or directory/);
  });

  it('refuses a malformed TILED_SECRET_KEYS without printing it', async () => {
    const stderr = await serveBroken(join(FIXTURES, 'split-dir'), { TILED_SECRET_KEYS: 'not-a-json-list-s3cr3t' });
    expect(stderr).toMatch(/environment variable TILED_SECRET_KEYS: expected a JSON list of strings/);
    expect(stderr).not.toContain('s3cr3t');
  });

  it('finds the configuration through TILED_CONFIG when no path is given', async () => {
    const port = await freePort();
    const result = await runTiled(['serve', 'config', '--port', String(port)], { env: { TILED_CONFIG: join(FIXTURES, 'unknown-key.yml') } });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown-key\.yml: authentication\.provders: unknown key/);
  });
});

describe('tiled serve config with a valid directory', () => {
  it('serves the merged configuration (public mode set in one of its files)', async () => {
    const server = await startTiled(['serve', 'config', join(FIXTURES, 'split-dir')], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
    try {
      expect(server.output()).toContain(`Using configuration from ${join(FIXTURES, 'split-dir')}`);
      const about = (await (await fetch(`${server.api}/`)).json()) as { authentication: { required: boolean } };
      expect(about.authentication.required).toBe(false);
    } finally {
      await server.stop();
    }
  });
});
