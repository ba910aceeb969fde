import { Command } from 'commander';
import { ApiKeyInfo, CreateApiKeyOptions } from '../../client/context';
import { formatUtc, parseTimeString } from '../../client/time';
import { CliError } from '../cli-error';
import { authenticatedContext, ProfileFlags, profileOption } from './login.command';

export interface CreateKeyFlags extends ProfileFlags {
  expiresIn?: string;
  scopes?: string[];
  accessTags?: string[];
  note?: string;
  path?: string;
}

/** Options shared by `api_key create` and `admin create-api-key`. */
export function addCreateKeyOptions(command: Command): Command {
  return command
    .addOption(profileOption())
    .option('--expires-in <time>', 'Lifetime: seconds (600) or a number and unit s, m, h, d, y (10m, 3d, 1y); default: never expires')
    .option('--scopes <scope...>', 'Restrict the key to these scopes (repeat the flag or list several); default: inherit the owner\'s')
    .option('--access-tags <tag...>', 'Restrict the key to these access tags (needs explicit --scopes)')
    .option('--note <text>', 'A note to recognise the key by in `tiled api_key list`')
    .option('--path <path>', 'Bind the key to this subtree (e.g. /beamline/2026-03): outside it the key sees nothing (tiled-ts)')
    .option('--no-verify', 'Accepted for compatibility with Tiled; has no effect');
}

export function keyOptionsFrom(flags: CreateKeyFlags): CreateApiKeyOptions {
  let expiresIn: number | undefined;
  if (flags.expiresIn !== undefined) {
    try {
      expiresIn = parseTimeString(flags.expiresIn);
    } catch (error) {
      throw new CliError(`--expires-in: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return { scopes: flags.scopes, accessTags: flags.accessTags, expiresIn, note: flags.note, path: flags.path };
}

/** Secrets go to stdout alone so `$(tiled api_key create)` captures exactly the key. */
export function printSecret(secret: string): void {
  process.stdout.write(`${secret}\n`);
  if (process.stderr.isTTY) process.stderr.write('Store this key now: it will not be shown again.\n');
}

/**
 * Tiled's key table (as 31-cli-session.txt shows it) with its columns, `-` placeholders and datetime format, but
 * aligned on every row. The Access tags column appears only when some key has tags.
 */
export function apiKeysTable(keys: readonly ApiKeyInfo[]): string {
  const withTags = keys.some((key) => key.access_tags && key.access_tags.length);
  const withPath = keys.some((key) => key.path);
  const header = ['First 8', 'Expires at (UTC)', 'Latest activity', 'Note', 'Scopes', ...(withTags ? ['Access tags'] : []), ...(withPath ? ['Path'] : [])];
  const rows = keys.map((key) => [
    key.first_eight,
    formatUtc(key.expiration_time),
    formatUtc(key.latest_activity),
    key.note ?? '',
    key.scopes.length ? key.scopes.join(' ') : '-',
    ...(withTags ? [key.access_tags ? key.access_tags.map((tag) => tag.replace(/ /g, '\\ ')).join(' ') : '-'] : []),
    ...(withPath ? [key.path ?? '/'] : []),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column].length)));
  const line = (cells: string[]): string =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] + 2)))
      .join('')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function printKeys(keys: readonly ApiKeyInfo[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  if (!keys.length) {
    process.stderr.write('No API keys found\n');
    return;
  }
  process.stdout.write(apiKeysTable(keys));
}


export function registerApiKeyCommands(program: Command): void {
  const group = program
    .command('api_key')
    .description('Create, list, and revoke API keys.')
    .helpOption('-h, --help', 'Show this message and exit')
    .helpCommand(false)
    .action(() => group.outputHelp());

  addCreateKeyOptions(group.command('create').description('Create an API key and print its secret (only the secret, on stdout).'))
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (flags: CreateKeyFlags) => {
      const options = keyOptionsFrom(flags);
      const context = await authenticatedContext(flags);
      const key = await context.createApiKey(options);
      printSecret(key.secret);
    });

  group
    .command('list')
    .description('List your API keys (never their secrets).')
    .addOption(profileOption())
    .option('--json', 'Print the keys as JSON, for scripts')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (flags: ProfileFlags & { json?: boolean }) => {
      const context = await authenticatedContext(flags);
      const about = await context.about();
      if (!about.authentication.links) {
        throw new CliError('This Tiled server is deployed as a single-user server: it has a single, static API key and no key list.');
      }
      const principal = await context.whoami();
      if (!principal) throw new CliError('Not authenticated. Log in with `tiled login`, or set TILED_API_KEY.');
      printKeys(principal.api_keys, Boolean(flags.json));
    });

  group
    .command('revoke')
    .description('Revoke an API key, given its first eight characters (as `list` shows) or the whole key.')
    .argument('<first_eight>', 'First eight characters of the key, or the full key')
    .addOption(profileOption())
    .helpOption('-h, --help', 'Show this message and exit')
    .action(async (firstEight: string, flags: ProfileFlags) => {
      if (!/^[0-9a-fA-F]{8}/.test(firstEight)) throw new CliError(`'${firstEight}' does not start with eight hex characters`);
      const context = await authenticatedContext(flags);
      await context.revokeApiKey(firstEight);
    });
}
