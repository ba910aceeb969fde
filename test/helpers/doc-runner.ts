import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliResult, runTiled, TILED_BIN } from './tiled-process';

/**
 * A throw-away client-side home: HOME, XDG dirs and TILED_CACHE_DIR point into one temp dir, so
 * profiles and cached tokens of one test never leak into another (or into the developer's home).
 */
export class ClientHome {
  readonly dir = mkdtempSync(join(tmpdir(), 'tiled-client-'));
  /** A directory holding a `tiled` shim, so shell commands can say `tiled …` as a user would. */
  readonly bin = join(this.dir, 'bin');

  constructor() {
    rmSync(this.bin, { recursive: true, force: true });
    mkdirSync(this.bin, { recursive: true });
    const shim = join(this.bin, 'tiled');
    writeFileSync(shim, `#!/bin/sh\nexec "${process.execPath}" "${TILED_BIN}" "$@"\n`);
    chmodSync(shim, 0o755);
  }

  get env(): NodeJS.ProcessEnv {
    return {
      HOME: this.dir,
      XDG_CONFIG_HOME: join(this.dir, 'config'),
      XDG_CACHE_HOME: join(this.dir, 'cache'),
      TILED_CACHE_DIR: join(this.dir, 'cache', 'tiled'),
      TILED_PROFILES: undefined,
      TILED_PROFILE: undefined,
      TILED_API_KEY: undefined,
      TILED_FORCE_PROMPT: undefined,
      PATH: `${this.bin}:${process.env.PATH ?? ''}`,
    };
  }

  run(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
    return runTiled(args, { input: options.input, env: { ...this.env, ...options.env } });
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Run a shell command on a real pseudo-terminal (util-linux `script`), answering prompts as they
 * appear: `answers` maps a prompt text to the line typed in reply. Output is what the terminal showed.
 */
export async function runInTerminal(
  command: string,
  answers: [prompt: string, reply: string][],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30000,
): Promise<{ code: number | null; output: string }> {
  const child = spawn('script', ['-qfec', command, '/dev/null'], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  const pending = [...answers];
  let seen = 0;
  const onData = (chunk: Buffer): void => {
    output += chunk.toString();
    const next = pending[0];
    if (next) {
      const at = output.indexOf(next[0], seen);
      if (at >= 0) {
        seen = at + next[0].length;
        pending.shift();
        child.stdin.write(`${next[1]}\r`);
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output: output.replace(/\r\n/g, '\n') };
}

/** One `$ command` of a runnable doc block, with the output the page shows for it. */
export interface DocStep {
  command: string;
  expected: string[];
}

/** A fenced block the page marks as runnable; `kind` is what follows `doc-test:` (empty for console steps). */
export interface DocBlock {
  kind: string;
  /** 1-based line of the marker, for failure messages. */
  line: number;
  body: string[];
  steps: DocStep[];
}

/**
 * Runnable blocks are introduced by the HTML comment `<!-- doc-test -->` (or `<!-- doc-test: KIND -->`)
 * on the line before their fence, so a page can still show text that is not meant to run.
 */
export function docBlocks(markdownPath: string): DocBlock[] {
  const lines = readFileSync(markdownPath, 'utf8').split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- doc-test(?::\s*(\S+))? -->$/.exec(lines[i].trim());
    if (!marker) continue;
    if (!lines[i + 1]?.startsWith('```')) throw new Error(`${markdownPath}:${i + 1}: doc-test marker not followed by a fence`);
    const block: DocBlock = { kind: marker[1] ?? '', line: i + 1, body: [], steps: [] };
    for (i += 2; i < lines.length && !lines[i].startsWith('```'); i++) {
      block.body.push(lines[i]);
      if (lines[i].startsWith('$ ')) block.steps.push({ command: lines[i].slice(2), expected: [] });
      else if (block.steps.length) block.steps[block.steps.length - 1].expected.push(lines[i]);
    }
    blocks.push(block);
  }
  return blocks;
}

const HEX72 = /\b[0-9a-f]{72}\b/g;
const DATETIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\b/g;

/**
 * Keeps the correspondence between the example keys printed on a page and the real keys the
 * test got, so later commands can use them and outputs can be compared.
 */
export class DocSubstitutions {
  private readonly pairs = new Map<string, string>();

  constructor(initial: Record<string, string> = {}) {
    for (const [from, to] of Object.entries(initial)) this.pairs.set(from, to);
  }

  /** Learn doc-key → real-key pairs from an expected and an actual output. */
  learn(expected: string, actual: string): void {
    const docKeys = expected.match(HEX72) ?? [];
    const realKeys = actual.match(HEX72) ?? [];
    docKeys.forEach((docKey, i) => {
      const real = realKeys[i];
      if (!real || this.pairs.has(docKey)) return;
      this.pairs.set(docKey, real);
      this.pairs.set(docKey.slice(0, 8), real.slice(0, 8));
    });
  }

  apply(text: string): string {
    let result = text;
    // Longest first, so a key is replaced whole before its first eight characters are.
    for (const [from, to] of [...this.pairs].sort((a, b) => b[0].length - a[0].length)) result = result.split(from).join(to);
    return result;
  }
}

/** Datetimes vary and columns realign with content: compare with both normalised. */
export function normaliseOutput(text: string): string[] {
  return text
    // Terminal control sequences (cursor moves from readline on a pty) are not part of what a reader sees.
    // eslint-disable-next-line no-control-regex -- the escape character is exactly what is stripped
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\r/g, '')
    .split('\n')
    .map((line) => line.replace(DATETIME, '<datetime>').replace(/\s+/g, ' ').trim())
    .filter((line) => line.length > 0);
}

/**
 * Whether `actual` shows what the page shows: exactly the page's lines; or, when the page has a
 * `...` line (standing for lines that vary, e.g. response headers), the page's first line first and
 * every other page line somewhere.
 */
export function outputMatches(expected: string[], actual: string[]): boolean {
  const wanted = expected.map((line) => line.replace(/\s+/g, ' ').trim()).filter((line) => line.length > 0);
  if (!wanted.includes('...')) return wanted.length === actual.length && wanted.every((line, i) => line === actual[i]);
  // With `...` the first line (a status line, a usage line) must lead; the rest, like HTTP headers, may come in any order.
  const lines = wanted.filter((line) => line !== '...');
  return lines.length === 0 || (actual[0] === lines[0] && lines.every((line) => actual.includes(line)));
}

export interface ShellResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run one page command with bash (so quoting, pipes and `VAR=value cmd` work as on the page). */
export function runShell(command: string, env: NodeJS.ProcessEnv, input = ''): Promise<ShellResult> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(input);
    const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * Run a TypeScript example from a page as a package consumer would: `import … from 'tiled-ts'`
 * resolves to this checkout's build. Imports stay on top; the rest runs inside an async function,
 * as top-level await would. Returns what it printed.
 */
export async function runTsExample(source: string, env: NodeJS.ProcessEnv): Promise<ShellResult> {
  // Loaded lazily: only the doc tests need the compiler.
  const ts = await import('typescript');
  const root = join(__dirname, '..', '..');
  const consumer = mkdtempSync(join(tmpdir(), 'tiled-consumer-'));
  try {
    mkdirSync(join(consumer, 'node_modules'));
    symlinkSync(root, join(consumer, 'node_modules', 'tiled-ts'), 'dir');
    const lines = source.split('\n');
    const imports = lines.filter((line) => line.startsWith('import ')).join('\n');
    const body = lines.filter((line) => !line.startsWith('import ')).join('\n');
    const wrapped = `${imports}\n(async () => {\n${body}\n})().catch((e) => { console.error(String(e)); process.exit(1); });`;
    const js = ts.transpileModule(wrapped, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    }).outputText;
    writeFileSync(join(consumer, 'example.js'), js);
    return await runShell(`cd '${consumer}' && node example.js`, env);
  } finally {
    rmSync(consumer, { recursive: true, force: true });
  }
}

/** The `// prints: …` comments of an example, in order: what it must print, one line each. */
export function printedLines(source: string): string[] {
  return [...source.matchAll(/\/\/ prints: (.*)$/gm)].map((match) => match[1]);
}
