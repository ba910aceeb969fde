import { spawn } from 'node:child_process';
import { ClientHome } from '../helpers/doc-runner';
import { TILED_BIN } from '../helpers/tiled-process';
import { signInAtProvider } from '../helpers/oidc-provider/login-driver';
import { OidcSetup, startTiledWithOidc } from '../helpers/oidc-provider/tiled-with-oidc';

describe('tiled login with an external provider (device-code flow)', () => {
  let setup: OidcSetup;
  let home: ClientHome;

  beforeAll(async () => {
    setup = await startTiledWithOidc();
    home = new ClientHome();
    expect((await home.run(['profile', 'create', setup.server.url, '--name', 'sso'])).code).toBe(0);
  }, 60000);
  afterAll(async () => {
    home?.cleanup();
    await setup?.stop();
  });

  it('prints the URL and code, waits, stores the tokens; whoami then shows the external identity', async () => {
    const child = spawn(process.execPath, [TILED_BIN, 'login', '--profile', 'sso', '--provider', 'oidc'], {
      env: { ...process.env, ...home.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
    const shown = await new Promise<RegExpExecArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no instructions printed:\n${stdout}\n${stderr}`)), 20000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const match = /visit this URL\n\n(\S+)\n\nand enter the code:\n\n(\S+)\n/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match);
        }
      });
    });
    const [, url, userCode] = shown;

    // The browser leg over plain HTTP: sign in at the provider, then submit the code on the server's page.
    const landing = await signInAtProvider(url, 'alice');
    expect(landing.pathname).toBe('/api/v1/auth/provider/oidc/device_code');
    const form = await fetch(landing);
    expect(form.status).toBe(200);
    const submitted = await fetch(landing, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code: landing.searchParams.get('code')!, state: landing.searchParams.get('state')!, user_code: userCode }),
    });
    expect(submitted.status).toBe(200);
    expect(await submitted.text()).toContain('Success!');

    expect(await exited).toBe(0);
    expect(stdout).toContain('Waiting...');
    expect(stdout).toContain('You have logged in with the test provider as alice.');

    const whoami = await home.run(['whoami', '--profile', 'sso']);
    expect(whoami.code).toBe(0);
    expect(whoami.stdout).toContain('alice');
  }, 60000);
});
