import { Command, CommanderError } from 'commander';
import { registerServeCommands } from './commands/serve.command';
import { registerProfileCommands } from './commands/profile.command';
import { registerLoginCommands } from './commands/login.command';
import { registerApiKeyCommands } from './commands/api-key.command';
import { registerAdminCommands } from './commands/admin.command';
import { registerTreeCommand } from './commands/tree.command';
import { registerCatalogCommands } from './commands/catalog.command';
import { registerRegisterCommand } from './commands/register.command';
import { CliError } from './cli-error';
import { TILED_TS_VERSION } from '../about/about.constants';

/** Every command registers itself here; each lives in commands/ and stays thin. */
export function buildProgram(): Command {
  const program = new Command('tiled')
    .description('tiled-ts: serve and access scientific data, wire-compatible with Tiled')
    .version(TILED_TS_VERSION, '--version', 'Show the version and exit')
    .helpOption('-h, --help', 'Show this message and exit')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommands(program);
  registerProfileCommands(program);
  registerLoginCommands(program);
  registerApiKeyCommands(program);
  registerTreeCommand(program);
  registerAdminCommands(program);
  registerCatalogCommands(program);
  registerRegisterCommand(program);
  return program;
}

/**
 * A reader that stops early (`tiled tree | head`) closes the pipe: the output is no longer wanted, so
 * the command ends there, quietly and successfully, instead of dying on an unhandled EPIPE.
 */
function endQuietlyWhenOutputCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(0);
  });
}

export async function main(argv: string[]): Promise<void> {
  endQuietlyWhenOutputCloses(process.stdout);
  endQuietlyWhenOutputCloses(process.stderr);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (error) {
    process.exitCode = exitCodeFor(error);
  }
}

function exitCodeFor(error: unknown): number {
  if (error instanceof CommanderError) {
    // --help and --version exit 0; usage errors have already been printed by commander.
    return error.exitCode === 0 ? 0 : 2;
  }
  if (error instanceof CliError) {
    process.stderr.write(`Error: ${error.message}\n`);
    return error.exitCode;
  }
  process.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
  return 1;
}
