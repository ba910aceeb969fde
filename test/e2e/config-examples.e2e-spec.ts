import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config-loader';
import { startTiled } from '../helpers/tiled-process';

const EXAMPLES = join(__dirname, '..', '..', 'example_configs');

/** Every example, including ones added later: each YAML file, and each sub-directory as a directory config. */
const examples = readdirSync(EXAMPLES)
  .filter((name) => /\.ya?ml$/i.test(name) || statSync(join(EXAMPLES, name)).isDirectory())
  .sort();

/** Values for the variables examples document; any other referenced variable gets a plausible placeholder. */
const KNOWN_VALUES: Record<string, string> = {
  TILED_SINGLE_USER_API_KEY: 'a'.repeat(64),
  ALICE_PASSWORD: 'secret1',
  BOB_PASSWORD: 'secret2',
  CARA_PASSWORD: 'secret3',
};

function referencedVariables(path: string): string[] {
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((name) => /\.ya?ml$/i.test(name)).map((name) => join(path, name))
    : [path];
  const names = new Set<string>();
  for (const file of files) {
    // Comments mention variables in prose; only references in values matter.
    const text = readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.replace(/(^|\s)#.*$/, ''))
      .join('\n');
    for (const match of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g)) names.add(match[1] ?? match[2]);
  }
  return [...names];
}

describe('example_configs/', () => {
  it('includes the single-user and public examples', () => {
    expect(examples).toEqual(expect.arrayContaining(['single_user.yml', 'public_demo.yml']));
  });

  it.each(examples)('%s loads without problems', async (name) => {
    const path = join(EXAMPLES, name);
    const env: NodeJS.ProcessEnv = {};
    for (const variable of referencedVariables(path)) env[variable] = KNOWN_VALUES[variable] ?? `example${variable.toLowerCase().replace(/_/g, '')}0`;
    const config = await loadConfig(path, env);
    expect(config.trees.length).toBeGreaterThan(0);
  });

  it.each(examples)('%s explains, in its comments, every environment variable it needs', (name) => {
    const path = join(EXAMPLES, name);
    const files = statSync(path).isDirectory() ? readdirSync(path).map((file) => join(path, file)) : [path];
    const comments = files.flatMap((file) => readFileSync(file, 'utf8').split('\n').filter((line) => /^\s*#/.test(line))).join('\n');
    const unexplained = referencedVariables(path).filter((variable) => !comments.includes(variable));
    expect(unexplained).toEqual([]);
  });

  it('single_user.yml takes its fixed key from TILED_SINGLE_USER_API_KEY, or has none', async () => {
    const fixed = await loadConfig(join(EXAMPLES, 'single_user.yml'), { TILED_SINGLE_USER_API_KEY: 'b'.repeat(64) });
    expect(fixed.authentication.providers).toEqual([]);
    expect(fixed.authentication.single_user_api_key).toBe('b'.repeat(64));
    const none = await loadConfig(join(EXAMPLES, 'single_user.yml'), {});
    expect(none.authentication.single_user_api_key).toBeUndefined();
  });

  it('public_demo.yml allows anonymous reading', async () => {
    const config = await loadConfig(join(EXAMPLES, 'public_demo.yml'), {});
    expect(config.authentication.allow_anonymous_access).toBe(true);
  });

  it('multiple_providers.yml serves two password lists, each checking its own passwords', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-example-'));
    const server = await startTiled(['serve', 'config', join(EXAMPLES, 'multiple_providers.yml')], {
      cwd: dir,
      env: { ALICE_PASSWORD: KNOWN_VALUES.ALICE_PASSWORD, BOB_PASSWORD: KNOWN_VALUES.BOB_PASSWORD, CARA_PASSWORD: KNOWN_VALUES.CARA_PASSWORD },
    });
    const login = async (provider: string, username: string, password: string): Promise<number> =>
      (
        await fetch(`${server.api}/auth/provider/${provider}/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ username, password }).toString(),
        })
      ).status;
    try {
      expect(await login('staff', 'alice', KNOWN_VALUES.ALICE_PASSWORD)).toBe(200);
      expect(await login('visitors', 'cara', KNOWN_VALUES.CARA_PASSWORD)).toBe(200);
      expect(await login('staff', 'alice', 'not her password')).toBe(401);
      expect(await login('visitors', 'alice', KNOWN_VALUES.ALICE_PASSWORD)).toBe(401);
      expect(await login('visitors', 'anyone', 'anything')).toBe(401);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
