import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createTestDatabase, EngineName, testEngines, TestDatabase } from '../helpers/postgres';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

/**
 * `latest_activity` of a key, and of its principal, right after the key is used (docs/api-keys-server.md,
 * "How fresh is latest_activity"): listings show the use at once, while the database is still written at
 * most once a minute per key.
 */
const PASSWORDS = { alice: 'alice-pw' } as const;

interface KeyJson {
  first_eight: string;
  latest_activity: string | null;
}

interface PrincipalJson {
  api_keys: KeyJson[];
  latest_activity: string | null;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The stored `latest_activity` (epoch milliseconds) of a key, read straight from the database. */
async function storedActivity(db: TestDatabase, firstEight: string): Promise<number | null> {
  const sql = 'SELECT latest_activity FROM api_keys WHERE first_eight = $1';
  if (db.engine === 'sqlite') {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Database = require('better-sqlite3') as new (file: string, options: { readonly: boolean }) => {
      prepare(s: string): { get(...p: unknown[]): { latest_activity: number | null } | undefined };
      close(): void;
    };
    const handle = new Database(db.uri.slice('sqlite:///'.length), { readonly: true });
    try {
      return handle.prepare(sql.replace('$1', '?')).get(firstEight)?.latest_activity ?? null;
    } finally {
      handle.close();
    }
  }
  const client = new Client({ connectionString: db.uri });
  await client.connect();
  try {
    const value = (await client.query<{ latest_activity: string | null }>(sql, [firstEight])).rows[0]?.latest_activity;
    return value == null ? null : Number(value);
  } finally {
    await client.end();
  }
}

describe.each(testEngines())('latest_activity after a key is used (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let dir: string;
  let server: RunningServer;
  let token: string;

  const api = (path: string): string => `${server.api}${path}`;

  async function whoami(): Promise<PrincipalJson> {
    const response = await fetch(api('/auth/whoami'), { headers: { authorization: `Bearer ${token}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as PrincipalJson;
  }

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    dir = mkdtempSync(join(tmpdir(), 'tiled-activity-'));
    server = await startTiled(['serve', 'config', writeToyConfig(dir, { users: PASSWORDS, secretKeys: ['activity-e2e-signing-key'], databaseUri: db.uri })]);
    const login = await fetch(api('/auth/provider/toy/token'), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: 'alice', password: PASSWORDS.alice }).toString(),
    });
    token = ((await login.json()) as { access_token: string }).access_token;
  });

  afterAll(async () => {
    await server?.stop();
    await db?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('shows each use in whoami, in the key inspection and in the principal at once; the database is written once', async () => {
    const created = await fetch(api('/auth/apikey'), {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['read:metadata'] }),
    });
    expect(created.status).toBe(200);
    const key = (await created.json()) as { secret: string; first_eight: string };
    const listed = (): Promise<KeyJson | undefined> => whoami().then((me) => me.api_keys.find((k) => k.first_eight === key.first_eight));
    expect((await listed())?.latest_activity).toBeNull();

    // Activity has second resolution: leave a second between the login and each use so each is visible.
    await pause(1100);
    expect((await fetch(api('/metadata/'), { headers: { authorization: `Apikey ${key.secret}` } })).status).toBe(200);
    const firstUse = Date.parse((await listed())!.latest_activity!);
    expect(Math.abs(Date.now() - firstUse)).toBeLessThan(2500);

    // The first use is written to the database (fire-and-forget); wait for it.
    const deadline = Date.now() + 5000;
    let stored = await storedActivity(db, key.first_eight);
    while (stored === null && Date.now() < deadline) {
      await pause(50);
      stored = await storedActivity(db, key.first_eight);
    }
    expect(stored).toBe(firstUse);

    await pause(1100);
    expect((await fetch(api('/metadata/'), { headers: { authorization: `Apikey ${key.secret}` } })).status).toBe(200);
    const me = await whoami();
    const secondUse = Date.parse(me.api_keys.find((k) => k.first_eight === key.first_eight)!.latest_activity!);
    expect(secondUse).toBeGreaterThanOrEqual(firstUse + 1000);
    expect(Math.abs(Date.now() - secondUse)).toBeLessThan(2500);
    // The principal's latest_activity is the latest of its logins, sessions and keys.
    expect(Date.parse(me.latest_activity!)).toBe(secondUse);

    // GET /auth/apikey inspects the key without counting as a use, but shows the uses before it.
    const inspected = await fetch(api('/auth/apikey'), { headers: { authorization: `Apikey ${key.secret}` } });
    expect(Date.parse(((await inspected.json()) as KeyJson).latest_activity!)).toBe(secondUse);

    // Within the minute the second use is not written: the database keeps the first.
    await pause(300);
    expect(await storedActivity(db, key.first_eight)).toBe(firstUse);
  });
});
