import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RunningServer, startTiled } from '../helpers/tiled-process';

/**
 * tiled-ts as others get it: `npm pack` of this (built) checkout, installed into an empty deployment
 * folder together with a third-party TypeScript authenticator compiled against the installed plugin API.
 * The plugin is test/fixtures/plugins/file-users, the example of docs/plugins/authoring.md.
 */
const ROOT = join(__dirname, '..', '..');
const PLUGIN_SOURCE = join(__dirname, '..', 'fixtures', 'plugins', 'file-users');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const run = promisify(execFile);
// As docs/plugins/authoring.md says, with --ignore-scripts: tiled-ts needs no install script, and npm would
// otherwise compile the better-sqlite3 12 it puts beside TypeORM (TypeORM's optional peer; tiled-ts hands
// TypeORM its own 13). npm answers from its cache (filled by `npm ci`) and asks the registry only for what
// is missing there.
const NPM_INSTALL = ['install', '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];

async function sh(command: string, args: string[], cwd: string): Promise<string> {
  try {
    const { stdout } = await run(command, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NODE_OPTIONS: '' } });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}

/** `npm pack` into `destination`; returns the tarball's path and the files it holds. */
async function pack(dir: string, destination: string): Promise<{ tarball: string; files: string[] }> {
  // The checkout is already built (pretest); --ignore-scripts skips the `prepare` build npm pack would run.
  const [result] = JSON.parse(await sh('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination], dir)) as {
    filename: string;
    files: { path: string }[];
  }[];
  return { tarball: join(destination, result.filename), files: result.files.map((file) => file.path) };
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

describe('the npm package, installed into an empty deployment folder', () => {
  let work: string;
  let deployment: string;
  let packed: string[];
  let server: RunningServer | undefined;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'tiled-package-'));
    const tiled = await pack(ROOT, work);
    packed = tiled.files;

    // The plugin author's project. Its dev dependencies are this checkout's typescript and @types/node, and
    // tiled-ts unpacked from the tarball: the package's own files, which is all the plugin API's types need.
    const plugin = join(work, 'file-users');
    cpSync(PLUGIN_SOURCE, plugin, { recursive: true });
    mkdirSync(join(plugin, 'node_modules', 'tiled-ts'), { recursive: true });
    mkdirSync(join(plugin, 'node_modules', '@types'));
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(plugin, 'node_modules', '@types', 'node'), 'dir');
    await sh('tar', ['-xzf', tiled.tarball, '-C', join(plugin, 'node_modules', 'tiled-ts'), '--strip-components=1'], plugin);
    await sh(process.execPath, [TSC, '-p', 'tsconfig.json', '--strict'], plugin);
    const pluginPackage = await pack(plugin, work);

    deployment = join(work, 'deployment');
    mkdirSync(deployment);
    writeFileSync(join(deployment, 'package.json'), JSON.stringify({ name: 'deployment', private: true }));
    await sh('npm', [...NPM_INSTALL, tiled.tarball, pluginPackage.tarball], deployment);

    writeFileSync(join(deployment, 'users.json'), JSON.stringify({ dana: sha256('pw-dana') }));
    writeFileSync(
      join(deployment, 'tree.js'),
      "const { arrayNode, containerNode } = require('tiled-ts/catalog');\n" +
        "exports.tree = containerNode({ numbers: arrayNode(Float64Array.from([1, 2, 3]), {}) }, { metadata: { title: 'installed' } });\n",
    );
    writeFileSync(
      join(deployment, 'config.yml'),
      [
        'authentication:',
        '  providers:',
        '    - provider: corp',
        '      authenticator: tiled-file-users',
        `      args: {users_file: ${JSON.stringify(join(deployment, 'users.json'))}}`,
        'database:',
        '  uri: sqlite:///./auth.db',
        '  init_if_not_exists: true',
        'trees: [{path: /, tree: "./tree.js:tree"}]',
        '',
      ].join('\n'),
    );
    server = await startTiled(['serve', 'config', 'config.yml'], { command: join(deployment, 'node_modules', '.bin', 'tiled'), cwd: deployment });
  }, 600000);

  afterAll(async () => {
    await server?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const login = (password: string): Promise<Response> =>
    fetch(`${server!.api}/auth/provider/corp/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'dana', password }).toString(),
    });

  it('ships the built server, the built-in plugins and the bin, and no sources or tests', () => {
    expect(packed).toEqual(expect.arrayContaining(['bin/tiled.js', 'dist/src/cli/main.js', 'dist/src/plugins-api/index.d.ts', 'dist/plugins/oauth2/src/index.js']));
    expect(packed.filter((file) => !/^(bin\/|dist\/src\/|dist\/plugins\/|package\.json$|README\.md$)/.test(file))).toEqual([]);
    expect(packed.filter((file) => /\.map$|\.spec\.|\.ts$/.test(file) && !file.endsWith('.d.ts'))).toEqual([]);
  });

  it('starts `tiled serve config` with the TypeScript plugin loaded from the deployment', () => {
    expect(server!.output()).toMatch(/Provider "corp": internal authenticator file-users@1\.0\.0/);
  });

  it('logs a user in through the plugin: password → token → whoami', async () => {
    const response = await login('pw-dana');
    expect(response.status).toBe(200);
    const { access_token } = (await response.json()) as { access_token: string };
    const whoami = await fetch(`${server!.api}/auth/whoami`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { identities: { provider: string; id: string }[] }).identities).toEqual([
      expect.objectContaining({ provider: 'corp', id: 'dana' }),
    ]);
    expect((await login('pw-nope')).status).toBe(401);
  });

  it("answers 503 when the plugin throws the installed API's ProviderUnavailableError", async () => {
    renameSync(join(deployment, 'users.json'), join(deployment, 'users.moved'));
    try {
      const response = await login('pw-dana');
      expect(response.status).toBe(503);
      expect(((await response.json()) as { detail: string }).detail).toBe('The login provider "corp" is unavailable. Try again later.');
    } finally {
      renameSync(join(deployment, 'users.moved'), join(deployment, 'users.json'));
    }
  });

  it("serves the client as 'tiled-ts/client' and 'tiled-ts' to an ES module in the deployment", async () => {
    writeFileSync(
      join(deployment, 'client.mjs'),
      [
        "import { Context, fromUri } from 'tiled-ts/client';",
        "import * as main from 'tiled-ts';",
        'const [url] = process.argv.slice(2);',
        'const context = await Context.connect(url, { rememberMe: false });',
        "await context.login('dana', 'pw-dana', 'corp');",
        'const me = await context.whoami();',
        "const key = await context.createApiKey({ scopes: ['read:metadata', 'read:data'], expiresIn: '10m' });",
        'const root = await fromUri(url, { apiKey: key.secret });',
        "const numbers = await root.get('numbers');",
        'const { data } = await numbers.read();',
        'console.log(JSON.stringify({ id: me.identities[0].id, title: root.metadata.title, data: Array.from(data),',
        "  main: [typeof main.fromUri, typeof main.definePlugin, typeof main.ProviderUnavailableError] }));",
      ].join('\n'),
    );
    const printed = JSON.parse(await sh(process.execPath, ['client.mjs', server!.url], deployment)) as unknown;
    expect(printed).toEqual({ id: 'dana', title: 'installed', data: [1, 2, 3], main: ['function', 'function', 'function'] });
  });

  it.each([
    ['"moduleResolution": "node16" (package exports)', ['--module', 'node16']],
    ['"moduleResolution": "node" (typesVersions)', ['--module', 'commonjs', '--moduleResolution', 'node']],
  ])('gives TypeScript the types of every entry point with %s', async (_label, options) => {
    writeFileSync(
      join(deployment, 'consumer.ts'),
      [
        "import { fromUri, type Container } from 'tiled-ts/client';",
        "import { definePlugin, isProviderUnavailable, PLUGIN_API_VERSION } from 'tiled-ts/plugins-api';",
        "import { containerNode } from 'tiled-ts/catalog';",
        "import { queries } from 'tiled-ts';",
        "import { AdapterError, type AdapterFactory } from 'tiled-ts/adapters-api';",
        "export const adapter: AdapterFactory = async ({ paths }) => { throw new AdapterError(`cannot read ${paths[0]}`, 422); };",
        "export const open = async (url: string): Promise<string> => ((await fromUri(url)) as Container).metadata.title as string;",
        "export const plugin = definePlugin({ meta: { name: 'x', version: '1', apiVersion: PLUGIN_API_VERSION }, argsSchema: {},",
        "  create: () => ({ mode: 'internal', authenticate: async () => ({ kind: 'rejected' }) }) });",
        'export const checks = [isProviderUnavailable(new Error()), containerNode({}), queries];',
        // A wrong type must fail: proves the imports are typed, not `any`.
        '// @ts-expect-error apiVersion is a number',
        "definePlugin({ meta: { name: 'x', version: '1', apiVersion: '1' }, argsSchema: {}, create: () => { throw new Error(); } });",
        '// @ts-expect-error an adapter error answers one of the statuses the contract lists',
        "new AdapterError('teapot', 418);",
        '',
      ].join('\n'),
    );
    await sh(process.execPath, [TSC, '--noEmit', '--strict', '--target', 'es2022', '--typeRoots', join(ROOT, 'node_modules', '@types'), '--types', 'node', ...options, 'consumer.ts'], deployment);
  });
});
