import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, EngineName, TestDatabase, testEngines } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = 'f'.repeat(64);
const HEADERS = { authorization: `Apikey ${KEY}`, 'content-type': 'application/json' };
const PER_SERVER = 25;

/*
 * Two server processes on one catalog, as two replicas behind a load balancer would run: concurrent
 * creates and metadata updates on both lose nothing and never answer "database is locked".
 */
describe.each(testEngines())('two servers writing to one catalog on %s', (engine: EngineName) => {
  let db: TestDatabase;
  let dir: string;
  let servers: RunningServer[];

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-catalog-2p-'));
    const config = join(dir, 'config.yml');
    writeFileSync(config, `catalog:\n  uri: "${db.uri}"\n  writable_storage: ["./data"]\n  init_if_not_exists: true\n`);
    // One after the other: the first initialises the database, the second finds it current.
    servers = [await startTiled(['serve', 'config', config, '--api-key', KEY])];
    servers.push(await startTiled(['serve', 'config', config, '--api-key', KEY]));
  });

  afterAll(async () => {
    await Promise.all((servers ?? []).map((s) => s.stop()));
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every acknowledged create and update', async () => {
    await fetch(`${servers[0].api}/metadata/`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ id: 'shared', structure_family: 'container', metadata: { n: 0 } }) });
    const requests = servers.flatMap((server, s) =>
      Array.from({ length: PER_SERVER }, async (_, i) => {
        const created = await fetch(`${server.api}/metadata/`, { method: 'POST', headers: HEADERS, body: JSON.stringify({ id: `n-${s}-${i}`, structure_family: 'container', metadata: { s, i } }) });
        const updated = await fetch(`${server.api}/metadata/shared`, {
          method: 'PATCH',
          headers: HEADERS,
          body: JSON.stringify({ 'content-type': 'application/merge-patch+json', metadata: { [`w-${s}-${i}`]: true } }),
        });
        return [created.status, updated.status, created.status === 200 ? '' : await created.text()];
      }),
    );
    const results = await Promise.all(requests);
    expect(results.filter(([c, u]) => c !== 200 || u !== 200)).toEqual([]);
    for (const server of servers) {
      const search = (await (await fetch(`${server.api}/search/?fields=&page[limit]=0`, { headers: HEADERS })).json()) as { meta: { count: number } };
      expect(search.meta.count).toBe(2 * PER_SERVER + 1);
    }
    const shared = (await (await fetch(`${servers[1].api}/metadata/shared`, { headers: HEADERS })).json()) as { data: { attributes: { metadata: Record<string, unknown> } } };
    expect(Object.keys(shared.data.attributes.metadata)).toHaveLength(2 * PER_SERVER + 1);
    const revisionsDoc = (await (await fetch(`${servers[1].api}/revisions/shared?page[limit]=0`, { headers: HEADERS })).json()) as { meta: { count: number } };
    expect(revisionsDoc.meta.count).toBe(2 * PER_SERVER);
  });

  it('applies concurrent extending PATCHes from both servers without losing one or shrinking the array', async () => {
    const structure = { data_type: { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null }, shape: [1], chunks: [[1]], dims: null, resizable: false };
    const created = await fetch(`${servers[0].api}/metadata/`, {
      method: 'POST',
      headers: HEADERS,
      body: JSON.stringify({ id: 'grow', structure_family: 'array', metadata: {}, data_sources: [{ structure_family: 'array', structure, management: 'writable', assets: [] }] }),
    });
    expect(created.status).toBe(200);
    const statuses = await Promise.all(
      Array.from({ length: 16 }, (_, offset) =>
        fetch(`${servers[offset % 2].api}/array/full/grow?offset=${offset}&shape=1&extend=true`, {
          method: 'PATCH',
          headers: { authorization: HEADERS.authorization, 'content-type': 'application/octet-stream' },
          body: Buffer.from(new Float64Array([offset]).buffer),
        }).then((r) => r.status),
      ),
    );
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
    const values = (await (await fetch(`${servers[1].api}/array/full/grow?format=json`, { headers: HEADERS })).json()) as number[];
    expect(values).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });
});
