import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command, Option } from 'commander';
import { configForTree } from '../../config/config-loader';
import { CliError } from '../cli-error';
import { addServeFlags, configOrExit, runServer, type ServeFlags } from './serve.command';
import { includeExtFromFlags, registryFromFlags } from './register.command';

interface DirectoryFlags extends ServeFlags {
  watch?: boolean;
  keepExt?: boolean;
  includeExt?: string[];
  ext?: string[];
  adapter?: string[];
  allowSymlinksOutside?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * `tiled serve directory DIR`, as Tiled 0.2.16 does it: a temporary catalog whose readable storage is DIR,
 * the server, then the folder registered into it over HTTP with the single-user key (docs/files.md).
 */
export function registerServeDirectoryCommand(serve: Command): void {
  addServeFlags(
    serve
      .command('directory')
      .description('Serve a directory of files (CSV, Excel, Parquet, ...) read-only.')
      .argument('<directory>', 'The directory to serve')
      .option('-w, --watch', 'Update the served tree when files are added, removed, or changed')
      .option('--keep-ext', "Serve 'measurements.csv' as 'measurements.csv' instead of 'measurements'")
      .option('--include-ext <ext>', 'Serve only files with this extension, e.g. --include-ext .csv (repeatable)', collect)
      .option('--ext <mapping>', "Map a file extension to a mimetype, e.g. '.tif=image/tiff' (repeatable)", collect)
      .option('--adapter <mapping>', "Read a mimetype with a third-party adapter: 'mimetype=module:export' (repeatable)", collect)
      .addOption(new Option('--allow-symlinks-outside', 'Follow symbolic links that point outside the directory (skipped by default)')),
  ).action(async (directory: string, flags: DirectoryFlags) => serveDirectory(directory, flags));
}

async function serveDirectory(directory: string, flags: DirectoryFlags): Promise<void> {
  const { resolveRoot } = await import('../../adapters/directory');
  const { FolderRegistrar } = await import('../register-client');
  const { setExternalRegistry } = await import('../../catalog/writable/register-external');
  const includeExt = includeExtFromFlags(flags.includeExt);
  const registry = await registryFromFlags(flags);
  let root: string;
  try {
    root = await resolveRoot(directory);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  // The server in this process reads the registered files with the same adapters the walk chose them by.
  setExternalRegistry(registry);
  const temp = mkdtempSync(join(tmpdir(), 'tmp'));
  const database = join(temp, 'catalog.db');
  process.stderr.write(`Creating catalog database at ${database}\n`);
  const base = configOrExit(() => configForTree('catalog', process.cwd()));
  const config = { ...base, trees: [{ ...base.trees[0], args: { uri: `sqlite:///${database}`, writable_storage: [], readable_storage: [resolve(root)], init_if_not_exists: true } }] };
  const verbose = Boolean(flags.verbose);
  await runServer(config, flags, {
    afterListen: async (server) => {
      const registrar = new FolderRegistrar(directory, {
        apiUri: `${server.url}/api/v1/`,
        prefix: [],
        apiKey: server.apiKey,
        registry,
        keepExt: flags.keepExt,
        includeExt,
        allowSymlinksOutside: flags.allowSymlinksOutside,
        log: (line) => {
          if (verbose) process.stderr.write(`${line}\n`);
        },
        warn: (line) => process.stderr.write(`WARNING: ${line}\n`),
      });
      process.stdout.write(`Server is up. Indexing files in ${directory}...\n`);
      await registrar.sync();
      if (flags.watch) {
        registrar.watch();
        process.stdout.write('Initial indexing complete. Watching for changes...\n');
      } else {
        process.stdout.write('Indexing complete.\n');
      }
    },
  });
}
