// A real OpenID provider (panva/oidc-provider) on loopback, for the external-login e2e tests.
// oidc-provider is ESM-only, so it runs here, in its own Node process, never inside the server under test.
//
// Input (environment):
//   OIDC_CLIENTS  JSON list of client metadata (client_id, client_secret, redirect_uris, ...)
//   OIDC_PORT     port to listen on (0 = any free port)
// Output: one line `OIDC provider listening on <issuer>` on stdout once it accepts requests.
//
// Test-only control endpoint (never part of a real provider):
//   POST /__test/tamper?mode=<none|foreign-key>  makes the token endpoint hand out ID tokens that
//   are re-signed with a key the provider never published, to prove the server checks signatures.
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
  features: { devInteractions: { enabled: true } },
  pkce: { required: () => true },
  cookies: { keys: ['test-cookie-key-not-secret'] },
  ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 600, Grant: 600 },
  renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><title>oops</title><h1>${out.error}</h1><p>${out.error_description ?? ''}</p>`;
  },
});

let tamperMode = 'none';
provider.use(async (ctx, next) => {
  if (ctx.path === '/__test/tamper' && ctx.method === 'POST') {
    tamperMode = ctx.query.mode ?? 'none';
    ctx.status = 204;
    return;
  }
  await next();
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
