import { Command, Option } from 'commander';
import { configForTree } from '../../config/config-loader';
import { CliError } from '../cli-error';
import { addServeFlags, configOrExit, runServer, type ServeFlags } from './serve.command';

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
 * `tiled serve directory DIR`: Tiled's flags and printed lines. Tiled registers the folder into a temporary
 * catalog over HTTP; until the writable catalog lands this serves the folder through the walker directly
 * (docs/files.md, "Serving a folder").
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
  // The adapters (and their libraries) are loaded only by this command.
  const { parseAdapterOption, parseExtOption, loadAdapter, createAdapterRegistry, AdapterConfigError } = await import('../../adapters/registry');
  const { DirectoryIndex, resolveRoot } = await import('../../adapters/directory');
  const include = flags.includeExt?.map((ext) => {
    if (!ext.startsWith('.')) throw new CliError(`--include-ext "${ext}": include the leading dot, e.g. .csv`, 2);
    return ext;
  });
  let registry;
  try {
    await resolveRoot(directory);
    const mimetypesByFileExt = new Map((flags.ext ?? []).map(parseExtOption));
    const adapters = [];
    for (const option of flags.adapter ?? []) {
      const [mimetype, spec] = parseAdapterOption(option);
      adapters.push(await loadAdapter(mimetype, spec, { where: `--adapter '${option}'`, baseDir: process.cwd() }));
    }
    registry = createAdapterRegistry({ mimetypesByFileExt, adapters });
  } catch (error) {
    if (error instanceof AdapterConfigError || (error as Error).name === 'AdapterError') throw new CliError((error as Error).message, 2);
    throw error;
  }
  const verbose = Boolean(flags.verbose);
  const index = new DirectoryIndex(directory, {
    registry,
    keepExt: flags.keepExt,
    includeExt: include,
    allowSymlinksOutside: flags.allowSymlinksOutside,
    logger: {
      log: (message: unknown) => {
        if (verbose) process.stderr.write(`${String(message)}\n`);
      },
      warn: (message: unknown) => {
        process.stderr.write(`WARNING: ${String(message)}\n`);
      },
    },
  });
  await runServer(
    configOrExit(() => configForTree('demo', process.cwd())),
    flags,
    {
      catalogRoot: index.root,
      afterListen: async () => {
        process.stdout.write(`Server is up. Indexing files in ${directory}...\n`);
        if (flags.watch) {
          // Watching starts before the first walk, so a change made during it is not missed (as Tiled).
          index.watch((count) => {
            if (verbose) process.stderr.write(`Re-indexed ${directory}: ${count} entries\n`);
          });
          await index.refresh();
          process.stdout.write('Initial indexing complete. Watching for changes...\n');
        } else {
          await index.refresh();
          process.stdout.write('Indexing complete.\n');
        }
      },
    },
  );
}
