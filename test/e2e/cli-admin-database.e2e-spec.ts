import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientHome } from '../helpers/doc-runner';

describe('tiled admin initialize-database / upgrade-database / check-config', () => {
  let dir: string;
  let home: ClientHome;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-admin-db-'));
    home = new ClientHome();
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
    home.cleanup();
  });

  it('refuses to upgrade a database that was never initialised, then initialises and upgrades it', async () => {
    const uri = `sqlite:///${join(dir, 'auth.db')}`;
    const early = await home.run(['admin', 'upgrade-database', uri]);
    expect(early.code).toBe(1);
    expect(early.stderr).toMatch(/^Error: .*initiali[sz]e-database.*\n$/);
    const init = await home.run(['admin', 'initialize-database', uri]);
    expect(init.code).toBe(0);
    expect(init.stderr).toMatch(/initiali[sz]ed/);
    const upgrade = await home.run(['admin', 'upgrade-database', uri]);
    expect(upgrade.code).toBe(0);
    expect(upgrade.stderr).toMatch(/up to date/);
  });

  it('reports a valid configuration, and names the problems of a broken one with exit 1', async () => {
    writeFileSync(join(dir, 'good.yml'), 'trees:\n  - path: /\n    tree: demo\n');
    const good = await home.run(['admin', 'check-config', join(dir, 'good.yml')]);
    expect(good.code).toBe(0);
    expect(good.stderr).toBe('No errors found in configuration.\n');
    writeFileSync(join(dir, 'bad.yml'), 'trees: 7\n');
    const bad = await home.run(['admin', 'check-config', join(dir, 'bad.yml')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('bad.yml');
    expect(bad.stderr).toContain('trees');
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
