import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';

/**
 * Tiled's example configurations (small_single_user_demo.yml, google_auth.yml, orcid_auth.yml) serve
 * `tiled.examples.generated_minimal:tree`; a configuration written that way serves the same tree here.
 */
describe('tree: tiled.examples.generated_minimal:tree', () => {
  let dir: string;
  let server: RunningServer;
  const get = async (path: string): Promise<Response> => {
    const response = await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: 'Apikey secretforgeneratedminimal' } });
    expect([path, response.status]).toEqual([path, 200]);
    return response;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-generated-minimal-'));
    writeFileSync(join(dir, 'config.yml'), ['authentication:', '  single_user_api_key: secretforgeneratedminimal', 'trees:', '  - path: /', '    tree: tiled.examples.generated_minimal:tree', ''].join('\n'));
    server = await startTiled(['serve', 'config', join(dir, 'config.yml')]);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves Tiled's four nodes: arrays of ones, a three-partition table and an xarray Dataset", async () => {
    const root = (await (await get('/search/?fields=structure_family&fields=specs')).json()) as { data: { id: string; attributes: { structure_family: string } }[] };
    expect(root.data.map((d) => [d.id, d.attributes.structure_family])).toEqual([['A', 'array'], ['B', 'array'], ['C', 'table'], ['D', 'container']]);
    const b = new Float64Array(await (await get('/array/full/B?slice=99,99')).arrayBuffer());
    expect([...b]).toEqual(new Array(100).fill(1));
    const c = (await (await get('/metadata/C')).json()) as { data: { attributes: { structure: { npartitions: number } } } };
    expect(c.data.attributes.structure.npartitions).toBe(3);
    const rows = (await (await get('/table/full/C?format=text/csv')).text()).trim().split('\n');
    expect(rows[0]).toBe('x,y,z');
    expect(new Set(rows.slice(1))).toEqual(new Set(['1.0,2.0,3.0']));
    expect(rows.length - 1).toBe(100);
    const d = (await (await get('/search/D?fields=specs')).json()) as { data: { id: string; attributes: { specs: { name: string }[] } }[] };
    expect(d.data.map((x) => [x.id, x.attributes.specs[0].name])).toEqual([['temperature', 'xarray_data_var'], ['time', 'xarray_coord']]);
    const temperature = new BigInt64Array(await (await get('/array/full/D/temperature')).arrayBuffer());
    expect([...temperature]).toEqual([100n, 99n, 98n]);
  });
});
