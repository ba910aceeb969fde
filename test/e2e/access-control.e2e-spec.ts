import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as yaml from 'js-yaml';
import { ClientHome } from '../helpers/doc-runner';
import { createTestDatabase, TestDatabase, testEngines } from '../helpers/postgres';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

/**
 * docs/access-control.md, over real HTTP: Tiled's example tag definitions compiled into a tags database, a
 * module tree whose containers carry access blobs, and a multi-user config with Tiled's `access_control:`
 * spelling, left unedited. Each user and each restricted key sees exactly what the doc's table says, for
 * metadata, search results, counts, distinct, container export and data reads; the explain route and
 * `tiled whoami --explain` say why without naming hidden nodes.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'access');
const USERS = ['alice', 'bob', 'cara', 'dan', 'eve', 'admin'] as const;
type User = (typeof USERS)[number];
const ALL_TOP = ['public_data', 'a', 'b', 'c', 'alices', 'open'];

const DOC = readFileSync(join(__dirname, '..', '..', 'docs', 'access-control.md'), 'utf8');

/** The body of the fenced block of `lang` that follows `after` in the doc. */
function docBlock(after: string, lang: string): string {
  const start = DOC.indexOf(after);
  expect(start).toBeGreaterThanOrEqual(0);
  const fence = DOC.indexOf(`\`\`\`${lang}\n`, start);
  return DOC.slice(fence + lang.length + 4, DOC.indexOf('\n```', fence + 3) + 1);
}

/** The table "Who sees what" of docs/access-control.md: caller → top-level nodes it sees. */
function docTable(): Map<string, string[]> {
  const table = new Map<string, string[]>();
  const section = DOC.slice(DOC.indexOf('## Who sees what'), DOC.indexOf('## Keys that narrow access'));
  for (const line of section.split('\n')) {
    const cells = /^\| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (!cells || cells[1] === 'Caller' || cells[1].startsWith('---')) continue;
    table.set(cells[1].trim(), cells[2].includes('nothing') ? [] : cells[2].split(',').map((key) => key.trim()));
  }
  return table;
}

const TABLE = docTable();
const SEES: Record<User | 'anonymous', string[]> = Object.fromEntries(['anonymous', ...USERS].map((who) => [who, TABLE.get(who)!])) as Record<User | 'anonymous', string[]>;

function configFor(dir: string, databaseUri: string): string {
  const file = join(dir, 'config.yml');
  writeFileSync(
    file,
    yaml.dump({
      trees: [{ path: '/', tree: `${join(FIXTURES, 'tree.js')}:tree` }],
      authentication: {
        providers: [
          {
            provider: 'toy',
            authenticator: 'tiled.authenticators:DictionaryAuthenticator',
            args: { users_to_passwords: Object.fromEntries(USERS.map((user) => [user, `${user}-pw`])) },
          },
        ],
        tiled_admins: [{ provider: 'toy', id: 'admin' }],
        allow_anonymous_access: true,
        secret_keys: ['access-control-e2e-signing-key'],
      },
      database: { uri: databaseUri, init_if_not_exists: true },
      // As docs/access-control.md shows it, in Tiled's spelling.
      ...(yaml.load(docBlock('## Configuration', 'yaml')) as Record<string, unknown>),
    }),
  );
  return file;
}

/** The tags database as Tiled's own compiler writes it (schema and content), not as ours does. */
function writeTiledTagsDatabase(file: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (file: string) => { exec(sql: string): void; close(): void };
  const db = new Database(file);
  db.exec(readFileSync(join(FIXTURES, 'tiled-compiled-tags.sql'), 'utf8'));
  db.close();
}

function viewsOf(file: string): unknown[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Database = require('better-sqlite3') as new (file: string, o: object) => { prepare(sql: string): { all(): unknown[] }; close(): void };
  const db = new Database(file, { readonly: true });
  const out = ['SELECT * FROM public_tags ORDER BY 1', 'SELECT * FROM user_tag_scopes ORDER BY 1, 2, 3', 'SELECT * FROM user_tag_owners ORDER BY 1, 2'].map((sql) =>
    db.prepare(sql).all(),
  );
  db.close();
  return out;
}

async function login(server: RunningServer, user: User): Promise<string> {
  const response = await fetch(`${server.api}/auth/provider/toy/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, password: `${user}-pw` }).toString(),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { access_token: string }).access_token;
}

type Credential = { bearer: string } | { apikey: string } | null;

function headersOf(credential: Credential): Record<string, string> {
  if (!credential) return {};
  return 'bearer' in credential ? { authorization: `Bearer ${credential.bearer}` } : { authorization: `Apikey ${credential.apikey}` };
}

async function createKey(server: RunningServer, token: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${server.api}/auth/apikey`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ expires_in: null, note: null, ...body }),
  });
}

describe('access control: Tiled\'s tag-based policy over its compiled tags database', () => {
  let dir: string;
  let server: RunningServer;
  const credentials = new Map<string, Credential>();
  let tagKey: string;
  let pathKey: string;

  const get = (path: string, who: string): Promise<Response> => fetch(`${server.api}${path}`, { headers: headersOf(credentials.get(who) ?? null) });
  const json = async (path: string, who: string): Promise<Record<string, unknown>> => {
    const response = await get(path, who);
    expect([path, who, response.status]).toEqual([path, who, 200]);
    return (await response.json()) as Record<string, unknown>;
  };
  const searchKeys = async (path: string, who: string): Promise<string[]> => ((await json(`/search${path}`, who)).data as { id: string }[]).map((d) => d.id);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-access-'));
    writeTiledTagsDatabase(join(dir, 'compiled_tags.sqlite'));
    server = await startTiled(['serve', 'config', configFor(dir, 'sqlite:///auth.db')], { cwd: dir });
    credentials.set('anonymous', null);
    const tokens = await Promise.all(USERS.map((user) => login(server, user)));
    USERS.forEach((user, i) => credentials.set(user, { bearer: tokens[i] }));
    const alice = (credentials.get('alice') as { bearer: string }).bearer;
    const tagged = await createKey(server, alice, { scopes: ['read:metadata', 'read:data', 'create:apikeys'], access_tags: ['data_B'] });
    expect(tagged.status).toBe(200);
    tagKey = ((await tagged.json()) as { secret: string }).secret;
    const bound = await createKey(server, alice, { scopes: null, path: 'b/' });
    expect(bound.status).toBe(200);
    pathKey = ((await bound.json()) as { secret: string }).secret;
    credentials.set('alice tag key', { apikey: tagKey });
    credentials.set('alice path key', { apikey: pathKey });
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('compiles the tag definitions into the same views as Tiled\'s compiler, and names the tag and user of every error', async () => {
    const ours = join(dir, 'ours.sqlite');
    const compiled = await runTiled(['admin', 'compile-tags', join(FIXTURES, 'tag_definitions.yml'), ours, '--groups', join(FIXTURES, 'groups.yml')]);
    expect([compiled.code, compiled.stderr]).toEqual([0, `Wrote ${ours}: 6 tags (2 public), 1 with owners\n`]);
    expect(viewsOf(ours)).toEqual(viewsOf(join(dir, 'compiled_tags.sqlite')));
    // The page's copy of the definitions compiles to the same database.
    writeFileSync(join(dir, 'doc_tags.yml'), docBlock('## Tag definitions', 'yaml'));
    const fromDoc = join(dir, 'doc.sqlite');
    expect((await runTiled(['admin', 'compile-tags', join(dir, 'doc_tags.yml'), fromDoc, '--groups', join(FIXTURES, 'groups.yml')])).code).toBe(0);
    expect(viewsOf(fromDoc)).toEqual(viewsOf(join(dir, 'compiled_tags.sqlite')));

    const bad = await runTiled(['admin', 'compile-tags', join(FIXTURES, 'bad_tag_definitions.yml'), '--check']);
    expect(bad.code).toBe(1);
    expect(bad.stderr.replace(FIXTURES + '/', '')).toBe(docBlock('every problem is listed', 'text'));
    expect(bad.stderr).toContain('6 problems');
    expect(bad.stderr).toContain("tag data_A, user alice: cannot define both 'scopes' and 'role'");
    expect(bad.stderr).toContain("tag data_A, user bob: must define either 'scopes' or 'role'");
    expect(bad.stderr).toContain('tag data_B, user cara: role nobody is not defined');
    expect(bad.stderr).toContain('tag data_B: auto_tag data_missing has no definition');
    expect(bad.stderr).toContain("tag public: the 'public' tag cannot be redefined");
    expect(bad.stderr).toContain('role reader: invalid scopes fly:away');
  });

  it.each(Object.entries(SEES))('%s sees exactly its row of the table: listing, count, search count, distinct', async (who, sees) => {
    expect(await searchKeys('/', who)).toEqual(sees);
    const root = (await json('/metadata/', who)).data as { attributes: { structure: { count: number } } };
    expect(root.attributes.structure.count).toBe(sees.length);
    expect(((await json('/search/', who)).meta as { count: number }).count).toBe(sees.length);
    const kinds = new Map<string, number>();
    const kindOf: Record<string, string> = { public_data: 'public', a: 'shared', b: 'shared', c: 'shared', alices: 'mine', open: 'open' };
    for (const key of sees) kinds.set(kindOf[key], (kinds.get(kindOf[key]) ?? 0) + 1);
    const distinct = (await json('/distinct/?metadata=kind&counts=true', who)).metadata as { kind: { value: string; count: number }[] };
    expect(new Map(distinct.kind.map((d) => [d.value, d.count]))).toEqual(kinds);
    for (const hidden of ALL_TOP.filter((key) => !sees.includes(key))) {
      const response = await get(`/metadata/${hidden}`, who);
      expect([hidden, response.status, ((await response.json()) as { detail: string }).detail]).toEqual([hidden, 404, `No such entry: ['${hidden}']`]);
      // Below a hidden node nothing exists either, whatever its own blob says.
      expect((await get(`/array/full/${hidden}/arr`, who)).status).toBe(404);
    }
  });

  it('serves each node\'s access blob, and data only where the policy grants read:data (403 where only metadata is granted)', async () => {
    const b = (await json('/metadata/b', 'eve')).data as { attributes: { access_blob: unknown } };
    expect(b.attributes.access_blob).toEqual({ tags: ['data_B'] });
    const refused = await get('/array/full/b/arr', 'eve');
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { detail: string }).detail).toBe(
      "Not enough permissions to perform this action on this node. Requires scopes ['read:data']. Principal had scopes ['read:metadata'] on this node.",
    );
    await server.waitForOutput(docBlock('Refusals are logged', 'text').replace('WARN [Access] ', '').trim());
    expect((await get('/array/full/b/sub/deep', 'alice')).status).toBe(200);
    expect((await get('/array/full/alices/arr', 'alice')).status).toBe(200);
    expect((await get('/array/full/public_data/arr', 'anonymous')).status).toBe(200);
    // Container export walks with read:data: eve's copy of the root leaves out what she may only see.
    const exported = (await json('/container/full/?format=json', 'eve')).contents as Record<string, unknown>;
    expect(Object.keys(exported)).toEqual(['public_data', 'open']);
    expect(Object.keys((await json('/container/full/?format=json', 'alice')).contents as object)).toEqual(SEES.alice);
  });

  it('restricts a key with access_tags to its tags: no user-owned nodes, no public ones outside them', async () => {
    expect(await searchKeys('/', 'alice tag key')).toEqual(TABLE.get("alice's key with `access_tags: [data_B]`"));
    expect((await get('/metadata/alices', 'alice tag key')).status).toBe(404);
    expect((await get('/metadata/public_data', 'alice tag key')).status).toBe(404);
    expect((await get('/array/full/b/sub/deep', 'alice tag key')).status).toBe(200);
  });

  it('binds a key to its subtree: outside it (ancestors included) nothing exists, inside it the owner\'s rights apply', async () => {
    expect(TABLE.get("alice's key with `path: /b`")).toEqual([]);
    for (const path of ['/metadata/', '/search/', '/metadata/a', '/metadata/alices', '/distinct/', '/container/full/', '/array/full/open']) {
      expect([path, (await get(path, 'alice path key')).status]).toEqual([path, 404]);
    }
    expect(await searchKeys('/b', 'alice path key')).toEqual(['arr', 'sub']);
    expect((await get('/array/full/b/sub/deep', 'alice path key')).status).toBe(200);
  });

  it('keeps keys within what their owner and the calling key may have', async () => {
    const alice = (credentials.get('alice') as { bearer: string }).bearer;
    const foreign = await createKey(server, alice, { scopes: ['read:metadata'], access_tags: ['data_C'] });
    expect(foreign.status).toBe(403);
    expect(((await foreign.json()) as { detail: string }).detail).toBe("Cannot restrict an API key to access tag 'data_C': alice holds no scopes on tag data_C.");

    const viaTagKey = (body: Record<string, unknown>): Promise<Response> =>
      fetch(`${server.api}/auth/apikey`, { method: 'POST', headers: { authorization: `Apikey ${tagKey}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await viaTagKey({ scopes: ['read:metadata'] })).status).toBe(403);
    expect((await viaTagKey({ scopes: ['read:metadata'], access_tags: ['data_B'] })).status).toBe(200);

    const whoami = (await json('/auth/whoami', 'alice')) as { api_keys: { access_tags: string[] | null; path?: string }[] };
    expect(whoami.api_keys.map((key) => [key.access_tags, key.path ?? null])).toEqual([
      [['data_B'], null],
      [null, '/b'],
      [['data_B'], null],
    ]);
  });

  it('explains refusals layer by layer, and a hidden node exactly like a missing one', async () => {
    const explain = async (who: string, path: string, scope = 'read:metadata'): Promise<Record<string, unknown>> =>
      json(`/auth/explain?path=${encodeURIComponent(path)}&scope=${scope}`, who);
    const hidden = await explain('alice', '/c/arr');
    const missing = await explain('alice', '/nope/arr');
    expect(hidden).toEqual({ ...missing, path: '/c/arr', reason: "No such entry: ['c', 'arr']", layers: [
      { layer: 'role', outcome: 'allowed', detail: 'the credential holds read:metadata' },
      { layer: 'lookup', outcome: 'refused', detail: "No such entry: ['c', 'arr']" },
    ] });
    expect(hidden).toMatchObject({ allowed: false, decided_by: 'lookup' });

    expect(await explain('eve', '/b/arr', 'read:data')).toEqual(JSON.parse(docBlock('"Why was I refused?"', 'json')));
    expect(await explain('alice', '/b/arr', 'read:data')).toMatchObject({ allowed: true, decided_by: 'node tags', reason: 'tag data_B: grants read:data read:metadata' });
    expect(await explain('alice tag key', '/b', 'write:metadata')).toMatchObject({ allowed: false, decided_by: 'key scopes' });
    expect(await explain('alice path key', '/a')).toMatchObject({ allowed: false, decided_by: 'key subtree', reason: 'the API key is bound to /b; /a is outside it' });
  });

  it('answers `tiled whoami --explain` and shows the key\'s path in `tiled api_key list`', async () => {
    const home = new ClientHome();
    try {
      expect((await home.run(['profile', 'create', server.url, '--name', 'p'])).code).toBe(0);
      const refused = await home.run(['whoami', '--profile', 'p', '--explain', '/a'], { env: { TILED_API_KEY: pathKey } });
      const shown = docBlock('From the command line', 'text').split('\n').slice(1).join('\n');
      expect([refused.code, refused.stdout]).toEqual([1, shown]);
      const allowed = await home.run(['whoami', '--profile', 'p', '--explain', '/b/arr', '--scope', 'read:data'], { env: { TILED_API_KEY: pathKey } });
      expect([allowed.code, allowed.stdout.split('\n')[0]]).toEqual([0, 'ALLOWED: read:data on /b/arr (decided by node tags: tag data_B: grants read:data read:metadata)']);
      const whoami = await home.run(['whoami', '--profile', 'p'], { env: { TILED_API_KEY: pathKey } });
      expect(whoami.stdout).toBe(`alice\nAPI key ${pathKey.slice(0, 8)}: bound to /b\n`);
      const list = await home.run(['api_key', 'list', '--profile', 'p'], { env: { TILED_API_KEY: pathKey } });
      expect(list.stdout.split('\n')[0]).toMatch(/Access tags\s+Path$/);
      expect(list.stdout).toMatch(new RegExp(`${pathKey.slice(0, 8)}.*-\\s+/b\\n`));
    } finally {
      home.cleanup();
    }
  });
});

// The SQLite auth database is the first suite's; this one adds PostgreSQL when the test environment has it.
const withPostgres = testEngines().includes('postgres');
(withPostgres ? describe : describe.skip)('key tags and subtree stored in the auth database (postgres)', () => {
  const engine = 'postgres';
  let db: TestDatabase;
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-access-pg-'));
    writeTiledTagsDatabase(join(dir, 'compiled_tags.sqlite'));
    server = await startTiled(['serve', 'config', configFor(dir, db.uri)], { cwd: dir });
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a key\'s access_tags and path and enforces them', async () => {
    const alice = await login(server, 'alice');
    const created = await createKey(server, alice, { scopes: ['read:metadata', 'read:data'], access_tags: ['data_B'], path: '/b/sub' });
    expect(created.status).toBe(200);
    const key = (await created.json()) as { secret: string; access_tags: string[]; path: string };
    expect([key.access_tags, key.path]).toEqual([['data_B'], '/b/sub']);
    const get = (path: string): Promise<Response> => fetch(`${server.api}${path}`, { headers: { authorization: `Apikey ${key.secret}` } });
    expect((await get('/array/full/b/sub/deep')).status).toBe(200);
    expect((await get('/metadata/b')).status).toBe(404);
    const inspected = (await (await get('/auth/apikey')).json()) as { path: string; access_tags: string[] };
    expect([inspected.access_tags, inspected.path]).toEqual([['data_B'], '/b/sub']);
  });
});

describe('access control through an external policy decision point (Tiled\'s ExternalPolicyDecisionPoint protocol)', () => {
  let dir: string;
  let pdp: Server;
  let server: RunningServer;
  const asked: { endpoint: string; input: Record<string, unknown> }[] = [];

  beforeAll(async () => {
    // The decision point: alice may see data_A and read what is tagged with it; nobody else sees any tag.
    pdp = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        const { input } = JSON.parse(body) as { input: Record<string, unknown> };
        const endpoint = request.url ?? '';
        asked.push({ endpoint, input });
        const alice = input.identity === 'alice';
        const tags = Array.isArray(input.tags) ? (input.tags as string[]) : null;
        const result =
          endpoint === '/v1/tags' ? (alice ? ['data_A'] : []) : endpoint === '/v1/scopes' ? (tags === null || (alice && tags.includes('data_A')) ? ['read:metadata', 'read:data'] : []) : true;
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ result }));
      });
    });
    await new Promise<void>((resolve) => pdp.listen(0, '127.0.0.1', resolve));
    const port = (pdp.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'tiled-access-pdp-'));
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      yaml.dump({
        trees: [{ path: '/', tree: `${join(FIXTURES, 'tree.js')}:tree` }],
        authentication: { providers: [{ provider: 'toy', authenticator: 'dictionary', args: { users_to_passwords: { alice: 'alice-pw', bob: 'bob-pw' } } }] },
        access_control: {
          access_policy: 'external-pdp',
          args: { authorization_provider: `http://127.0.0.1:${port}/v1/`, create_node_endpoint: 'allow', allowed_tags_endpoint: 'tags', scopes_endpoint: 'scopes', provider: 'toy' },
        },
      }),
    );
    server = await startTiled(['serve', 'config', config]);
  });

  afterAll(async () => {
    await server?.stop();
    await new Promise((resolve) => pdp?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('filters children by the tags the decision point allows and reads by the scopes it grants', async () => {
    const alice = await login(server, 'alice');
    const bob = await login(server, 'bob');
    const list = async (token: string): Promise<string[]> =>
      ((await (await fetch(`${server.api}/search/`, { headers: { authorization: `Bearer ${token}` } })).json()) as { data: { id: string }[] }).data.map((d) => d.id);
    expect(await list(alice)).toEqual(['a', 'open']);
    expect(await list(bob)).toEqual(['open']);
    expect((await fetch(`${server.api}/array/full/a/arr`, { headers: { authorization: `Bearer ${alice}` } })).status).toBe(200);
    expect((await fetch(`${server.api}/metadata/a`, { headers: { authorization: `Bearer ${bob}` } })).status).toBe(404);
    const question = asked.find((q) => q.endpoint === '/v1/scopes' && Array.isArray(q.input.tags));
    expect(question?.input).toMatchObject({ identity: 'alice', tags: ['data_A'], access_tags: null, principal: { type: 'user', identities: [{ id: 'alice', provider: 'toy' }] } });
  });
});

describe('a third-party access policy module, in single-user mode', () => {
  let dir: string;
  let server: RunningServer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-access-module-'));
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      yaml.dump({
        trees: [{ path: '/', tree: `${join(FIXTURES, 'tree.js')}:tree` }],
        authentication: { single_user_api_key: 'secretSingleUserKey0123' },
        access_control: { access_policy: `${join(FIXTURES, 'metadata-only-policy.js')}:MetadataOnly`, args: { except: 'b/arr' } },
      }, { lineWidth: -1 }), // one line per key, however long the checkout's path: the test edits these lines with regexes
    );
    server = await startTiled(['serve', 'config', config]);
  });

  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is loaded from `module:Export` with its args checked, and its per-node scopes are enforced', async () => {
    const get = (path: string): Promise<Response> => fetch(`${server.api}${path}`, { headers: { authorization: 'Apikey secretSingleUserKey0123' } });
    expect((await get('/metadata/a/arr')).status).toBe(200);
    expect((await get('/array/full/a/arr')).status).toBe(403);
    expect((await get('/array/full/b/arr')).status).toBe(200);
    const bad = join(dir, 'bad.yml');
    writeFileSync(bad, readFileSync(join(dir, 'config.yml'), 'utf8').replace('except:', 'unexpected:'));
    const checked = await runTiled(['admin', 'check-config', bad]);
    expect([checked.code, checked.stdout + checked.stderr]).toEqual([1, expect.stringContaining('access_control.args: unknown key "unexpected"')]);
    const missing = join(dir, 'missing.yml');
    writeFileSync(missing, readFileSync(join(dir, 'config.yml'), 'utf8').replace(/access_policy: .*/, "access_policy: 'tiled.access_control.access_policies:TagBasedAccessPolicy'").replace(/args:[^\n]*\n(\s+except[^\n]*\n)?/, "args: {provider: toy, tags_db: {uri: 'file:missing.sqlite'}}\n"));
    const noTags = await runTiled(['admin', 'check-config', missing]);
    expect(noTags.stdout + noTags.stderr).toMatch(/tags database \S*missing\.sqlite does not exist \(compile one with `tiled admin compile-tags TAGS_YAML/);
  });
});

describe('`tiled api_key create --path` against a server that ignores `path` (as Tiled 0.2.16 does)', () => {
  it('revokes the unbound key it got instead of handing it out', async () => {
    const revoked: string[] = [];
    const tiled = createServer((request, response) => {
      const url = new URL(request.url ?? '/', 'http://x');
      const base = `http://127.0.0.1:${(tiled.address() as AddressInfo).port}/api/v1`;
      response.setHeader('content-type', 'application/json');
      if (request.method === 'GET' && url.pathname === '/api/v1/') {
        response.end(JSON.stringify({ api_version: 0, authentication: { required: false, providers: [], links: { apikey: `${base}/auth/apikey`, whoami: `${base}/auth/whoami` } } }));
      } else if (request.method === 'POST' && url.pathname === '/api/v1/auth/apikey') {
        response.end(JSON.stringify({ first_eight: '0123abcd', expiration_time: null, note: null, scopes: ['inherit'], access_tags: null, latest_activity: null, secret: `0123abcd${'0'.repeat(64)}` }));
      } else if (request.method === 'DELETE' && url.pathname === '/api/v1/auth/apikey') {
        revoked.push(url.searchParams.get('first_eight') ?? '');
        response.statusCode = 204;
        response.end();
      } else {
        response.statusCode = 404;
        response.end('{"detail":"Not Found"}');
      }
    });
    await new Promise<void>((resolve) => tiled.listen(0, '127.0.0.1', resolve));
    const home = new ClientHome();
    try {
      await home.run(['profile', 'create', `http://127.0.0.1:${(tiled.address() as AddressInfo).port}`, '--name', 'old']);
      const created = await home.run(['api_key', 'create', '--profile', 'old', '--path', '/b'], { env: { TILED_API_KEY: 'someKey0123' } });
      expect([created.code, created.stdout, revoked]).toEqual([1, '', ['0123abcd']]);
      expect(created.stderr).toContain("This server ignored the key's path");
    } finally {
      home.cleanup();
      await new Promise((resolve) => tiled.close(resolve));
    }
  });
});
