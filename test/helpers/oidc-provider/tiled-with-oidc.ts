import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../tiled-process';
import { RunningOidcProvider, startOidcProvider } from './index';

export const CLIENT_ID = 'tiled-test';
export const CLIENT_SECRET = 'not-a-real-secret-3f9a';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

export interface OidcSetup {
  provider: RunningOidcProvider;
  /** The first replica; its address is `public_base_url`, i.e. what the provider redirects browsers to. */
  server: RunningServer;
  /** Every replica (one unless `replicas` was asked for), all sharing one authentication database. */
  servers: RunningServer[];
  /** The port of a provider that is never started (for "provider down"). */
  deadPort: number;
  stop(): Promise<void>;
}

/**
 * A real OpenID provider plus `tiled serve config` with providers:
 *   oidc      — Tiled's OIDCAuthenticator spelling, tokens as JSON
 *   redirect  — the same client with redirect_on_success / redirect_on_failure
 *   wrongaud  — expects ID tokens for another audience (every login must fail)
 *   down      — a discovery URL where nothing listens
 *   toy       — an internal dictionary provider (alice / secret1), admin via tiled_admins is oidc:bob
 * Tiled's port is chosen first so the redirect URIs can be registered with the provider up front.
 *
 * `replicas: n` starts n processes with the same config (so the same public_base_url, the first one's
 * address, as behind a load balancer) and the same database, `databaseUri` or a fresh SQLite file.
 */
export async function startTiledWithOidc(
  options: { replicas?: number; databaseUri?: string; /** More `authentication` keys, e.g. `{ pending_logins_per_address: 5 }`. */ authentication?: Record<string, number> } = {},
): Promise<OidcSetup> {
  const port = await freePort();
  const deadPort = await freePort();
  const base = `http://127.0.0.1:${port}/api/v1/auth/provider`;
  const uris = (p: string) => [`${base}/${p}/code`, `${base}/${p}/device_code`];
  const provider = await startOidcProvider([
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [...uris('oidc'), ...uris('redirect'), ...uris('wrongaud')],
      token_endpoint_auth_method: 'client_secret_post',
    },
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'tiled-oidc-'));
  const oidcArgs = (extra: string) => `
      args:
        audience: ${CLIENT_ID}
        client_id: ${CLIENT_ID}
        client_secret: \${OIDC_CLIENT_SECRET}
        well_known_uri: ${provider.wellKnown}
        confirmation_message: "You have logged in with the test provider as {id}."${extra}`;
  const config = `
trees:
  - path: /
    tree: demo
authentication:
  public_base_url: http://127.0.0.1:${port}
  secret_keys: ["oidc-e2e-signing-key"]${Object.entries(options.authentication ?? {})
    .map(([key, value]) => `\n  ${key}: ${value}`)
    .join('')}
  providers:
    - provider: oidc
      authenticator: tiled.authenticators:OIDCAuthenticator${oidcArgs('')}
    - provider: redirect
      authenticator: tiled.authenticators:OIDCAuthenticator${oidcArgs(`
        redirect_on_success: http://127.0.0.1:${port}/healthz?landed=ok
        redirect_on_failure: http://127.0.0.1:${port}/healthz?landed=failed`)}
    - provider: wrongaud
      authenticator: oauth2
      args:
        audience: someone-else
        client_id: ${CLIENT_ID}
        client_secret: \${OIDC_CLIENT_SECRET}
        well_known_uri: ${provider.wellKnown}
    - provider: down
      authenticator: oauth2
      args:
        client_id: x
        client_secret: y
        well_known_uri: http://127.0.0.1:${deadPort}/.well-known/openid-configuration
    - provider: toy
      authenticator: dictionary
      args:
        users_to_passwords: { alice: secret1 }
  tiled_admins:
    - provider: oidc
      id: bob
database:
  uri: ${JSON.stringify(options.databaseUri ?? `sqlite:///${join(dir, 'auth.db')}`)}
  init_if_not_exists: true
`;
  const file = join(dir, 'config.yml');
  writeFileSync(file, config);
  const servers: RunningServer[] = [];
  const stopAll = async (): Promise<void> => {
    for (const running of servers) await running.stop();
    await provider.stop();
  };
  try {
    // One after the other: the first one initialises the database.
    for (let i = 0; i < (options.replicas ?? 1); i++) {
      const replicaPort = i === 0 ? port : await freePort();
      servers.push(await startTiled(['serve', 'config', file, '--port', String(replicaPort)], { env: { OIDC_CLIENT_SECRET: CLIENT_SECRET } }));
    }
  } catch (error) {
    await stopAll();
    throw error;
  }
  return { provider, server: servers[0], servers, deadPort, stop: stopAll };
}
