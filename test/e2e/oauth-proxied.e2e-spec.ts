import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningOidcProvider, startOidcProvider } from '../helpers/oidc-provider';
import { approveDeviceLogin } from '../helpers/oidc-provider/login-driver';
import { recordSecret } from '../helpers/log-capture';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

/**
 * Tiled's ProxiedOIDCAuthenticator against a real OpenID provider on loopback that issues JWT access
 * tokens (audience `tiled_aud`, as Keycloak with an audience mapper), with the configuration shown in
 * docs/oauth.md §6, unedited.
 */
const DOC = readFileSync(join(__dirname, '..', '..', 'docs', 'oauth.md'), 'utf8');
const DOC_YAML = /## 6\. ProxiedOIDCAuthenticator[\s\S]*?```yaml\n([\s\S]*?)```/.exec(DOC)![1];
const CLIENT_SECRET = 'proxied-browser-secret-8c1e';
const PROVIDER = 'keycloak_oidc';
const MAPPED = ['create:apikeys', 'read:data', 'read:metadata'];

interface Discovery {
  issuer: string;
  token_endpoint: string;
  device_authorization_endpoint: string;
  end_session_endpoint: string;
}

describe('ProxiedOIDCAuthenticator (docs/oauth.md §6) against a real OpenID provider', () => {
  let idp: RunningOidcProvider;
  let server: RunningServer;
  let discovery: Discovery;
  let dir: string;
  const minted: string[] = [];

  /** An access token signed by the provider's published key (unless told otherwise), never logged by the server. */
  const mint = async (claims: Record<string, unknown>, options?: Parameters<RunningOidcProvider['mint']>[1]): Promise<string> => {
    const now = Math.floor(Date.now() / 1000);
    const token = await idp.mint({ iss: idp.issuer, aud: 'tiled_aud', sub: 'carol', iat: now, exp: now + 300, ...claims }, options);
    minted.push(token);
    recordSecret(token, 'a provider access token');
    return token;
  };
  const get = (path: string, token: string): Promise<Response> => fetch(`${server.api}${path}`, { headers: { authorization: `Bearer ${token}` } });
  const detail = async (response: Response): Promise<string> => ((await response.json()) as { detail: string }).detail;

  beforeAll(async () => {
    idp = await startOidcProvider(
      [
        { client_id: 'tiled', client_secret: CLIENT_SECRET, redirect_uris: ['http://127.0.0.1/unused'], token_endpoint_auth_method: 'client_secret_post' },
        {
          client_id: 'tiled-cli',
          redirect_uris: [],
          response_types: [],
          grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
          token_endpoint_auth_method: 'none',
        },
      ],
      { accessTokenAudience: 'tiled_aud' },
    );
    discovery = (await (await fetch(idp.wellKnown)).json()) as Discovery;
    dir = mkdtempSync(join(tmpdir(), 'tiled-proxied-'));
    writeFileSync(join(dir, 'config.yml'), DOC_YAML);
    server = await startTiled(['serve', 'config', join(dir, 'config.yml')], {
      cwd: dir,
      env: { KEYCLOAK_WELL_KNOWN_URI: idp.wellKnown, KEYCLOAK_CLIENT_SECRET: CLIENT_SECRET },
    });
  }, 60000);
  afterAll(async () => {
    await server?.stop();
    await idp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the about document sends clients to the provider, as Tiled does', async () => {
    const about = (await (await fetch(`${server.api}/`)).json()) as { authentication: Record<string, unknown> };
    expect(about.authentication).toEqual({
      required: true,
      providers: [
        {
          provider: PROVIDER,
          mode: 'external',
          links: {
            auth_endpoint: discovery.device_authorization_endpoint,
            authorize_endpoint: `${server.api}/auth/provider/${PROVIDER}/authorize`,
            client_id: 'tiled-cli',
            token_endpoint: discovery.token_endpoint,
          },
          confirmation_message: 'You have logged in with Proxied OIDC as {id}.',
          extra_scopes: [],
        },
      ],
      links: {
        whoami: `${server.api}/auth/whoami`,
        apikey: `${server.api}/auth/apikey`,
        refresh_session: discovery.token_endpoint,
        revoke_session: `${server.api}/auth/session/revoke/{session_id}`,
        logout: discovery.end_session_endpoint,
      },
    });
    expect(discovery.device_authorization_endpoint).toMatch(new RegExp(`^${idp.issuer}/`));
  });

  it('a token from a device-flow login at the provider reads data as the user who signed in there', async () => {
    // What Tiled's Python client does with the about document's links (plus the provider's resource scope).
    const start = (await (
      await fetch(discovery.device_authorization_endpoint, {
        method: 'POST',
        body: new URLSearchParams({ client_id: 'tiled-cli', scope: 'openid offline_access tiled.read' }),
      })
    ).json()) as { device_code: string; verification_uri_complete: string };
    await approveDeviceLogin(start.verification_uri_complete, 'alice');
    const tokens = (await (
      await fetch(discovery.token_endpoint, {
        method: 'POST',
        body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:device_code', device_code: start.device_code, client_id: 'tiled-cli' }),
      })
    ).json()) as { access_token: string };
    minted.push(tokens.access_token);
    recordSecret(tokens.access_token, 'a provider access token');

    const whoami = await get('/auth/whoami', tokens.access_token);
    expect(whoami.status).toBe(200);
    expect(await whoami.json()).toMatchObject({ type: 'user', identities: [expect.objectContaining({ id: 'alice', provider: PROVIDER })] });
    expect((await get('/metadata/', tokens.access_token)).status).toBe(200);
  });

  it('grants exactly the Tiled scopes scopes_map gives the token\'s scopes, never more', async () => {
    const reader = await mint({ scp: ['tiled.read', 'admin'] });
    expect((await get('/metadata/', reader)).status).toBe(200);
    const principals = await get('/auth/principal', reader);
    expect(principals.status).toBe(401);
    const refusal = /^Not enough permissions\. Requires scopes \['read:principals'\]\. Request had scopes \[(.*)\]$/.exec(await detail(principals));
    expect(refusal?.[1].split(', ').sort()).toEqual(MAPPED.map((scope) => `'${scope}'`));
  });

  it('a token whose scopes map to nothing holds none, so Tiled\'s authenticator-scopes rule refuses it', async () => {
    const unmapped = await mint({ scope: 'tiled.write' });
    const response = await get('/metadata/', unmapped);
    expect(response.status).toBe(401);
    expect(await detail(response)).toBe(`Authenticator has scopes that the request does not have. Authenticator has scopes ${pyList(MAPPED)}. Request had scopes []`);
  });

  it.each([
    ['expired, by one second', { exp: Math.floor(Date.now() / 1000) - 1 }, undefined, 'Access token has expired. Refresh token.'],
    ['for another audience', { aud: 'someone-else' }, undefined, 'Could not validate credentials'],
    ['from another issuer', { iss: 'http://127.0.0.1:1/evil' }, undefined, 'Could not validate credentials'],
    ['signed with a key the provider never published (same kid)', {}, { signer: 'foreign' as const }, 'Could not validate credentials'],
    ['without the user_id_claim', { sub: undefined }, undefined, 'Could not validate credentials'],
  ])('a token %s is a 401 with Tiled\'s detail', async (_what, claims, options, expected) => {
    const token = await mint({ scp: ['tiled.read'], ...claims }, options);
    const response = await get('/metadata/', token);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer');
    expect(await detail(response)).toBe(expected);
  });

  it('refuses an oversized Bearer value without verifying it', async () => {
    const response = await get('/metadata/', 'e'.repeat(13000));
    expect(response.status).toBe(401);
    expect(await detail(response)).toBe('Could not validate credentials');
  });

  it('API keys minted with a provider token work, within the token\'s scopes and the principal\'s roles', async () => {
    const token = await mint({ sub: 'dave', scp: 'tiled.read' });
    const create = (scopes: string[]): Promise<Response> =>
      fetch(`${server.api}/auth/apikey`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scopes, expires_in: null, note: null }),
      });
    const created = await create(MAPPED);
    expect(created.status).toBe(200);
    const { secret } = (await created.json()) as { secret: string };
    recordSecret(secret, 'an API key');
    const viaKey = await fetch(`${server.api}/auth/whoami`, { headers: { authorization: `Apikey ${secret}` } });
    const viaToken = await get('/auth/whoami', token);
    expect(((await viaKey.json()) as { uuid: string }).uuid).toBe(((await viaToken.json()) as { uuid: string }).uuid);
    expect((await fetch(`${server.api}/metadata/`, { headers: { authorization: `Apikey ${secret}` } })).status).toBe(200);

    const beyondToken = await create([...MAPPED, 'write:data']);
    expect(beyondToken.status).toBe(403);
    expect(await detail(beyondToken)).toContain('must be a subset of the scopes of the access token making this request');
    const beyondPrincipal = await create(['admin:apikeys']);
    expect(beyondPrincipal.status).toBe(403);
    expect(await detail(beyondPrincipal)).toContain("must be a subset of the principal's scopes");
  });

  it('fetches the provider\'s keys again for an unknown kid, at most once per cooldown, and then accepts a rotated key', async () => {
    await get('/metadata/', await mint({ scp: ['tiled.read'] }));
    const before = await idp.jwksFetches();
    for (let i = 0; i < 3; i++) expect((await get('/metadata/', await mint({ scp: ['tiled.read'] }, { kid: `made-up-${i}` }))).status).toBe(401);
    expect((await idp.jwksFetches()) - before).toBeLessThanOrEqual(1);

    await idp.rotate();
    // Past the 5 s cooldown the next unknown kid fetches the keys again.
    await new Promise((resolve) => setTimeout(resolve, 5200));
    const fetchesBeforeRotated = await idp.jwksFetches();
    expect((await get('/metadata/', await mint({ scp: ['tiled.read'] }, { signer: 'rotated' }))).status).toBe(200);
    expect((await idp.jwksFetches()) - fetchesBeforeRotated).toBe(1);
  });

  it('Tiled\'s keycloak example authentication block (no client_secret) starts as it is', async () => {
    const file = join(dir, 'tiled-keycloak.yml');
    // tiled/example_configs/keycloak_oidc/config.yaml at v0.2.16, with this provider's discovery URL.
    writeFileSync(
      file,
      `authentication:
  providers:
  - provider: keycloak_oidc
    authenticator: tiled.authenticators:ProxiedOIDCAuthenticator
    args:
      audience: tiled_aud
      client_id: tiled
      device_flow_client_id: tiled-cli
      well_known_uri: "${idp.wellKnown}"
      confirmation_message: "You have logged in with Proxied OIDC as {id}."
trees:
  - path: /
    tree: demo
`,
    );
    const result = await runTiled(['admin', 'check-config', file], { cwd: dir });
    expect(result.stderr).toContain('No errors found in configuration.');
    expect(result.code).toBe(0);
  });

  it('never writes a token into its log', () => {
    expect(minted.length).toBeGreaterThan(5);
    for (const token of minted) expect(server.output()).not.toContain(token.split('.')[2]);
  });
});

describe('ProxiedOIDCAuthenticator configuration errors (tiled admin check-config)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-proxied-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const proxied = (name: string, args = 'audience: a, client_id: b, device_flow_client_id: c, well_known_uri: "http://127.0.0.1:9/x"'): string =>
    `    - {provider: ${name}, authenticator: tiled.authenticators:ProxiedOIDCAuthenticator, args: {${args}}}\n`;
  const check = async (name: string, providers: string): Promise<string> => {
    const file = join(dir, `${name}.yml`);
    writeFileSync(file, `authentication:\n  providers:\n${providers}trees: [{path: /, tree: demo}]\n`);
    const result = await runTiled(['admin', 'check-config', file]);
    expect(result.code).not.toBe(0);
    return result.stderr.replace(file, '<file>');
  };

  it('refuses two of them, naming the file and the second one\'s key path', async () => {
    const stderr = await check('two', proxied('one') + proxied('two'));
    expect(stderr).toContain('<file>');
    expect(stderr).toContain('authentication.providers[1].authenticator: Multiple ProxiedOIDCAuthenticator instances are configured. Only one is allowed.');
  });

  it('refuses one beside another provider', async () => {
    const stderr = await check('beside', proxied('kc') + '    - {provider: toy, authenticator: dictionary, args: {users_to_passwords: {a: b}}}\n');
    expect(stderr).toContain('<file>');
    expect(stderr).toContain('authentication.providers[0].authenticator: ProxiedOIDCAuthenticator must not be configured together with other authentication providers.');
  });

  it('names a missing required argument', async () => {
    const stderr = await check('missing', proxied('kc', 'audience: a, client_id: b, well_known_uri: "http://127.0.0.1:9/x"'));
    expect(stderr).toContain('authentication.providers[0].args: missing required key "device_flow_client_id"');
  });
});

function pyList(items: readonly string[]): string {
  return `[${items.map((item) => `'${item}'`).join(', ')}]`;
}
