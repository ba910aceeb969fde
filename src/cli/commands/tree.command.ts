import { Command, InvalidArgumentError } from 'commander';
import { Container, parseTiledUri } from '../../client';
import { fetchNode } from '../../client/nodes';
import { treeLines } from '../../client/tree';
import { CliError } from '../cli-error';
import { authenticatedContext, ProfileFlags, profileOption, profileTarget } from './login.command';

const DEFAULT_MAX_LINES = 20;

function positiveInteger(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new InvalidArgumentError('expected a whole number of lines, at least 1.');
  return parsed;
}

export function registerTreeCommand(program: Command): void {
  program
    .command('tree')
    .description('Show the tree of entries under the profile\'s server (or the node its URI points at).')
    .argument('[max_lines]', 'Show at most this many lines', positiveInteger, DEFAULT_MAX_LINES)
    .addOption(profileOption())
    .action(async (maxLines: number, flags: ProfileFlags) => {
      const { path } = parseTiledUri(profileTarget(flags).uri);
      const context = await authenticatedContext(flags);
      const root = await fetchNode(context, path);
      if (!(root instanceof Container)) throw new CliError(`/${path.join('/')} is not a container (its structure family is ${root.structureFamily}), so it has no tree.`);
      let printed = 0;
      for await (const line of treeLines(root)) {
        if (printed === maxLines) {
          // Tiled's wording, placeholder included.
          process.stdout.write(`Output truncated at ${maxLines} lines. Use \`tiled tree <N>\` to see <N> lines.\n`);
          break;
        }
        process.stdout.write(`${line}\n`);
        printed += 1;
      }
    });
}
