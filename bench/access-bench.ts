import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { alternate, fillSearchCatalog, median, postgresDatabase, startTiledServer } from './catalog-bench';
import type { CatalogBenchRow } from './catalog-bench';
import { benchRequest } from './http-client';

/*
 * Tiled's tag-based policy through HTTP (issue 12), each case beside the same request with no policy, in
 * the same run. Two servers over one catalog of `children` children of `c`, half tagged data_A and half
 * data_B; the caller is bob, whom the compiled tags database (test/fixtures/access/tiled-compiled-tags.sql,
 * as Tiled's compiler writes it) gives data_A only, so under the policy he sees half of them.
 *
 * | Case | policy side | baseline |
 * |---|---|---|
 * | access: search page of 100 | GET /search/c, page[limit]=100 at offsets cycling over the visible half | the same pages, no `access_control:` |
 * | access: count | GET /search/c?fields=count (5,000 of 10,000 counted in SQL) | the same, 10,000 counted |
 * | access: read, extra DB reads | read syscalls per GET /metadata/c/n0 of the server process (/proc/PID/io) | the same read with no policy |
 */

export const ACCESS_CASES = ['access: search page of 100', 'access: count', 'access: read, extra DB reads'];

const FIXTURES = join(__dirname, '..', '..', 'test', 'fixtures', 'access');
const USER = 'bob';

/** read syscalls (syscr) of a process so far, from /proc (Linux); undefined elsewhere. */
function readSyscalls(pid: number | undefined): number | undefined {
  try {
    const match = /^syscr: (\d+)$/m.exec(readFileSync(`/proc/${pid}/io`, 'utf8'));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a process holds `file` open (Linux); undefined when /proc cannot tell. */
function holdsOpen(pid: number | undefined, file: string): boolean | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return undefined;
  }
}

function config(dir: string, name: string, policy: boolean, catalogUri: string): string {
  const file = join(dir, `${name}.yml`);
  writeFileSync(
    file,
    JSON.stringify({
      trees: [{ path: '/', tree: 'catalog', args: { uri: catalogUri } }],
      authentication: {
        providers: [{ provider: 'toy', authenticator: 'tiled.authenticators:DictionaryAuthenticator', args: { users_to_passwords: { [USER]: `${USER}-pw` } } }],
        secret_keys: ['access-bench-signing-key'],
      },
      database: { uri: `sqlite:///${join(dir, `${name}-auth.db`)}`, init_if_not_exists: true },
      ...(policy
        ? {
            access_control: {
              access_policy: 'tiled.access_control.access_policies:TagBasedAccessPolicy',
              args: { provider: 'toy', tags_db: { uri: `file:${join(dir, 'compiled_tags.sqlite')}` }, access_tags_parser: 'tiled.access_control.access_tags:AccessTagsParser' },
            },
          }
        : {}),
    }),
  );
  return file;
}

async function login(base: string): Promise<Record<string, string>> {
  const response = await fetch(`${base}/api/v1/auth/provider/toy/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: USER, password: `${USER}-pw` }).toString(),
  });
  if (!response.ok) throw new Error(`login as ${USER}: ${response.status} ${await response.text()}`);
  return { authorization: `Bearer ${((await response.json()) as { access_token: string }).access_token}` };
}

/**
 * Runs the access cases whose name contains `only` (all without it) over `children` children; `seconds`
 * sets the number of alternating requests.
 */
export async function runAccessBench(seconds: number, children: number, only: string | undefined, postgresUri: string | undefined, log: (message: string) => void): Promise<CatalogBenchRow[]> {
  const wanted = ACCESS_CASES.filter((name) => !only || name.includes(only));
  if (wanted.length === 0) return [];
  const rows: CatalogBenchRow[] = [];
  for (const engine of postgresUri ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) rows.push(...(await runAccessEngine(engine, seconds, children, wanted, postgresUri, log)));
  return rows;
}

async function runAccessEngine(engine: 'sqlite' | 'postgres', seconds: number, children: number, wanted: string[], postgresUri: string | undefined, log: (message: string) => void): Promise<CatalogBenchRow[]> {
  const dir = mkdtempSync(join(tmpdir(), 'tiled-bench-access-'));
  const servers: ChildProcess[] = [];
  let dropDatabase: (() => Promise<void>) | undefined;
  try {
    log(`Building a ${engine} catalog of ${children.toLocaleString('en')} children, half tagged data_A, for the access cases…`);
    const tagsFile = join(dir, 'compiled_tags.sqlite');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as new (file: string) => { exec(sql: string): void; prepare(sql: string): { run(...params: unknown[]): unknown }; close(): void };
    const tags = new Database(tagsFile);
    tags.exec(readFileSync(join(FIXTURES, 'tiled-compiled-tags.sql'), 'utf8'));
    tags.close();
    const blobOf = (i: number): string => JSON.stringify({ tags: [i % 2 ? 'data_B' : 'data_A'] });
    // The container itself bob may read (a blob with neither tags nor user would hide it from everyone).
    const parentBlob = "UPDATE nodes SET access_blob = '{\"tags\": [\"data_A\"]}' WHERE key = 'c' AND parent IS NULL";
    let catalogUri: string;
    if (engine === 'sqlite') {
      const catalogFile = join(dir, 'catalog.db');
      catalogUri = `sqlite:///${catalogFile}`;
      await fillSearchCatalog(catalogUri, 'sqlite', catalogFile, children, blobOf);
      const catalog = new Database(catalogFile);
      catalog.prepare(parentBlob).run();
      catalog.close();
    } else {
      const pg = await postgresDatabase(postgresUri!);
      dropDatabase = pg.drop;
      catalogUri = pg.uri;
      await fillSearchCatalog(catalogUri, 'postgres', undefined, children, blobOf);
      const client = new Client({ connectionString: catalogUri });
      await client.connect();
      await client.query(parentBlob);
      await client.end();
    }
    const start = async (name: string, policy: boolean): Promise<{ base: string; pid: number | undefined; auth: Record<string, string> }> => {
      const started = await startTiledServer(['serve', 'config', config(dir, name, policy, catalogUri)], dir);
      servers.push(started.child);
      return { base: started.base, pid: started.child.pid, auth: await login(started.base) };
    };
    const policy = await start('policy', true);
    const none = await start('none', false);
    const get = async (side: typeof policy, path: string): Promise<Record<string, unknown>> => {
      const response = await benchRequest(`${side.base}/api/v1/${path}`, { headers: side.auth });
      const text = response.body.toString();
      if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${text.slice(0, 300)}`);
      return JSON.parse(text) as Record<string, unknown>;
    };
    const count = async (side: typeof policy): Promise<number> => ((await get(side, 'search/c?fields=count')).meta as { count: number }).count;
    const [seen, all] = [await count(policy), await count(none)];
    // The policy must really filter, or the comparison measures nothing.
    if (seen !== Math.ceil(children / 2) || all !== children) throw new Error(`${USER} counts ${seen} children under the policy and ${all} without; expected ${Math.ceil(children / 2)} and ${children}`);
    const iterations = Math.max(10, Math.round(seconds * 10));
    const rows: CatalogBenchRow[] = [];
    const within2x = (t: { tiled: number[]; baseline: number[] }, name: string): CatalogBenchRow => {
      const ratio = median(t.baseline) / median(t.tiled);
      return { name, engine, unit: 'median ms', tiled: median(t.tiled).toFixed(1), baseline: median(t.baseline).toFixed(1), ratio, target: '≤ 2× none', met: ratio >= 0.5 };
    };

    if (wanted.includes(ACCESS_CASES[0])) {
      log(`Timing "${ACCESS_CASES[0]}" (${iterations} requests each side)…`);
      const pages = Math.max(1, Math.floor(seen / 100));
      let i = 0;
      let j = 0;
      const t = await alternate(
        iterations,
        () => get(policy, `search/c?page[offset]=${(i++ % pages) * 100}&page[limit]=100`),
        () => get(none, `search/c?page[offset]=${(j++ % pages) * 100}&page[limit]=100`),
      );
      rows.push(within2x(t, ACCESS_CASES[0]));
    }

    if (wanted.includes(ACCESS_CASES[1])) {
      log(`Timing "${ACCESS_CASES[1]}" (${iterations} requests each side)…`);
      rows.push(within2x(await alternate(iterations, () => count(policy), () => count(none)), ACCESS_CASES[1]));
    }

    if (wanted.includes(ACCESS_CASES[2])) {
      log(`Counting "${ACCESS_CASES[2]}"…`);
      const perRequest = async (side: typeof policy): Promise<number | undefined> => {
        await get(side, 'metadata/c/n0');
        const before = readSyscalls(side.pid);
        for (let k = 0; k < iterations; k++) await get(side, 'metadata/c/n0');
        const after = readSyscalls(side.pid);
        return before === undefined || after === undefined ? undefined : (after - before) / iterations;
      };
      const withPolicy = await perRequest(policy);
      const without = await perRequest(none);
      // Held in memory: the tags database is closed after loading, so no request can query it.
      const tagsOpen = holdsOpen(policy.pid, tagsFile);
      if (withPolicy === undefined || without === undefined || tagsOpen === undefined) {
        rows.push({ name: ACCESS_CASES[2], engine, unit: 'read syscalls/req', tiled: '–', baseline: '–', ratio: NaN, target: 'needs /proc', met: null });
      } else {
        rows.push({
          name: ACCESS_CASES[2],
          engine,
          unit: 'read syscalls/req',
          tiled: `${withPolicy.toFixed(1)}${tagsOpen ? ', tags DB open' : ', tags DB closed'}`,
          baseline: without.toFixed(1),
          ratio: without === 0 ? 1 : without / Math.max(withPolicy, 1e-9),
          target: 'no extra reads',
          // Within half a read per request: an extra query would add at least one per request.
          met: !tagsOpen && withPolicy - without < 0.5,
        });
      }
    }
    return rows;
  } finally {
    await Promise.all(
      servers.map(async (child) => {
        if (child.exitCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }),
    );
    await dropDatabase?.().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  }
}

