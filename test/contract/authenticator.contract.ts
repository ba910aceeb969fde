import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, runTiled, startTiled } from '../helpers/tiled-process';

/**
 * The contract every internal (password) authenticator must keep, checked through the host pipeline: the
 * real `tiled serve` process loads the plugin from a YAML config and logins go over HTTP to
 * `POST /api/v1/auth/provider/{provider}/token` — never by calling `authenticate()` directly, so the
 * loader, the args schema, throttling and outcome handling are all in the loop (STYLE §12).
 *
 * Run it from a Jest spec: `runAuthenticatorContract({...})` declares a `describe` block.
 */
export interface Credentials {
  username: string;
  password: string;
}

export interface AuthenticatorContractCase {
  /** Shown in the test names. */
  name: string;
  /** The `authenticator:` value of the YAML: a built-in short name, an absolute path, or `path:Export`. */
  authenticator: string;
  /** Args that must load. */
  args: Record<string, unknown>;
  /** Must log in (200, with the username as the identity). */
  valid: Credentials;
  /** A known user with the wrong password; omit for authenticators that accept any password. */
  wrongPassword?: Credentials;
  /** A user the authenticator does not know; omit for authenticators that accept any user. */
  unknownUser?: Credentials;
  /** Anything else that must be rejected (e.g. an empty username). */
  alsoRejected?: Credentials[];
  /** Args that must fail the plugin's schema, each with what the one-line startup error must say. */
  invalidArgs: { args: Record<string, unknown>; error: RegExp }[];
  /**
   * How to make this plugin throw (its directory down). Default: the suite wraps the plugin module
   * (`module`, the file the descriptor comes from, and `exportName`) in a fault injector that throws from
   * inside the login for one username, so the host's handling of a throw is checked on this plugin's path.
   */
  module?: string;
  exportName?: string;
}

const FAULT_INJECTOR = join(__dirname, 'fixtures', 'fault-injector.js');
const FAILING_USER = 'contract-broken-user';

function writeConfig(dir: string, authenticator: string, args: Record<string, unknown>): string {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.yml`);
  // JSON is YAML: no quoting rules of our own to get wrong.
  const config = {
    trees: [{ path: '/', tree: 'demo' }],
    authentication: {
      providers: [{ provider: 'contract', authenticator, args }],
      secret_keys: ['authenticator-contract-signing-key'],
    },
  };
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

async function login(server: RunningServer, credentials: Credentials): Promise<Response> {
  return fetch(`${server.api}/auth/provider/contract/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: credentials.username, password: credentials.password }).toString(),
  });
}

/** What a client can observe of a refused login. */
async function observable(response: Response): Promise<{ status: number; contentType: string | null; wwwAuthenticate: string | null; body: unknown }> {
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    wwwAuthenticate: response.headers.get('www-authenticate'),
    body: await response.json(),
  };
}

const REFUSED = { status: 401, contentType: 'application/json', wwwAuthenticate: 'Bearer', body: { detail: 'Incorrect username or password' } };

export function runAuthenticatorContract(contract: AuthenticatorContractCase): void {
  describe(`authenticator contract: ${contract.name}`, () => {
    let dir: string;
    let server: RunningServer;

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tiled-contract-'));
      server = await startTiled(['serve', 'config', writeConfig(dir, contract.authenticator, contract.args)]);
    });

    afterAll(async () => {
      await server?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('should log a valid user in: 200 with tokens and the username as identity', async () => {
      const response = await login(server, contract.valid);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { access_token?: unknown; refresh_token?: unknown; identity?: unknown };
      expect(typeof body.access_token).toBe('string');
      expect(typeof body.refresh_token).toBe('string');
      expect(body.identity).toEqual({ id: contract.valid.username, provider: 'contract' });
    });

    const rejected: [string, Credentials][] = [
      ...(contract.wrongPassword ? [['a wrong password', contract.wrongPassword] as [string, Credentials]] : []),
      ...(contract.unknownUser ? [['an unknown user', contract.unknownUser] as [string, Credentials]] : []),
      ...(contract.alsoRejected ?? []).map((c, i) => [`rejected credentials #${i + 1}`, c] as [string, Credentials]),
    ];
    if (rejected.length > 0) {
      it.each(rejected)('should refuse %s with 401 "Incorrect username or password"', async (_label, credentials) => {
        expect(await observable(await login(server, credentials))).toEqual(REFUSED);
      });
    }

    if (contract.wrongPassword && contract.unknownUser) {
      it('should answer a wrong password and an unknown user identically', async () => {
        const [wrong, unknown] = [await login(server, contract.wrongPassword!), await login(server, contract.unknownUser!)];
        expect(await observable(wrong)).toEqual(await observable(unknown));
      });
    }

    describe('when the plugin throws (it is broken, not the user wrong)', () => {
      let broken: RunningServer | undefined;

      beforeAll(async () => {
        if (!contract.module) return;
        const args = { inner: contract.module, export: contract.exportName ?? null, args: contract.args, fail_for: FAILING_USER };
        broken = await startTiled(['serve', 'config', writeConfig(dir, FAULT_INJECTOR, args)]);
      });

      afterAll(async () => {
        await broken?.stop();
      });

      it.each([
        ['a ProviderUnavailableError', 503, 'unavailable'],
        ['any other error, whatever its message says', 500, 'crashed'],
      ] as const)('should answer %s with %i, never 401', async (_label, status, kind) => {
        if (!broken) throw new Error(`contract case "${contract.name}" needs \`module\` for the broken-plugin checks`);
        const response = await login(broken, { username: `${FAILING_USER}-${kind}`, password: 'x' });
        expect(response.status).toBe(status);
        const { detail } = (await response.json()) as { detail: string };
        expect(detail).not.toMatch(/Incorrect username or password/);
        // The plugin's own error text stays in the server log.
        expect(detail).not.toContain('contract fault');
        // The same server still logs valid users in: the fault was per call, not a dead plugin.
        expect((await login(broken, contract.valid)).status).toBe(200);
      });
    });

    it.each(contract.invalidArgs.map((c) => [JSON.stringify(c.args), c] as const))(
      'should refuse to start with args %s (exit 2, one line naming the key path)',
      async (_label, invalid) => {
        const file = writeConfig(dir, contract.authenticator, invalid.args);
        const result = await runTiled(['serve', 'config', file, '--port', '0']);
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(invalid.error);
        expect(result.stderr).toContain(file);
        expect(result.stdout).not.toMatch(/running on|Uvicorn|listening/i);
        expect(result.stderr).not.toMatch(/^\s+at /m);
      },
    );
  });
}
