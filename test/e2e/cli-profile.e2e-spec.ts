import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { ClientHome } from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';

describe('tiled profile', () => {
  let home: ClientHome;

  beforeEach(() => (home = new ClientHome()));
  afterEach(() => home.cleanup());

  it('refuses to show an unknown profile with Tiled\'s hint and exit 1', async () => {
    const result = await home.run(['profile', 'show', 'nope']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("Error: The profile 'nope' could not be found. Use tiled profile list to see profile names.\n");
  });

  it('refuses a URI that is not http(s) without writing anything', async () => {
    const result = await home.run(['profile', 'create', 'localhost:8000']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: 'localhost:8000' must start with http:\/\/ or https:\/\/\n$/);
    expect((await home.run(['profile', 'list'])).stderr).toBe('No profiles found.\n');
  });

  it('creates a profile as YAML in the user config directory and makes it the default', async () => {
    const created = await home.run(['profile', 'create', 'http://localhost:8000']);
    expect(created.code).toBe(0);
    expect(created.stderr).toBe("Tiled profile 'auto' created and set as the default.\n");
    const file = join(home.dir, 'config', 'tiled', 'profiles', 'auto.yml');
    expect(yaml.load(readFileSync(file, 'utf8'))).toEqual({ auto: { uri: 'http://localhost:8000', verify: true } });
    expect(readFileSync(join(home.dir, 'config', 'tiled', 'default_profile'), 'utf8')).toBe('auto');

    const list = await home.run(['profile', 'list']);
    expect(list.stdout).toBe(`auto    ${file}\n`);
    const show = await home.run(['profile', 'show', 'auto']);
    expect(show.stdout).toBe('uri: http://localhost:8000\nverify: true\n');
    expect(show.stderr).toBe(`Source: ${file}\n--\n`);
  });

  it('refuses to overwrite an existing profile unless asked to', async () => {
    await home.run(['profile', 'create', 'http://a:1', '--name', 'x']);
    const again = await home.run(['profile', 'create', 'http://b:2', '--name', 'x']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("A profile named 'x' already exists. Use --overwrite to overwrite it.");
    const over = await home.run(['profile', 'create', 'http://b:2', '--name', 'x', '--overwrite', '--no-set-default']);
    expect(over.stderr).toBe("Tiled profile 'x' created.\n");
    expect((await home.run(['profile', 'show', 'x'])).stdout).toContain('uri: http://b:2');
  });

  it('edit opens the profile file in $EDITOR, waits, and then checks what was saved', async () => {
    await home.run(['profile', 'create', 'http://a:1', '--name', 'lab']);
    const file = join(home.dir, 'config', 'tiled', 'profiles', 'lab.yml');
    const editor = (script: string) => ({ env: { VISUAL: undefined, EDITOR: script } });

    const edited = await home.run(['profile', 'edit', 'lab'], editor(`sed -i 's#http://a:1#https://tiled.example.org#'`));
    expect([edited.stderr, edited.code]).toEqual(['', 0]);
    expect((await home.run(['profile', 'show', 'lab'])).stdout).toContain('uri: https://tiled.example.org');

    const broken = await home.run(['profile', 'edit', 'lab'], editor(`sh -c 'echo "lab: [unclosed" > "$0"'`));
    expect(broken.code).toBe(1);
    expect(broken.stderr).toContain(`Error: ${file} no longer loads:`);
    expect(broken.stderr).not.toMatch(/\n\s+at /);

    const failing = await home.run(['profile', 'edit', 'nope'], editor('true'));
    expect(failing.stderr).toContain("The profile 'nope' could not be found.");
  });

  it('switches, reports and clears the default; delete clears it too', async () => {
    await home.run(['profile', 'create', 'http://a:1', '--name', 'one']);
    await home.run(['profile', 'create', 'http://b:2', '--name', 'two', '--no-set-default']);
    expect((await home.run(['profile', 'get-default'])).stdout).toContain("# Profile name: 'one'");
    expect((await home.run(['profile', 'set-default', 'two'])).code).toBe(0);
    expect((await home.run(['profile', 'get-default'])).stdout).toContain("# Profile name: 'two'");
    const unknown = await home.run(['profile', 'set-default', 'three']);
    expect(unknown.code).toBe(1);
    const deleted = await home.run(['profile', 'delete', 'two']);
    expect(deleted.stderr).toBe("Tiled profile 'two' deleted.\n");
    expect((await home.run(['profile', 'get-default'])).stderr).toBe('No default.\n');
    expect(existsSync(join(home.dir, 'config', 'tiled', 'profiles', 'two.yml'))).toBe(false);
  });

  it('honours TILED_PROFILES for where profiles live', async () => {
    const dir = join(home.dir, 'elsewhere', 'profiles');
    await home.run(['profile', 'create', 'http://a:1'], { env: { TILED_PROFILES: dir } });
    expect(statSync(join(dir, 'auto.yml')).isFile()).toBe(true);
    expect((await home.run(['profile', 'paths'], { env: { TILED_PROFILES: dir } })).stdout.trim().split('\n').pop()).toBe(dir);
  });

  it('tells a command that needs a server which profile is missing', async () => {
    const result = await home.run(['api_key', 'list', '--profile', 'ghost']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("Error: Profile 'ghost' could not be found. Use: tiled profile list to list choices.\n");
    const none = await home.run(['whoami']);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^Error: No default profile set\. Use: tiled profile create/);
  });
});

describe('the CLI against a single-user server', () => {
  let server: RunningServer;
  let home: ClientHome;
  const key = 'a'.repeat(64);

  beforeAll(async () => {
    server = await startTiled(['serve', 'demo', '--api-key', key]);
    home = new ClientHome();
    await home.run(['profile', 'create', server.url]);
  });
  afterAll(async () => {
    await server.stop();
    home.cleanup();
  });

  it('explains that single-user servers have one static key instead of creating one', async () => {
    const result = await home.run(['api_key', 'create'], { env: { TILED_API_KEY: key } });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('single-user server');
    expect(result.stderr).toContain('single, static API key');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('does not crash on whoami (Tiled does) and says what kind of server it is', async () => {
    const result = await home.run(['whoami']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('single-user server');
  });

  it('refuses to log in where there is no login', async () => {
    const result = await home.run(['login'], { input: 'alice\nsecret1\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: This server has no login: it is a single-user server/);
  });

  it('reports an unreachable server in one line', async () => {
    await home.run(['profile', 'create', 'http://127.0.0.1:9', '--name', 'down', '--no-set-default']);
    const result = await home.run(['whoami', '--profile', 'down']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^Error: Could not reach http:\/\/127\.0\.0\.1:9: .*\n$/);
  });
});
