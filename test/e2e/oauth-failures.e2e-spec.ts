import { join } from 'node:path';
import { runTiled } from '../helpers/tiled-process';
import { signInAtProvider } from '../helpers/oidc-provider/login-driver';
import { OidcSetup, startTiledWithOidc } from '../helpers/oidc-provider/tiled-with-oidc';

/** Start a browser login over plain HTTP: the server's redirect to the provider, then sign in there. */
async function callbackFor(setup: OidcSetup, provider: string, login = 'alice'): Promise<URL> {
  const start = await fetch(`${setup.server.api}/auth/provider/${provider}/authorize`, { redirect: 'manual' });
  expect(start.status).toBe(307);
  return signInAtProvider(start.headers.get('location')!, login);
}

describe('external login failures (real OpenID provider)', () => {
  let setup: OidcSetup;

  beforeAll(async () => {
    setup = await startTiledWithOidc();
  }, 60000);
  afterAll(async () => setup?.stop());

  it('an internal provider has none of the external routes (404, as Tiled)', async () => {
    for (const [method, path] of [['GET', 'authorize'], ['POST', 'authorize'], ['GET', 'code'], ['GET', 'device_code']]) {
      const response = await fetch(`${setup.server.api}/auth/provider/toy/${path}`, { method, redirect: 'manual' });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ detail: 'Not Found' });
    }
  });

  it('a callback with a state this server never issued is refused', async () => {
    const callback = await callbackFor(setup, 'oidc');
    callback.searchParams.set('state', 'forged-state');
    const response = await fetch(callback, { redirect: 'manual' });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Authentication failure' });
  });

  it('a replayed callback (same code and state) is refused the second time', async () => {
    const callback = await callbackFor(setup, 'oidc');
    const first = await fetch(callback, { redirect: 'manual' });
    expect(first.status).toBe(200);
    const second = await fetch(callback, { redirect: 'manual' });
    expect(second.status).toBe(401);
    expect(await second.json()).toEqual({ detail: 'Authentication failure' });
  });

  it('an ID token signed with a key the provider never published is refused and logged', async () => {
    const callback = await callbackFor(setup, 'oidc');
    await setup.provider.tamper('foreign-key');
    try {
      const response = await fetch(callback, { redirect: 'manual' });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ detail: 'Authentication failure' });
      await setup.server.waitForOutput(/Login via "oidc" rejected: ID token rejected: signature verification failed/);
    } finally {
      await setup.provider.tamper('none');
    }
  });

  it('with redirect_on_failure, a failed login lands there (no tokens)', async () => {
    const callback = await callbackFor(setup, 'redirect');
    callback.searchParams.set('state', 'forged-state');
    const response = await fetch(callback, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe(`${setup.server.url}/healthz?landed=failed`);
  });

  it('a provider that cannot be reached is a 503 with a log line, for both flows', async () => {
    const browser = await fetch(`${setup.server.api}/auth/provider/down/authorize`, { redirect: 'manual' });
    expect(browser.status).toBe(503);
    expect(browser.headers.get('content-type')).toBe('application/json');
    expect(await browser.json()).toEqual({
      detail: 'Authentication provider "down" is unavailable. Try again later or ask the administrator to check the server log.',
    });
    const device = await fetch(`${setup.server.api}/auth/provider/down/authorize`, { method: 'POST' });
    expect(device.status).toBe(503);
    await setup.server.waitForOutput(
      `Authentication provider "down" failed: Cannot reach the OpenID discovery document http://127.0.0.1:${setup.deadPort}/.well-known/openid-configuration`,
    );
  });

  // Last: it stops the provider.
  it('a provider that goes down between sign-in and callback is a 503, never a login', async () => {
    const callback = await callbackFor(setup, 'oidc');
    await setup.provider.stop();
    const response = await fetch(callback, { redirect: 'manual' });
    expect(response.status).toBe(503);
    const body = (await response.json()) as { detail: string };
    expect(body.detail).toContain('Authentication provider "oidc" is unavailable');
    expect(body).not.toHaveProperty('access_token');
    await setup.server.waitForOutput(/Authentication provider "oidc" failed: The token endpoint could not be used/);
  });
});

describe('startup with an external provider whose client secret is not set', () => {
  it('fails before listening, naming the variable and the key path', async () => {
    const result = await runTiled(['serve', 'config', join(__dirname, '..', '..', 'example_configs', 'google_auth.yml'), '--port', '0'], {
      env: { GOOGLE_CLIENT_ID: 'id.apps.googleusercontent.com', GOOGLE_CLIENT_SECRET: undefined, TILED_ADMIN_GOOGLE_SUB: '1234' },
    });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'authentication.providers[0].args.client_secret: environment variable GOOGLE_CLIENT_SECRET is not set',
    );
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
