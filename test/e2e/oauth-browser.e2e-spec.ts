import { signInAtProviderPage, SuiteBrowser } from '../helpers/browser';
import { OidcSetup, startTiledWithOidc } from '../helpers/oidc-provider/tiled-with-oidc';

describe('external login in a real browser (Chromium) against a real OpenID provider', () => {
  let setup: OidcSetup;
  const browser = new SuiteBrowser();

  beforeAll(async () => {
    setup = await startTiledWithOidc();
  }, 60000);
  afterAll(async () => {
    await browser.close();
    await setup?.stop();
  });

  it('lists the external providers in the about document', async () => {
    const about = (await (await fetch(`${setup.server.api}/`)).json()) as { authentication: { providers: unknown[] } };
    expect(about.authentication.providers).toEqual(
      expect.arrayContaining([
        {
          provider: 'oidc',
          mode: 'external',
          links: { auth_endpoint: `${setup.server.api}/auth/provider/oidc/authorize` },
          confirmation_message: 'You have logged in with the test provider as {id}.',
          extra_scopes: null,
        },
      ]),
    );
  });

  browser.it('GET /authorize → provider sign-in → /code answers tokens that work for whoami', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const codeResponse = page.waitForResponse((r) => r.url().includes('/auth/provider/oidc/code'));
    await page.goto(`${setup.server.api}/auth/provider/oidc/authorize`);
    expect(page.url().startsWith(setup.provider.issuer)).toBe(true);
    await signInAtProviderPage(page, 'alice');
    const response = await codeResponse;
    expect(response.status()).toBe(200);
    expect(response.headers()['content-type']).toBe('application/json');
    const tokens = await response.json();
    expect(tokens).toMatchObject({ token_type: 'bearer', identity: { id: 'alice', provider: 'oidc' } });
    expect(tokens.principal).toMatch(/^[0-9a-f]{32}$/);
    await context.close();

    const whoami = await fetch(`${setup.server.api}/auth/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(whoami.status).toBe(200);
    const principal = (await whoami.json()) as { identities: unknown[]; roles: { name: string }[] };
    expect(principal.identities).toEqual([expect.objectContaining({ id: 'alice', provider: 'oidc' })]);
    expect(principal.roles.map((r: { name: string }) => r.name)).toEqual(['user']);
  });

  browser.it('a second login by the same person reuses their principal; tiled_admins applies to external ids', async () => {
    const logins: Record<string, unknown>[] = [];
    for (const who of ['bob', 'bob']) {
      const context = await browser.newContext();
      const page = await context.newPage();
      const codeResponse = page.waitForResponse((r) => r.url().includes('/auth/provider/oidc/code'));
      await page.goto(`${setup.server.api}/auth/provider/oidc/authorize`);
      await signInAtProviderPage(page, who);
      logins.push(await (await codeResponse).json());
      await context.close();
    }
    expect(logins[0].principal).toBe(logins[1].principal);
    const whoami = await fetch(`${setup.server.api}/auth/whoami`, { headers: { authorization: `Bearer ${logins[1].access_token}` } });
    const principal = (await whoami.json()) as { roles: { name: string }[] };
    expect(principal.roles.map((r: { name: string }) => r.name).sort()).toEqual(['admin', 'user']);
  });

  browser.it('with redirect_on_success, lands there with the tokens and the caller\'s state', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${setup.server.api}/auth/provider/redirect/authorize?state=from-the-app`);
    await signInAtProviderPage(page, 'alice');
    await page.waitForURL(/\/healthz\?/);
    const landed = new URL(page.url());
    expect(landed.searchParams.get('landed')).toBe('ok');
    expect(landed.searchParams.get('state')).toBe('from-the-app');
    expect(landed.searchParams.get('identity.id')).toBe('alice');
    expect(landed.searchParams.get('identity.provider')).toBe('redirect');
    const whoami = await fetch(`${setup.server.api}/auth/whoami`, {
      headers: { authorization: `Bearer ${landed.searchParams.get('access_token')}` },
    });
    expect(whoami.status).toBe(200);
    await context.close();
  });

  browser.it('an ID token for another audience is refused (401) and logged, never a login', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const codeResponse = page.waitForResponse((r) => r.url().includes('/auth/provider/wrongaud/code'));
    await page.goto(`${setup.server.api}/auth/provider/wrongaud/authorize`);
    await signInAtProviderPage(page, 'alice');
    const response = await codeResponse;
    expect(response.status()).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Authentication failure' });
    await setup.server.waitForOutput(/Login via "wrongaud" rejected: ID token rejected: .*aud/);
    await context.close();
  });
});
