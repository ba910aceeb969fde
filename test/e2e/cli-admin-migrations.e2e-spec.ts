import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientHome } from '../helpers/doc-runner';
import { createTestDatabase, EngineName, TestDatabase, testEngines } from '../helpers/postgres';
import { runTiled, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

const NEWEST = 'ApiKeyPath1795900000000';
const FOURTH = 'PendingLoginAddress1795800000000';
const THIRD = 'LoginThrottle1795790000000';
const SECOND = 'ExternalLoginState1795760000000';
const FIRST = 'InitialSchema1760000000000';

describe.each(testEngines())('tiled admin upgrade-database / downgrade-database (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let home: ClientHome;
  let dir: string;
  const admin = async (...args: string[]) => home.run(['admin', ...args]);

  beforeEach(async () => {
    db = await createTestDatabase(engine);
    home = new ClientHome();
    dir = mkdtempSync(join(tmpdir(), 'tiled-migrations-'));
  });
  afterEach(async () => {
    await db.drop();
    home.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A server on this database with init_if_not_exists off, so it must take the schema as it finds it. */
  function serverConfig(): string {
    return writeToyConfig(dir, { users: { alice: 'secret1' }, secretKeys: ['migrations-test-secret'], databaseUri: db.uri, initIfNotExists: false });
  }

  it('steps down one migration and back up; the server refuses the older schema and names the fix', async () => {
    expect((await admin('initialize-database', db.uri)).code).toBe(0);

    const down = await admin('downgrade-database', db.uri, SECOND);
    expect([down.stderr, down.code]).toEqual([expect.stringContaining(`downgraded to ${SECOND} (undid ${NEWEST}, ${FOURTH}, ${THIRD})`), 0]);
    const again = await admin('downgrade-database', db.uri, '1795760000000');
    expect([again.stderr, again.code]).toEqual([expect.stringContaining('is already at 1795760000000'), 0]);

    const refused = await runTiled(['serve', 'config', serverConfig(), '--port', '0'], { timeoutMs: 20000 });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain(`tiled admin upgrade-database`);

    const up = await admin('upgrade-database', db.uri);
    expect([up.stderr, up.code]).toEqual([expect.stringContaining(`upgraded (${THIRD}, ${FOURTH}, ${NEWEST})`), 0]);
    const server = await startTiled(['serve', 'config', serverConfig()]);
    try {
      const login = await fetch(`${server.api}/auth/provider/toy/token`, {
        method: 'POST',
        body: new URLSearchParams({ username: 'alice', password: 'secret1' }),
      });
      expect(login.status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('upgrades only as far as a given revision, and to base and back leaves a database initialize-database accepts', async () => {
    expect((await admin('initialize-database', db.uri)).code).toBe(0);
    expect((await admin('downgrade-database', db.uri, 'base')).stderr).toContain(`downgraded to base (undid ${NEWEST}, ${FOURTH}, ${THIRD}, ${SECOND}, ${FIRST})`);
    const partial = await admin('initialize-database', db.uri);
    expect([partial.stderr, partial.code]).toEqual([expect.stringContaining('initialised.'), 0]);
    expect((await admin('downgrade-database', db.uri, FIRST)).code).toBe(0);
    const toFirst = await admin('upgrade-database', db.uri, FIRST);
    expect(toFirst.stderr).toContain(`is already at or past ${FIRST}`);
    expect((await admin('upgrade-database', db.uri, SECOND)).stderr).toContain(`upgraded (${SECOND})`);
    const rest = await admin('upgrade-database', db.uri, NEWEST);
    expect(rest.stderr).toContain(`upgraded (${THIRD}, ${FOURTH}, ${NEWEST})`);
  });

  it('names the known revisions when given an unknown one, and refuses an uninitialised database', async () => {
    const unknown = await admin('downgrade-database', db.uri, 'nope');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(`Error: Unknown revision 'nope'. Known revisions, oldest first: base, ${FIRST}, ${SECOND}, ${THIRD}, ${FOURTH}, ${NEWEST}\n`);
    const empty = await admin('downgrade-database', db.uri, 'base');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/has not been initialised; there is nothing to downgrade/);
  });
});

describe('docs/authentication.md migration table', () => {
  it('lists every migration this release ships, by the revision name the commands accept', () => {
    const doc = readFileSync(join(__dirname, '..', '..', 'docs', 'authentication.md'), 'utf8');
    const shipped = readdirSync(join(__dirname, '..', '..', 'src', 'database', 'migrations'))
      .filter((file) => /^\d{13}-.*\.ts$/.test(file))
      .map((file) => readFileSync(join(__dirname, '..', '..', 'src', 'database', 'migrations', file), 'utf8'))
      .map((source) => /name = '(\w+)'/.exec(source)![1]);
    expect(shipped.length).toBeGreaterThan(0);
    for (const name of shipped) expect(doc).toContain(`| \`${name}\` |`);
  });
});
