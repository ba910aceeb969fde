import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientHome } from '../helpers/doc-runner';
import { CliResult, RunningServer, startTiled } from '../helpers/tiled-process';
import { captureText } from './capture';

const FILE = '31-cli-session.txt';
const CONFIG = join(__dirname, 'fixtures', 'reference-server.yml');

/** What the real CLI printed for one command of 31-cli-session (stdout and stderr interleaved), and its exit code. */
function recorded(command: string): { output: string; exit: number } {
  const text = captureText(FILE);
  const at = text.indexOf(`$ ${command}\n`);
  if (at < 0) throw new Error(`no "${command}" in ${FILE}`);
  const block = text.slice(at + command.length + 3);
  const exit = /^\[exit (\d+)\]$/m.exec(block)!;
  return { output: block.slice(0, exit.index), exit: Number(exit[1]) };
}

/** Tiled's retrying transport prints this to stderr on a 401 before it gives up; ours does not retry. */
const withoutRetrying = (output: string): string => output.replace(/^Retrying…\n/gm, '');

/**
 * The real Tiled CLI's terminal session (31), command by command, against our CLI and a tiled-ts with
 * the reference config. Where the formats are meant to match (messages, the key table's columns,
 * headers, placeholders and datetimes) they are compared; docs/compatibility.md lists the rest.
 */
describe(`our CLI for the commands of ${FILE}`, () => {
  const secret = randomBytes(32).toString('hex');
  let dir: string;
  let server: RunningServer;
  let home: ClientHome;
  const run = (args: string[], input?: string): Promise<CliResult> => home.run(args, { input });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-compat-cli-session-'));
    server = await startTiled(['serve', 'config', CONFIG], { cwd: dir, env: { TILED_COMPAT_SECRET: secret } });
    home = new ClientHome();
  });
  afterAll(async () => {
    await server?.stop();
    home?.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('profile create prints the same confirmation', async () => {
    const result = await run(['profile', 'create', server.url, '--name', 'ref']);
    const want = recorded('tiled profile create http://127.0.0.1:8091 --name ref');
    expect([result.stdout + result.stderr, result.code]).toEqual([want.output, want.exit]);
  });

  it('whoami before login says "Not authenticated." and exits 0', async () => {
    const result = await run(['whoami', '--profile', 'ref']);
    const want = recorded('tiled whoami --profile ref');
    expect([result.stdout + result.stderr, result.code]).toEqual([withoutRetrying(want.output), want.exit]);
  });

  it('login confirms with the provider\'s message, then whoami prints the user', async () => {
    const login = await run(['login', '--profile', 'ref'], 'cara\nsecret3\n');
    expect(login.code).toBe(0);
    expect(login.stdout + login.stderr).toContain('You have logged in as cara.\n');
    const whoami = await run(['whoami', '--profile', 'ref']);
    expect([whoami.stdout, whoami.code]).toEqual(['cara\n', 0]);
  });

  let first: string;
  it('api_key create prints only the 72-hex secret', async () => {
    const scoped = await run(['api_key', 'create', '--profile', 'ref', '--scopes', 'read:metadata', '--expires-in', '600', '--note', 'x']);
    const inherit = await run(['api_key', 'create', '--profile', 'ref', '--expires-in', '10m', '--note', 'inherit 10m']);
    for (const result of [scoped, inherit]) expect([result.stdout, result.code]).toEqual([expect.stringMatching(/^[0-9a-f]{72}\n$/), 0]);
    first = scoped.stdout.slice(0, 8);
  });

  it('api_key create with scopes the user lacks fails with the server\'s 403 detail in one line', async () => {
    const result = await run(['api_key', 'create', '--profile', 'ref', '--scopes', 'admin:apikeys', '--note', 'should fail']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^[^\n]*Requested scopes \['admin:apikeys'\] must be a subset of the principal's scopes[^\n]*\n$/);
    expect(result.stderr).not.toMatch(/Traceback|at .*\.js:\d+/);
  });

  it('api_key create --expires-in bogus fails with the same explanation', async () => {
    const result = await run(['api_key', 'create', '--profile', 'ref', '--expires-in', 'bogus']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Could not parse bogus as a number and a unit like '5m'");
  });

  it('api_key list keeps Tiled\'s columns, headers, placeholders and datetime format', async () => {
    const result = await run(['api_key', 'list', '--profile', 'ref']);
    // Deliberate (docs/compatibility.md): Tiled always prints the Access tags column ('-' when a key has
    // none); ours only when some key has tags, as the API-keys guide's tables show. Compared without it.
    const want = recorded('tiled api_key list --profile ref')
      .output.split('\n')
      .map((line) => line.replace(/ {2,}(Access tags|-)$/, ''));
    const ours = result.stdout.split('\n');
    expect(result.code).toBe(0);
    expect(ours[0].split(/ {2,}/)).toEqual(want[0].split(/ {2,}/));
    expect(ours.length).toBe(want.length);
    for (const [i, line] of want.slice(1, -1).entries()) {
      // Same cells but ids and times, which differ by nature: `-` for no activity, `YYYY-MM-DDTHH:MM:SS` for times.
      const shape = (row: string): string[] =>
        row.split(/ {2,}/).map((cell) => cell.replace(/^[0-9a-f]{8}$/, '<first8>').replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/, '<utc>'));
      expect(shape(ours[i + 1])).toEqual(shape(line));
    }
  });

  it('tree draws the reference tree exactly as Tiled does', async () => {
    const result = await run(['tree', '--profile', 'ref']);
    const want = recorded('tiled tree --profile ref');
    expect([result.stdout + result.stderr, result.code]).toEqual([want.output, want.exit]);
  });

  it('api_key revoke is silent on success; an unknown key fails with the server\'s 404 detail in one line', async () => {
    const revoked = await run(['api_key', 'revoke', '--profile', 'ref', first]);
    expect([revoked.stdout + revoked.stderr, revoked.code]).toEqual([recorded(`tiled api_key revoke --profile ref f38814d0`).output, 0]);
    const unknown = await run(['api_key', 'revoke', '--profile', 'ref', 'deadbeef']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^[^\n]*has no such API key[^\n]*\n$/);
  });

  it('logout is silent; whoami afterwards says "Not authenticated."', async () => {
    const logout = await run(['logout', '--profile', 'ref']);
    expect([logout.stdout + logout.stderr, logout.code]).toEqual([recorded('tiled logout --profile ref').output, 0]);
    const whoami = await run(['whoami', '--profile', 'ref']);
    expect([whoami.stdout + whoami.stderr, whoami.code]).toEqual(['Not authenticated.\n', 0]);
  });
});
