import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

const KEY = 'd'.repeat(64);
const AUTH = { authorization: `Apikey ${KEY}` };

describe('tiled serve catalog and tiled catalog', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-cli-catalog-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('--temp prints Tiled\'s storage summary and the connect URL, and serves a writable catalog', async () => {
    const server: RunningServer = await startTiled(['serve', 'catalog', '--temp']);
    try {
      const output = server.output();
      const match = /Initializing temporary storage in (\S+)\n {2}catalog database: {10}(\S+)\n {2}writable file storage: {5}(\S+)\n {2}writable tabular storage: {2}(\S+)\n/.exec(output);
      expect(match).not.toBeNull();
      const [, temp, database, files] = match!;
      expect(database).toBe(join(temp, 'catalog.db'));
      expect(files).toBe(join(temp, 'data'));
      expect(output).not.toMatch(/read-only/);
      const auth = { authorization: `Apikey ${server.printedKey}` };
      const created = await fetch(`${server.api}/metadata/`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'x', structure_family: 'container', metadata: {} }) });
      expect(created.status).toBe(200);
      expect(existsSync(database)).toBe(true);
    } finally {
      await server.stop();
    }
  });

  it('without a database or --temp prints how to make one and aborts', async () => {
    const result = await runTiled(['serve', 'catalog']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('A catalog must be specified. Either use a temporary catalog:\n    tiled serve catalog --temp');
  });

  it('refuses --temp together with a database', async () => {
    const result = await runTiled(['serve', 'catalog', '--temp', join(dir, 'x.db')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('The option --temp was set but a database was also provided. Do one or the other.');
  });

  it('refuses an uninitialised database, naming the command that initialises it', async () => {
    const result = await runTiled(['serve', 'catalog', join(dir, 'new.db'), '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/has not been initialised\. Run `tiled catalog init /);
  });

  it('admin check-config names the catalog section of an uninitialised catalog', async () => {
    const config = join(dir, 'uninitialised.yml');
    writeFileSync(config, 'catalog:\n  uri: sqlite:///never.db\n');
    const result = await runTiled(['admin', 'check-config', config]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toMatch(/catalog in \S*uninitialised\.yml: The catalog database sqlite:\/\/\/never\.db has not been initialised\. Run `tiled catalog init/);
  });

  it('init, upgrade and downgrade a catalog; its nodes survive a restart; read-only without --write', async () => {
    const db = join(dir, 'catalog.db');
    const init = await runTiled(['catalog', 'init', db]);
    expect(init.code).toBe(0);
    expect(init.stderr).toMatch(/^Database sqlite:\/\/\/\S+catalog\.db is new\. Creating tables\.\nDatabase initialized\.\n$/);
    const again = await runTiled(['catalog', 'init', db]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is already initialized/);
    expect((await runTiled(['catalog', 'init', '--if-not-exists', db])).code).toBe(0);
    expect((await runTiled(['catalog', 'upgrade-database', `sqlite:///${db}`])).stderr).toMatch(/already up to date/);

    const data = join(dir, 'data');
    let server = await startTiled(['serve', 'catalog', db, '-w', data, '--api-key', KEY]);
    try {
      const created = await fetch(`${server.api}/metadata/`, { method: 'POST', headers: { ...AUTH, 'content-type': 'application/json' }, body: JSON.stringify({ id: 'kept', structure_family: 'container', metadata: { n: 1 } }) });
      expect(created.status).toBe(200);
    } finally {
      await server.stop();
    }
    server = await startTiled(['serve', 'catalog', db, '--api-key', KEY]);
    try {
      expect(server.output()).toContain('This catalog will be served as read-only. To make it writable, specify a writable directory with --write.');
      const kept = (await (await fetch(`${server.api}/metadata/kept`, { headers: AUTH })).json()) as { data: { attributes: { metadata: unknown } } };
      expect(kept.data.attributes.metadata).toEqual({ n: 1 });
    } finally {
      await server.stop();
    }

    const down = await runTiled(['catalog', 'downgrade-database', `sqlite:///${db}`, 'base']);
    expect(down.stderr).toMatch(/downgraded to base/);
    expect((await runTiled(['serve', 'catalog', db, '--port', '0'])).stderr).toMatch(/has not been initialised/);
  });
});
