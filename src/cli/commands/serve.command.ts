import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { AppConfig } from '../../config/app-config';
import { ConfigError, configForTree, defaultConfigPath, loadConfig } from '../../config/config-loader';
import { SingleUserKeyError } from '../../auth/single-user-key';
import { CliError } from '../cli-error';
import { scalabilityProblems } from '../../config/scalability';
import type { TreeNode } from '../../catalog/tree/tree.types';
import { registerServeDirectoryCommand } from './serve-directory.command';

/** What a command that builds its own tree (`serve directory`) hands runServer. */
export interface ServedTree {
  catalogRoot?: TreeNode;
  /** Runs once the server listens (the directory is indexed then, as Tiled does), told where and with which key. */
  afterListen?: (server: { url: string; apiKey?: string }) => Promise<void>;
}

export interface ServeFlags {
  host?: string;
  port?: number;
  public?: boolean;
  apiKey?: string;
  verbose?: boolean;
  scalable?: boolean;
  logTimestamps?: boolean;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be an integer from 0 to 65535, not "${value}"`, 2);
  return port;
}

export function addServeFlags(command: Command): Command {
  return command
    .option('--host <host>', 'Bind socket to this host (default: 127.0.0.1, or uvicorn.host from the config)')
    .option('--port <port>', 'Bind to a socket with this port (default: 8000, or uvicorn.port from the config)', parsePort)
    .option('--public', 'Turn on public mode: anonymous callers may read metadata and data')
    .addOption(new Option('--api-key <key>', 'Set the single-user API key (else TILED_SINGLE_USER_API_KEY, else a random one)'))
    .option('-v, --verbose', 'Log every request (API keys in URLs are redacted)')
    .option('--scalable', 'Refuse to start unless the configuration works for several replicas (fixed keys, PostgreSQL)')
    .option('--log-timestamps', 'Begin each access-log line with its UTC time (with --verbose)')
    .helpOption('-h, --help', 'Show this message and exit');
}

export function registerServeCommands(program: Command): void {
  const serve = program
    .command('serve')
    .description('Launch a Tiled server.')
    .helpOption('-h, --help', 'Show this message and exit');

  addServeFlags(serve.command('demo').description('Serve the built-in generated demo tree (single-user).')).action(
    async (flags: ServeFlags) => runServer(configOrExit(() => configForTree('demo', process.cwd())), flags),
  );

  addServeFlags(
    serve
      .command('config')
      .description('Serve from a YAML configuration file or a directory of them.')
      .argument('[config_path]', 'File or directory (default: TILED_CONFIG, else ./config.yml)'),
  ).action(async (configPath: string | undefined, flags: ServeFlags) => {
    const path = configPath ?? defaultConfigPath();
    process.stderr.write(`Using configuration from ${path}\n`);
    await runServer(await loadOrExit(path), flags);
  });

  addServeFlags(
    serve
      .command('catalog')
      .description('Serve a catalog: a database of nodes, with data written under --write directories.')
      .argument('[database]', 'A filepath or database URI (sqlite:///catalog.db, postgresql://user@host/db)')
      .option('-r, --read <path>', 'Locations that the server may read from', collect, [])
      .option('-w, --write <path>', 'Locations that the server may write to', collect, [])
      .option('--temp', 'Make a new catalog in a temporary directory.')
      .option('--init', 'Initialize a new catalog database.'),
  ).action(async (database: string | undefined, flags: ServeFlags & CatalogFlags) => {
    await runServer(configOrExit(() => catalogConfig(database, flags)), flags);
  });

  addServeFlags(
    serve
      .command('module')
      .description('Serve a tree exported by a JavaScript module (like Tiled\'s "serve pyobject").')
      .argument('<specifier>', 'Module and export, e.g. ./my-tree.js:tree'),
  ).action(async (specifier: string, flags: ServeFlags) => {
    await runServer(configOrExit(() => configForTree(specifier, process.cwd())), flags);
  });

  registerServeDirectoryCommand(serve);
}

interface CatalogFlags {
  read: string[];
  write: string[];
  temp?: boolean;
  init?: boolean;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

const CATALOG_USAGE = `A catalog must be specified. Either use a temporary catalog:
    tiled serve catalog --temp
or initialize a new catalog, e.g.
    tiled catalog init catalog.db
    tiled serve catalog catalog.db
or use an existing one:
    tiled serve catalog catalog.db
`;

/** Tiled's \`serve catalog\`: the catalog tree at '/', its storage from the flags, with Tiled's printed lines. */
function catalogConfig(database: string | undefined, flags: CatalogFlags): AppConfig {
  const write = [...flags.write];
  let uri = database;
  let init = flags.init === true;
  if (flags.temp) {
    if (database !== undefined) {
      process.stderr.write('The option --temp was set but a database was also provided. Do one or the other.\n');
      throw new CliError('Aborted!', 1);
    }
    const directory = mkdtempSync(join(tmpdir(), 'tmp'));
    process.stderr.write(`Initializing temporary storage in ${directory}\n`);
    uri = `sqlite:///${join(directory, 'catalog.db')}`;
    init = true;
    process.stderr.write(`  catalog database:          ${join(directory, 'catalog.db')}\n`);
    if (write.length === 0) {
      const data = join(directory, 'data');
      mkdirSync(data);
      process.stderr.write(`  writable file storage:     ${data}\n`);
      const tabular = join(directory, 'data.sqlite');
      process.stderr.write(`  writable tabular storage:  ${tabular}\n`);
      write.push(data, `sqlite:///${tabular}`);
    }
  } else if (database === undefined) {
    process.stderr.write(CATALOG_USAGE);
    throw new CliError('Aborted!', 1);
  }
  if (write.length === 0) {
    process.stderr.write('This catalog will be served as read-only. To make it writable, specify a writable directory with --write.\n');
  }
  const base = configForTree('catalog', process.cwd());
  const args = { uri, writable_storage: write, readable_storage: flags.read, init_if_not_exists: init };
  return { ...base, trees: [{ ...base.trees[0], args }] };
}

/** A bad TILED_* environment variable is a configuration error too: exit 2 before anything listens. */
export function configOrExit(build: () => AppConfig): AppConfig {
  try {
    return build();
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

async function loadOrExit(path: string): Promise<AppConfig> {
  try {
    return await loadConfig(path);
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

/** Apply the CLI flags over the config, build the app exactly as tests do, listen, print the connect URL. */
export async function runServer(base: AppConfig, flags: ServeFlags, served: ServedTree = {}): Promise<void> {
  // The server stack (Nest, Fastify) is loaded only by `serve`: client commands start without it.
  const { connectBanner, createApp, afterListen } = await import('../../server/bootstrap');
  const config: AppConfig = {
    ...base,
    authentication: {
      ...base.authentication,
      allow_anonymous_access: flags.public ? true : base.authentication.allow_anonymous_access,
    },
    server: {
      host: flags.host ?? base.server.host,
      port: flags.port ?? base.server.port,
      verbose: flags.verbose ?? base.server.verbose,
      logTimestamps: flags.logTimestamps ?? false,
    },
  };
  if (flags.scalable) {
    const problems = scalabilityProblems(config, flags.apiKey);
    if (problems.length) {
      throw new CliError(`--scalable: this configuration cannot run as several replicas:\n  - ${problems.join('\n  - ')}`, 2);
    }
  }
  let built;
  try {
    built = await createApp(config, { apiKey: flags.apiKey, catalogRoot: served.catalogRoot });
  } catch (error) {
    // Catalog databases opened with the trees would keep a failed start alive (a PostgreSQL pool).
    await (await import('../../catalog/writable/catalog-handle')).closeCatalogs();
    if (error instanceof SingleUserKeyError || error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
  const { app, singleUserKey } = built;
  for (const warning of [...(config.warnings ?? []), ...(singleUserKey?.warnings ?? [])]) process.stderr.write(`WARNING: ${warning}\n`);
  try {
    await app.listen(config.server.port, config.server.host);
  } catch (error) {
    const code = (error as { code?: string }).code;
    await app.close().catch(() => undefined);
    if (code === 'EADDRINUSE') throw new CliError(`Port ${config.server.port} on ${config.server.host} is already in use; choose another with --port`, 1);
    throw error;
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  if (singleUserKey?.generated) process.stderr.write(connectBanner(config.server.host, port, singleUserKey.key));
  process.stderr.write(`Tiled (tiled-ts) running on http://${config.server.host}:${port} (Press CTRL+C to quit)\n`);
  afterListen(app);
  // A wildcard address is not one a client connects to.
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  await served.afterListen?.({ url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, apiKey: singleUserKey?.key });
}
