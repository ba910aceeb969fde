import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ClientHome,
  DocBlock,
  docBlocks,
  DocSubstitutions,
  normaliseOutput,
  outputMatches,
  printedLines,
  runInTerminal,
  runShell,
  runTsExample,
} from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const ROOT = join(__dirname, '..', '..');
const PAGE = join(ROOT, 'docs', 'api-keys.md');
const PASSWORD = 'secret1';

/** `VAR=value … tiled args…` → the environment and the CLI arguments. */
function parseServerCommand(command: string): { env: Record<string, string>; args: string[] } {
  const words = command.trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (/^\w+=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name] = value.join('=');
  }
  if (words.shift() !== 'tiled') throw new Error(`server block must run tiled: ${command}`);
  return { env, args: words };
}

describe('docs/api-keys.md, run as written against a live multi-user server', () => {
  const blocks = docBlocks(PAGE);
  const serverBlock = blocks.find((block) => block.kind === 'server');
  const consoleBlocks = blocks.filter((block) => block.kind === '');
  const tsBlocks = blocks.filter((block) => block.kind === 'ts');
  const home = new ClientHome();
  const cwd = mkdtempSync(join(tmpdir(), 'tiled-guide-server-'));
  const env: NodeJS.ProcessEnv = { ...home.env };
  let server: RunningServer;
  let subs: DocSubstitutions;

  beforeAll(async () => {
    if (!serverBlock) throw new Error('docs/api-keys.md has no <!-- doc-test: server --> block');
    const { env: serverEnv, args } = parseServerCommand(serverBlock.steps[0].command);
    // The page runs the server from the checkout root; a copy keeps its ./tiled_auth.db out of the checkout.
    mkdirSync(join(cwd, 'example_configs'));
    copyFileSync(join(ROOT, 'example_configs', 'toy_authentication.yml'), join(cwd, 'example_configs', 'toy_authentication.yml'));
    server = await startTiled(args, { env: serverEnv, cwd });
    subs = new DocSubstitutions({ 'http://localhost:8000': server.url });
  });

  afterAll(async () => {
    await server?.stop();
    home.cleanup();
    rmSync(cwd, { recursive: true, force: true });
  });

  it('has runnable blocks covering the whole walk-through', () => {
    const commands = consoleBlocks.flatMap((block) => block.steps.map((step) => step.command));
    for (const expected of ['tiled login', 'tiled api_key create', 'tiled api_key list', 'tiled api_key revoke', 'curl -si', 'export TILED_API_KEY=']) {
      expect(commands.some((command) => command.startsWith(expected))).toBe(true);
    }
    expect(tsBlocks).toHaveLength(1);
  });

  // Blocks run in page order and build on each other (login, then keys, then revocation).
  const runBlock = async (block: DocBlock): Promise<void> => {
    for (const step of block.steps) {
      const command = subs.apply(step.command);
      const exported = /^export (\w+)=(\S*)$/.exec(command);
      if (exported) {
        env[exported[1]] = exported[2];
        continue;
      }
      const expectedText = step.expected.join('\n');
      let actual: string;
      let code: number | null;
      const username = /^Username: (.*)$/m.exec(expectedText)?.[1];
      if (username !== undefined) {
        // The password prompt needs a real terminal: run the command on a pty and type the answers.
        const result = await runInTerminal(command, [['Username:', username], ['Password:', PASSWORD]], env);
        actual = result.output;
        code = result.code;
        expect(actual).not.toContain(PASSWORD);
      } else {
        const result = await runShell(command, env);
        actual = result.stdout + result.stderr;
        code = result.code;
      }
      subs.learn(expectedText, actual);
      const wanted = normaliseOutput(subs.apply(expectedText));
      const got = normaliseOutput(actual);
      const context = `docs/api-keys.md:${block.line}: $ ${step.command}`;
      expect({ context, matches: outputMatches(wanted, got), got }).toEqual({ context, matches: true, got });
      const failureShown = wanted.some((line) => line.startsWith('Error:'));
      expect({ context, failed: code !== 0 }).toEqual({ context, failed: failureShown });
    }
  };

  for (const [index, block] of blocks.entries()) {
    if (block.kind === '') {
      it(`block ${index + 1} (line ${block.line}): ${block.steps.map((s) => s.command.split(' ').slice(0, 3).join(' ')).join('; ')}`, () =>
        runBlock(block));
    }
    if (block.kind === 'ts') {
      it(`TypeScript example (line ${block.line}) runs against the server as a package consumer`, async () => {
        const source = subs.apply(block.body.join('\n'));
        const result = await runTsExample(source, env);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout.trim().split('\n')).toEqual(printedLines(source));
      });
    }
  }
});
