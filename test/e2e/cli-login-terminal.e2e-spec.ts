import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClientHome, normaliseOutput, runInTerminal } from '../helpers/doc-runner';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const CONFIG = `
authentication:
  providers:
    - provider: toy
      authenticator: dictionary
      args:
        users_to_passwords: { alice: secret1 }
        confirmation_message: "You have logged in as {id}."
    - provider: demo
      authenticator: dummy
database:
  uri: sqlite:///./auth.db
  init_if_not_exists: true
trees:
  - path: /
    tree: demo
`;

describe('tiled login on a terminal', () => {
  let server: RunningServer;
  let dir: string;
  let home: ClientHome;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-login-tty-'));
    writeFileSync(join(dir, 'config.yml'), CONFIG);
    server = await startTiled(['serve', 'config', 'config.yml'], { cwd: dir });
    home = new ClientHome();
    await home.run(['profile', 'create', server.url]);
  });
  afterAll(async () => {
    await server.stop();
    home.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  it('asks which provider, hides the password, and lets a mistyped password be retried', async () => {
    const result = await runInTerminal(
      'tiled login',
      [
        ['Choose an authentication provider', '1'],
        ['Username:', 'alice'],
        ['Password:', 'wrong-one'],
        // Answer the second prompt itself, not the retry message: typed ahead of the prompt, the
        // terminal would echo the name on a line of its own.
        ['Username:', 'alice'],
        ['Password:', 'secret1'],
      ],
      home.env,
    );
    const lines = normaliseOutput(result.output);
    expect(result.code).toBe(0);
    expect(lines).toEqual([
      'Authentication providers:',
      '1 - toy',
      '2 - demo',
      'Choose an authentication provider (or press Enter to cancel): 1',
      'Username: alice',
      'Password:',
      'Username or password not recognized. Retry, or press Enter to cancel.',
      'Username: alice',
      'Password:',
      'You have logged in as alice.',
    ]);
    expect(result.output).not.toContain('secret1');
    expect(result.output).not.toContain('wrong-one');
    expect((await home.run(['whoami'])).stdout).toBe('alice\n');
  });

  it('cancels on an empty username with Aborted! and exit 1', async () => {
    const result = await runInTerminal('tiled login --provider toy', [['Username:', '']], home.env);
    expect(result.code).toBe(1);
    expect(normaliseOutput(result.output)).toEqual(['Username:', 'Error: Aborted!']);
  });
});
