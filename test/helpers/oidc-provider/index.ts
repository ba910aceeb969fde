import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';

export interface OidcClient {
  client_id: string;
  /** Absent for a public client (`token_endpoint_auth_method: 'none'`, e.g. a device-flow client). */
  client_secret?: string;
  redirect_uris: string[];
  token_endpoint_auth_method?: 'client_secret_post' | 'client_secret_basic' | 'none';
  grant_types?: string[];
  response_types?: string[];
}

export interface RunningOidcProvider {
  /** e.g. http://127.0.0.1:41234 */
  issuer: string;
  wellKnown: string;
  /** Make the token endpoint hand out ID tokens signed with a key it never published ('foreign-key'), or stop ('none'). */
  tamper(mode: 'none' | 'foreign-key'): Promise<void>;
  /** Sign `claims` as an access token: with the published key, one never published, or the newest rotated one. */
  mint(claims: Record<string, unknown>, options?: { signer?: 'published' | 'foreign' | 'rotated'; kid?: string }): Promise<string>;
  /** Publish one more signing key; `mint(…, { signer: 'rotated' })` signs with it. */
  rotate(): Promise<string>;
  /** How often the provider's JWKS was fetched so far. */
  jwksFetches(): Promise<number>;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Start panva/oidc-provider (ESM-only) in its own Node process on loopback. Its dev sign-in page accepts
 * any login and password; `alice` and `bob` carry e-mail and name claims.
 */
export async function startOidcProvider(
  clients: OidcClient[],
  options: { port?: number; /** Issue JWT access tokens for this audience (as Keycloak does). */ accessTokenAudience?: string } = {},
): Promise<RunningOidcProvider> {
  const child: ChildProcess = spawn(process.execPath, [join(__dirname, 'provider.mjs')], {
    cwd: join(__dirname, '..', '..', '..'),
    env: {
      ...process.env,
      OIDC_CLIENTS: JSON.stringify(clients),
      OIDC_PORT: String(options.port ?? 0),
      ...(options.accessTokenAudience ? { OIDC_ACCESS_TOKEN_AUDIENCE: options.accessTokenAudience } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`OIDC provider did not start:\n${output}`)), 15000);
    const check = (): void => {
      const match = /OIDC provider listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`OIDC provider exited before listening:\n${output}`));
    });
  });
  return {
    issuer,
    wellKnown: `${issuer}/.well-known/openid-configuration`,
    async tamper(mode) {
      const response = await fetch(`${issuer}/__test/tamper?mode=${mode}`, { method: 'POST' });
      if (response.status !== 204) throw new Error(`tamper(${mode}) failed: ${response.status}`);
    },
    async mint(claims, mintOptions = {}) {
      const response = await fetch(`${issuer}/__test/mint`, { method: 'POST', body: JSON.stringify({ claims, ...mintOptions }) });
      if (!response.ok) throw new Error(`mint failed: ${response.status}`);
      return ((await response.json()) as { token: string }).token;
    },
    async rotate() {
      const response = await fetch(`${issuer}/__test/rotate`, { method: 'POST' });
      return ((await response.json()) as { kid: string }).kid;
    },
    async jwksFetches() {
      return ((await (await fetch(`${issuer}/__test/jwks-fetches`)).json()) as { count: number }).count;
    },
    output: () => output,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}
