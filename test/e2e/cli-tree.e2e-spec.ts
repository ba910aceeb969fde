import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ClientHome } from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = 'TreeTestKey0123456789abcdef';

describe('tiled tree against the demo tree', () => {
  let server: RunningServer;
  let home: ClientHome;
  const asUser = { env: { TILED_API_KEY: KEY } };

  beforeAll(async () => {
    server = await startTiled(['serve', 'demo', '--api-key', KEY]);
    home = new ClientHome();
    await home.run(['profile', 'create', server.url, '--name', 'demo']);
    await home.run(['profile', 'create', `${server.url}/api/v1/metadata/nested`, '--name', 'nested', '--no-set-default']);
    await home.run(['profile', 'create', `${server.url}/api/v1/metadata/small`, '--name', 'array', '--no-set-default']);
  });
  afterAll(async () => {
    await server?.stop();
    home?.cleanup();
  });

  it('shows 20 lines by default, then says how to see more', async () => {
    const result = await home.run(['tree'], asUser);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(21);
    expect(lines.slice(0, 9)).toEqual(['├── small', '├── medium', '├── ints', '├── table', '├── nested', '│   ├── vec', '│   └── deeper', '│       └── cube', '├── big']);
    expect(lines[20]).toBe('Output truncated at 20 lines. Use `tiled tree <N>` to see <N> lines.');
  });

  it('walks every page of a large container when asked for enough lines, and ends with └──', async () => {
    const result = await home.run(['tree', '1000'], asUser);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).not.toContain(expect.stringMatching(/truncated/));
    const many = lines.filter((line) => /item_\d{3}$/.test(line));
    // The demo `many` container has 200 children, more than one page of search results.
    expect(many).toHaveLength(200);
    expect(lines[lines.length - 1]).toBe('    └── item_199');
    expect(lines).toContain('└── many');
  });

  it('draws the subtree a profile\'s URI points at', async () => {
    const result = await home.run(['tree', '--profile', 'nested'], asUser);
    expect([result.stdout, result.code]).toEqual(['├── vec\n└── deeper\n    └── cube\n', 0]);
  });

  it('refuses a node that is not a container, a bad line count, and a missing key, with one-line errors', async () => {
    const array = await home.run(['tree', '--profile', 'array'], asUser);
    expect([array.stderr, array.code]).toEqual(['Error: /small is not a container (its structure family is array), so it has no tree.\n', 1]);
    const zero = await home.run(['tree', '0'], asUser);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toContain("is invalid for argument 'max_lines'");
    const anonymous = await home.run(['tree']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toMatch(/^Error: .*Not authenticated/);
    expect(anonymous.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('stops quietly, with status 0, when its reader closes the pipe early (tiled tree | head -n 1)', async () => {
    // `head` exits after one line while the tree is still being fetched: every later write hits a closed pipe.
    const { stdout } = await promisify(execFile)('bash', ['-c', 'tiled tree 1000 2>"$HOME/tree.err" | head -n 1; echo "tiled exited ${PIPESTATUS[0]}"; cat "$HOME/tree.err"'], {
      env: { ...process.env, ...home.env, ...asUser.env },
    });
    expect(stdout).toBe('├── small\ntiled exited 0\n');
  });
});
