import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

describe('tiled serve --verbose at startup', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'tiled-verbose-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('says which providers and database it uses, without a line per module or route', async () => {
    const config = writeToyConfig(dir, { users: { alice: 'secret1' }, databaseUri: `sqlite:///${join(dir, 'auth.db')}` });
    const server = await startTiled(['serve', 'config', config, '--verbose'], { cwd: dir });
    try {
      const startup = server.output();
      expect(startup).toContain('Provider "toy": internal authenticator dictionary');
      expect(startup).toContain('Authentication database:');
      expect(startup).toMatch(/running on http:\/\/127\.0\.0\.1:\d+/);
      expect(startup).not.toMatch(/Mapped \{|RoutesResolver|RouterExplorer|InstanceLoader/);
      expect(startup.split('\n').length).toBeLessThan(15);
    } finally {
      await server.stop();
    }
  });
});
