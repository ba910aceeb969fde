import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The README's first command, run as written (plus a free port so it cannot clash). */
describe('npm start', () => {
  it('starts a single-user demo server that prints a connect URL whose key works', async () => {
    const child = spawn('npm', ['start', '--', '--port', '0'], {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, TILED_SINGLE_USER_API_KEY: undefined },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start did not listen:\n${output}`)), 30000);
        const check = (): void => {
          const match = /running on (http:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]);
          }
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
      });
      expect(output).toContain('Use the following URL to connect to Tiled:');
      const key = /"http:\/\/[^"?]+\?api_key=([0-9a-f]{64})"/.exec(output)?.[1];
      expect(key).toBeDefined();
      const withKey = await fetch(`${url}/api/v1/metadata/`, { headers: { authorization: `Apikey ${key}` } });
      expect(withKey.status).toBe(200);
      const without = await fetch(`${url}/api/v1/metadata/`);
      expect(without.status).toBe(401);
    } finally {
      // npm runs the server in a child shell; end the whole process group.
      process.kill(-child.pid!, 'SIGTERM');
    }
  });
});
