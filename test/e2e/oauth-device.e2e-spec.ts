import { signInAtProviderPage, SuiteBrowser } from '../helpers/browser';
import { OidcSetup, startTiledWithOidc } from '../helpers/oidc-provider/tiled-with-oidc';
import { DeviceFlowTokens, loginWithDeviceFlow } from '../../src/external-login/device-flow.client';
import type { DeviceFlowStart } from '../../src/external-login/external-login.service';

function instructions(text: string): { url: string; userCode: string } {
  const match = /visit this URL\n\n(\S+)\n\nand enter the code:\n\n(\S+)/.exec(text);
  if (!match) throw new Error(`unexpected instructions: ${text}`);
  return { url: match[1], userCode: match[2] };
}

describe('device-code login (tiled login with an external provider) against a real OpenID provider', () => {
  let setup: OidcSetup;
  const browser = new SuiteBrowser();

  beforeAll(async () => {
    setup = await startTiledWithOidc();
  }, 60000);
  afterAll(async () => {
    await browser.close();
    await setup?.stop();
  });

  it('POST /authorize answers Tiled\'s start body with an 8-character unambiguous user code', async () => {
    const response = await fetch(`${setup.server.api}/auth/provider/oidc/authorize`, { method: 'POST' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    const body = (await response.json()) as DeviceFlowStart;
    expect(Object.keys(body).sort()).toEqual(['authorization_uri', 'device_code', 'expires_in', 'interval', 'user_code', 'verification_uri']);
    expect(body.user_code).toMatch(/^[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}$/);
    expect(body.device_code).toMatch(/^[0-9a-f]{64}$/);
    expect(body).toMatchObject({ interval: 5, expires_in: 900, verification_uri: `${setup.server.api}/auth/provider/oidc/token` });
    const authorize = new URL(body.authorization_uri);
    expect(authorize.origin).toBe(setup.provider.issuer);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${setup.server.api}/auth/provider/oidc/device_code`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  });

  browser.it('the polling client gets tokens once the user signs in and types the code (any case, no dash)', async () => {
    let printed = '';
    let shown!: () => void;
    const instructionsShown = new Promise<void>((resolve) => (shown = resolve));
    let dots = 0;
    let deviceCode = '';
    const login: Promise<DeviceFlowTokens> = loginWithDeviceFlow(setup.server.api, 'oidc', {
      fetch: async (input, init) => {
        const response = await fetch(input, init);
        if (String(input).endsWith('/authorize')) deviceCode = ((await response.clone().json()) as DeviceFlowStart).device_code;
        return response;
      },
      print: (text) => {
        printed += text;
        shown();
      },
      poll: () => dots++,
    });
    await instructionsShown;
    const { url, userCode } = instructions(printed);
    expect(printed).toContain('You have 15 minutes to visit this URL');

    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    await signInAtProviderPage(page, 'alice');
    await page.waitForSelector('input[name="user_code"]');
    expect(page.url()).toContain('/auth/provider/oidc/device_code?');

    // A wrong code first: the form comes back with Tiled's message, and the right one still works after.
    await page.fill('input[name="user_code"]', 'ZZZZ-ZZZZ');
    await page.click('button[type="submit"]');
    await page.waitForSelector('#message');
    expect(await page.textContent('#message')).toBe('Invalid user code. It may have been mistyped, or the pending request may have expired.');

    await page.fill('input[name="user_code"]', userCode.replace('-', '').toLowerCase());
    await page.click('button[type="submit"]');
    await page.waitForSelector('#result');
    expect(await page.textContent('#result')).toBe('Success!');
    await context.close();

    const tokens = await login;
    expect(tokens).toMatchObject({ token_type: 'bearer', identity: { id: 'alice', provider: 'oidc' } });
    const whoami = await fetch(`${setup.server.api}/auth/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(whoami.status).toBe(200);
    expect(((await whoami.json()) as { identities: unknown[] }).identities).toEqual([expect.objectContaining({ id: 'alice', provider: 'oidc' })]);

    // Single use: the device code is gone once its tokens were handed out.
    const replay = await fetch(`${setup.server.api}/auth/provider/oidc/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ device_code: deviceCode, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }),
    });
    expect(replay.status).toBe(404);
  }, 60000);

  describe('POST /auth/provider/{p}/token (polling)', () => {
    const poll = (deviceCode: unknown) =>
      fetch(`${setup.server.api}/auth/provider/oidc/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ device_code: deviceCode, grant_type: 'urn:ietf:params:oauth:grant-type:device_code' }),
      });

    it('refuses a malformed device code with 401 and an unknown one with 404', async () => {
      const malformed = await poll('not-hex');
      expect(malformed.status).toBe(401);
      expect(await malformed.json()).toEqual({ detail: 'Invalid device code' });
      const unknown = await poll('ab'.repeat(32));
      expect(unknown.status).toBe(404);
      expect(await unknown.json()).toEqual({ detail: 'No such device_code. The pending request may have expired.' });
    });

    it('answers authorization_pending, then slow_down to a client that polls faster than the interval', async () => {
      const start = (await (await fetch(`${setup.server.api}/auth/provider/oidc/authorize`, { method: 'POST' })).json()) as DeviceFlowStart;
      const first = await poll(start.device_code);
      expect(first.status).toBe(400);
      expect(await first.json()).toEqual({ detail: { error: 'authorization_pending' } });
      const second = await poll(start.device_code);
      expect(second.status).toBe(400);
      expect(await second.json()).toEqual({ detail: { error: 'slow_down', interval: 10 } });
    });
  });

  it('a device-code page reached without a live login (forged or expired state) shows an error, no form', async () => {
    const response = await fetch(`${setup.server.api}/auth/provider/oidc/device_code?code=abc&state=forged`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await response.text();
    expect(html).toContain('This login link is invalid or has expired');
    expect(html).not.toContain('name="user_code"');
  });
});
