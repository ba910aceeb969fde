import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { accessDeploymentConfig, accessDocBlock, toyLogin, writeCompiledTags } from '../helpers/access-deployment';
import { createTestDatabase, TestDatabase, testEngines } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';

/**
 * docs/access-control.md, "Who writes where", over real HTTP: Tiled's tag-based policy over Tiled's compiled
 * tags database, in front of writable catalogs (one per engine, both served by one process). Each user and
 * each restricted key creates, updates, writes data and deletes exactly where the doc's table says; new
 * nodes get their blob from the policy; alice's nodes do not exist for bob; and every route of the route
 * snapshot that names a node refuses a subtree-bound key and a tag-restricted key outside their reach.
 */
const ROOT = join(__dirname, '..', '..');
const USERS = ['alice', 'bob', 'cara', 'dan', 'eve', 'admin'] as const;
const DOC = readFileSync(join(ROOT, 'docs', 'access-control.md'), 'utf8');
const FLOAT64 = { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null };
const WRITE_SCOPES = ['read:metadata', 'read:data', 'write:metadata', 'write:data', 'create:node', 'delete:node', 'delete:revision'];

type Credential = { bearer: string } | { apikey: string } | null;
type Column = 'root' | 'create b' | 'put b' | 'data b/arr' | 'delete in b' | 'create c';
const COLUMNS: Column[] = ['root', 'create b', 'put b', 'data b/arr', 'delete in b', 'create c'];

/** The table "Who writes where": caller → the status each column expects ("yes" is 200). */
function docTable(): Map<string, number[]> {
  const section = DOC.slice(DOC.indexOf('## Who writes where'), DOC.indexOf('### The blob of a new node'));
  const table = new Map<string, number[]>();
  for (const line of section.split('\n')) {
    const cells = line.split('|').slice(1, -1).map((cell) => cell.trim());
    if (cells.length !== COLUMNS.length + 1 || cells[0] === 'Caller' || cells[0].startsWith('---')) continue;
    table.set(cells[0], cells.slice(1).map((cell) => (cell === 'yes' ? 200 : Number(cell))));
  }
  return table;
}

function arrayBody(id: string, accessBlob?: Record<string, unknown>): Record<string, unknown> {
  const structure = { data_type: FLOAT64, chunks: [[3]], shape: [3], dims: null, resizable: false };
  return { id, structure_family: 'array', metadata: {}, specs: [], ...(accessBlob ? { access_blob: accessBlob } : {}), data_sources: [{ structure_family: 'array', structure, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' }] };
}

const MOUNTS = testEngines();

describe('access control on writes: the tag-based policy in front of writable catalogs', () => {
  let dir: string;
  let server: RunningServer;
  const databases: TestDatabase[] = [];
  const credentials = new Map<string, Credential>();

  const headersOf = (who: string, json = true): Record<string, string> => {
    const credential = credentials.get(who) ?? null;
    const auth: Record<string, string> = !credential ? {} : 'bearer' in credential ? { authorization: `Bearer ${credential.bearer}` } : { authorization: `Apikey ${credential.apikey}` };
    return json ? { ...auth, 'content-type': 'application/json' } : auth;
  };
  const call = (method: string, path: string, who: string, body?: unknown): Promise<Response> =>
    fetch(`${server.url}${path}`, {
      method,
      headers: Buffer.isBuffer(body) ? { ...headersOf(who, false), 'content-type': 'application/octet-stream' } : headersOf(who, body !== undefined),
      body: body === undefined ? undefined : Buffer.isBuffer(body) ? body : JSON.stringify(body),
    });
  const ok = async (method: string, path: string, who: string, body?: unknown): Promise<Record<string, unknown>> => {
    const response = await call(method, path, who, body);
    expect([method, path, who, response.status, response.status === 200 ? '' : await response.text()]).toEqual([method, path, who, 200, '']);
    return (await response.json()) as Record<string, unknown>;
  };
  const key = async (user: string, body: Record<string, unknown>): Promise<string> =>
    ((await ok('POST', '/api/v1/auth/apikey', user, { expires_in: null, note: null, ...body })) as { secret: string }).secret;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-access-writes-'));
    writeCompiledTags(dir);
    const trees = [];
    for (const engine of MOUNTS) {
      const db = await createTestDatabase(engine);
      databases.push(db);
      const uri = engine === 'sqlite' ? `sqlite:///${join(dir, 'catalog.db')}` : db.uri;
      trees.push({ path: `/${engine}`, tree: 'catalog', args: { uri, writable_storage: [join(dir, `data-${engine}`)], init_if_not_exists: true } });
    }
    const config = accessDeploymentConfig(dir, USERS, trees);
    writeFileSync(join(dir, 'config.yml'), yaml.dump(config));
    server = await startTiled(['serve', 'config', join(dir, 'config.yml')], { cwd: dir });
    credentials.set('anonymous', null);
    for (const user of USERS) credentials.set(user, { bearer: await toyLogin(server.api, user) });
    for (const mount of MOUNTS) {
      await ok('POST', `/api/v1/metadata/${mount}`, 'admin', { id: 'b', structure_family: 'container', metadata: {}, access_blob: { tags: ['data_B'] } });
      await ok('POST', `/api/v1/metadata/${mount}`, 'admin', { id: 'c', structure_family: 'container', metadata: {}, access_blob: { tags: ['data_C'] } });
      await ok('POST', `/api/v1/metadata/${mount}/b`, 'admin', arrayBody('arr', { tags: ['data_B'] }));
      await ok('PUT', `/api/v1/array/full/${mount}/b/arr`, 'admin', Buffer.from(new Float64Array([1, 2, 3]).buffer));
    }
    credentials.set("alice's key with `access_tags: [data_B]`", { apikey: await key('alice', { scopes: WRITE_SCOPES, access_tags: ['data_B'] }) });
  });

  afterAll(async () => {
    await server?.stop();
    for (const db of databases) await db.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe.each(MOUNTS)('on %s', (mount) => {
    const bound = "cara's key with `path: /b`";

    it('lets each caller create, update, write data and delete exactly where the doc table says', async () => {
      credentials.set(bound, { apikey: await key('cara', { scopes: null, path: `${mount}/b` }) });
      const table = docTable();
      expect([...table.keys()]).toEqual(['anonymous', ...USERS.filter((u) => u !== 'dan'), "alice's key with `access_tags: [data_B]`", bound]);
      let n = 0;
      for (const [who, expected] of table) {
        n += 1;
        // A fresh victim per caller, so a delete that succeeds leaves the next row its own.
        await ok('POST', `/api/v1/metadata/${mount}/b`, 'admin', { id: `victim${n}`, structure_family: 'container', metadata: {}, access_blob: { tags: ['data_B'] } });
        const statuses = [
          (await call('POST', `/api/v1/metadata/${mount}`, who, { id: `top${n}`, structure_family: 'container', metadata: {} })).status,
          (await call('POST', `/api/v1/metadata/${mount}/b`, who, { id: `new${n}`, structure_family: 'container', metadata: {} })).status,
          (await call('PUT', `/api/v1/metadata/${mount}/b`, who, { metadata: { by: who } })).status,
          (await call('PUT', `/api/v1/array/full/${mount}/b/arr`, who, Buffer.from(new Float64Array([n, n, n]).buffer))).status,
          (await call('DELETE', `/api/v1/metadata/${mount}/b/victim${n}`, who)).status,
          (await call('POST', `/api/v1/metadata/${mount}/c`, who, { id: `new${n}`, structure_family: 'container', metadata: {} })).status,
        ];
        expect([who, ...statuses]).toEqual([who, ...expected]);
      }
      // What was refused left nothing behind: only the allowed writers' victims are gone.
      const left = ((await ok('GET', `/api/v1/search/${mount}/b?fields=`, 'admin')).data as { id: string }[]).map((d) => d.id).filter((id) => id.startsWith('victim'));
      expect(left.sort()).toEqual([...table.entries()].map(([, e], i) => (e[4] === 200 ? null : `victim${i + 1}`)).filter((id): id is string => id !== null).sort());
    });

    it("gives new nodes the policy's blob: alice's are hers alone, and never leak to bob through a listing, a count or /zarr", async () => {
      const created = await ok('POST', `/api/v1/metadata/${mount}`, 'alice', arrayBody('alices-array'));
      expect(created.access_blob).toEqual({ user: 'alice' });
      await ok('PUT', `/api/v1/array/full/${mount}/alices-array`, 'alice', Buffer.from(new Float64Array([7, 8, 9]).buffer));
      expect(((await ok('GET', `/api/v1/metadata/${mount}/alices-array`, 'alice')).data as { attributes: { access_blob: unknown } }).attributes.access_blob).toEqual({ user: 'alice' });
      expect((await call('GET', `/zarr/v2/${mount}/alices-array/0`, 'alice')).status).toBe(200);

      for (const path of [`/api/v1/metadata/${mount}/alices-array`, `/api/v1/array/full/${mount}/alices-array`, `/zarr/v2/${mount}/alices-array/.zarray`, `/zarr/v3/${mount}/alices-array/zarr.json`]) {
        const response = await call('GET', path, 'bob');
        expect([path, response.status]).toEqual([path, 404]);
        // Word for word what a node that never existed gets.
        expect(await response.text()).toBe(JSON.stringify({ detail: `No such entry: ['${mount}', 'alices-array']` }));
      }
      for (const [method, path, body] of [
        ['PUT', `/api/v1/metadata/${mount}/alices-array`, { metadata: {} }],
        ['PUT', `/api/v1/array/full/${mount}/alices-array`, Buffer.alloc(24)],
        ['DELETE', `/api/v1/metadata/${mount}/alices-array`, undefined],
      ] as const) {
        expect([method, path, (await call(method, path, 'bob', body)).status]).toEqual([method, path, 404]);
      }
      // The key is taken, and that is all the answer says (docs/access-control.md, differences from Tiled).
      const taken = await call('POST', `/api/v1/metadata/${mount}`, 'bob', { id: 'alices-array', structure_family: 'container', metadata: {} });
      expect([taken.status, await taken.text()]).toEqual([409, JSON.stringify({ detail: '/alices-array' })]);
      const keys = async (who: string): Promise<string[]> => ((await ok('GET', `/api/v1/search/${mount}?fields=`, who)).data as { id: string }[]).map((d) => d.id);
      const count = async (who: string): Promise<number> => ((await ok('GET', `/api/v1/search/${mount}?fields=`, who)).meta as { count: number }).count;
      const structureCount = async (who: string): Promise<number> => ((await ok('GET', `/api/v1/metadata/${mount}`, who)).data as { attributes: { structure: { count: number } } }).attributes.structure.count;
      const zarrKeys = async (who: string): Promise<string[]> => ((await ok('GET', `/zarr/v2/${mount}`, who)) as unknown as string[]).map((url) => url.split('/').pop()!);
      expect(await keys('alice')).toContain('alices-array');
      expect(await keys('bob')).not.toContain('alices-array');
      expect(await count('bob')).toBe((await keys('bob')).length);
      expect(await structureCount('bob')).toBe(await count('bob'));
      // The catalog's root shows Tiled's empty blob, yet governs nothing: bob reads it and creates under it.
      expect(((await ok('GET', `/api/v1/metadata/${mount}`, 'bob')).data as { attributes: { access_blob: unknown } }).attributes.access_blob).toEqual({});
      expect(await zarrKeys('bob')).toEqual(await keys('bob'));
      expect(await zarrKeys('alice')).toEqual(await keys('alice'));
      const distinct = (await ok('GET', `/api/v1/distinct/${mount}?structure_families=true&counts=true`, 'bob')) as { structure_families: { value: string; count: number }[] };
      expect(distinct.structure_families.reduce((sum, f) => sum + f.count, 0)).toBe(await count('bob'));
    });

    it("applies Tiled's init_node and modify_node rules, with Tiled's 403 wording", async () => {
      const publicByEve = await call('POST', `/api/v1/metadata/${mount}`, 'eve', { id: 'eve-public', structure_family: 'container', metadata: {}, access_blob: { tags: ['public'] } });
      expect(publicByEve.status).toBe(403);
      expect(((await publicByEve.json()) as { detail: string }).detail).toBe(accessDocBlock("the policy's reason on the second line", 'text'));
      const tagKey = "alice's key with `access_tags: [data_B]`";
      const refused = await call('POST', `/api/v1/metadata/${mount}`, tagKey, { id: 'by-key', structure_family: 'container', metadata: {} });
      expect(((await refused.json()) as { detail: string }).detail).toMatch(/^Access policy rejects the provided access blob.\nCannot init node as user-owned node/);

      const published = await ok('POST', `/api/v1/metadata/${mount}`, 'admin', { id: 'published', structure_family: 'container', metadata: {}, access_blob: { tags: ['public'] } });
      expect(published.access_blob ?? { tags: ['public'] }).toEqual({ tags: ['public'] });
      expect((await call('GET', `/api/v1/metadata/${mount}/published`, 'anonymous')).status).toBe(200);

      // Owners change blobs within what they may grant; a merge patch and a PUT go through the same rule.
      await ok('POST', `/api/v1/metadata/${mount}`, 'alice', { id: 'alices-box', structure_family: 'container', metadata: {} });
      const patched = await call('PATCH', `/api/v1/metadata/${mount}/alices-box`, 'alice', { 'content-type': 'application/merge-patch+json', access_blob: { tags: ['data_C'] } });
      expect(patched.status).toBe(403);
      expect(((await patched.json()) as { detail: string }).detail).toMatch(/^Access policy rejects the provided access blob.\n/);
      const kept = await ok('PUT', `/api/v1/metadata/${mount}/alices-box`, 'alice', { metadata: { x: 1 }, access_blob: { user: 'alice' } });
      expect(kept).toEqual({ id: 'alices-box' });
      const given = await ok('PUT', `/api/v1/metadata/${mount}/alices-box`, 'admin', { metadata: { x: 2 }, access_blob: { tags: ['data_C'] } });
      expect(given.id).toBe('alices-box');
      expect((await call('GET', `/api/v1/metadata/${mount}/alices-box`, 'bob')).status).toBe(200);
      expect((await call('GET', `/api/v1/metadata/${mount}/alices-box`, 'alice')).status).toBe(404);
    });

    it('explains write scopes as it explains reads', async () => {
      const explain = async (who: string, path: string, scope: string): Promise<{ allowed: boolean; decided_by: string }> =>
        (await ok('GET', `/api/v1/auth/explain?path=${encodeURIComponent(path)}&scope=${scope}`, who)) as unknown as { allowed: boolean; decided_by: string };
      expect(await explain('alice', `/${mount}/b/arr`, 'write:data')).toMatchObject({ allowed: false, decided_by: 'node tags' });
      expect(await explain('cara', `/${mount}/b/arr`, 'write:data')).toMatchObject({ allowed: true });
      expect(await explain("cara's key with `path: /b`", `/${mount}/c`, 'create:node')).toMatchObject({ allowed: false, decided_by: 'key subtree' });
      expect(await explain('bob', `/${mount}/b`, 'write:metadata')).toMatchObject({ allowed: false, decided_by: 'lookup' });
    });

    it('refuses a subtree-bound key and a tag-restricted key outside their reach on every route of the snapshot that names a node', async () => {
      const snapshot = readFileSync(join(ROOT, 'test', 'meta', 'routes.multi-user.txt'), 'utf8');
      const routes = snapshot.split('\n').map((line) => /^([A-Z]+) (\S+)\/\* → (.+)$/.exec(line)).filter((m): m is RegExpExecArray => m !== null);
      expect(routes.length).toBeGreaterThan(20);
      const outsider = await key('cara', { scopes: WRITE_SCOPES, path: `${mount}/b` });
      const reader = await key('cara', { scopes: ['read:metadata'], path: `${mount}/b` });
      credentials.set('outsider', { apikey: outsider });
      credentials.set('reader', { apikey: reader });
      const tagKey = "alice's key with `access_tags: [data_B]`";
      const wrong: string[] = [];
      const attempt = async (method: string, url: string, who: string, expected: 404 | 401): Promise<void> => {
        const body = method === 'GET' || method === 'DELETE' ? undefined : method === 'PUT' && /array|table|node/.test(url) ? Buffer.alloc(8) : { structure_family: 'container', metadata: {}, 'content-type': 'application/merge-patch+json' };
        // Valid parameters for every route: a missing one is a 422 before any lookup, as in Tiled (FastAPI validates first).
        const response = await call(method, `${url}?number=1&block=0&offset=0&shape=1&partition=0&id=1`, who, body);
        const text = await response.text();
        // A hidden node is refused with the words a missing one gets, never a message naming its family.
        const right = expected === 404 ? response.status === 404 && text.includes('No such entry') : response.status === 401;
        if (!right) wrong.push(`${method} ${url} as ${who}: ${response.status} ${text.slice(0, 120)}`);
      };
      for (const [, method, prefix, scopes] of routes) {
        // Both keys hold WRITE_SCOPES: a route that needs more (`register`) refuses them at the scope check,
        // before any lookup, which tells nothing about the node either.
        const outside = scopes.split(', ').every((scope) => WRITE_SCOPES.includes(scope)) ? 404 : 401;
        // `c` exists and cara may write it, but the keys are bound to /b; alice's data_B key cannot see c at all.
        await attempt(method, `${prefix}/${mount}/c`, 'outsider', outside);
        await attempt(method, `${prefix}/${mount}/c`, tagKey, outside);
        // The root (every route also has a root form, `/api/v1/metadata`) is outside a bound key's subtree.
        if (snapshot.includes(`\n${method} ${prefix} → `)) await attempt(method, prefix, 'outsider', outside);
        await attempt(method, `${prefix}/${mount}`, 'outsider', outside);
        // Inside its subtree a key still holds only its own scopes.
        if (scopes !== 'read:metadata') await attempt(method, `${prefix}/${mount}/b/arr`, 'reader', 401);
      }
      expect(wrong).toEqual([]);
    });
  });
});
