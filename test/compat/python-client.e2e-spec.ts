import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { captureText, clientTranscript, loadCapture } from './capture';
import { compareExchange } from './compare';
import { PYTHON_CLIENT_KNOWN_DIFFERENCES, TOY_USERS } from './expectations';
import { Replayer } from './replay';

const CONFIG = join(__dirname, 'fixtures', 'reference-server.yml');

/**
 * Every request the unmodified Tiled Python client made in a session (through a logging proxy on
 * port 8092), replayed in order: what it sends must get what it got from Tiled.
 */
describe.each(['30-python-client-apikey.txt', '30-python-client-password.txt'])('replay of %s (the Python client session)', (file) => {
  const secret = randomBytes(32).toString('hex');
  const exchanges = loadCapture(file);
  let dir: string;
  let server: RunningServer;
  let replayer: Replayer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-compat-client-'));
    server = await startTiled(['serve', 'config', CONFIG], { cwd: dir, env: { TILED_COMPAT_SECRET: secret } });
    replayer = new Replayer(server.url, { capturedOrigins: ['http://127.0.0.1:8092', 'http://127.0.0.1:8000'], users: TOY_USERS, secret });
    // The API-key session used a key alice made before the recording: make ours the same way.
    const capturedKey = /apikey ([0-9a-f]{72})/.exec(clientTranscript(file))?.[1];
    if (capturedKey) {
      const { access_token } = await replayer.tokensFor('alice');
      const response = await fetch(`${server.api}/auth/apikey`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ scopes: ['inherit'], expires_in: null }),
      });
      replayer.learn(capturedKey, ((await response.json()) as { secret: string }).secret);
    }
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('was parsed into the whole session', () => {
    expect(exchanges.length).toBe(Number(/----- #(\d+)\n(?![\s\S]*----- #)/.exec(captureText(file))?.[1]));
  });

  for (const exchange of exchanges) {
    it(`${exchange.title} ${exchange.request.method} ${decodeURIComponent(exchange.request.target).slice(0, 90)}`, async () => {
      const answer = await replayer.replay(exchange);
      expect(compareExchange(exchange, answer, replayer, PYTHON_CLIENT_KNOWN_DIFFERENCES[`${file} ${exchange.title}`] ?? PYTHON_CLIENT_KNOWN_DIFFERENCES[exchange.title])).toEqual([]);
    });
  }
});
