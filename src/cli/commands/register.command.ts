import { Command } from 'commander';
import { CliError } from '../cli-error';

interface RegisterFlags {
  verbose?: boolean;
  watch?: boolean;
  prefix?: string;
  keepExt?: boolean;
  includeExt?: string[];
  ext?: string[];
  adapter?: string[];
  apiKey?: string;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** `tiled register URI DIR` (Tiled 0.2.16's flags): register a folder's files in a catalog over HTTP. */
export function registerRegisterCommand(program: Command): void {
  program
    .command('register')
    .description('Register files in a folder with a Tiled catalog server (POST /register), without copying them.')
    .argument('<uri>', 'The server (or the container in it) to register under, e.g. http://localhost:8000')
    .argument('<filepath>', 'The folder (or file) to register')
    .option('-v, --verbose', 'Print a line for each node registered, re-registered or removed')
    .option('-w, --watch', 'Keep running: register added files, re-register changed ones, remove deleted ones')
    .option('-p, --prefix <path>', "Register under this path inside the URI's node, e.g. /raw/2024")
    .option('--keep-ext', "Register 'measurements.csv' as 'measurements.csv' instead of 'measurements'")
    .option('--include-ext <ext>', 'Register only files with this extension, e.g. --include-ext .csv (repeatable)', collect)
    .option('--ext <mapping>', "Map a file extension to a mimetype, e.g. '.tif=image/tiff' (repeatable)", collect)
    .option('--adapter <mapping>', "Read a mimetype with a third-party adapter: 'mimetype=module:export' (repeatable)", collect)
    .option('--api-key <key>', 'API key (default: TILED_API_KEY, or ?api_key= in the URI)')
    .action(async (uri: string, filepath: string, flags: RegisterFlags) => register(uri, filepath, flags));
}

/** The adapter registry of `--ext` and `--adapter`, or a usage error naming the bad option. */
export async function registryFromFlags(flags: { ext?: string[]; adapter?: string[] }): Promise<import('../../adapters/registry').AdapterRegistry> {
  const { parseAdapterOption, parseExtOption, loadAdapter, createAdapterRegistry, AdapterConfigError } = await import('../../adapters/registry');
  try {
    const adapters = [];
    for (const option of flags.adapter ?? []) {
      const [mimetype, spec] = parseAdapterOption(option);
      adapters.push(await loadAdapter(mimetype, spec, { where: `--adapter '${option}'`, baseDir: process.cwd() }));
    }
    return createAdapterRegistry({ mimetypesByFileExt: new Map((flags.ext ?? []).map(parseExtOption)), adapters });
  } catch (error) {
    if (error instanceof AdapterConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

export function includeExtFromFlags(includeExt: string[] | undefined): string[] | undefined {
  return includeExt?.map((ext) => {
    if (!ext.startsWith('.')) throw new CliError(`--include-ext "${ext}": include the leading dot, e.g. .csv`, 2);
    return ext;
  });
}

async function register(uri: string, filepath: string, flags: RegisterFlags): Promise<void> {
  const { parseTiledUri } = await import('../../client');
  const { FolderRegistrar, RegisterConnectionError, RegisterHttpError } = await import('../register-client');
  const { resolveRoot } = await import('../../adapters/directory');
  let target;
  try {
    target = parseTiledUri(uri);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const prefix = (flags.prefix ?? '').split('/').filter(Boolean);
  const includeExt = includeExtFromFlags(flags.includeExt);
  const registry = await registryFromFlags(flags);
  try {
    await resolveRoot(filepath);
  } catch (error) {
    throw new CliError((error as Error).message, 2);
  }
  const verbose = Boolean(flags.verbose);
  const registrar = new FolderRegistrar(filepath, {
    apiUri: target.apiUri,
    prefix: [...target.path, ...prefix],
    apiKey: flags.apiKey ?? target.apiKey ?? process.env.TILED_API_KEY,
    registry,
    keepExt: flags.keepExt,
    includeExt,
    log: (line) => {
      if (verbose) process.stderr.write(`${line}\n`);
    },
    warn: (line) => process.stderr.write(`WARNING: ${line}\n`),
  });
  try {
    const count = await registrar.sync();
    process.stdout.write(`Registered ${count} nodes from ${filepath}.\n`);
  } catch (error) {
    if (error instanceof RegisterHttpError) throw new CliError(`${uri} answered ${error.status}: ${error.message}`, 1);
    if (error instanceof RegisterConnectionError) throw new CliError(`Cannot connect to ${uri}: ${error.message}. Is the server running?`, 1);
    throw error;
  }
  if (flags.watch) {
    process.stdout.write(`Watching ${filepath} for changes...\n`);
    registrar.watch();
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        registrar.close();
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  }
}
