import type { DataSource } from 'typeorm';
import { connect } from '../../src/database/data-source';
import { DeviceFlowTokens, loginWithDeviceFlow } from '../../src/external-login/device-flow.client';
import { signInAtProvider } from '../helpers/oidc-provider/login-driver';
import { OidcSetup, startTiledWithOidc } from '../helpers/oidc-provider/tiled-with-oidc';
import { createTestDatabase, testEngines, TestDatabase } from '../helpers/postgres';
import type { RunningServer } from '../helpers/tiled-process';
import type { DeviceFlowStart } from '../../src/external-login/external-login.service';

/**
 * Two tiled-ts processes behind one public address (the first one's, as a load balancer would present
 * them), sharing one authentication database. Each step of a login is sent to a chosen replica by
 * rewriting the origin of the URL the provider redirected to, which is exactly what a non-sticky load
 * balancer may do.
 */
function onReplica(url: URL | string, replica: RunningServer): string {
  const parsed = new URL(url);
  return new URL(`${parsed.pathname}${parsed.search}`, replica.url).href;
}

function hiddenField(html: string, name: string): string {
  const value = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
  if (value === undefined) throw new Error(`no ${name} field in the page: ${html.slice(0, 300)}`);
  return value.replace(/&amp;/g, '&');
}

const poll = (replica: RunningServer, deviceCode: string): Promise<Response> =>
  fetch(`${replica.api}/auth/provider/oidc/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ device_code: deviceCode, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }),
  });

describe.each(testEngines())('external login served by two replicas sharing one %s database', (engine) => {
  let db: TestDatabase;
  let setup: OidcSetup;
  let a: RunningServer;
  let b: RunningServer;
  let inspect: DataSource;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    setup = await startTiledWithOidc({ replicas: 2, databaseUri: db.uri });
    [a, b] = setup.servers;
    inspect = (await connect(db.uri)).dataSource;
  }, 90000);
  afterAll(async () => {
    await inspect?.destroy();
    await setup?.stop();
    await db?.drop();
  });

  it('browser login: /authorize on A, the provider\'s callback on B answers tokens that A accepts; the callback works once', async () => {
    const start = await fetch(`${a.api}/auth/provider/oidc/authorize`, { redirect: 'manual' });
    expect(start.status).toBe(307);
    const callback = await signInAtProvider(start.headers.get('location')!, 'alice');
    expect(callback.origin).toBe(a.url);

    const response = await fetch(onReplica(callback, b), { redirect: 'manual' });
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as DeviceFlowTokens;
    expect(tokens).toMatchObject({ token_type: 'bearer', identity: { id: 'alice', provider: 'oidc' } });
    const whoami = await fetch(`${a.api}/auth/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(whoami.status).toBe(200);

    // The same callback replayed on the replica that issued the state: already consumed.
    const replay = await fetch(onReplica(callback, a), { redirect: 'manual' });
    expect(replay.status).toBe(401);
    expect(await replay.json()).toEqual({ detail: 'Authentication failure' });
  });

  it('device login: started and polled on A by the client, the code typed on B\'s page; the device code works once', async () => {
    let printed = '';
    let shown!: () => void;
    const instructionsShown = new Promise<void>((resolve) => (shown = resolve));
    let deviceCode = '';
    const login: Promise<DeviceFlowTokens> = loginWithDeviceFlow(a.api, 'oidc', {
      fetch: async (input, init) => {
        const answer = await fetch(input, init);
        if (String(input).endsWith('/authorize')) deviceCode = ((await answer.clone().json()) as DeviceFlowStart).device_code;
        return answer;
      },
      print: (text) => {
        printed += text;
        shown();
      },
    });
    await instructionsShown;
    const match = /visit this URL\n\n(\S+)\n\nand enter the code:\n\n(\S+)/.exec(printed);
    expect(match).not.toBeNull();
    const [, authorizationUri, userCode] = match!;

    const landing = await signInAtProvider(authorizationUri, 'alice');
    expect(landing.pathname).toBe('/api/v1/auth/provider/oidc/device_code');
    const form = await fetch(onReplica(landing, b));
    expect(form.status).toBe(200);
    const html = await form.text();
    const fields = { code: hiddenField(html, 'code'), state: hiddenField(html, 'state') };

    const wrong = await fetch(`${b.api}/auth/provider/oidc/device_code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, user_code: 'ZZZZ-ZZZZ' }).toString(),
    });
    expect(wrong.status).toBe(401);
    expect(await wrong.text()).toContain('Invalid user code.');

    // The corrected code on the other replica: the attempt count and the login live in the database.
    const right = await fetch(`${a.api}/auth/provider/oidc/device_code`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...fields, user_code: userCode }).toString(),
    });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('Success!');

    const tokens = await login;
    expect(tokens).toMatchObject({ token_type: 'bearer', identity: { id: 'alice', provider: 'oidc' } });
    const whoami = await fetch(`${b.api}/auth/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(whoami.status).toBe(200);

    const replay = await poll(b, deviceCode);
    expect(replay.status).toBe(404);
    expect(await replay.json()).toEqual({ detail: 'No such device_code. The pending request may have expired.' });
  }, 60000);

  it('device login: polling A and then B too fast is slow_down, because the last poll time is shared', async () => {
    const start = (await (await fetch(`${a.api}/auth/provider/oidc/authorize`, { method: 'POST' })).json()) as DeviceFlowStart;
    const first = await poll(a, start.device_code);
    expect(await first.json()).toEqual({ detail: { error: 'authorization_pending' } });
    const second = await poll(b, start.device_code);
    expect(second.status).toBe(400);
    expect(await second.json()).toEqual({ detail: { error: 'slow_down', interval: 10 } });
  });

  it('keeps only hashes of states, device codes and user codes in the database', async () => {
    const browserStart = await fetch(`${a.api}/auth/provider/oidc/authorize`, { redirect: 'manual' });
    const state = new URL(browserStart.headers.get('location')!).searchParams.get('state')!;
    const device = (await (await fetch(`${b.api}/auth/provider/oidc/authorize`, { method: 'POST' })).json()) as DeviceFlowStart;
    const deviceState = new URL(device.authorization_uri).searchParams.get('state')!;
    const rows = JSON.stringify([
      await inspect.query('SELECT * FROM external_login_requests'),
      await inspect.query('SELECT * FROM device_login_requests'),
    ]);
    expect(rows).toContain('"oidc"');
    for (const secret of [state, deviceState, device.device_code, device.user_code, device.user_code.replace('-', '')]) {
      expect(rows).not.toContain(secret);
    }
  });

  it('a provider that cannot be reached is still a 503 on every replica, and leaves no pending login behind', async () => {
    const count = async (): Promise<number> => {
      const [logins] = await inspect.query(`SELECT COUNT(*) AS n FROM external_login_requests WHERE provider = 'down'`);
      const [devices] = await inspect.query(`SELECT COUNT(*) AS n FROM device_login_requests WHERE provider = 'down'`);
      return Number(logins.n) + Number(devices.n);
    };
    for (const replica of [a, b]) {
      const browser = await fetch(`${replica.api}/auth/provider/down/authorize`, { redirect: 'manual' });
      expect(browser.status).toBe(503);
      expect(((await browser.json()) as { detail: string }).detail).toContain('Authentication provider "down" is unavailable');
      const deviceStart = await fetch(`${replica.api}/auth/provider/down/authorize`, { method: 'POST' });
      expect(deviceStart.status).toBe(503);
    }
    expect(await count()).toBe(0);
    await b.waitForOutput('Authentication provider "down" failed: Cannot reach the OpenID discovery document');
  });
});
