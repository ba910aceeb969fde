import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as yaml from 'js-yaml';
import { accessDeploymentConfig, toyLogin, writeCompiledTags } from '../helpers/access-deployment';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

/**
 * docs/access-control.md, "The catalog's root", over real HTTP: the catalog arguments Tiled's own example
 * configuration uses (`top_level_access_blob`, `metadata`, `specs`) and `mount_node`, under Tiled's tag-based
 * policy with Tiled's compiled tags database. One SQLite catalog is served twice: whole at /full, and its
 * container `raw` as the root of /mounted. /full also has its own `adapters_by_mimetype`, a third party's
 * adapter next to the configuration, as a user would have it.
 */
const ROOT = join(__dirname, '..', '..');
const USERS = ['alice', 'bob', 'cara', 'eve', 'admin'] as const;
const DOC = readFileSync(join(ROOT, 'docs', 'access-control.md'), 'utf8');
const FLOAT64 = { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null };

/** The table of "The catalog's root": caller → the statuses of its four columns ("yes" is 200). */
function docTable(): Map<string, number[]> {
  const section = DOC.slice(DOC.indexOf("### The catalog's root"), DOC.indexOf('### The blob of a new node'));
  const table = new Map<string, number[]>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells.length !== 5 || cells[0] === 'Caller' || cells[0].startsWith('---')) continue;
    table.set(cells[0], cells.slice(1).map((cell) => (cell === 'yes' ? 200 : Number(cell))));
  }
  return table;
}

describe("a catalog's root: top_level_access_blob, metadata, specs and mount_node", () => {
  let dir: string;
  let server: RunningServer | undefined;
  const tokens = new Map<string, string>();

  const catalogArgs = (extra: Record<string, unknown>): Record<string, unknown> => ({
    uri: `sqlite:///${join(dir, 'catalog.db')}`,
    writable_storage: [join(dir, 'data')],
    init_if_not_exists: true,
    ...extra,
  });
  const writeConfig = (trees: unknown[]): string => {
    const file = join(dir, `config-${trees.length}.yml`);
    writeFileSync(file, yaml.dump(accessDeploymentConfig(dir, USERS, trees)));
    return file;
  };
  const FULL = { path: '/full', tree: 'catalog', args: {} as Record<string, unknown> };
  const call = (method: string, path: string, who: string, body?: unknown): Promise<Response> => {
    const headers: Record<string, string> = who === 'anonymous' ? {} : { authorization: `Bearer ${tokens.get(who)}` };
    if (Buffer.isBuffer(body)) headers['content-type'] = 'application/octet-stream';
    else if (body !== undefined) headers['content-type'] = 'application/json';
    return fetch(`${server!.url}${path}`, { method, headers, body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body) });
  };
  const login = async (): Promise<void> => {
    for (const user of USERS) tokens.set(user, await toyLogin(server!.api, user));
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-catalog-root-'));
    writeCompiledTags(dir);
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'tiled-ts'));
    copyFileSync(join(__dirname, '..', 'fixtures', 'adapters', 'numbers-adapter.js'), join(dir, 'numbers-adapter.js'));
    mkdirSync(join(dir, 'files'));
    writeFileSync(join(dir, 'files', 'values.num'), '3\n1\n4\n');
    FULL.args = catalogArgs({
      top_level_access_blob: { tags: ['public'] },
      metadata: { facility: 'Example Light Source' },
      specs: ['Facility', { name: 'Catalog', version: '1' }],
      readable_storage: [join(dir, 'files')],
      adapters_by_mimetype: { 'text/x-numbers': './numbers-adapter.js:openNumbers' },
    });
    // The mounted node must exist before a server mounts it: made by a first server that serves only /full.
    server = await startTiled(['serve', 'config', writeConfig([FULL])], { cwd: dir });
    await login();
    const made = await call('POST', '/api/v1/metadata/full', 'admin', { id: 'raw', structure_family: 'container', metadata: {}, access_blob: { tags: ['data_C'] } });
    expect(made.status).toBe(200);
    await server.stop();
    const mounted = { path: '/mounted', tree: 'catalog', args: catalogArgs({ mount_node: '/raw', top_level_access_blob: { tags: ['data_C'] }, metadata: { beamline: 'raw' } }) };
    server = await startTiled(['serve', 'config', writeConfig([FULL, mounted])], { cwd: dir });
    await login();
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lets each caller read and create at each root exactly as the doc table says', async () => {
    const table = docTable();
    expect([...table.keys()]).toEqual(['anonymous', ...USERS]);
    let n = 0;
    for (const [who, expected] of table) {
      n += 1;
      const statuses = [
        (await call('GET', '/api/v1/metadata/full', who)).status,
        (await call('POST', '/api/v1/metadata/full', who, { id: `top${n}`, structure_family: 'container', metadata: {} })).status,
        (await call('GET', '/api/v1/search/mounted', who)).status,
        (await call('POST', '/api/v1/metadata/mounted', who, { id: `run${n}`, structure_family: 'container', metadata: {} })).status,
      ];
      expect([who, ...statuses]).toEqual([who, ...expected]);
    }
  });

  it("shows the configured metadata, specs and blob on the root, and the mounted node's children under the other root", async () => {
    const full = (await (await call('GET', '/api/v1/metadata/full', 'anonymous')).json()) as { data: { attributes: Record<string, unknown> } };
    expect(full.data.attributes.metadata).toEqual({ facility: 'Example Light Source' });
    expect(full.data.attributes.specs).toEqual([{ name: 'Facility', version: null }, { name: 'Catalog', version: '1' }]);
    expect(full.data.attributes.access_blob).toEqual({ tags: ['public'] });

    const structure = { data_type: FLOAT64, chunks: [[3]], shape: [3], dims: null, resizable: false };
    const array = { id: 'scan', structure_family: 'array', metadata: {}, specs: [], access_blob: { tags: ['data_C'] }, data_sources: [{ structure_family: 'array', structure, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' }] };
    expect((await call('POST', '/api/v1/metadata/mounted', 'admin', array)).status).toBe(200);
    expect((await call('PUT', '/api/v1/array/full/mounted/scan', 'admin', Buffer.from(new Float64Array([4, 5, 6]).buffer))).status).toBe(200);
    // Written through the mounted root, the node is the catalog's raw/scan, data and all.
    const read = await call('GET', '/api/v1/array/full/full/raw/scan', 'bob');
    expect(read.status).toBe(200);
    expect([...new Float64Array(new Uint8Array(await read.arrayBuffer()).buffer)]).toEqual([4, 5, 6]);
    const keys = (who: string): Promise<string[]> => call('GET', '/api/v1/search/mounted?fields=', who).then(async (r) => ((await r.json()) as { data: { id: string }[] }).data.map((d) => d.id));
    expect(await keys('bob')).toEqual(['scan']);
    // cara's own top-level node there (the table's run) is hers: {"user": "cara"}, which bob does not pass.
    expect(await keys('admin')).toEqual(['run4', 'run6', 'scan']);
    const mounted = (await (await call('GET', '/api/v1/metadata/mounted', 'bob')).json()) as { data: { attributes: Record<string, unknown> } };
    expect(mounted.data.attributes.metadata).toEqual({ beamline: 'raw' });
  });

  it("registers a file through the catalog's own adapters_by_mimetype", async () => {
    const asset = { data_uri: pathToFileURL(join(dir, 'files', 'values.num')).href, is_directory: false, parameter: 'data_uris', num: 0 };
    const registered = await call('POST', '/api/v1/register/full', 'admin', { id: 'values', structure_family: 'table', metadata: {}, access_blob: { tags: ['public'] }, data_sources: [{ mimetype: 'text/x-numbers', structure_family: 'table', management: 'external', parameters: {}, properties: {}, assets: [asset] }] });
    expect([registered.status, registered.status === 200 ? '' : await registered.text()]).toEqual([200, '']);
    const table = await call('GET', '/api/v1/table/full/full/values?format=text/csv', 'anonymous');
    expect(await table.text()).toBe('value\n3.0\n1.0\n4.0\n');
    // The other catalog has no such adapter: the same registration is refused there.
    const refused = await call('POST', '/api/v1/register/mounted', 'admin', { id: 'values', structure_family: 'table', metadata: {}, data_sources: [{ mimetype: 'text/x-numbers', structure_family: 'table', management: 'external', parameters: {}, properties: {}, assets: [asset] }] });
    expect(refused.status).toBe(415);
  });

  it('refuses a mount_node the catalog lacks and a malformed top_level_access_blob, naming the key', async () => {
    for (const [extra, message] of [
      [{ mount_node: '/raw/nothing' }, ': mount_node: the catalog has no node /raw/nothing'],
      [{ top_level_access_blob: { tags: 'public' } }, ': top_level_access_blob: expected {"tags": [tag, …]} or {"user": name}'],
    ] as const) {
      const result = await runTiled(['serve', 'config', writeConfig([FULL, { path: '/other', tree: 'catalog', args: catalogArgs(extra) }]), '--port', '0'], { cwd: dir });
      expect(result.code).not.toBe(0);
      expect(result.stderr).toContain(`Error: trees[1].args in ${join(dir, 'config-2.yml')}${message}`);
      expect(result.stderr).not.toMatch(/\n\s+at .*\.js:\d+/);
    }
  });
});
