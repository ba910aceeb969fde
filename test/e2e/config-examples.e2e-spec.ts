import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/config-loader';

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
});
