import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runTiled } from '../helpers/tiled-process';

/**
 * `tiled admin check-config` runs the checks `tiled serve config` makes (one validateDeployment):
 * every configuration serve refuses, check-config refuses too, with the same message.
 */
const FIXTURES = join(__dirname, '..', 'fixtures');
const CONFIGS = join(FIXTURES, 'configs');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tiled-check-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, yaml: string): string {
  const file = join(dir, `${name}.yml`);
  writeFileSync(file, yaml);
  return file;
}

const provider = (authenticator: string, args: string): string =>
  `authentication:\n  providers:\n    - provider: corp\n      authenticator: "${authenticator}"\n      args: ${args}\ntrees: [{path: /, tree: demo}]\n`;
const trees = (...specifiers: [string, string][]): string => `trees:\n${specifiers.map(([path, tree]) => `  - {path: "${path}", tree: "${tree}"}\n`).join('')}`;

/** [what, a function giving the configuration path (a fixture, or a file written here), environment]. */
const BROKEN: [string, () => string, NodeJS.ProcessEnv?][] = [
  ['an unknown key', () => join(CONFIGS, 'unknown-key.yml')],
  ['a wrong type', () => join(CONFIGS, 'wrong-type.yml')],
  ['an unset ${VAR}', () => join(CONFIGS, 'unset-variable.yml'), { FIXTURE_UNSET_PASSWORD: undefined }],
  ['a key set in two files of a directory', () => join(CONFIGS, 'duplicate-key-dir')],
  ['a provider name unfit for a URL', () => join(CONFIGS, 'bad-provider-name.yml')],
  ['a Tiled SQL catalog', () => join(CONFIGS, 'catalog.yml')],
  ['a missing file', () => join(CONFIGS, 'no-such-file.yml')],
  ['a Python authenticator', () => write('python', provider('tiled.authenticators:PAMAuthenticator', '{}'))],
  ['unknown plugin args', () => write('args', provider('dictionary', '{users_to_passwords: {dana: pw}, extra: 1}'))],
  ['plugin args of the wrong type', () => write('arg-type', provider(join(FIXTURES, 'plugins', 'static-users') + ':StaticUsersAuthenticator', '{users: {dana: 5}}'))],
  ['a plugin file that does not exist', () => write('no-plugin', provider('./vendor/nope.js', '{}'))],
  ['a plugin for another API version', () => write('api-version', provider(join(FIXTURES, 'plugins', 'broken', 'wrong-api-version.js'), '{}'))],
  [
    'a provider name used twice',
    () =>
      write(
        'twice',
        'authentication:\n  providers:\n    - {provider: toy, authenticator: dictionary, args: {users_to_passwords: {a: b}}}\n    - {provider: toy, authenticator: dictionary, args: {users_to_passwords: {c: d}}}\ntrees: [{path: /, tree: demo}]\n',
      ),
  ],
  ['an unknown tree', () => write('tree', trees(['/', 'no-such-tree']))],
  ['a module that is not a tree', () => write('not-a-tree', trees(['/', join(FIXTURES, 'trees', 'not-a-tree.js') + ':tree']))],
  ['a tree function that throws', () => write('throws', trees(['/', join(FIXTURES, 'trees', 'throws.js') + ':tree']))],
  ['a tree at / next to another tree', () => write('two-roots', trees(['/', 'demo'], ['/b', 'demo']))],
  ['a single-user key that is not alphanumeric', () => write('key', 'authentication:\n  single_user_api_key: "not-alnum!"\ntrees: [{path: /, tree: demo}]\n')],
];

describe('tiled admin check-config', () => {
  it.each(BROKEN)('refuses %s with the message serve prints', async (_what, path, env = {}) => {
    const file = path();
    const serve = await runTiled(['serve', 'config', file, '--port', '0'], { env });
    expect(serve.code).toBe(2);
    const check = await runTiled(['admin', 'check-config', file], { env });
    expect(check.code).toBe(1);
    expect(check.stdout).toBe('');
    const lines = check.stderr.split('\n').filter((line) => line.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    expect(check.stderr).not.toMatch(/No errors found/);
    expect(check.stderr).not.toMatch(/^\s+at /m);
    // Every line check-config prints is in what serve printed (serve adds "Error: " and, for schema errors, a heading).
    for (const line of lines) expect(serve.stderr).toContain(line.trim());
  });

  it('accepts a configuration serve starts, loading its plugins and trees', async () => {
    const file = write('good', provider(join(FIXTURES, 'plugins', 'static-users') + ':StaticUsersAuthenticator', '{users: {dana: pw}}'));
    const check = await runTiled(['admin', 'check-config', file]);
    expect(check.stderr).toBe('No errors found in configuration.\n');
    expect(check.stdout).toBe('');
    expect(check.code).toBe(0);
  });
});
