import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { loadCapture } from './capture';
import { compareExchange } from './compare';
import { FORGET_AFTER, KNOWN_DIFFERENCES, MULTI_USER_FILES, PAUSE_BEFORE, SESSIONS_BEFORE, TOY_USERS } from './expectations';
import { Replayer } from './replay';

const CONFIG = join(__dirname, 'fixtures', 'reference-server.yml');

/**
 * The curl captures 01–13 (all of them) were recorded in one session against one server (a key made in 04 is
 * used in 05–13), so they replay in order against one tiled-ts with an equivalent config.
 */
describe('replay of the captured multi-user exchanges (01–13) against tiled-ts', () => {
  const secret = randomBytes(32).toString('hex');
  let dir: string;
  let server: RunningServer;
  let replayer: Replayer;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-compat-'));
    server = await startTiled(['serve', 'config', CONFIG], { cwd: dir, env: { TILED_COMPAT_SECRET: secret } });
    replayer = new Replayer(server.url, { capturedOrigins: ['http://127.0.0.1:8000'], users: TOY_USERS, secret });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const file of MULTI_USER_FILES) {
    describe(file, () => {
      for (const exchange of loadCapture(file)) {
        it(`${exchange.title}: ${exchange.request.method} ${exchange.request.target.slice(0, 80)}`, async () => {
          const pause = PAUSE_BEFORE[exchange.title];
          if (pause) await new Promise((resolve) => setTimeout(resolve, pause));
          const session = SESSIONS_BEFORE[exchange.title];
          if (session) await replayer.learnSession(session.capturedSid, session.user);
          const answer = await replayer.replay(exchange);
          const forget = FORGET_AFTER[exchange.title];
          if (forget) replayer.forget(forget);
          expect(compareExchange(exchange, answer, replayer, KNOWN_DIFFERENCES[`${file} ${exchange.title}`])).toEqual([]);
        });
      }
    });
  }
});
