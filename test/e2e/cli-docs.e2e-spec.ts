import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runTiled } from '../helpers/tiled-process';

interface HelpSections {
  commands: string[];
  options: string[];
}

/** Commander help: command names from "Commands:", long flags (without --help) from "Options:". */
function parseHelp(text: string): HelpSections {
  const sections: HelpSections = { commands: [], options: [] };
  let section: keyof HelpSections | undefined;
  for (const line of text.split('\n')) {
    if (/^Commands:/.test(line)) section = 'commands';
    else if (/^Options:/.test(line)) section = 'options';
    else if (/^\S/.test(line)) section = undefined;
    else if (section && /^ {2}\S/.test(line)) {
      const head = line.trim().split(/\s{2,}/)[0];
      if (section === 'commands') sections.commands.push(head.split(' ')[0]);
      else sections.options.push(...(head.match(/--[a-z][a-z-]*/g) ?? []).filter((flag) => flag !== '--help'));
    }
  }
  return sections;
}

/** Every leaf command reachable from `tiled --help`, with its options. */
async function walk(path: string[]): Promise<Map<string, string[]>> {
  const result = await runTiled([...path, '--help'], { timeoutMs: 60000 });
  expect(result.code).toBe(0);
  const help = parseHelp(result.stdout);
  const leaves = new Map<string, string[]>();
  const children = help.commands.filter((name) => name !== 'help');
  if (!children.length) {
    leaves.set(['tiled', ...path].join(' '), help.options);
    return leaves;
  }
  // One at a time: dozens of CLI processes starting at once starve each other on a busy machine.
  for (const child of children) for (const [k, v] of await walk([...path, child])) leaves.set(k, v);
  return leaves;
}

/** Rows of the command table in docs/cli.md: command (without arguments) → options cell. */
function documentedCommands(): Map<string, string> {
  const rows = new Map<string, string>();
  for (const line of readFileSync(join(__dirname, '..', '..', 'docs', 'cli.md'), 'utf8').split('\n')) {
    const match = /^\| `(tiled [^`]+)` \|([^|]*)\|/.exec(line);
    if (!match) continue;
    const command = match[1].split(' ').filter((word) => !/^[<[]/.test(word)).join(' ');
    rows.set(command, match[2]);
  }
  return rows;
}

describe('docs/cli.md', () => {
  let actual: Map<string, string[]>;
  const documented = documentedCommands();

  beforeAll(async () => {
    actual = await walk([]);
  }, 300000);

  it('documents every command that `tiled --help` reaches, and no other', () => {
    expect([...documented.keys()].sort()).toEqual([...actual.keys()].sort());
  });

  it('lists every option of every command, and no option that does not exist', () => {
    for (const [command, options] of actual) {
      const cell = documented.get(command) ?? '';
      const listed = (cell.match(/--[a-z][a-z-]*/g) ?? []).sort();
      expect({ command, options: listed }).toEqual({ command, options: [...new Set(options)].sort() });
    }
  });

  it('makes `tiled api_key` alone print the guide\'s help: create, list, revoke', async () => {
    const result = await runTiled(['api_key']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Create, list, and revoke API keys.');
    expect(parseHelp(result.stdout).commands).toEqual(['create', 'list', 'revoke']);
  });
});
