import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { initCatalog } from '../src/catalog/writable/catalog-database';
import { searchChildren } from '../src/catalog/writable/sql-search';
import type { Filter } from '../src/catalog/query/filter-ast';
import { benchRequest } from './http-client';

/*
 * The writable catalog through HTTP, each case beside a baseline measured in the same run:
 *
 * | Case | tiled-ts side | baseline |
 * |---|---|---|
 * | catalog: array block write 8 MB | PUT /array/block of a written array | fs.writeFile of the same bytes |
 * | catalog: node creations/s | POST /metadata (8 concurrent clients), SQLite | a bare INSERT loop on a database with the same schema |
 * | catalog: search eq + sort, 100k nodes | GET /search, one page of 100 | searchChildren in this process on the same database |
 * | catalog: array block read 8 MB | GET /array/block of a written array | the demo tree's generated array of the same size |
 * | catalog: 8 MB write over bare HTTP (ceiling) | PUT of 8 MB to a bare node:http process that stores it as the catalog does (temporary file, rename), same client | fs.writeFile of the same bytes: what no HTTP server can beat here |
 */

export const CATALOG_CASES = [
  'catalog: array block write 8 MB',
  'catalog: node creations/s',
  'catalog: search eq + sort, 100k nodes',
  'catalog: array block read 8 MB',
  'catalog: 8 MB write over bare HTTP (ceiling)',
];

/** A bare node:http server (run with `node -e`) that receives a PUT body whole and stores it as writeFileAtomic does; prints its port. */
const BARE_WRITE_SERVER = `
  const { writeFile, rename } = require('node:fs/promises');
  const dir = process.argv[1];
  let n = 0;
  const server = require('node:http').createServer((request, response) => {
    const whole = Buffer.allocUnsafe(Number(request.headers['content-length']));
    let received = 0;
    request.on('data', (chunk) => { chunk.copy(whole, received); received += chunk.length; });
    request.on('end', async () => {
      const temp = dir + '/.bare-tmp-' + n++;
      await writeFile(temp, whole);
      await rename(temp, dir + '/bare-http.bin');
      response.end();
    });
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

/** Runs `script` (a bare node:http server printing its port) with `args` while `work` uses its port; stops it after. */
export async function withBareServer<T>(script: string, args: string[], work: (base: string) => Promise<T>): Promise<T> {
  const child = spawn(process.execPath, ['-e', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise<string>((resolve) => child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim())));
    return await work(`http://127.0.0.1:${port}/`);
  } finally {
    child.kill('SIGTERM');
  }
}

/** The write ceiling: the same PUT to BARE_WRITE_SERVER, alternating with fs.writeFile. */
function bareHttpWrite(dir: string, bytes: Uint8Array, iterations: number): Promise<{ tiled: number[]; baseline: number[] }> {
  const bareFile = join(dir, 'bare-ceiling.bin');
  return withBareServer(BARE_WRITE_SERVER, [dir], (base) =>
    alternate(
      iterations,
      async () => {
        const response = await benchRequest(base, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
        if (!response.ok) throw new Error(`the bare write server answered ${response.status}`);
      },
      () => writeFile(bareFile, bytes),
    ),
  );
}

/** The little of better-sqlite3 (which has no bundled types) the baselines use. */
interface Sqlite {
  prepare(sql: string): { run(...params: unknown[]): { lastInsertRowid: number | bigint } };
  transaction(work: () => void): () => void;
  pragma(text: string): unknown;
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require('better-sqlite3') as new (file: string) => Sqlite;

const ROOT = join(__dirname, '..', '..');
const TILED_BIN = join(ROOT, 'bin', 'tiled.js');
const SIDE = 1024;
const SEARCH_NODES = 100_000;
const COLORS = ['red', 'green', 'blue', 'cyan', 'magenta', 'yellow', 'black', 'white', 'orange', 'violet'];
const FLOAT64 = { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null };

export interface CatalogBenchRow {
  name: string;
  engine: string;
  /** What is compared: 'ms' (median per operation), 'per s', or 'p50/p99 ms'. */
  unit: string;
  tiled: string;
  baseline: string;
  /** tiled-ts as a share of the baseline's speed (higher is better). */
  ratio: number;
  target: string;
  met: boolean | null;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

/** Milliseconds per run of each side, alternating so a neighbour's burst lands on both; one unmeasured run each first. */
export async function alternate(iterations: number, tiled: () => Promise<unknown>, baseline: () => Promise<unknown>): Promise<{ tiled: number[]; baseline: number[] }> {
  await tiled();
  await baseline();
  const out = { tiled: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < iterations; i++) {
    out.tiled.push(await timed(tiled));
    out.baseline.push(await timed(baseline));
  }
  return out;
}

function block(): Uint8Array {
  const values = new Float64Array(SIDE * SIDE);
  for (let i = 0; i < values.length; i++) values[i] = Math.random();
  return new Uint8Array(values.buffer);
}

/** A fresh PostgreSQL database for the run, named so nothing else collides with it. */
export async function postgresDatabase(serverUri: string): Promise<{ uri: string; drop: () => Promise<void> }> {
  const name = `tiled_bench_${randomBytes(6).toString('hex')}`;
  const admin = async (sql: string): Promise<void> => {
    const client = new Client({ connectionString: serverUri });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(serverUri);
  url.pathname = `/${name}`;
  return { uri: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** The access blob of child i (JSON); none by default. */
export type AccessBlobOf = (i: number) => string;

function searchRow(i: number, random: () => number, accessBlob: AccessBlobOf): unknown[] {
  const metadata = { color: COLORS[Math.floor(random() * COLORS.length)], temperature: Math.round(random() * 100_000) / 100, sample: `S${i % 97}` };
  return [`n${i}`, 'container', JSON.stringify(metadata), '[]', accessBlob(i), Date.now(), Date.now()];
}

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** `nodes` children of `c` in an initialised catalog, written straight to the database (what reads them is what is timed). */
export async function fillSearchCatalog(uri: string, engine: 'sqlite' | 'postgres', file?: string, nodes = SEARCH_NODES, accessBlob: AccessBlobOf = () => '{}'): Promise<void> {
  await initCatalog(uri, false);
  const random = seeded(7);
  if (engine === 'sqlite') {
    const db = new Database(file!);
    const parent = db.prepare(`INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated) VALUES ('c', NULL, 'container', '{}', '[]', '{}', 0, 0)`).run().lastInsertRowid;
    const insert = db.prepare('INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
    db.transaction(() => {
      for (let i = 0; i < nodes; i++) {
        const [key, ...rest] = searchRow(i, random, accessBlob);
        insert.run(key, parent, ...rest);
      }
    })();
    db.close();
    return;
  }
  const client = new Client({ connectionString: uri });
  await client.connect();
  try {
    const { rows } = await client.query(`INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated) VALUES ('c', NULL, 'container', '{}', '[]', '{}', 0, 0) RETURNING id`);
    const parent = Number(rows[0].id);
    for (let start = 0; start < nodes; start += 1000) {
      const values: unknown[] = [];
      const tuples: string[] = [];
      for (let i = start; i < Math.min(nodes, start + 1000); i++) {
        const [key, ...rest] = searchRow(i, random, accessBlob);
        const base = values.length;
        values.push(key, parent, ...rest);
        tuples.push(`(${Array.from({ length: 8 }, (_, j) => `$${base + j + 1}`).join(', ')})`);
      }
      await client.query(`INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated) VALUES ${tuples.join(', ')}`, values);
    }
    // As autovacuum leaves a table a minute after a bulk insert: PostgreSQL's index-only scans skip the heap.
    await client.query('VACUUM ANALYZE');
  } finally {
    await client.end();
  }
}

/**
 * Starts `tiled ARGS --port 0` and resolves with its base URL once it is listening and `ready` (a line it
 * prints) has appeared, if given. The caller stops the child.
 */
export async function startTiledServer(args: string[], cwd: string, ready?: string): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, [TILED_BIN, ...args, '--port', '0'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    let done = false;
    // Keeps reading after the banner too: a full pipe would stall the server.
    const onData = (chunk: Buffer): void => {
      if (done) return;
      output += chunk.toString();
      const match = /running on (http:\/\/\S+)/.exec(output);
      if (match && (!ready || output.includes(ready))) {
        done = true;
        resolve({ child, base: match[1] });
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tiled ${args[0]} ${args[1] ?? ''} exited with ${code}:\n${output}`)));
  });
}

/**
 * Runs the catalog cases whose name contains `only` (all without it). `seconds` bounds each timed loop.
 * PostgreSQL joins the search case when `postgresUri` is given.
 */
export async function runCatalogBench(seconds: number, only: string | undefined, postgresUri: string | undefined, log: (message: string) => void): Promise<CatalogBenchRow[]> {
  const wanted = CATALOG_CASES.filter((name) => !only || name.includes(only));
  if (wanted.length === 0) return [];
  const dir = mkdtempSync(join(tmpdir(), 'tiled-bench-catalog-'));
  const cleanups: (() => Promise<void>)[] = [];
  let server: ChildProcess | undefined;
  try {
    const wantSearch = wanted.includes(CATALOG_CASES[2]);
    const searchTrees: { path: string; engine: 'sqlite' | 'postgres'; uri: string }[] = [];
    if (wantSearch) {
      log(`Building two catalogs of ${SEARCH_NODES.toLocaleString('en')} nodes for "${CATALOG_CASES[2]}"…`);
      const file = join(dir, 'search.db');
      await fillSearchCatalog(`sqlite:///${file}`, 'sqlite', file);
      searchTrees.push({ path: 'ssqlite', engine: 'sqlite', uri: `sqlite:///${file}` });
      if (postgresUri) {
        const pg = await postgresDatabase(postgresUri);
        cleanups.push(pg.drop);
        await fillSearchCatalog(pg.uri, 'postgres');
        searchTrees.push({ path: 'spostgres', engine: 'postgres', uri: pg.uri });
      }
    }
    const key = `bench${randomBytes(16).toString('hex')}`;
    const auth = { authorization: `Apikey ${key}` };
    const config = join(dir, 'config.yml');
    writeFileSync(
      config,
      [
        'trees:',
        '  - path: /cat',
        '    tree: catalog',
        `    args: {uri: "sqlite:///${join(dir, 'catalog.db')}", writable_storage: ["${join(dir, 'data')}"], init_if_not_exists: true}`,
        '  - path: /demo',
        '    tree: demo',
        ...searchTrees.flatMap((t) => [`  - path: /${t.path}`, '    tree: catalog', `    args: {uri: "${t.uri}"}`]),
      ].join('\n'),
    );
    const started = await startTiledServer(['serve', 'config', config, '--api-key', key], dir);
    server = started.child;
    const api = `${started.base}/api/v1`;
    const send = async (method: string, path: string, body?: Uint8Array | string, type = 'application/json'): Promise<Buffer> => {
      const response = await benchRequest(`${api}/${path}`, { method, headers: { ...auth, ...(body === undefined ? {} : { 'content-type': type }) }, body });
      if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${response.body.toString().slice(0, 300)}`);
      return response.body;
    };
    const arrayNode = (id: string): string =>
      JSON.stringify({ id, structure_family: 'array', metadata: {}, specs: [], data_sources: [{ structure_family: 'array', structure: { data_type: FLOAT64, shape: [SIDE, SIDE], chunks: [[SIDE], [SIDE]], dims: null, resizable: false }, id: null, mimetype: null, parameters: {}, properties: {}, assets: [], management: 'writable' }] });
    const bytes = block();
    const iterations = Math.max(5, Math.round(seconds * 3));
    const rows: CatalogBenchRow[] = [];

    if (wanted.includes(CATALOG_CASES[0])) {
      log(`Timing "${CATALOG_CASES[0]}"…`);
      await send('POST', 'metadata/cat', arrayNode('w'));
      const bareFile = join(dir, 'bare.bin');
      const t = await alternate(iterations, () => send('PUT', 'array/block/cat/w?block=0,0', bytes, 'application/octet-stream'), () => writeFile(bareFile, bytes));
      const ratio = median(t.baseline) / median(t.tiled);
      rows.push({ name: CATALOG_CASES[0], engine: 'sqlite', unit: 'median ms', tiled: median(t.tiled).toFixed(1), baseline: median(t.baseline).toFixed(1), ratio, target: '≥ 50 %', met: ratio >= 0.5 });
    }

    if (wanted.includes(CATALOG_CASES[4])) {
      log(`Timing "${CATALOG_CASES[4]}"…`);
      const t = await bareHttpWrite(dir, bytes, iterations);
      rows.push({ name: CATALOG_CASES[4], engine: 'node:http', unit: 'median ms', tiled: median(t.tiled).toFixed(1), baseline: median(t.baseline).toFixed(1), ratio: median(t.baseline) / median(t.tiled), target: 'report', met: null });
    }

    if (wanted.includes(CATALOG_CASES[1])) {
      log(`Timing "${CATALOG_CASES[1]}" (${seconds} s each side)…`);
      await send('POST', 'metadata/cat', JSON.stringify({ id: 'many', structure_family: 'container', metadata: {}, specs: [] }));
      let created = 0;
      const until = performance.now() + seconds * 1000;
      const httpStart = performance.now();
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() < until) {
            const i = created++;
            await send('POST', 'metadata/cat/many', JSON.stringify({ id: `n${i}`, structure_family: 'container', metadata: { i, color: COLORS[i % COLORS.length], title: `node number ${i}` }, specs: [] }));
          }
        }),
      );
      const httpRate = created / ((performance.now() - httpStart) / 1000);
      // The baseline: the same schema (the catalog's migrations, triggers included), one autocommitted INSERT per node.
      const bareFile = join(dir, 'bare.db');
      await initCatalog(`sqlite:///${bareFile}`, false);
      const db = new Database(bareFile);
      db.pragma('journal_mode = WAL');
      const parent = db.prepare(`INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated) VALUES ('many', NULL, 'container', '{}', '[]', '{}', 0, 0)`).run().lastInsertRowid;
      const insert = db.prepare('INSERT INTO nodes (key, parent, structure_family, metadata, specs, access_blob, time_created, time_updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)');
      let bare = 0;
      const bareUntil = performance.now() + seconds * 1000;
      const bareStart = performance.now();
      while (performance.now() < bareUntil) {
        const i = bare++;
        insert.run(`n${i}`, parent, 'container', JSON.stringify({ i, color: COLORS[i % COLORS.length], title: `node number ${i}` }), '[]', '{}', Date.now(), Date.now());
      }
      const bareRate = bare / ((performance.now() - bareStart) / 1000);
      db.close();
      rows.push({ name: CATALOG_CASES[1], engine: 'sqlite', unit: 'nodes/s', tiled: httpRate.toFixed(0), baseline: bareRate.toFixed(0), ratio: httpRate / bareRate, target: '≥ 1,000/s', met: httpRate >= 1000 });
    }

    if (wantSearch) {
      const filters: Filter[] = [{ type: 'eq', key: 'color', value: 'red' }];
      const query = `filter[eq][condition][key]=color&filter[eq][condition][value]=${encodeURIComponent('"red"')}&sort=-temperature&page[limit]=100`;
      for (const tree of searchTrees) {
        log(`Timing "${CATALOG_CASES[2]}" on ${tree.engine} (${seconds} s each side)…`);
        const dataSource = new DataSource(tree.engine === 'sqlite' ? { type: 'better-sqlite3', database: tree.uri.replace('sqlite:///', '') } : { type: 'postgres', url: tree.uri });
        await dataSource.initialize();
        try {
          const [parent] = (await dataSource.query(`SELECT id FROM nodes WHERE key = 'c' AND parent IS NULL`)) as { id: number }[];
          const http: number[] = [];
          const direct: number[] = [];
          await send('GET', `search/${tree.path}/c?${query}`);
          const until = performance.now() + seconds * 2000;
          while (performance.now() < until || http.length < 20) {
            http.push(await timed(() => send('GET', `search/${tree.path}/c?${query}`)));
            direct.push(await timed(() => searchChildren(dataSource, Number(parent.id), { filters, lookups: [] }, [{ key: 'temperature', direction: -1 }], 0, 100)));
          }
          const p99 = percentile(http, 99);
          rows.push({
            name: CATALOG_CASES[2],
            engine: tree.engine,
            unit: 'p50 / p99 ms',
            tiled: `${percentile(http, 50).toFixed(1)} / ${p99.toFixed(1)}`,
            baseline: `${percentile(direct, 50).toFixed(1)} / ${percentile(direct, 99).toFixed(1)}`,
            ratio: percentile(direct, 50) / percentile(http, 50),
            target: 'p99 ≤ 20 ms',
            met: p99 <= 20,
          });
        } finally {
          await dataSource.destroy();
        }
      }
    }

    if (wanted.includes(CATALOG_CASES[3])) {
      log(`Timing "${CATALOG_CASES[3]}"…`);
      await send('POST', 'metadata/cat', arrayNode('r'));
      await send('PUT', 'array/block/cat/r?block=0,0', bytes, 'application/octet-stream');
      const t = await alternate(iterations, () => send('GET', 'array/block/cat/r?block=0,0'), () => send('GET', 'array/block/demo/big?block=0,0'));
      const ratio = median(t.baseline) / median(t.tiled);
      rows.push({ name: CATALOG_CASES[3], engine: 'sqlite', unit: 'median ms', tiled: median(t.tiled).toFixed(1), baseline: median(t.baseline).toFixed(1), ratio, target: 'as fast as demo', met: ratio >= 0.9 });
    }
    return rows;
  } finally {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server!.once('exit', resolve));
      server.kill('SIGTERM');
      await exited;
    }
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const CATALOG_HEADER = ['Case', 'Engine', 'Unit', 'tiled-ts', 'baseline', 'ratio', 'target'];
export const CATALOG_RIGHT = [false, false, false, true, true, true, false];

export function catalogRows(rows: readonly CatalogBenchRow[]): string[][] {
  return rows.map((r) => [r.name, r.engine, r.unit, r.tiled, r.baseline, `${(r.ratio * 100).toFixed(0)} %`, `${r.target}: ${r.met === null ? '—' : r.met ? 'met' : 'MISSED'}`]);
}
