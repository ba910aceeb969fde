import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, configForTree, loadConfig } from './config-loader';
import { parseDuration } from './duration';

const FIXTURES = resolve(__dirname, '..', '..', 'test', 'fixtures', 'configs');

function writeConfig(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiled-config-'));
  const file = join(dir, 'config.yml');
  writeFileSync(file, text);
  return file;
}

async function problemsOf(path: string, env: NodeJS.ProcessEnv = {}): Promise<string[]> {
  try {
    await loadConfig(path, env);
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  throw new Error(`${path} loaded without problems`);
}

const DEMO = 'trees:\n  - {path: /, tree: demo}\n';

describe('loadConfig', () => {
  describe('errors', () => {
    it('should name the file, key path and expectation of an unknown key', async () => {
      const problems = await problemsOf(join(FIXTURES, 'unknown-key.yml'));
      expect(problems).toEqual([
        expect.stringMatching(/unknown-key\.yml: authentication\.provders: unknown key; expected one of: providers, tiled_admins/),
      ]);
    });

    it('should name the key path of a wrong type', async () => {
      const problems = await problemsOf(join(FIXTURES, 'wrong-type.yml'));
      expect(problems).toEqual([
        expect.stringMatching(/wrong-type\.yml: authentication\.providers\[0\]\.args: expected a mapping or null, got the string/),
      ]);
    });

    it('should refuse an unset variable, naming it and where it was used', async () => {
      const problems = await problemsOf(join(FIXTURES, 'unset-variable.yml'));
      expect(problems).toEqual([
        expect.stringMatching(
          /unset-variable\.yml: authentication\.providers\[0\]\.args\.users_to_passwords\.alice: environment variable FIXTURE_UNSET_PASSWORD is not set/,
        ),
      ]);
    });

    it('should refuse a provider name that cannot appear in a URL', async () => {
      const problems = await problemsOf(join(FIXTURES, 'bad-provider-name.yml'));
      expect(problems).toEqual([expect.stringMatching(/authentication\.providers\[0\]\.provider: expected a name made of letters, digits/)]);
    });

    it('should refuse an unknown metrics key and a metrics value that is not true or false, naming the key path', async () => {
      expect(await problemsOf(writeConfig(`${DEMO}metrics: {prometheus: maybe, grafana: true}\n`))).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/config\.yml: metrics\.prometheus: expected true or false, got the string "maybe"$/),
          expect.stringMatching(/config\.yml: metrics\.grafana: unknown key; expected one of: prometheus$/),
        ]),
      );
      expect(await problemsOf(writeConfig(`${DEMO}metrics: true\n`))).toEqual([
        expect.stringMatching(/config\.yml: metrics: expected a mapping or null, got the value true$/),
      ]);
    });

    it('should refuse duplicate provider names', async () => {
      const file = writeConfig(
        `${DEMO}authentication:\n  providers:\n    - {provider: toy, authenticator: dictionary}\n    - {provider: toy, authenticator: dictionary}\n`,
      );
      expect(await problemsOf(file)).toEqual([
        expect.stringMatching(/authentication\.providers\[1\]\.provider: provider name "toy" is already used by authentication\.providers\[0\]/),
      ]);
    });

    it('should name both files when a key appears in two files of a directory', async () => {
      const problems = await problemsOf(join(FIXTURES, 'duplicate-key-dir'));
      expect(problems).toEqual([expect.stringMatching(/duplicate-key-dir\/b\.yml: authentication: this key is also set in .*duplicate-key-dir\/a\.yml/)]);
    });

    it("should refuse 'catalog' and 'trees' together, as Tiled does", async () => {
      const problems = await problemsOf(join(FIXTURES, 'catalog.yml'));
      expect(problems).toEqual([expect.stringMatching(/catalog\.yml: catalog: The configuration 'catalog' specifies a single catalog, whereas 'trees' can specify multiple catalogs/)]);
    });

    it('should report every problem at once', async () => {
      const file = writeConfig(`${DEMO}uvicorn: {port: lots}\nauthentication:\n  allow_anonymous_access: maybe\n  session_max_age: soon\nbogus: 1\n`);
      const problems = await problemsOf(file);
      expect(problems).toHaveLength(4);
      expect(problems.join('\n')).toMatch(/uvicorn\.port: expected an integer, got the string "lots"/);
      expect(problems.join('\n')).toMatch(/authentication\.allow_anonymous_access: expected true or false or null, got the string "maybe"/);
      expect(problems.join('\n')).toMatch(/authentication\.session_max_age: expected a positive number of seconds/);
      expect(problems.join('\n')).toMatch(/bogus: unknown key/);
    });

    it('should never print a secret value, even in an error about it', async () => {
      const file = writeConfig(`${DEMO}authentication:\n  secret_keys: \${MY_SIGNING_SECRET}\n`);
      const problems = await problemsOf(file, { MY_SIGNING_SECRET: 'hunter2hunter2' });
      expect(problems).toEqual([expect.stringMatching(/authentication\.secret_keys: expected a list or null, got a string \[redacted\]/)]);
      expect(problems.join('\n')).not.toContain('hunter2');
    });

    it('should mask a value that came from a secret-looking variable', async () => {
      const file = writeConfig(`${DEMO}uvicorn: {port: "\${DB_PASSWORD}"}\n`);
      const problems = await problemsOf(file, { DB_PASSWORD: 'p@ss' });
      expect(problems.join('\n')).not.toContain('p@ss');
      expect(problems.join('\n')).toMatch(/uvicorn\.port: expected an integer, got a string \[redacted\]/);
    });

    it('should refuse overlapping tree paths', async () => {
      const file = writeConfig('trees:\n  - {path: /a, tree: demo}\n  - {path: /a/b, tree: demo}\n');
      expect(await problemsOf(file)).toEqual([expect.stringMatching(/trees\[1\]\.path: Tree paths cannot be subpaths of each other: '\/a'/)]);
    });

    it('should require trees', async () => {
      const file = writeConfig('authentication: {}\n');
      expect(await problemsOf(file)).toEqual([expect.stringMatching(/config\.yml: trees: required key is missing/)]);
    });

    it('should point at the line of a YAML syntax error', async () => {
      const file = writeConfig('trees:\n  - path: /\n   tree: demo\n');
      expect(await problemsOf(file)).toEqual([expect.stringMatching(/config\.yml:3:\d+: not valid YAML/)]);
    });

    it('should say a missing file is missing', async () => {
      expect(await problemsOf('/nonexistent/config.yml')).toEqual(['/nonexistent/config.yml: no such configuration file or directory']);
    });

    it('should refuse a malformed TILED_SECRET_KEYS without showing it', async () => {
      const problems = await problemsOf(writeConfig(DEMO), { TILED_SECRET_KEYS: 'plain-secret' });
      expect(problems).toEqual([expect.stringMatching(/environment variable TILED_SECRET_KEYS: expected a JSON list of strings/)]);
      expect(problems.join('\n')).not.toContain('plain-secret');
    });
  });

  describe('values', () => {
    it('should expand ${VAR} and $VAR and coerce typed fields', async () => {
      const file = writeConfig(`${DEMO}uvicorn:\n  host: $HOST\n  port: \${PORT}\nallow_origins: ["https://\${SITE}", "cost $$5"]\n`);
      const config = await loadConfig(file, { HOST: '0.0.0.0', PORT: '9000', SITE: 'example.org' });
      expect(config.server).toEqual({ host: '0.0.0.0', port: 9000, verbose: false });
      expect(config.allow_origins).toEqual(['https://example.org', 'cost $5']);
    });

    it('should use ${VAR:-default} when the variable is unset or empty, and the variable when set', async () => {
      const file = writeConfig(`${DEMO}allow_origins: ["\${A:-https://a.example}", "\${B:-}", "\${C:-x}"]\n`);
      const config = await loadConfig(file, { B: 'ignored-default', C: '' });
      expect(config.allow_origins).toEqual(['https://a.example', 'ignored-default', 'x']);
    });

    it('should merge a directory: trees and allow_origins concatenated, other files ignored', async () => {
      const dir = join(FIXTURES, 'split-dir');
      const config = await loadConfig(dir, {});
      expect(config.trees.map((tree) => tree.path)).toEqual(['/a', '/b']);
      expect(config.trees[0].baseDir).toBe(dir);
      expect(config.allow_origins).toEqual(['https://one.example', 'https://two.example']);
      expect(config.authentication.allow_anonymous_access).toBe(true);
      expect(config.configDir).toBe(dir);
    });

    it('should map providers with their key path and default args', async () => {
      const file = writeConfig(
        `${DEMO}authentication:\n  providers:\n    - {provider: toy, authenticator: dictionary}\n  tiled_admins: [{provider: toy, id: alice}]\n` +
          '  access_token_max_age: "10 minutes"\n  refresh_token_max_age: PT1H\n  session_max_age: "1 day, 00:00:00"\n  api_key_max_lifetime: 3600\n',
      );
      const config = await loadConfig(file, {});
      expect(config.authentication.providers).toEqual([
        expect.objectContaining({ provider: 'toy', authenticator: 'dictionary', args: {}, keyPath: 'authentication.providers[0]' }),
      ]);
      expect(config.authentication.tiled_admins).toEqual([{ provider: 'toy', id: 'alice' }]);
      expect(config.authentication.access_token_max_age).toBe(600);
      expect(config.authentication.refresh_token_max_age).toBe(3600);
      expect(config.authentication.session_max_age).toBe(86400);
      expect(config.authentication.api_key_max_lifetime).toBe(3600);
    });

    it('should take TILED_* variables when the config is silent, and the config when it is not', async () => {
      const env = {
        TILED_SINGLE_USER_API_KEY: 'fromenvironment0',
        TILED_SECRET_KEYS: '["a", "b"]',
        TILED_ALLOW_ANONYMOUS_ACCESS: 'true',
        TILED_ALLOW_ORIGINS: '["https://env.example"]',
        TILED_ACCESS_TOKEN_MAX_AGE: '60',
        TILED_REFRESH_TOKEN_MAX_AGE: 'PT2H',
        TILED_SESSION_MAX_AGE: '01:00:00',
        TILED_DATABASE_URI: 'sqlite:///tmp/auth.db',
      };
      const silent = await loadConfig(writeConfig(DEMO), env);
      expect(silent.authentication).toMatchObject({
        single_user_api_key: 'fromenvironment0',
        secret_keys: ['a', 'b'],
        allow_anonymous_access: true,
        access_token_max_age: 60,
        refresh_token_max_age: 7200,
        session_max_age: 3600,
      });
      expect(silent.allow_origins).toEqual(['https://env.example']);
      expect(silent.database?.uri).toBe('sqlite:///tmp/auth.db');

      const explicit = await loadConfig(
        writeConfig(
          `${DEMO}authentication:\n  single_user_api_key: fromconfig\n  allow_anonymous_access: false\n  access_token_max_age: 120\n` +
            'database: {uri: "postgresql://postgres@127.0.0.1/tiled"}\nallow_origins: []\n',
        ),
        env,
      );
      expect(explicit.authentication.single_user_api_key).toBe('fromconfig');
      expect(explicit.authentication.allow_anonymous_access).toBe(false);
      expect(explicit.authentication.access_token_max_age).toBe(120);
      expect(explicit.database?.uri).toBe('postgresql://postgres@127.0.0.1/tiled');
      expect(explicit.allow_origins).toEqual([]);
    });

    it('should accept ignored Tiled keys with a warning', async () => {
      const config = await loadConfig(writeConfig(`${DEMO}webhooks: {secret_keys: [x]}\nuvicorn: {workers: 4}\n`), {});
      expect(config.warnings).toHaveLength(2);
      expect(config.warnings).toEqual(
        expect.arrayContaining([
          expect.stringMatching(/config\.yml: uvicorn\.workers is ignored/),
          expect.stringMatching(/config\.yml: webhooks is ignored: Webhooks is not implemented by tiled-ts/),
        ]),
      );
    });

    it('should turn Prometheus metrics on by default, as Tiled, and off with metrics.prometheus: false, without a warning', async () => {
      expect((await loadConfig(writeConfig(DEMO), {})).metrics).toEqual({ prometheus: true });
      expect((await loadConfig(writeConfig(`${DEMO}metrics: {prometheus: true}\n`), {})).metrics).toEqual({ prometheus: true });
      const off = await loadConfig(writeConfig(`${DEMO}metrics:\n  prometheus: false\n`), {});
      expect(off.metrics).toEqual({ prometheus: false });
      expect(off.warnings).toEqual([]);
    });

    it('should return a frozen configuration', async () => {
      const config = await loadConfig(writeConfig(DEMO), {});
      expect(Object.isFrozen(config.authentication)).toBe(true);
    });
  });
});

describe('configForTree', () => {
  it('should serve the module at the root and still read TILED_* variables', () => {
    const config = configForTree('./tree.js:tree', '/srv', { TILED_ALLOW_ANONYMOUS_ACCESS: '1' });
    expect(config.trees).toEqual([{ path: '/', tree: './tree.js:tree', args: null, baseDir: '/srv' }]);
    expect(config.authentication.allow_anonymous_access).toBe(true);
  });
});

describe('parseDuration', () => {
  it.each([
    [900, 900],
    ['900', 900],
    ['PT15M', 900],
    ['P7D', 604800],
    ['P1W', 604800],
    ['01:00:00', 3600],
    ['2 days, 01:00:00', 176400],
    ['15 minutes', 900],
    ['7 days', 604800],
    ['1h', 3600],
  ])('should read %p as %p seconds', (input, seconds) => {
    expect(parseDuration(input)).toBe(seconds);
  });

  it.each(['soon', 'P', 'PT', '1 fortnight', ''])('should refuse %p', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});
