import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { AddressInfo, createServer } from 'node:net';
import { cpus, totalmem, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import type { RecordedResponse } from './bare-server';
import { runAccessBench } from './access-bench';
import { CATALOG_HEADER, CATALOG_RIGHT, catalogRows, runCatalogBench } from './catalog-bench';
import type { CatalogBenchRow } from './catalog-bench';
import { runFilesBench } from './files-bench';
import { runStorageBench } from './storage-bench';
import type { StorageResult } from './storage-bench';
import { SQL_SEARCH_CASE, SQL_SEARCH_HEADER, SQL_SEARCH_RIGHT, benchSqlSearch, sqlSearchRows, sqlSearchVerdicts } from './sql-search-bench';
import type { SqlSearchResult } from './sql-search-bench';
import { BENCH_CLIENT, closeBenchClient } from './http-client';

/*
 * Paths in the demo tree (src/catalog) that the cases use. A case whose URL does not answer 200 is
 * reported as skipped rather than measured, so the benchmark still runs while the tree changes.
 */
export const DEMO_METADATA_NODE = 'small';
export const DEMO_SMALL_ARRAY = 'small';
export const DEMO_SMALL_ARRAY_BLOCK = '0,0';
export const DEMO_BIG_ARRAY = 'big';
export const DEMO_BIG_ARRAY_BLOCK = '0,0';
export const DEMO_LARGE_CONTAINER = 'many';

const ROOT = join(__dirname, '..', '..');
const TILED_BIN = join(ROOT, 'bin', 'tiled.js');
const BARE_SERVER = join(__dirname, 'bare-server.js');

export interface BenchOptions {
  /** Seconds of measurement per case and server. */
  duration: number;
  /** Seconds of unmeasured load before each measurement (JIT warm-up). */
  warmup: number;
  connections: number;
  /** How many cold starts to time (the median is reported). */
  starts: number;
  /**
   * Bare and tiled-ts are measured alternately this many times per case and the medians reported:
   * on a shared 2-core machine a neighbour's burst otherwise lands on one server and not the other.
   */
  rounds: number;
  /** --quick: short runs and small data (the file and access cases shrink their folders, files and catalogs). */
  quick: boolean;
  /** Only run cases whose name contains this text. */
  only?: string;
  json?: string;
}

export interface BenchCase {
  name: string;
  url: string;
  /** The issue's targets (≥ 50 % of the bare server's requests/s, p99 ≤ 5 ms) apply to this case. */
  targeted: boolean;
}

export function benchCases(): BenchCase[] {
  return [
    { name: 'metadata (Apikey header)', url: `/api/v1/metadata/${DEMO_METADATA_NODE}`, targeted: true },
    { name: 'search, page of 100', url: `/api/v1/search/${DEMO_LARGE_CONTAINER}?page[offset]=0&page[limit]=100`, targeted: false },
    { name: 'array block 800 B', url: `/api/v1/array/block/${DEMO_SMALL_ARRAY}?block=${DEMO_SMALL_ARRAY_BLOCK}`, targeted: false },
    { name: 'array block 8 MB', url: `/api/v1/array/block/${DEMO_BIG_ARRAY}?block=${DEMO_BIG_ARRAY_BLOCK}`, targeted: false },
  ];
}

interface Measured {
  requestsPerSecond: number;
  /**
   * Server CPU time (user + system) per request, from /proc: unlike requests/s it barely moves when
   * other processes compete for the cores, so it is the number to compare between runs.
   */
  cpuMicros?: number;
  p50: number;
  p99: number;
  failures: number;
}

interface CaseResult {
  case: BenchCase;
  bytes?: number;
  skipped?: string;
  tiled?: Measured;
  bare?: Measured;
}

function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const options: BenchOptions = {
    duration: fromEnv(env, 'BENCH_DURATION', 8, positive),
    warmup: fromEnv(env, 'BENCH_WARMUP', 1, nonNegative),
    connections: fromEnv(env, 'BENCH_CONNECTIONS', 32, positive),
    starts: fromEnv(env, 'BENCH_STARTS', 5, positive),
    rounds: fromEnv(env, 'BENCH_ROUNDS', 3, positive),
    quick: false,
    only: env.BENCH_ONLY,
    json: env.BENCH_JSON,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = (): string => {
      const next = argv[++i];
      if (next === undefined) fail(`${flag} needs a value`);
      return next;
    };
    if (flag === '--quick') Object.assign(options, { duration: 2, warmup: 0.5, starts: 2, rounds: 1, quick: true });
    else if (flag === '--duration') options.duration = positive(flag, value());
    else if (flag === '--warmup') options.warmup = nonNegative(flag, value());
    else if (flag === '--connections') options.connections = positive(flag, value());
    else if (flag === '--starts') options.starts = positive(flag, value());
    else if (flag === '--rounds') options.rounds = positive(flag, value());
    else if (flag === '--only') options.only = value();
    else if (flag === '--json') options.json = value();
    else if (flag === '--help' || flag === '-h') {
      process.stdout.write(
        'usage: npm run bench -- [--quick] [--duration s] [--warmup s] [--connections n] [--starts n] [--rounds n] [--only text] [--json file]\n' +
          'env: BENCH_DURATION, BENCH_WARMUP, BENCH_CONNECTIONS, BENCH_STARTS, BENCH_ROUNDS, BENCH_ONLY, BENCH_JSON\n',
      );
      process.exit(0);
    } else fail(`unknown option ${flag} (try --help)`);
  }
  return options;
}

function fromEnv(env: NodeJS.ProcessEnv, name: string, fallback: number, parse: (name: string, text: string) => number): number {
  const text = env[name];
  return text === undefined || text === '' ? fallback : parse(name, text);
}

function positive(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) fail(`${flag} must be a positive number, not "${text}"`);
  return value;
}

function nonNegative(flag: string, text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) fail(`${flag} must be a number ≥ 0, not "${text}"`);
  return value;
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

/** Every child this run started; all are killed on the way out, whatever happens. */
const children = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stop));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

interface RawResponse {
  status: number;
  headers: string[];
  body: Buffer;
}

function get(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.rawHeaders, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Spawn, then poll until the URL answers 200: the time a user waits after typing the command. */
async function timeToFirst200(command: string[], url: string, headers: Record<string, string>): Promise<{ ms: number; child: ChildProcess }> {
  const started = performance.now();
  const child = track(spawn(process.execPath, command, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = started + 30_000;
  while (performance.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${command.join(' ')} exited with ${child.exitCode}:\n${output}`);
    try {
      const response = await get(url, headers);
      if (response.status === 200) return { ms: performance.now() - started, child };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await stop(child);
  throw new Error(`${command.join(' ')} gave no 200 from ${url} within 30 s:\n${output}`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Per-statistic medians across rounds; failures are summed so none hides. */
function medianOf(runs: Measured[]): Measured {
  return {
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    cpuMicros: runs.every((r) => r.cpuMicros !== undefined) ? median(runs.map((r) => r.cpuMicros as number)) : undefined,
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    failures: runs.reduce((sum, r) => sum + r.failures, 0),
  };
}

const CLOCK_TICKS_PER_SECOND = clockTicks();

function clockTicks(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** utime + stime of a process in clock ticks (Linux); undefined elsewhere. */
function cpuTicks(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** undefined when not one request completed (8 MB bodies at 32 connections need a few seconds). */
async function load(url: string, headers: Record<string, string>, connections: number, seconds: number, pid?: number): Promise<Measured | undefined> {
  const before = cpuTicks(pid);
  const result = await autocannon({ url, headers, connections, duration: seconds, pipelining: 1 });
  const after = cpuTicks(pid);
  if (result.requests.total === 0) return undefined;
  return {
    requestsPerSecond: result.requests.total / result.duration,
    cpuMicros: before !== undefined && after !== undefined ? ((after - before) * 1e6) / CLOCK_TICKS_PER_SECOND / result.requests.total : undefined,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

async function measure(url: string, headers: Record<string, string>, options: BenchOptions, pid: number | undefined): Promise<Measured | undefined> {
  if (options.warmup > 0) await load(url, headers, options.connections, options.warmup);
  return load(url, headers, options.connections, options.duration, pid);
}

/** Headers that describe the connection rather than the response; node:http sets its own. */
const HOP_BY_HOP = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

function replayable(headers: string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    if (!HOP_BY_HOP.has(headers[i].toLowerCase())) kept.push(headers[i], headers[i + 1]);
  }
  return kept;
}

function pad(text: string, width: number, right: boolean): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** A Markdown table whose pipes line up, so the same text reads well in a terminal and in docs. */
export function alignedTable(header: string[], rows: string[][], rightAligned: boolean[]): string {
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length), 3));
  const line = (cells: string[]): string => `| ${cells.map((cell, c) => pad(cell, widths[c], rightAligned[c])).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (rightAligned[c] ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function formatBytes(bytes: number | undefined): string {
  if (bytes === undefined) return '–';
  if (bytes >= 1 << 20) return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

function cpu(measured: Measured): string {
  return measured.cpuMicros === undefined ? '–' : measured.cpuMicros.toFixed(0);
}

function resultRows(results: CaseResult[]): string[][] {
  return results.map((r) => {
    if (!r.tiled || !r.bare) return [r.case.name, formatBytes(r.bytes), '–', '–', '–', '–', '–', '–', '–', 'skipped'];
    return [
      r.case.name,
      formatBytes(r.bytes),
      r.tiled.requestsPerSecond.toFixed(0),
      r.bare.requestsPerSecond.toFixed(0),
      `${((r.tiled.requestsPerSecond / r.bare.requestsPerSecond) * 100).toFixed(0)} %`,
      cpu(r.tiled),
      cpu(r.bare),
      `${r.tiled.p50} / ${r.tiled.p99}`,
      `${r.bare.p50} / ${r.bare.p99}`,
      r.tiled.failures + r.bare.failures === 0 ? 'ok' : `${r.tiled.failures + r.bare.failures} failed`,
    ];
  });
}

/** Targets lines for the rows that carry one (the writable catalog's rows keep theirs in the table). */
function catalogVerdicts(rows: readonly CatalogBenchRow[]): string[] {
  return rows
    .filter((r) => r.met !== null && (r.name.startsWith('files:') || r.name.startsWith('access:')))
    .map((r) => `${r.met ? 'MET ' : 'MISSED'} ${r.name} [${r.engine}]: ${r.target} (${r.unit} ${r.tiled} against ${r.baseline}, ${(r.ratio * 100).toFixed(0)} %)`);
}

function storageReport(storage: StorageResult[]): string {
  if (storage.length === 0) return '';
  const table = alignedTable(
    ['Storage case (no HTTP)', 'Bytes', 'tiled-ts ms', 'bare ms', 'ratio'],
    storage.map((s) => [s.name, formatBytes(s.bytes), s.tiledMs.toFixed(1), s.bareMs.toFixed(1), `${((s.bareMs / s.tiledMs) * 100).toFixed(0)} %`]),
    [false, true, true, true, true],
  );
  return `\nMedian ms per operation, against a bare fs.writeFile / fs.readFile of the same bytes on the same disk:\n\n${table}\n`;
}

/** In-process: search pushed down to SQL against the in-memory filter over the same 100,000 rows (PostgreSQL when TILED_TEST_POSTGRES_URI names a server). */
async function runSqlSearch(options: BenchOptions, log: (message: string) => void): Promise<SqlSearchResult[]> {
  const results: SqlSearchResult[] = [];
  if (options.only && !SQL_SEARCH_CASE.includes(options.only)) return results;
  log(`Timing "${SQL_SEARCH_CASE}" (${options.duration} s per engine and path)…`);
  const postgres = process.env.TILED_TEST_POSTGRES_URI;
  for (const engine of postgres ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    results.push(await benchSqlSearch(engine, options.duration, postgres, log));
  }
  return results;
}

async function run(options: BenchOptions): Promise<number> {
  const key = `bench${randomBytes(16).toString('hex')}`;
  const auth = { authorization: `Apikey ${key}` };
  const cases = benchCases().filter((c) => !options.only || c.name.includes(options.only));
  const log = (message: string): void => void process.stderr.write(`${message}\n`);
  log(`Node.js ${process.version} (${process.execPath}) runs both servers and the load generator`);
  // Storage cases run first, while no server competes for the disk and the cores.
  log('Timing the storage-level cases…');
  const storage = await runStorageBench(Math.max(5, Math.round(options.duration * 5)), options.only);
  const catalog = [
    ...(await runCatalogBench(options.duration, options.only, process.env.TILED_TEST_POSTGRES_URI, log)),
    ...(await runFilesBench(options.duration, options.quick ? { hdf5Frames: 2, indexedFiles: 100 } : { hdf5Frames: 8, indexedFiles: 10_000 }, options.only, log)),
    ...(await runAccessBench(options.duration, options.quick ? 1000 : 10_000, options.only, options.quick ? undefined : process.env.TILED_TEST_POSTGRES_URI, log)),
  ];
  const storageTable =
    storageReport(storage) +
    (catalog.length ? `\nThrough HTTP against real servers (catalog trees, served folders, the tag-based policy), each beside its baseline in this run, with the ${BENCH_CLIENT} client:\n\n${alignedTable(CATALOG_HEADER, catalogRows(catalog), CATALOG_RIGHT)}\n` : '');
  const rowVerdicts = catalogVerdicts(catalog);
  if (cases.length === 0) {
    // Only in-process cases were asked for: no servers to start.
    const sqlSearch = await runSqlSearch(options, log);
    const sqlTable = sqlSearch.length ? `\n${alignedTable(SQL_SEARCH_HEADER, sqlSearchRows(sqlSearch), SQL_SEARCH_RIGHT)}\n` : '';
    const verdicts = [...rowVerdicts, ...sqlSearchVerdicts(sqlSearch)];
    process.stdout.write(`\n${new Date().toISOString()} — Node.js ${process.version}\n${storageTable}${sqlTable}${verdicts.length ? `\nTargets:\n${verdicts.map((v) => `  ${v}`).join('\n')}\n` : ''}`);
    return 0;
  }
  log(`Timing ${options.starts} cold start(s) of "tiled serve demo" to the first 200…`);
  const startTimes: number[] = [];
  let server: ChildProcess | undefined;
  let port = 0;
  for (let i = 0; i < options.starts; i++) {
    port = await freePort();
    const started = await timeToFirst200(
      [TILED_BIN, 'serve', 'demo', '--api-key', key, '--port', String(port)],
      `http://127.0.0.1:${port}/api/v1/metadata/`,
      auth,
    );
    startTimes.push(started.ms);
    // The last one stays up for the load test.
    if (i < options.starts - 1) await stop(started.child);
    else server = started.child;
  }
  if (!server) throw new Error('no server was started');
  const tiledBase = `http://127.0.0.1:${port}`;

  log('Recording the responses the bare server will replay…');
  const results: CaseResult[] = [];
  const recorded: RecordedResponse[] = [];
  for (const benchCase of cases) {
    const response = await get(`${tiledBase}${benchCase.url}`, auth);
    if (response.status !== 200) {
      results.push({ case: benchCase, skipped: `${benchCase.url} answered ${response.status}` });
      continue;
    }
    recorded.push({ url: benchCase.url, status: response.status, headers: replayable(response.headers), bodyBase64: response.body.toString('base64') });
    results.push({ case: benchCase, bytes: response.body.length });
  }
  const fixtureDir = mkdtempSync(join(tmpdir(), 'tiled-bench-'));
  const fixtures = join(fixtureDir, 'responses.json');
  writeFileSync(fixtures, JSON.stringify(recorded));

  const barePort = await freePort();
  const firstUrl = recorded[0]?.url ?? '/healthz';
  const bareStart = await timeToFirst200([BARE_SERVER, fixtures, String(barePort)], `http://127.0.0.1:${barePort}${firstUrl}`, {});
  const bareBase = `http://127.0.0.1:${barePort}`;

  for (const result of results) {
    if (result.skipped) continue;
    log(`Loading "${result.case.name}" (${options.connections} connections, ${options.rounds} × ${options.duration} s each)…`);
    const bare: Measured[] = [];
    const tiled: Measured[] = [];
    for (let round = 0; round < options.rounds; round++) {
      const bareRun = await measure(`${bareBase}${result.case.url}`, auth, options, bareStart.child.pid);
      const tiledRun = await measure(`${tiledBase}${result.case.url}`, auth, options, server.pid);
      if (bareRun) bare.push(bareRun);
      if (tiledRun) tiled.push(tiledRun);
    }
    if (bare.length === 0 || tiled.length === 0) {
      result.skipped = `no request completed within ${options.duration} s; lengthen --duration`;
      continue;
    }
    result.bare = medianOf(bare);
    result.tiled = medianOf(tiled);
  }
  await stopAll();
  rmSync(fixtureDir, { recursive: true, force: true });

  const sqlSearch = await runSqlSearch(options, log);

  // Both servers run on this process's Node (process.execPath); results differ between Node lines.
  const node = `Node.js ${process.version}`;
  const machine = `${cpus().length} CPUs (${cpus()[0]?.model.trim() ?? 'unknown'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB`;
  const table = alignedTable(
    ['Case', 'Body', 'tiled-ts req/s', 'bare req/s', 'ratio', 'tiled CPU µs/req', 'bare CPU µs/req', 'tiled p50 / p99 ms', 'bare p50 / p99 ms', 'errors'],
    resultRows(results),
    [false, true, true, true, true, true, true, true, true, false],
  );
  const skipped = results.filter((r) => r.skipped).map((r) => `Skipped ${r.case.name}: ${r.skipped}\n`).join('');
  const startLine = `First 200 after process start: tiled-ts median ${median(startTimes).toFixed(0)} ms (runs: ${startTimes.map((t) => t.toFixed(0)).join(', ')}); bare node:http ${bareStart.ms.toFixed(0)} ms`;
  const sqlTable = sqlSearch.length ? `${alignedTable(SQL_SEARCH_HEADER, sqlSearchRows(sqlSearch), SQL_SEARCH_RIGHT)}\n\n` : '';
  process.stdout.write(`\n${new Date().toISOString()} — ${node} — ${machine}\n${options.connections} connections, ${options.duration} s per case and server after ${options.warmup} s warm-up, median of ${options.rounds} alternating round(s)\n\n${table}\n${storageTable}\n${skipped}${startLine}\n\n${sqlTable}`);

  const metadata = results.find((r) => r.case.targeted);
  const verdicts: string[] = [];
  if (metadata?.tiled && metadata.bare) {
    const ratio = metadata.tiled.requestsPerSecond / metadata.bare.requestsPerSecond;
    verdicts.push(`${ratio >= 0.5 ? 'MET ' : 'MISSED'} metadata ≥ 50 % of bare req/s (${(ratio * 100).toFixed(0)} %)`);
    verdicts.push(`${metadata.tiled.p99 <= 5 ? 'MET ' : 'MISSED'} metadata p99 ≤ 5 ms (${metadata.tiled.p99} ms)`);
  }
  verdicts.push(`${median(startTimes) <= 1500 ? 'MET ' : 'MISSED'} first 200 ≤ 1.5 s (${median(startTimes).toFixed(0)} ms)`);
  verdicts.push(...rowVerdicts, ...sqlSearchVerdicts(sqlSearch));
  process.stdout.write(`Targets:\n${verdicts.map((v) => `  ${v}`).join('\n')}\n`);

  if (options.json) {
    writeFileSync(options.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, machine, options, servers: { tiled: tiledBase, bare: bareBase }, client: BENCH_CLIENT, startTimes, bareStartMs: bareStart.ms, results, storage, catalog, sqlSearch }, null, 2));
  }
  // Failed requests mean the numbers measure error paths, not the cases: that run is not a result.
  const failed = results.some((r) => (r.tiled?.failures ?? 0) + (r.bare?.failures ?? 0) > 0);
  if (failed) process.stderr.write('bench: some requests failed or timed out; the numbers above are not valid\n');
  return failed ? 1 : 0;
}

if (require.main === module) {
  const options = parseOptions(process.argv.slice(2), process.env);
  const interrupt = (): void => void stopAll().then(() => process.exit(130));
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  run(options)
    .then((code) => (process.exitCode = code))
    .finally(closeBenchClient)
    .catch(async (error: unknown) => {
      await stopAll();
      process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    });
}
