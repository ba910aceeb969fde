import { appendFileSync, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const REPOSITORY = join(__dirname, '..', '..');

/**
 * The whole-suite log scan (test/meta/log-scan.e2e-spec.ts): every server process a spec starts writes
 * its output to a file in one directory per Jest run, and every secret the specs mint or send is
 * written to a list beside it. The scan, run last, reads both. The directory comes from the Jest
 * globalSetup (log-capture.global-setup.ts); without it (another runner, another config) nothing is
 * captured and the scan spec fails, which is what it should do when asked to scan nothing.
 */
export const LOG_DIR_ENV = 'TILED_TEST_LOG_DIR';
const SECRETS_FILE = 'secrets.jsonl';

/**
 * Shorter values are not scanned for: fixtures use short placeholder keys (`secret`, `short1`) that
 * are ordinary words in log lines, and no credential the server mints is this short. Nor are values of
 * fewer than MIN_DISTINCT_CHARACTERS different characters: placeholder keys such as `'a'.repeat(64)`
 * also occur as junk input in other specs, while a minted secret is random.
 */
const MIN_SECRET_LENGTH = 16;
const MIN_DISTINCT_CHARACTERS = 6;

/** The names under which a secret travels in a query, a JSON body or a Location header. */
const SECRET_FIELDS = ['api_key', 'secret', 'access_token', 'refresh_token', 'device_code', 'user_code', 'code', 'state', 'csrf'];

export function logDir(): string | undefined {
  return process.env[LOG_DIR_ENV] || undefined;
}

let files = 0;

/** A fresh file for one process's output, named after the spec that started it; undefined when not capturing. */
export function newLogFile(args: readonly string[]): string | undefined {
  const dir = logDir();
  if (!dir) return undefined;
  // The spec's path, not just its name: test/e2e/ and test/compat/ both hold a single-user.e2e-spec.ts,
  // and their servers must not share a file (each file may show one connect banner).
  const spec = relative(REPOSITORY, currentTestPath() ?? 'unknown-spec').replace(/\.ts$/, '').replace(/[\\/]/g, '__');
  const file = join(dir, `${spec}.${process.pid}.${++files}.log`);
  // The header names the command, not the key it was given (the scan would rightly flag that).
  const shown = args.map((arg, i) => (args[i - 1] === '--api-key' ? '[redacted]' : arg));
  appendFileSync(file, `# tiled ${shown.join(' ')}\n`);
  return file;
}

export function appendLog(file: string | undefined, chunk: Buffer | string): void {
  if (file) appendFileSync(file, chunk);
}

function currentTestPath(): string | undefined {
  const jestExpect = (globalThis as { expect?: { getState?: () => { testPath?: string } } }).expect;
  return jestExpect?.getState?.().testPath;
}

/** Remember a value the server must never log. Short and repetitive values are ignored (see MIN_SECRET_LENGTH). */
export function recordSecret(value: unknown, source: string): void {
  const dir = logDir();
  if (!dir || typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || new Set(value).size < MIN_DISTINCT_CHARACTERS) return;
  appendFileSync(join(dir, SECRETS_FILE), `${JSON.stringify({ secret: value, source })}\n`);
}

/** Secrets in a URL's query (`?api_key=`, `?code=`, a `first_eight` that is a whole key…). */
export function recordUrlSecrets(url: string | URL, source: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url, 'http://placeholder');
  } catch {
    return;
  }
  for (const [name, value] of parsed.searchParams) {
    if (SECRET_FIELDS.includes(name) || name === 'first_eight') recordSecret(value, `${source} ?${name}=`);
  }
}

/** `Authorization: Apikey X` / `Bearer X`. */
export function recordAuthorization(header: string | null | undefined, source: string): void {
  if (!header) return;
  const space = header.indexOf(' ');
  recordSecret(space > 0 ? header.slice(space + 1).trim() : header, `${source} authorization`);
}

/** Every secret-named string anywhere in a JSON document (token responses, new API keys, device-flow starts). */
export function recordJsonSecrets(document: unknown, source: string, depth = 0): void {
  if (depth > 8 || document === null || typeof document !== 'object') return;
  for (const [name, value] of Object.entries(document as Record<string, unknown>)) {
    if (typeof value === 'string' && SECRET_FIELDS.includes(name)) recordSecret(value, `${source} "${name}"`);
    else recordJsonSecrets(value, source, depth + 1);
  }
}

/** What the CLI prints on purpose (`tiled api_key create`, `tiled login --show-secret-tokens`): API keys and JWTs. */
export function recordPrintedSecrets(text: string, source: string): void {
  for (const match of text.matchAll(/\b[0-9a-f]{64}\b|\beyJ[\w-]+\.[\w-]+\.[\w-]+/g)) recordSecret(match[0], source);
}

export interface LogScanHit {
  file: string;
  /** The secret's first eight characters: enough to find it, not enough to use it. */
  prefix: string;
  source: string;
}

export interface LogScanResult {
  logFiles: string[];
  secrets: number;
  hits: LogScanHit[];
}

/**
 * The one line printed with a secret on purpose: a single-user server that generated its key shows it
 * once at startup, in this exact form, so the user can connect. Only the first such banner of a file is
 * allowed; any other appearance of that key (a second banner included) is a hit.
 */
const CONNECT_BANNER = /\n {4}Use the following URL to connect to Tiled:\n\n {4}"http:\/\/[^\s"?]+\?api_key=[0-9a-zA-Z]+"\n/;

/** Read every captured log of `dir` and report each recorded secret found in one. */
export function scanLogs(dir: string): LogScanResult {
  const secrets = new Map<string, string>();
  const secretsFile = join(dir, SECRETS_FILE);
  if (existsSync(secretsFile)) {
    for (const line of readFileSync(secretsFile, 'utf8').split('\n')) {
      if (!line) continue;
      const { secret, source } = JSON.parse(line) as { secret: string; source: string };
      if (!secrets.has(secret)) secrets.set(secret, source);
    }
  }
  const logFiles = readdirSync(dir).filter((name) => name.endsWith('.log')).sort();
  const hits: LogScanHit[] = [];
  for (const name of logFiles) {
    const text = readFileSync(join(dir, name), 'utf8').replace(CONNECT_BANNER, '\n');
    for (const [secret, source] of secrets) {
      if (text.includes(secret)) hits.push({ file: name, prefix: secret.slice(0, 8), source });
    }
  }
  return { logFiles, secrets: secrets.size, hits };
}
