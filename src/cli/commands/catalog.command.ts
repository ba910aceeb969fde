import { Command } from 'commander';
import { CliError } from '../cli-error';

type CatalogAdmin = typeof import('../../catalog/writable/catalog-database');

async function catalogStep(step: (catalog: CatalogAdmin) => Promise<string>): Promise<void> {
  try {
    // TypeORM and the drivers are loaded only by these commands, not by every `tiled` invocation.
    const message = await step(await import('../../catalog/writable/catalog-database'));
    if (message) process.stderr.write(`${message}\n`);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

/** `tiled catalog …`: create and migrate the database of a writable catalog (`tiled serve catalog`). */
export function registerCatalogCommands(program: Command): void {
  const catalog = program
    .command('catalog')
    .description('Manage a catalog of data sources.')
    .helpOption('-h, --help', 'Show this message and exit')
    .helpCommand(false)
    .action(() => catalog.outputHelp());

  catalog
    .command('init')
    .description('Initialize a database as a Tiled Catalog.')
    .argument('[database]', 'A filepath or database URI (sqlite:///catalog.db, postgresql://user@host/db)', 'catalog.db')
    .option('--if-not-exists', 'By default, it is an error if a database is already initialized. Set this flag to be permissive and return without an error.')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((uri: string, flags: { ifNotExists?: boolean }) => catalogStep((admin) => admin.initCatalog(uri, flags.ifNotExists === true)));

  catalog
    .command('upgrade-database')
    .description('Upgrade the catalog database schema to the latest version (back it up first).')
    .argument('<database_uri>', 'e.g. sqlite:///catalog.db or postgresql://user@host/db')
    .argument('[revision]', 'Stop after this migration (name or timestamp); default: the newest')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((uri: string, revision: string | undefined) => catalogStep((admin) => admin.upgradeCatalog(uri, revision)));

  catalog
    .command('downgrade-database')
    .description('Downgrade the catalog database schema to a previous version (base: before the first).')
    .argument('<database_uri>', 'e.g. sqlite:///catalog.db or postgresql://user@host/db')
    .argument('<revision>', 'The migration to go back to (name or timestamp), or base')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((uri: string, revision: string) => catalogStep((admin) => admin.downgradeCatalog(uri, revision)));
}
