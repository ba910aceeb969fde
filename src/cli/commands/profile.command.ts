import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import {
  clearDefaultProfile,
  createProfile,
  deleteProfile,
  getDefaultProfileName,
  loadProfiles,
  profileYaml,
  setDefaultProfileName,
} from '../../client/profiles';
import { profileSearchPath } from '../../client/paths';
import { CliError } from '../cli-error';

function unknownProfile(name: string): CliError {
  return new CliError(`The profile '${name}' could not be found. Use tiled profile list to see profile names.`);
}

/** `tiled profile …`: client-side profiles as YAML files in the user's config directory (docs/cli.md). */
export function registerProfileCommands(program: Command): void {
  const profile = program
    .command('profile')
    .description('Examine Tiled profiles (client-side configuration).')
    .helpOption('-h, --help', 'Show this message and exit')
    .helpCommand(false)
    .action(() => profile.outputHelp());

  profile
    .command('create')
    .description('Create a profile for a Tiled server and (by default) make it the default.')
    .argument('<uri>', 'Server URL, e.g. http://localhost:8000')
    .option('--name <name>', 'Profile name', 'auto')
    .option('--set-default', 'Make it the default profile (the default)', true)
    .option('--no-set-default', 'Do not make it the default profile')
    .option('--overwrite', 'Replace an existing profile of the same name')
    .option('--no-verify', 'Do not verify TLS certificates')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((uri: string, flags: { name: string; setDefault: boolean; overwrite?: boolean; verify: boolean }) => {
      try {
        createProfile(flags.name, uri, { verify: flags.verify, overwrite: flags.overwrite });
      } catch (error) {
        throw new CliError(error instanceof Error ? error.message : String(error));
      }
      if (flags.setDefault) {
        setDefaultProfileName(flags.name);
        process.stderr.write(`Tiled profile '${flags.name}' created and set as the default.\n`);
      } else {
        process.stderr.write(`Tiled profile '${flags.name}' created.\n`);
      }
    });

  profile
    .command('list')
    .description('List the profiles and the files they come from.')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(() => {
      const profiles = [...loadProfiles().values()];
      if (!profiles.length) {
        process.stderr.write('No profiles found.\n');
        return;
      }
      const width = Math.max(...profiles.map((p) => p.name.length)) + 4;
      for (const entry of profiles) process.stdout.write(`${entry.name.padEnd(width)}${entry.source}\n`);
    });

  profile
    .command('show')
    .description('Show the content of a profile.')
    .argument('<name>', 'Profile name')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((name: string) => {
      const entry = loadProfiles().get(name);
      if (!entry) throw unknownProfile(name);
      process.stderr.write(`Source: ${entry.source}\n--\n`);
      process.stdout.write(profileYaml(entry.profile));
    });

  profile
    .command('edit')
    .description('Open a profile\'s file in $VISUAL or $EDITOR (else the desktop\'s opener), then check it.')
    .argument('<name>', 'Profile name')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((name: string) => {
      const entry = loadProfiles().get(name);
      if (!entry) throw unknownProfile(name);
      openInEditor(entry.source);
      const problems: string[] = [];
      const after = loadProfiles((message) => {
        if (message.includes(entry.source)) problems.push(message);
      });
      if (problems.length) throw new CliError(`${entry.source} no longer loads:\n${problems.join('\n')}`);
      if (!after.has(name)) process.stderr.write(`Note: ${entry.source} no longer defines a profile named '${name}'.\n`);
    });

  profile
    .command('delete')
    .description('Delete a profile (and clear the default if it was this one).')
    .argument('<name>', 'Profile name')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((name: string) => {
      if (!deleteProfile(name)) throw unknownProfile(name);
      process.stderr.write(`Tiled profile '${name}' deleted.\n`);
    });

  profile
    .command('set-default')
    .description('Make a profile the default one.')
    .argument('<name>', 'Profile name')
    .helpOption('-h, --help', 'Show this message and exit')
    .action((name: string) => {
      if (!loadProfiles().has(name)) throw unknownProfile(name);
      setDefaultProfileName(name);
    });

  profile
    .command('get-default')
    .description('Show the default profile.')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(() => {
      const name = getDefaultProfileName();
      const entry = name ? loadProfiles().get(name) : undefined;
      if (!name || !entry) {
        process.stderr.write('No default.\n');
        return;
      }
      process.stdout.write(`# Profile name: '${name}'\n# ${entry.source}\n\n${profileYaml(entry.profile)}`);
    });

  profile
    .command('clear-default')
    .description('Forget which profile is the default.')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(() => clearDefaultProfile());

  profile
    .command('paths')
    .description('List the directories searched for profiles, lowest precedence first.')
    .helpOption('-h, --help', 'Show this message and exit')
    .action(() => {
      for (const dir of profileSearchPath()) process.stdout.write(`${dir}\n`);
    });
}

/**
 * Wait for the user's editor when one is configured (run through the shell, as git does, so that
 * `EDITOR="code --wait"` works); otherwise hand the file to the desktop, as Tiled does, without waiting.
 */
function openInEditor(file: string): void {
  const editor = process.env.VISUAL || process.env.EDITOR;
  if (editor) {
    const result = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit' });
    if (result.error || result.status !== 0) {
      throw new CliError(`The editor (${editor}) failed${result.status !== null ? ` with exit code ${result.status}` : ''}; ${file} is unchanged unless it saved.`);
    }
    return;
  }
  const opener = process.platform === 'darwin' ? 'open' : 'xdg-open';
  const result = spawnSync(opener, [file], { stdio: 'ignore' });
  if (result.error || result.status !== 0) {
    throw new CliError(`Could not open ${file} with ${opener}. Set EDITOR (e.g. EDITOR=nano) or edit the file directly.`);
  }
}
