import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

const ROOT = join(__dirname, '..', '..');
const SINGLE_USER = join(ROOT, 'example_configs', 'single_user.yml');
const PUBLIC_DEMO = join(ROOT, 'example_configs', 'public_demo.yml');
const FIXED_KEY_FIXTURE = join(ROOT, 'test', 'fixtures', 'configs', 'single-user-fixed-key.yml');
/** No key from the developer's own environment may leak into these tests. */
const CLEAN_ENV = { TILED_SINGLE_USER_API_KEY: undefined, TILED_ALLOW_ANONYMOUS_ACCESS: undefined, TILED_CONFIG: undefined };

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function status(url: string, headers: Record<string, string> = {}): Promise<number> {
  return (await fetch(url, { headers })).status;
}

async function withServer(args: string[], env: NodeJS.ProcessEnv, body: (server: RunningServer) => Promise<void>): Promise<void> {
  const server = await startTiled(args, { env: { ...CLEAN_ENV, ...env } });
  try {
    await body(server);
  } finally {
    await server.stop();
  }
}

describe('single-user mode: the key', () => {
  it('generates a 64-hex key per process and prints the seed guide banner with it', async () => {
    await withServer(['serve', 'config', SINGLE_USER], {}, async (server) => {
      const port = new URL(server.url).port;
      expect(server.output()).toContain(
        `\n    Use the following URL to connect to Tiled:\n\n    "http://127.0.0.1:${port}?api_key=${server.printedKey}"\n`,
      );
      expect(server.printedKey).toMatch(/^[0-9a-f]{64}$/);
      expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${server.printedKey}` })).toBe(200);
      const other = await startTiled(['serve', 'config', SINGLE_USER], { env: CLEAN_ENV });
      await other.stop();
      expect(other.printedKey).toMatch(/^[0-9a-f]{64}$/);
      expect(other.printedKey).not.toBe(server.printedKey);
    });
  });

  it.each([
    ['--api-key', (key: string) => ({ args: ['--api-key', key], env: {} })],
    ['TILED_SINGLE_USER_API_KEY', (key: string) => ({ args: [], env: { TILED_SINGLE_USER_API_KEY: key } })],
  ])('uses a key given with %s and never prints it', async (_how, given) => {
    const key = 'Given0Key0' + 'x'.repeat(22);
    const { args, env } = given(key);
    await withServer(['serve', 'config', SINGLE_USER, ...args], env, async (server) => {
      expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${key}` })).toBe(200);
      expect(await status(`${server.api}/metadata/`, { authorization: 'Apikey wrong' })).toBe(401);
      expect(server.output()).not.toContain('Use the following URL');
      expect(server.output()).not.toContain(key);
    });
  });

  it('uses single_user_api_key from the config, expanded from ${VAR}, and never prints it', async () => {
    const key = 'FromTheConfig' + '7'.repeat(20);
    await withServer(['serve', 'config', FIXED_KEY_FIXTURE], { FIXTURE_SINGLE_USER_KEY: key }, async (server) => {
      expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${key}` })).toBe(200);
      expect(server.output()).not.toContain(key);
    });
  });

  it('lets --api-key override the config, and the config override the environment', async () => {
    const cli = 'c'.repeat(32);
    const fromConfig = 'f'.repeat(32);
    const fromEnv = 'e'.repeat(32);
    await withServer(
      ['serve', 'config', FIXED_KEY_FIXTURE, '--api-key', cli],
      { FIXTURE_SINGLE_USER_KEY: fromConfig, TILED_SINGLE_USER_API_KEY: fromEnv },
      async (server) => {
        expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${cli}` })).toBe(200);
        expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${fromConfig}` })).toBe(401);
      },
    );
    await withServer(
      ['serve', 'config', FIXED_KEY_FIXTURE],
      { FIXTURE_SINGLE_USER_KEY: fromConfig, TILED_SINGLE_USER_API_KEY: fromEnv },
      async (server) => {
        expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${fromConfig}` })).toBe(200);
        expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${fromEnv}` })).toBe(401);
      },
    );
  });

  it.each([
    ['an empty key', '', /The single-user API key is set to an empty value/],
    ['a key with symbols', 'not-alpha-numeric!', /The API key must only contain alphanumeric characters/],
  ])('refuses to start with %s (exit 2, says how to make a good one)', async (_what, key, message) => {
    const port = await freePort();
    const result = await runTiled(['serve', 'config', SINGLE_USER, '--port', String(port)], {
      env: { ...CLEAN_ENV, TILED_SINGLE_USER_API_KEY: key },
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('openssl rand -hex 32');
    expect(result.stderr).not.toMatch(/running on/);
    if (key) expect(result.stderr).not.toContain(key);
  });

  it('starts with a short key but warns, without showing it', async () => {
    await withServer(['serve', 'config', SINGLE_USER, '--api-key', 'short1'], {}, async (server) => {
      expect(server.output()).toMatch(/WARNING: The single-user API key is only 6 characters long/);
      expect(server.output()).not.toContain('short1');
      expect(await status(`${server.api}/metadata/`, { authorization: 'Apikey short1' })).toBe(200);
    });
  });
});

describe('single-user mode: public', () => {
  it.each([
    ['--public', [SINGLE_USER, '--public']],
    ['public_demo.yml', [PUBLIC_DEMO]],
  ])('with %s anonymous callers may read, and about says authentication is not required', async (_how, args) => {
    await withServer(['serve', 'config', ...args], {}, async (server) => {
      const about = (await (await fetch(`${server.api}/`)).json()) as { authentication: { required: boolean; providers: unknown[] } };
      expect(about.authentication).toMatchObject({ required: false, providers: [] });
      expect(await status(`${server.api}/metadata/`)).toBe(200);
      // A wrong key is still refused: public mode only concerns callers without credentials.
      expect(await status(`${server.api}/metadata/`, { authorization: 'Apikey wrong' })).toBe(401);
      expect(await status(`${server.api}/metadata/`, { authorization: `Apikey ${server.printedKey}` })).toBe(200);
    });
  });

  it('is off by default: about says authentication is required and anonymous reads are refused', async () => {
    await withServer(['serve', 'config', SINGLE_USER], {}, async (server) => {
      const about = (await (await fetch(`${server.api}/`)).json()) as { authentication: { required: boolean } };
      expect(about.authentication.required).toBe(true);
      expect(await status(`${server.api}/metadata/`)).toBe(401);
    });
  });

  it('follows TILED_ALLOW_ANONYMOUS_ACCESS when the config is silent', async () => {
    await withServer(['serve', 'config', SINGLE_USER], { TILED_ALLOW_ANONYMOUS_ACCESS: 'true' }, async (server) => {
      expect(await status(`${server.api}/metadata/`)).toBe(200);
    });
  });
});

describe('serve flags', () => {
  it('--port and --host override uvicorn.port and uvicorn.host from the config', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-serve-'));
    const configPort = await freePort();
    const file = join(dir, 'config.yml');
    writeFileSync(file, `trees:\n  - {path: /, tree: demo}\nuvicorn:\n  host: 0.0.0.0\n  port: ${configPort}\n`);
    const cliPort = await freePort();
    await withServer(['serve', 'config', file, '--host', '127.0.0.1', '--port', String(cliPort)], {}, async (server) => {
      expect(server.url).toBe(`http://127.0.0.1:${cliPort}`);
    });
  });

  it('--verbose logs each request and redacts an API key given in the URL', async () => {
    await withServer(['serve', 'config', SINGLE_USER, '--verbose'], {}, async (server) => {
      expect(await status(`${server.api}/metadata/?api_key=${server.printedKey}`)).toBe(200);
      await server.waitForOutput(/GET \/api\/v1\/metadata\/\?api_key=\S* HTTP\/1\.1" 200/);
      const log = server.output().slice(server.output().indexOf('running on'));
      expect(log).toMatch(/\[[0-9a-f]{16}\] 127\.0\.0\.1:\d+ \(\S+\) - "GET \/api\/v1\/metadata\/\?api_key=\[redacted\] HTTP\/1\.1" 200/);
      expect(log).not.toContain(server.printedKey);
    });
  });

  it.each([['demo'], ['config'], ['module']])('serve %s --help lists the common flags', async (command) => {
    const result = await runTiled(['serve', command, '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--host', '--port', '--public', '--api-key', '--verbose']) expect(result.stdout).toContain(flag);
  });
});
