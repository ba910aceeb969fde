import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, EngineName, TestDatabase, testEngines } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = '9'.repeat(64);
const AUTH = { authorization: `Apikey ${KEY}` };
const STRUCTURE = { data_type: { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null }, shape: [64], chunks: [[16, 16, 16, 16]], dims: null, resizable: false };

/*
 * kill -9 during a storm of creates and writes, then a restart on the same catalog: every acknowledged
 * write is there, every node's data reads, and files without a node are at most the creates in flight.
 */
describe.each(testEngines())('a catalog on %s after kill -9', (engine: EngineName) => {
  let db: TestDatabase;
  let dir: string;
  let config: string;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-catalog-crash-'));
    config = join(dir, 'config.yml');
    writeFileSync(config, `catalog:\n  uri: "${db.uri}"\n  writable_storage: ["./data"]\n  init_if_not_exists: true\n`);
  });
  afterAll(async () => {
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged write and serves every node it kept', async () => {
    let server: RunningServer = await startTiled(['serve', 'config', config, '--api-key', KEY]);
    const acknowledged = new Map<string, number[]>();
    let attempted = 0;
    let stop = false;
    const worker = async (w: number): Promise<void> => {
      for (let i = 0; !stop; i++) {
        const key = `a-${w}-${i}`;
        attempted++;
        try {
          const created = await fetch(`${server.api}/metadata/`, {
            method: 'POST',
            headers: { ...AUTH, 'content-type': 'application/json' },
            body: JSON.stringify({ id: key, structure_family: 'array', metadata: {}, data_sources: [{ structure_family: 'array', structure: STRUCTURE, management: 'writable', assets: [] }] }),
          });
          if (created.status !== 200) continue;
          acknowledged.set(key, []);
          const values = Array.from({ length: 64 }, (_, j) => w * 1000 + i + j);
          const written = await fetch(`${server.api}/array/full/${key}`, { method: 'PUT', headers: { ...AUTH, 'content-type': 'application/octet-stream' }, body: Buffer.from(new Float64Array(values).buffer) });
          if (written.status === 200) acknowledged.set(key, values);
        } catch {
          return; // the server is gone
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    while (acknowledged.size < 30) await new Promise((resolve) => setTimeout(resolve, 5));
    server.process.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    await server.stop();

    server = await startTiled(['serve', 'config', config, '--api-key', KEY]);
    try {
      const listing = (await (await fetch(`${server.api}/search/?fields=&page[limit]=300`, { headers: AUTH })).json()) as { data: { id: string }[] };
      const present = new Set(listing.data.map((d) => d.id));
      expect([...acknowledged.keys()].filter((key) => !present.has(key))).toEqual([]);
      for (const key of present) {
        const response = await fetch(`${server.api}/array/full/${key}?format=json`, { headers: AUTH });
        expect(response.status).toBe(200);
        const values = acknowledged.get(key);
        if (values?.length) expect(await response.json()).toEqual(values);
        else await response.arrayBuffer();
        expect(existsSync(join(dir, 'data', key, 'zarr.json'))).toBe(true);
      }
      const orphans = readdirSync(join(dir, 'data')).filter((name) => !present.has(name) && !name.startsWith('.tiled-tmp'));
      // Only a create whose transaction had not committed when the process died can leave a directory.
      expect(orphans.length).toBeLessThanOrEqual(Math.min(6, attempted - acknowledged.size));
    } finally {
      await server.stop();
    }
  });
});
