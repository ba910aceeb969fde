import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SuiteBrowser } from '../helpers/browser';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { Mode, MODES, routeEntries } from './route-table';

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
}

interface Operation {
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

interface Document {
  openapi: string;
  info: { title: string };
  paths: Record<string, Record<string, Operation>>;
  components: {
    securitySchemes: Record<string, { type: string; in?: string; name?: string; flows?: { password?: { tokenUrl: string } } }>;
    schemas?: Record<string, Schema>;
  };
}

/** Tiled 0.2.16's own document, captured from a running Tiled (the compatibility suites' fixture). */
const TILED = JSON.parse(readFileSync(join(__dirname, '..', 'compat', 'fixtures', 'tiled-0.2.16', 'openapi.json'), 'utf8')) as Document;

/**
 * The data routes answer the data itself, in the negotiated format (a nested list in JSON, Arrow, HDF5, …);
 * Tiled 0.2.16 declares them as answering its generic `Response` envelope, which they never send.
 */
const DATA_ROUTE = /^\/api\/v1\/(array|table|container|node)\//;

/** `METHOD path` with Tiled's and this server's spellings of one route made equal (trailing slash, parameter names). */
function operationKey(method: string, path: string): string {
  const normal = path.replace(/\{[^}]+\}/g, '{}').replace(/\/$/, '');
  return `${method.toUpperCase()} ${normal}`;
}

function operations(document: Document): Map<string, { path: string; method: string; operation: Operation }> {
  const found = new Map<string, { path: string; method: string; operation: Operation }>();
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) found.set(operationKey(method, path), { path, method, operation });
  }
  return found;
}

/** The schema a `$ref` names, and (for nullable or list answers) the object schema inside. */
function resolve(document: Document, schema: Schema | undefined): Schema | undefined {
  if (!schema) return undefined;
  if (schema.$ref) return resolve(document, document.components.schemas?.[schema.$ref.replace('#/components/schemas/', '')]);
  if (schema.anyOf) return resolve(document, schema.anyOf.find((option) => option.type !== 'null'));
  if (schema.type === 'array') return resolve(document, schema.items);
  return schema;
}

function jsonResponse(operation: Operation): Schema | undefined {
  const ok = Object.entries(operation.responses ?? {}).find(([status]) => status.startsWith('2'));
  const schema = ok?.[1].content?.['application/json']?.schema;
  return schema && Object.keys(schema).length ? schema : undefined;
}

function requestSchema(operation: Operation): Schema | undefined {
  return Object.values(operation.requestBody?.content ?? {})[0]?.schema;
}

/** `METHOD path → access` in the route snapshot's terms, from the OpenAPI document. */
function documentedAccess(document: Document): string[] {
  const schemes = Object.keys(document.components.securitySchemes);
  const lines: string[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(item)) {
      const security = operation.security ?? [];
      // Every scheme must demand the same scopes: a key and a token grant the same things.
      const perScheme = new Set(security.map((requirement) => JSON.stringify(Object.values(requirement)[0])));
      expect(perScheme.size).toBeLessThanOrEqual(1);
      if (security.length) expect(security.map((requirement) => Object.keys(requirement)[0]).sort()).toEqual([...schemes].sort());
      const scopes = security.length ? (Object.values(security[0])[0] ?? []) : [];
      const access = security.length === 0 ? 'public' : scopes.length ? scopes.join(', ') : 'authenticated';
      lines.push(`${method.toUpperCase()} ${path} → ${access}`);
    }
  }
  return lines.sort();
}

async function expectedAccess(mode: Mode): Promise<string[]> {
  return (await routeEntries(mode))
    .map((route) => {
      const path = route.path.replace(/\/\*$/, '/{path}').replace(/:([A-Za-z_]\w*)/g, '{$1}');
      const access = route.access === 'scopes' ? route.scopes.join(', ') : route.access;
      return `${route.method} ${path} → ${access}`;
    })
    .sort();
}

const SERVE_ARGS: Record<Mode, string[]> = {
  'single-user': ['serve', 'demo', '--api-key', 'openapisecret0123456789'],
  'multi-user': ['serve', 'config', MODES['multi-user']],
};

describe.each(Object.keys(MODES) as Mode[])('GET /openapi.json in %s mode', (mode) => {
  let server: RunningServer;
  let document: Document;

  beforeAll(async () => {
    server = await startTiled(SERVE_ARGS[mode]);
    const response = await fetch(`${server.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    document = (await response.json()) as Document;
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
  });

  it('lists exactly the routes of the route table, each with the scopes the server enforces', async () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info.title).toBe('Tiled');
    expect(documentedAccess(document)).toEqual(await expectedAccess(mode));
  });

  it('declares every parameter of a path template', () => {
    const undeclared: string[] = [];
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        const declared = new Set((operation.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name));
        for (const [, name] of path.matchAll(/\{([^}]+)\}/g)) if (!declared.has(name)) undeclared.push(`${method} ${path}: ${name}`);
      }
    }
    expect(undeclared).toEqual([]);
  });

  it('gives every request body a schema with its fields, wherever Tiled takes a body', () => {
    const ours = operations(document);
    const problems: string[] = [];
    for (const [key, { operation }] of ours) {
      if (!operation.requestBody) continue;
      // A JSON object's fields, or the items of a list (column names), or bytes: never an empty schema.
      const schema = resolve(document, requestSchema(operation));
      const empty = !schema || Object.keys(schema).length === 0 || (schema.type === 'object' && Object.keys(schema.properties ?? {}).length === 0);
      if (empty) problems.push(`${key}: empty request schema`);
    }
    for (const [key, { operation }] of operations(TILED)) {
      const mine = ours.get(key);
      if (!mine || !operation.requestBody) continue;
      if (!mine.operation.requestBody) problems.push(`${key}: Tiled takes a body, the document shows none`);
    }
    expect(problems).toEqual([]);
  });

  it('gives every JSON answer Tiled describes a schema with Tiled\'s name and at least Tiled\'s fields', () => {
    const ours = operations(document);
    const problems: string[] = [];
    let compared = 0;
    for (const [key, { path, operation }] of operations(TILED)) {
      const mine = ours.get(key);
      const theirs = jsonResponse(operation);
      if (!mine || !theirs) continue;
      if (DATA_ROUTE.test(path)) {
        const types = Object.keys(Object.entries(mine.operation.responses ?? {}).find(([status]) => status.startsWith('2'))?.[1].content ?? {});
        if (!types.includes('application/octet-stream') && !types.includes('application/x-hdf5')) problems.push(`${key}: lists only ${types.join(', ')}`);
        continue;
      }
      // Tiled declares DELETE …/apikey as answering a Principal; it answers 204 with no body, and so does this server.
      if (mine.operation.responses?.['204']) continue;
      const schema = jsonResponse(mine.operation);
      if (!schema) {
        problems.push(`${key}: no response schema`);
        continue;
      }
      compared++;
      const expected = resolve(TILED, theirs);
      const actual = resolve(document, schema);
      const missing = Object.keys(expected?.properties ?? {}).filter((name) => !(name in (actual?.properties ?? {})));
      if (missing.length) problems.push(`${key}: lacks ${missing.join(', ')}`);
      const name = theirs.$ref?.split('/').pop();
      if (name && (schema.$ref ?? schema.anyOf?.[0]?.$ref ?? schema.items?.$ref)?.split('/').pop() !== name) {
        problems.push(`${key}: named ${JSON.stringify(schema)}, Tiled's is ${name}`);
      }
    }
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThanOrEqual(mode === 'multi-user' ? 16 : 8);
  });

  it('declares every query parameter Tiled declares, required where Tiled requires it', () => {
    const ours = operations(document);
    const problems: string[] = [];
    let compared = 0;
    for (const [key, { operation }] of operations(TILED)) {
      const mine = ours.get(key);
      if (!mine) continue;
      compared++;
      const declared = new Map((mine.operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => [p.name, p.required ?? false]));
      for (const parameter of operation.parameters ?? []) {
        if (parameter.in !== 'query') continue;
        if (!declared.has(parameter.name)) problems.push(`${key}: lacks ${parameter.name}`);
        else if (declared.get(parameter.name) !== (parameter.required ?? false)) problems.push(`${key}: ${parameter.name} required=${declared.get(parameter.name)}`);
      }
    }
    expect(problems).toEqual([]);
    expect(compared).toBeGreaterThan(30);
  });

  it('describes query and path parameters from the request DTOs', () => {
    const ours = operations(document);
    const parameters = (key: string): string[] =>
      (ours.get(key)?.operation.parameters ?? []).map((p) => `${p.in}:${p.name}${p.required ? '!' : ''}:${p.schema?.type ?? '?'}`).sort();
    if (mode === 'single-user') return;
    expect(parameters('GET /api/v1/auth/principal')).toEqual(['query:page[limit]:integer', 'query:page[offset]:integer']);
    expect(parameters('POST /api/v1/auth/principal')).toEqual(['query:role!:string']);
    expect(parameters('DELETE /api/v1/auth/principal/{}/apikey')).toEqual(['path:uuid!:string', 'query:first_eight!:string']);
    expect(parameters('DELETE /api/v1/auth/apikey')).toEqual(['query:first_eight!:string']);
  });

  it('offers the API key header (Apikey) and, with a password provider, its token route as the OAuth2 password flow', () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.Apikey).toMatchObject({ type: 'apiKey', in: 'header', name: 'Authorization' });
    expect(schemes.APIKeyQuery).toMatchObject({ type: 'apiKey', in: 'query', name: 'api_key' });
    expect(schemes.APIKeyCookie).toMatchObject({ type: 'apiKey', in: 'cookie', name: 'tiled_api_key' });
    if (mode === 'multi-user') {
      expect(schemes.OAuth2PasswordBearer.flows?.password?.tokenUrl).toBe('/api/v1/auth/provider/toy/token');
    } else {
      expect(schemes.OAuth2PasswordBearer).toBeUndefined();
    }
  });

  it('serves the interactive reference at /docs and at the about document\'s documentation link, from local assets only', async () => {
    const about = (await (await fetch(`${server.api}/`)).json()) as { links: { documentation: string } };
    for (const url of [`${server.url}/docs`, about.links.documentation]) {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await page.text();
      const references = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
      expect(references.length).toBeGreaterThan(0);
      expect(html).not.toMatch(/https?:\/\//);
      for (const reference of references) {
        expect(reference).toMatch(/^\/docs\//);
        const asset = await fetch(new URL(reference, url));
        expect({ reference, status: asset.status }).toEqual({ reference, status: 200 });
        const body = Buffer.from(await asset.arrayBuffer());
        expect(body.length).toBeGreaterThan(0);
      }
    }
    const init = await (await fetch(`${server.url}/docs/swagger-ui-init.js`)).text();
    expect(init).toContain('"/openapi.json"');
    expect(init).toMatch(/validatorUrl: null/);
  });

  it('answers 404 in Tiled\'s shape for a file that is not one of its assets', async () => {
    for (const name of ['package.json', '..%2Fpackage.json', 'constructor', 'swagger-ui-bundle.js.map']) {
      const response = await fetch(`${server.url}/docs/${name}`);
      expect({ name, status: response.status }).toEqual({ name, status: 404 });
      expect(await response.json()).toEqual({ detail: 'Not Found' });
    }
  });
});

describe('the interactive reference in a browser', () => {
  const browser = new SuiteBrowser();
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTiled(SERVE_ARGS['multi-user']);
  }, 30_000);

  afterAll(async () => {
    await browser.close();
    await server?.stop();
  });

  browser.it('renders every operation of the document, loading nothing from another host', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as Document;
    const operations = Object.values(document.paths).reduce((n, item) => n + Object.keys(item).length, 0);
    const page = await browser.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => errors.push(String(error)));
    await page.goto(`${server.api}/docs`);
    await page.waitForSelector('.opblock', { timeout: 20_000 });
    expect(await page.locator('.opblock').count()).toBe(operations);
    expect(await page.locator('.btn.authorize').count()).toBe(1);
    expect(requested).toContain(`${server.url}/openapi.json`);
    expect(requested.filter((url) => !url.startsWith(`${server.url}/`))).toEqual([]);
    expect(errors).toEqual([]);
  }, 60_000);
});

describe('cold start', () => {
  it('does not load @nestjs/swagger until the document is first asked for', () => {
    // The built server, as `tiled serve` loads it; @nestjs/swagger alone takes a couple of hundred milliseconds.
    const probe = [
      "require('reflect-metadata');",
      "require('./dist/src/server/bootstrap');",
      "process.stdout.write(String(Object.keys(require.cache).filter((f) => f.includes('@nestjs/swagger')).length));",
    ].join('');
    const result = spawnSync(process.execPath, ['-e', probe], { cwd: join(__dirname, '..', '..'), encoding: 'utf8' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe('0');
  });
});

