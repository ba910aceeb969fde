import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { defaultConfigPath } from '../../config/config-loader';
import { CliError } from '../cli-error';
import { addCreateKeyOptions, CreateKeyFlags, keyOptionsFrom, printKeys, printSecret } from './api-key.command';
import { authenticatedContext, ProfileFlags, profileOption } from './login.command';

function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

function nonNegativeInt(name: string): (value: string) => number {
  return (value: string) => {
    const parsed = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(parsed)) throw new CliError(`${name} must be a non-negative integer, not "${value}"`, 2);
    return parsed;
  };
}

const UUID = /^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$/;

function checkUuid(uuid: string): string {
  if (!UUID.test(uuid)) throw new CliError(`'${uuid}' is not a principal UUID (as shown by \`tiled admin list-principals\`)`, 2);
  return uuid;
}

type DatabaseAdmin = typeof import('../../database/admin-database');

async function databaseStep(step: (database: DatabaseAdmin) => Promise<string>): Promise<void> {
  try {
    // TypeORM and the drivers are loaded only by the database commands, not by every `tiled` invocation.
    process.stderr.write(`${await step(await import('../../database/admin-database'))}\n`);
  } catch (error) {
    throw new CliError(error instanceof Error ? error.message : String(error));
  }
}

/** `tiled admin …`: database maintenance, configuration checks, and principal/key administration. */
export function registerAdminCommands(program: Command): void {
  const admin = program
    .command('admin')
    .description('Administrative utilities for managing large deployments.')
    .helpOption('-h, --help', 'Show this message and exit')
    .helpCommand(false)
    .action(() => admin.outputHelp());

  admin
    .command('initialize-database')
    .description('Create the tables of a new authentication database and seed the default roles.')
    .argument('<database_uri>', 'e.g. sqlite:///path/to/auth.db or postgresql://user@host/db')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((uri: string) => databaseStep((database) => database.initializeDatabase(uri)));

  admin
    .command('upgrade-database')
    .description('Apply pending migrations to an authentication database (back it up first).')
    .argument('<database_uri>', 'e.g. sqlite:///path/to/auth.db or postgresql://user@host/db')
    .argument('[revision]', 'Stop after this migration (name or timestamp); default: the newest')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((uri: string, revision: string | undefined) => databaseStep((database) => database.upgradeDatabase(uri, revision)));

  admin
    .command('downgrade-database')
    .description('Undo migrations of an authentication database down to a revision, to run an older tiled-ts (back it up first).')
    .argument('<database_uri>', 'e.g. sqlite:///path/to/auth.db or postgresql://user@host/db')
    .argument('<revision>', "Keep migrations up to this one (name or timestamp); 'base' undoes them all")
    .helpOption('-h, --help', 'Show this message and exit')
    .action((uri: string, revision: string) => databaseStep((database) => database.downgradeDatabase(uri, revision)));

  admin
    .command('compile-tags')
    .description("Compile access-tag definitions (Tiled's YAML: roles, tags, tag_owners) into the tags database the tag-based access policy reads.")
    .argument('<tags_yaml>', 'The tag definitions')
    .argument('[database]', 'The SQLite file to write (created if missing; its content is replaced)')
    .option('--groups <groups_yaml>', 'Group memberships: a mapping of group name to a list of user names')
    .option('--check', 'Only check the definitions; write nothing')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (tagsYaml: string, database: string | undefined, flags: { groups?: string; check?: boolean }) => {
      const { compileTagDefinitions, readGroups, writeTagsDatabase, TagDefinitionError } = await import('../../access/tags-compiler');
      if (!flags.check && !database) throw new CliError('Name the database file to write, or pass --check', 2);
      let compiled;
      try {
        const groups = flags.groups ? readGroups(flags.groups) : new Map<string, string[]>();
        compiled = compileTagDefinitions(readFileSync(tagsYaml, 'utf8'), groups);
      } catch (error) {
        if (error instanceof TagDefinitionError) throw new CliError(`${tagsYaml}: ${error.message}`);
        throw new CliError(`${tagsYaml}: ${error instanceof Error ? error.message : String(error)}`);
      }
      for (const warning of compiled.warnings) process.stderr.write(`Warning: ${warning}\n`);
      const summary = `${compiled.tags.size} tags (${compiled.publicTags.size} public), ${compiled.owners.size} with owners`;
      if (flags.check) {
        process.stderr.write(`${tagsYaml}: OK, ${summary}\n`);
        return;
      }
      writeTagsDatabase(database!, compiled);
      process.stderr.write(`Wrote ${database}: ${summary}\n`);
    });

  admin
    .command('check-config')
    .description('Run the checks `serve` makes of a configuration (schema, plugins, trees, database URI) without starting a server.')
    .argument('[config_path]', 'File or directory (default: TILED_CONFIG, else ./config.yml)')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (path: string | undefined) => {
      // The server's own checks, loaded only for this command: plugins, trees and Nest are not small.
      const { checkDeployment } = await import('../../server/validate-deployment');
      const { errors, warnings } = await checkDeployment(path ?? defaultConfigPath());
      for (const warning of warnings) process.stderr.write(`WARNING: ${warning}\n`);
      if (errors.length) {
        for (const problem of errors) process.stderr.write(`${problem}\n`);
        process.exitCode = 1;
        return;
      }
      process.stderr.write('No errors found in configuration.\n');
    });

  admin
    .command('list-principals')
    .description('List principals (users and services) as JSON. Needs read:principals.')
    .argument('[page_offset]', 'Skip this many principals', nonNegativeInt('page_offset'), 0)
    .argument('[page_limit]', 'Show at most this many', nonNegativeInt('page_limit'), 100)
    .addOption(profileOption())
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (offset: number, limit: number, flags: ProfileFlags) => {
      const context = await authenticatedContext(flags);
      printJson(await context.admin.listPrincipals(offset, limit));
    });

  admin
    .command('show-principal')
    .description('Show one principal as JSON. Needs read:principals.')
    .argument('<uuid>', 'Principal UUID')
    .addOption(profileOption())
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (uuid: string, flags: ProfileFlags) => {
      const context = await authenticatedContext(flags);
      printJson(await context.admin.showPrincipal(checkUuid(uuid)));
    });

  admin
    .command('create-service-principal')
    .description('Create a service principal (a non-human account) and print it as JSON. Needs write:principals.')
    .option('--role <role>', 'Role of the new principal', 'user')
    .addOption(profileOption())
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (flags: ProfileFlags & { role: string }) => {
      const context = await authenticatedContext(flags);
      printJson(await context.admin.createServicePrincipal(flags.role));
    });

  const createFor = async (uuid: string, flags: CreateKeyFlags): Promise<void> => {
    const options = keyOptionsFrom(flags);
    const context = await authenticatedContext(flags);
    printSecret((await context.admin.createApiKey(checkUuid(uuid), options)).secret);
  };

  addCreateKeyOptions(
    admin
      .command('create-api-key')
      .description("Create an API key for another principal (e.g. a service) and print its secret. Needs admin:apikeys.")
      .argument('<uuid>', 'Principal UUID'),
  )
    .helpOption('-h, --help', 'Show this message and exit')
    .action(createFor);

  const apiKey = admin
    .command('api-key')
    .description("Create, list, and revoke other principals' API keys (Tiled's spelling).")
    .helpOption('-h, --help', 'Show this message and exit')
    .helpCommand(false)
    .action(() => apiKey.outputHelp());

  addCreateKeyOptions(apiKey.command('create').description('Same as `tiled admin create-api-key`.').argument('<uuid>', 'Principal UUID'))
    .helpOption('-h, --help', 'Show this message and exit')
    .action(createFor);

  apiKey
    .command('list')
    .description("List a principal's API keys.")
    .argument('<uuid>', 'Principal UUID')
    .addOption(profileOption())
    .option('--json', 'Print the keys as JSON, for scripts')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (uuid: string, flags: ProfileFlags & { json?: boolean }) => {
      const context = await authenticatedContext(flags);
      printKeys((await context.admin.showPrincipal(checkUuid(uuid))).api_keys, Boolean(flags.json));
    });

  apiKey
    .command('revoke')
    .description("Revoke a principal's API key by its first eight characters (or the whole key).")
    .argument('<uuid>', 'Principal UUID')
    .argument('<first_eight>', 'First eight characters of the key, or the full key')
    .addOption(profileOption())
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (uuid: string, firstEight: string, flags: ProfileFlags) => {
      const context = await authenticatedContext(flags);
      await context.admin.revokeApiKey(checkUuid(uuid), firstEight);
    });
}
