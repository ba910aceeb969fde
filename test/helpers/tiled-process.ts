import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { appendLog, newLogFile, recordPrintedSecrets, recordSecret } from './log-capture';

/** The built CLI, exactly as a user runs it after `npm ci`. */
export const TILED_BIN = join(__dirname, '..', '..', 'bin', 'tiled.js');

export interface RunningServer {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** url + '/api/v1' */
  api: string;
  /** The key printed in the connect URL (single-user mode with a generated key). */
  printedKey?: string;
  process: ChildProcess;
  /** Everything the server wrote to stdout and stderr so far. */
  output(): string;
  /** Resolve once the output matches: log lines reach the pipe after the response they describe. */
  waitForOutput(expected: RegExp | string, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  timeoutMs?: number;
  /** An executable to run instead of this checkout's CLI, e.g. an installed `node_modules/.bin/tiled`. */
  command?: string;
}

/**
 * Start `tiled <args>` as a real process on a free port and wait until it listens.
 * `--port 0` is added unless the args choose a port, and `serve` gets `--verbose` (the access log).
 */
export async function startTiled(args: string[], options: StartOptions = {}): Promise<RunningServer> {
  const withPort = args.includes('--port') ? args : [...args, '--port', '0'];
  // The access log is on for every server a spec starts, so the whole-suite log scan reads its lines too.
  const fullArgs = withPort[0] === 'serve' && !withPort.includes('--verbose') && !withPort.includes('-v') ? [...withPort, '--verbose'] : withPort;
  const child = spawn(options.command ?? process.execPath, options.command ? fullArgs : [TILED_BIN, ...fullArgs], {
    cwd: options.cwd ?? join(__dirname, '..', '..'),
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  recordGivenSecrets(fullArgs, options.env);
  const logFile = newLogFile(fullArgs);
  let output = '';
  const capture = (chunk: Buffer): void => {
    output += chunk.toString();
    appendLog(logFile, chunk);
  };
  child.stdout!.on('data', capture);
  child.stderr!.on('data', capture);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`tiled ${fullArgs.join(' ')} did not start:\n${output}`)), options.timeoutMs ?? 20000);
    const check = (): void => {
      const match = /running on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    child.stderr!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tiled ${fullArgs.join(' ')} exited with ${code} before listening:\n${output}`));
    });
  });
  const printedKey = /\?api_key=([0-9a-zA-Z]+)/.exec(output)?.[1];
  recordSecret(printedKey, 'the connect banner');
  return {
    url,
    api: `${url}/api/v1`,
    printedKey,
    process: child,
    output: () => output,
    waitForOutput: async (expected, timeoutMs = 5000) => {
      const deadline = Date.now() + timeoutMs;
      const seen = (): boolean => (typeof expected === 'string' ? output.includes(expected) : expected.test(output));
      while (!seen()) {
        if (Date.now() > deadline) throw new Error(`the output never showed ${String(expected)}:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `tiled <args>` to completion, optionally feeding stdin. */
export async function runTiled(args: string[], options: StartOptions & { input?: string } = {}): Promise<CliResult> {
  const child = spawn(process.execPath, [TILED_BIN, ...args], {
    cwd: options.cwd ?? join(__dirname, '..', '..'),
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  recordGivenSecrets(args, options.env);
  // A command's stdout may show a secret on purpose (`api_key create`); a server's output and every stderr may not.
  const logFile = newLogFile(args);
  const serving = args[0] === 'serve';
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    if (serving) appendLog(logFile, chunk);
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    appendLog(logFile, chunk);
  });
  child.stdin.end(options.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(timer);
  if (!serving) recordPrintedSecrets(stdout, `stdout of tiled ${args.slice(0, 2).join(' ')}`);
  return { code, stdout, stderr };
}

/** Keys a spec hands the server on the command line or in the environment are secrets for the log scan too. */
function recordGivenSecrets(args: readonly string[], env: NodeJS.ProcessEnv | undefined): void {
  const flag = args.indexOf('--api-key');
  if (flag >= 0) recordSecret(args[flag + 1], '--api-key');
  recordSecret(env?.TILED_SINGLE_USER_API_KEY, 'TILED_SINGLE_USER_API_KEY');
  recordSecret(env?.TILED_API_KEY, 'TILED_API_KEY');
}

export interface DemoServer {
  readonly server: RunningServer;
  /** The `Authorization: Apikey …` header of the printed key. */
  readonly auth: Record<string, string>;
  /** GET `path` under /api/v1 with the printed key (and any extra headers). */
  get(path: string, headers?: Record<string, string>): Promise<Response>;
}

/**
 * A `tiled serve demo` with a generated key, started before the enclosing describe block's tests and
 * stopped after them. Read its fields inside tests, not at describe time.
 */
export function useDemoServer(): DemoServer {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startTiled(['serve', 'demo'], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
  });
  afterAll(async () => server?.stop());
  const started = (): RunningServer => {
    if (!server) throw new Error('the demo server is not running: use it inside a test');
    return server;
  };
  return {
    get server() {
      return started();
    },
    get auth() {
      return { authorization: `Apikey ${started().printedKey}` };
    },
    get(path, headers = {}) {
      return fetch(`${started().api}${path}`, { headers: { authorization: `Apikey ${started().printedKey}`, ...headers } });
    },
  };
}
