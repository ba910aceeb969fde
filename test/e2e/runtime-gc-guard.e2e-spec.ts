import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/**
 * Regression guard for the abort better-sqlite3 12 caused on Node >= 24.19 (see docs/deployment.md):
 * when a garbage collection that V8 started by itself freed a dropped prepared statement, the process
 * died with SIGABRT and `Assertion failed: (env) != nullptr` — a server sometimes before it listened,
 * Jest at the end of a run. How often depended on when V8 chose to collect.
 *
 * Every process here runs with a 1 MB young generation and keeps allocating, so V8 collects every few
 * tens of milliseconds. A child opens, uses and closes the authentication database through tiled-ts's
 * own code; servers share one SQLite file under login and API-key load, and restart ten times. With
 * better-sqlite3 12.11.1 swapped in on Node 24.21, all five tests failed in each of five runs (the child
 * and the servers aborted, servers before they listened); with 13 they pass on Node 22, 24 and 26.
 */
const FIXTURES = join(__dirname, '..', 'fixtures', 'runtime');
const ALLOCATING = { NODE_OPTIONS: `--max-semi-space-size=1 --require ${join(FIXTURES, 'allocation-pressure.js')}` };
const PASSWORDS = { alice: 'alice-pw', bob: 'bob-pw', admin: 'admin-pw' } as const;
type User = keyof typeof PASSWORDS;
const ABORT_SIGNS = /Assertion failed|Native stack trace|FATAL ERROR/;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

/** `node <script> <args>` with a small young generation, so V8 collects often. */
function runNode(script: string, args: string[]): Promise<Exit> {
  const child = spawn(process.execPath, ['--max-semi-space-size=1', script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    }),
  );
}

/** A server stopped with SIGTERM: Nest's shutdown hooks close the app, then re-raise the signal. */
function expectCleanStop(server: RunningServer): void {
  const { exitCode, signalCode } = server.process;
  expect(server.output()).not.toMatch(ABORT_SIGNS);
  expect([exitCode, signalCode]).toEqual(signalCode === null ? [0, null] : [null, 'SIGTERM']);
}

function login(api: string, user: string, password: string): Promise<Response> {
  return fetch(`${api}/auth/provider/toy/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: user, password }).toString(),
  });
}

/**
 * One user's round of the statements a server prepares: login (throttle counters), session refresh,
 * whoami, key create / use / inspect / revoke, and now and then a refused login for nobody.
 */
async function round(api: string, user: User, i: number): Promise<void> {
  const loggedIn = await login(api, user, PASSWORDS[user]);
  expect(loggedIn.status).toBe(200);
  const tokens = (await loggedIn.json()) as { access_token: string; refresh_token: string };
  const bearer = { authorization: `Bearer ${tokens.access_token}` };
  const refreshed = await fetch(`${api}/auth/session/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refresh_token: tokens.refresh_token }),
  });
  expect(refreshed.status).toBe(200);
  expect((await fetch(`${api}/auth/whoami`, { headers: bearer })).status).toBe(200);
  const created = await fetch(`${api}/auth/apikey`, {
    method: 'POST',
    headers: { ...bearer, 'content-type': 'application/json' },
    body: JSON.stringify({ expires_in: 600, scopes: ['read:metadata'], note: `gc guard ${i}` }),
  });
  expect(created.status).toBe(200);
  const key = (await created.json()) as { secret: string; first_eight: string };
  const withKey = { authorization: `Apikey ${key.secret}` };
  expect((await fetch(`${api}/metadata/`, { headers: withKey })).status).toBe(200);
  expect((await fetch(`${api}/auth/apikey`, { headers: withKey })).status).toBe(200);
  const revoked = await fetch(`${api}/auth/apikey?first_eight=${key.first_eight}`, { method: 'DELETE', headers: bearer });
  expect(revoked.status).toBe(204);
  expect((await fetch(`${api}/metadata/`, { headers: withKey })).status).toBe(401);
  // The address allows 30 failures per 15 minutes across all servers of the file; this stays below.
  if (i % 4 === 0) expect((await login(api, `nobody-${i}`, 'wrong')).status).toBe(401);
}

describe('Node runtime: SQLite statements freed by garbage collection', () => {
  let dir: string;
  let config: string;
  let databaseUri: string;
  const servers: RunningServer[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-gc-guard-'));
    databaseUri = `sqlite:///${join(dir, 'auth.db')}`;
    config = writeToyConfig(dir, { users: PASSWORDS, admins: ['admin'], secretKeys: ['gc-guard-signing-key'], databaseUri });
  });
  afterAll(async () => {
    await Promise.all(servers.map((server) => server.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<RunningServer> => {
    const server = await startTiled(['serve', 'config', config], { env: ALLOCATING, timeoutMs: 30000 });
    servers.push(server);
    return server;
  };

  it.each([
    ['a new SQLite file (migrations run)', () => `sqlite:///${join(dir, 'fresh.db')}`],
    ['the same file again (schema check only)', () => `sqlite:///${join(dir, 'fresh.db')}`],
    ['a transient in-memory database', () => 'sqlite:///:memory:'],
  ])('opens, uses and closes %s, then lets V8 collect, and exits 0', async (_label, uri) => {
    const result = await runNode(join(FIXTURES, 'open-database.js'), [uri()]);
    expect(result.output).not.toMatch(ABORT_SIGNS);
    expect(result).toEqual({ code: 0, signal: null, output: 'closed cleanly\n' });
  });

  it('keeps three servers sharing one SQLite file alive under load while they allocate constantly', async () => {
    // The first one creates the schema; the other two open the existing file at the same time.
    const first = await start();
    const replicas = [first, ...(await Promise.all([start(), start()]))];
    const users = Object.keys(PASSWORDS) as User[];
    await Promise.all(
      replicas.map(async (server, s) => {
        for (let i = 0; i < 4; i++) await Promise.all(users.map((user, u) => round(server.api, user, s * 100 + i * users.length + u)));
      }),
    );
    // The CLI opens a fourth connection to the file while the servers hold theirs, finds nothing to
    // migrate, closes it and exits normally.
    const upgrade = await runTiled(['admin', 'upgrade-database', databaseUri], { env: ALLOCATING });
    expect(upgrade.stdout + upgrade.stderr).not.toMatch(ABORT_SIGNS);
    expect(upgrade.code).toBe(0);
    for (const server of replicas) {
      await server.stop();
      expectCleanStop(server);
    }
  }, 90000);

  it('starts and stops ten times, twice with logins still in flight, without aborting', async () => {
    for (let cycle = 0; cycle < 10; cycle++) {
      const server = await start();
      const user: User = cycle % 2 ? 'alice' : 'bob';
      if (cycle % 5 === 4) {
        // Shut down while statements are being run: closing the database finalises them mid-flight.
        const inFlight = Array.from({ length: 8 }, () => login(server.api, user, PASSWORDS[user]).catch(() => undefined));
        await server.stop();
        await Promise.all(inFlight);
      } else {
        await round(server.api, user, 1000 + cycle);
        await server.stop();
      }
      expectCleanStop(server);
    }
  }, 120000);
});
