// A real OpenID provider (panva/oidc-provider) on loopback, for the external-login e2e tests.
// oidc-provider is ESM-only, so it runs here, in its own Node process, never inside the server under test.
//
// Input (environment):
//   OIDC_CLIENTS  JSON list of client metadata (client_id, client_secret, redirect_uris, ...)
//   OIDC_PORT     port to listen on (0 = any free port)
// Output: one line `OIDC provider listening on <issuer>` on stdout once it accepts requests.
//
//   OIDC_ACCESS_TOKEN_AUDIENCE  when set: access tokens are JWTs for this audience (RFC 9068, as
//                               Keycloak issues them), with the resource scopes `tiled.read tiled.write`
//
// Test-only control endpoints (never part of a real provider):
//   POST /__test/tamper?mode=<none|foreign-key>  makes the token endpoint hand out ID tokens that
//   are re-signed with a key the provider never published, to prove the server checks signatures.
//   POST /__test/mint  body {claims, signer?: published|foreign|rotated, kid?}  signs any claims as an
//   access token (header typ at+jwt), for tokens a real flow will not produce (expired, wrong audience).
//   POST /__test/rotate  publishes one more signing key (kid `rotated-<n>`); `signer: rotated` uses it.
//   GET  /__test/jwks-fetches  how many times /jwks was requested.
import http from 'node:http';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, exportJWK, generateKeyPair } from 'jose';

const clients = JSON.parse(process.env.OIDC_CLIENTS ?? '[]');
const port = Number(process.env.OIDC_PORT ?? 0);

const server = http.createServer();
await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signingJwk = { ...(await exportJWK(privateKey)), kid: 'test-signing-key', alg: 'RS256', use: 'sig' };
// Same kid as the real key: a verifier that trusted the kid without checking the signature would accept it.
const { privateKey: foreignKey } = await generateKeyPair('RS256');

const accounts = new Map([
  ['alice', { email: 'alice@example.org', name: 'Alice Liddell' }],
  ['bob', { email: 'bob@example.org', name: 'Bob Builder' }],
]);

const accessTokenAudience = process.env.OIDC_ACCESS_TOKEN_AUDIENCE;
const resourceScopes = 'tiled.read tiled.write';

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingJwk] },
  // Any login name works on the dev sign-in page; known ones get profile claims.
  async findAccount(_ctx, id) {
    const profile = accounts.get(id) ?? { email: `${id}@example.org`, name: id };
    return { accountId: id, async claims() { return { sub: id, ...profile, email_verified: true }; } };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  scopes: ['openid', 'offline_access', 'email', 'profile'],
  features: {
    devInteractions: { enabled: true },
    deviceFlow: { enabled: true },
    ...(accessTokenAudience
      ? {
          resourceIndicators: {
            enabled: true,
            // A resource indicator must be an absolute URI; the tokens' `aud` is the configured audience.
            defaultResource: () => 'urn:tiled:api',
            useGrantedResource: () => true,
            getResourceServerInfo: () => ({
              scope: resourceScopes,
              audience: accessTokenAudience,
              accessTokenFormat: 'jwt',
              accessTokenTTL: 600,
              jwt: { sign: { alg: 'RS256' } },
            }),
          },
        }
      : {}),
  },
  pkce: { required: () => true },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>oops</title><h1>${out.error}</h1><p>${out.error_description ?? ''}</p>`;
  },
});

let tamperMode = 'none';
let jwksFetches = 0;
const rotated = [];

async function readJson(req) {
  let text = '';
  for await (const chunk of req) text += chunk;
  return JSON.parse(text || '{}');
}

provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/tamper' && ctx.method === 'POST') {
    tamperMode = ctx.query.mode ?? 'none';
    ctx.status = 204;
    return;
  }
  if (ctx.path === '/__test/mint' && ctx.method === 'POST') {
    const { claims, signer = 'published', kid } = await readJson(ctx.req);
    const [key, defaultKid] =
      signer === 'foreign' ? [foreignKey, 'test-signing-key'] : signer === 'rotated' ? [rotated.at(-1).privateKey, rotated.at(-1).kid] : [privateKey, 'test-signing-key'];
    ctx.body = { token: await new SignJWT(claims).setProtectedHeader({ alg: 'RS256', typ: 'at+jwt', kid: kid ?? defaultKid }).sign(key) };
    return;
  }
  if (ctx.path === '/__test/rotate' && ctx.method === 'POST') {
    const pair = await generateKeyPair('RS256', { extractable: true });
    const kid = `rotated-${rotated.length + 1}`;
    rotated.push({ kid, privateKey: pair.privateKey, jwk: { ...(await exportJWK(pair.publicKey)), kid, alg: 'RS256', use: 'sig' } });
    ctx.body = { kid };
    return;
  }
  if (ctx.path === '/__test/jwks-fetches') {
    ctx.body = { count: jwksFetches };
    return;
  }
  if (ctx.path === '/jwks') jwksFetches++;
  await next();
  if (ctx.path === '/jwks' && rotated.length > 0 && ctx.body && typeof ctx.body === 'object') {
    ctx.body = { keys: [...ctx.body.keys, ...rotated.map((r) => r.jwk)] };
  }
  if (ctx.path === '/token' && tamperMode === 'foreign-key' && ctx.body && typeof ctx.body === 'object' && ctx.body.id_token) {
    const claims = decodeJwt(ctx.body.id_token);
    ctx.body.id_token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: 'test-signing-key' })
      .sign(foreignKey);
  }
});

server.on('request', provider.callback());
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.stdout.write(`OIDC provider listening on ${issuer}\n`);
