import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

/**
 * Runs the ```console examples of docs/single-user.md: the first command of a block is `tiled serve …`
 * (started on a free port; the doc's 127.0.0.1:8000 is rewritten to it), the others are shell commands
 * whose output must be exactly what the doc shows.
 */
const ROOT = join(__dirname, '..', '..');
const DOC = readFileSync(join(ROOT, 'docs', 'single-user.md'), 'utf8');
const run = promisify(execFile);

interface Step {
  command: string;
  expected: string[];
}

function consoleBlocks(): Step[][] {
  const blocks: Step[][] = [];
  for (const match of DOC.matchAll(/^```console\n([\s\S]*?)^```$/gm)) {
    const steps: Step[] = [];
    for (const line of match[1].replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
      else steps[steps.length - 1].expected.push(line);
    }
    blocks.push(steps);
  }
  return blocks;
}

/** Just enough shell word splitting for the doc's commands: quotes and leading VAR=value assignments. */
function parseServe(command: string): { env: NodeJS.ProcessEnv; args: string[] } {
  const words = [...command.matchAll(/(?:[^\s'"]+|'[^']*'|"[^"]*")+/g)].map((m) => m[0].replace(/'([^']*)'|"([^"]*)"/g, '$1$2'));
  const env: NodeJS.ProcessEnv = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(words[0])) {
    const [name, ...value] = words.shift()!.split('=');
    env[name] = value.join('=');
  }
  expect(words.shift()).toBe('tiled');
  return { env, args: words };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

const CLEAN_ENV = { TILED_SINGLE_USER_API_KEY: undefined, TILED_ALLOW_ANONYMOUS_ACCESS: undefined };

describe('docs/single-user.md examples', () => {
  const blocks = consoleBlocks();

  it('has examples to run', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
  });

  it.each(blocks.map((steps) => [steps[0].command, steps]))('%s', async (_title, steps) => {
    const [serve, ...rest] = steps as Step[];
    const { env, args } = parseServe(serve.command);
    if (serve.expected.some((line) => line.startsWith('Error:'))) {
      const result = await runTiled(args, { env: { ...CLEAN_ENV, ...env } });
      expect(result.code).toBe(2);
      for (const line of serve.expected) expect(result.stderr).toContain(line);
      return;
    }
    let server: RunningServer | undefined;
    try {
      server = await startTiled(args, { env: { ...CLEAN_ENV, ...env } });
      const port = new URL(server.url).port;
      if (serve.expected.length > 0) {
        const shown = escapeRegExp(serve.expected.join('\n').replace(/8000/g, port)).replace('<64 hex characters>', '[0-9a-f]{64}');
        expect(server.output()).toMatch(new RegExp(shown));
      }
      for (const step of rest) {
        const command = step.command.replace(/http:\/\/127\.0\.0\.1:8000/g, server.url);
        const { stdout } = await run('bash', ['-c', command]);
        // A JSON body has no final newline, but a terminal shows the prompt on the next line anyway.
        expect(stdout.replace(/\n$/, '')).toBe(step.expected.join('\n'));
      }
    } finally {
      await server?.stop();
    }
  });
});
