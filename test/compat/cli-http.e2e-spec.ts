import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { captureText, header, loadCapture } from './capture';
import { compareExchange } from './compare';
import { CLI_KEYS_MADE_OUTSIDE, cliHttpKnownDifference, TOY_USERS } from './expectations';
import { Replayer } from './replay';

const FILE = '32-cli-http-via-proxy.txt';
const CONFIG = join(__dirname, 'fixtures', 'reference-server.yml');

/**
 * The HTTP the real Tiled CLI sent (through a logging proxy on port 8091) while 31-cli-session ran:
 * profile, login, api_key create/list/revoke, tree, logout. Replayed in order against one tiled-ts
 * with the reference config: every request the CLI makes must get what it got from Tiled.
 */
describe(`replay of ${FILE} (the Tiled CLI's HTTP)`, () => {
  const secret = randomBytes(32).toString('hex');
  const exchanges = loadCapture(FILE);
  let dir: string;
  let server: RunningServer;
  let replayer: Replayer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-compat-cli-'));
    server = await startTiled(['serve', 'config', CONFIG], { cwd: dir, env: { TILED_COMPAT_SECRET: secret } });
    replayer = new Replayer(server.url, { capturedOrigins: ['http://127.0.0.1:8091', 'http://127.0.0.1:8000'], users: TOY_USERS, secret });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function makeKey(user: string, note: string): Promise<string> {
    const { access_token } = await replayer.tokensFor(user);
    const response = await fetch(`${server.api}/auth/apikey`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ scopes: ['inherit'], expires_in: 600, note }),
    });
    return ((await response.json()) as { secret: string }).secret;
  }

  it('was parsed into every recorded exchange', () => {
    const blocks = captureText(FILE).match(/^----- #\d+$/gm) ?? [];
    expect(blocks.length).toBeGreaterThan(70);
    expect(exchanges.length).toBe(blocks.length);
  });

  for (const exchange of exchanges) {
    it(`${exchange.title} ${exchange.request.method} ${decodeURIComponent(exchange.request.target).slice(0, 90)}`, async () => {
      const outside = CLI_KEYS_MADE_OUTSIDE[exchange.title];
      const capturedKey = /^Apikey ([0-9a-f]{72})$/.exec(header(exchange.request.headers, 'authorization') ?? '')?.[1];
      if (outside && capturedKey) replayer.learn(capturedKey, await makeKey(outside.user, outside.note));
      const answer = await replayer.replay(exchange);
      expect(compareExchange(exchange, answer, replayer, cliHttpKnownDifference(exchange))).toEqual([]);
    });
  }
});
