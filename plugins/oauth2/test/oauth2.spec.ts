import { createHash, randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { ExternalAuthenticator, PluginLogger } from 'tiled-ts/plugins-api';
import { OAuth2Authenticator, OIDCAuthenticator } from '../src';
import { RunningOidcProvider, startOidcProvider } from '../../../test/helpers/oidc-provider';
import { signInAtProvider } from '../../../test/helpers/oidc-provider/login-driver';

const REDIRECT_URI = 'http://127.0.0.1:9/api/v1/auth/provider/oidc/code';
const lines: string[] = [];
const logger: PluginLogger = {
  debug: (m) => lines.push(m),
  info: (m) => lines.push(m),
  warn: (m) => lines.push(m),
  error: (m) => lines.push(m),
};
const context = { provider: 'oidc', logger, now: () => new Date(), fetch };

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

async function login(authenticator: ExternalAuthenticator, user = 'alice') {
  const { verifier, challenge } = pkce();
  const state = randomBytes(16).toString('hex');
  const nonce = randomBytes(16).toString('hex');
  const { authorizationUrl } = await authenticator.beginLogin({ redirectUri: REDIRECT_URI, state, codeChallenge: challenge, nonce });
  const callback = await signInAtProvider(authorizationUrl, user);
  const query = Object.fromEntries(callback.searchParams);
  return { query, verifier, nonce, state, authorizationUrl, callback };
}

describe('oauth2 plugin against a real OpenID provider', () => {
  let provider: RunningOidcProvider;

  beforeAll(async () => {
    provider = await startOidcProvider([
      { client_id: 'tiled', client_secret: 'tiled-secret', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'client_secret_post' },
    ]);
  });
  afterAll(async () => provider.stop());

  const oidc = () =>
    OIDCAuthenticator.create(
      { audience: 'tiled', client_id: 'tiled', client_secret: 'tiled-secret', well_known_uri: provider.wellKnown },
      context,
    ) as ExternalAuthenticator;

  it('should send state, an S256 challenge, the nonce and the exact redirect URI', async () => {
    const { verifier, challenge } = pkce();
    const { authorizationUrl } = await oidc().beginLogin({ redirectUri: REDIRECT_URI, state: 'st', codeChallenge: challenge, nonce: 'nn' });
    const url = new URL(authorizationUrl);
    expect(url.origin + url.pathname).toBe(`${provider.issuer}/auth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'tiled',
      response_type: 'code',
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 'st',
      nonce: 'nn',
      code_challenge: challenge,
      code_challenge_method: 'S256',
    });
    expect(verifier).not.toBe(challenge);
  });

  it('should log a user in with a verified ID token', async () => {
    const authenticator = oidc();
    const { query, verifier, nonce } = await login(authenticator, 'alice');
    expect(query.state).toBeDefined();
    await expect(authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce })).resolves.toEqual({
      kind: 'authenticated',
      identity: { id: 'alice' },
    });
  });

  it('should read a claim that is only in user-info (email)', async () => {
    const authenticator = OAuth2Authenticator.create(
      { client_id: 'tiled', client_secret: 'tiled-secret', well_known_uri: provider.wellKnown, scopes: ['email'], user_id_claim: 'email' },
      context,
    ) as ExternalAuthenticator;
    const { query, verifier, nonce } = await login(authenticator, 'bob');
    await expect(authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce })).resolves.toEqual({
      kind: 'authenticated',
      identity: { id: 'bob@example.org' },
    });
  });

  it('should log in with plain OAuth2 endpoints (no discovery, user-info only)', async () => {
    const authenticator = OAuth2Authenticator.create(
      {
        client_id: 'tiled',
        client_secret: 'tiled-secret',
        authorization_endpoint: `${provider.issuer}/auth`,
        token_endpoint: `${provider.issuer}/token`,
        userinfo_endpoint: `${provider.issuer}/me`,
        scopes: ['openid'],
      },
      context,
    ) as ExternalAuthenticator;
    const { query, verifier } = await login(authenticator, 'bob');
    await expect(authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce: '' })).resolves.toEqual({
      kind: 'authenticated',
      identity: { id: 'bob' },
    });
  });

  it('should reject a wrong PKCE verifier (the provider refuses the code)', async () => {
    const authenticator = oidc();
    const { query, nonce } = await login(authenticator);
    const result = await authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: pkce().verifier, nonce });
    expect(result).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('invalid_grant') });
  });

  it('should reject a replayed code', async () => {
    const authenticator = oidc();
    const { query, verifier, nonce } = await login(authenticator);
    const input = { query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce };
    expect((await authenticator.completeLogin(input)).kind).toBe('authenticated');
    expect(await authenticator.completeLogin(input)).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('invalid_grant') });
  });

  it('should reject an ID token with another nonce', async () => {
    const authenticator = oidc();
    const { query, verifier } = await login(authenticator);
    const result = await authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce: 'other' });
    expect(result).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('nonce') });
  });

  it('should reject an ID token for another audience', async () => {
    const authenticator = OIDCAuthenticator.create(
      { audience: 'someone-else', client_id: 'tiled', client_secret: 'tiled-secret', well_known_uri: provider.wellKnown },
      context,
    ) as ExternalAuthenticator;
    const { query, verifier, nonce } = await login(authenticator);
    const result = await authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce });
    expect(result).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('aud') });
  });

  it('should reject an ID token signed with a key the provider never published', async () => {
    const authenticator = oidc();
    const { query, verifier, nonce } = await login(authenticator);
    await provider.tamper('foreign-key');
    try {
      const result = await authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce });
      expect(result).toMatchObject({ kind: 'rejected', reason: expect.stringContaining('signature') });
    } finally {
      await provider.tamper('none');
    }
  });

  it('should throw (not reject) when the client secret is wrong', async () => {
    const authenticator = OIDCAuthenticator.create(
      { audience: 'tiled', client_id: 'tiled', client_secret: 'wrong', well_known_uri: provider.wellKnown },
      context,
    ) as ExternalAuthenticator;
    const { query, verifier, nonce } = await login(authenticator);
    await expect(authenticator.completeLogin({ query, redirectUri: REDIRECT_URI, codeVerifier: verifier, nonce })).rejects.toThrow(
      /invalid_client/,
    );
  });

  it('should throw when the provider cannot be reached', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const authenticator = OIDCAuthenticator.create(
      { audience: 'x', client_id: 'x', client_secret: 'x', well_known_uri: `http://127.0.0.1:${port}/.well-known/openid-configuration` },
      context,
    ) as ExternalAuthenticator;
    await expect(authenticator.beginLogin({ redirectUri: REDIRECT_URI, state: 's', codeChallenge: 'c', nonce: 'n' })).rejects.toThrow(
      /Cannot reach the OpenID discovery document/,
    );
  });

  it('should refuse an unexpanded ${VAR} secret, naming the variable', () => {
    expect(() =>
      OIDCAuthenticator.create({ audience: 'a', client_id: 'a', client_secret: '${OIDC_SECRET}', well_known_uri: 'http://x' }, context),
    ).toThrow('client_secret is the unexpanded reference ${OIDC_SECRET}: set the environment variable OIDC_SECRET');
  });
});
