import { request } from 'node:http';
import { signInAtProvider } from '../helpers/oidc-provider/login-driver';
import { OidcSetup, startTiledWithOidc } from '../helpers/oidc-provider/tiled-with-oidc';
import { createTestDatabase, EngineName, testEngines, TestDatabase } from '../helpers/postgres';

/**
 * Pending external logins are capped per client address, so one address flooding `/authorize` cannot
 * stop anyone else's login (it used to fill one server-wide cap, after which every login on every
 * provider answered 503). Real OpenID provider, real server; the clients bind to different loopback
 * addresses (127.0.0.2, 127.0.0.3: all of 127/8 is loopback on Linux), which is what the server sees.
 */
const PER_ADDRESS = 5;
const FLOODER = '127.0.0.2';
const SOMEONE_ELSE = '127.0.0.3';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One request whose connection comes from `localAddress` (fetch has no such option). */
function from(localAddress: string, url: string, method = 'GET'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const call = request(url, { method, localAddress, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    call.on('error', reject);
    call.end();
  });
}

describe.each(testEngines())('pending external logins are capped per address (%s)', (engine: EngineName) => {
  let db: TestDatabase;
  let setup: OidcSetup;
  const authorize = (): string => `${setup.server.api}/auth/provider/oidc/authorize`;

  beforeAll(async () => {
    db = await createTestDatabase(engine);
    setup = await startTiledWithOidc({ databaseUri: db.uri, authentication: { pending_logins_per_address: PER_ADDRESS } });
  }, 60_000);
  afterAll(async () => {
    await setup?.stop();
    await db?.drop();
  });

  it('should answer a flooding address 429 with Retry-After, while another address logs in and logins under way complete', async () => {
    const flood = await Promise.all(Array.from({ length: 30 }, () => from(FLOODER, authorize())));
    const started = flood.filter((answer) => answer.status === 307);
    expect(started).toHaveLength(PER_ADDRESS);
    const refused = flood.filter((answer) => answer.status !== 307);
    expect(refused.map((answer) => answer.status)).toEqual(Array(30 - PER_ADDRESS).fill(429));
    expect(JSON.parse(refused[0].body)).toEqual({
      detail: expect.stringMatching(/^Too many logins in progress from your address \(5\)\. Finish one, or try again in \d+ seconds\.$/),
    });
    // The oldest of the flood's logins ends within the 10-minute login lifetime.
    expect(Number(refused[0].headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused[0].headers['retry-after'])).toBeLessThanOrEqual(600);
    // The device flow of the same address counts against the same cap.
    const device = await from(FLOODER, authorize(), 'POST');
    expect(device.status).toBe(429);

    // Someone else, meanwhile, logs in from their own address, all the way to tokens.
    const mine = await from(SOMEONE_ELSE, authorize());
    expect(mine.status).toBe(307);
    const myCallback = await signInAtProvider(String(mine.headers.location), 'carol');
    const myTokens = await fetch(myCallback, { redirect: 'manual' });
    expect(myTokens.status).toBe(200);
    expect(await myTokens.json()).toMatchObject({ identity: { id: 'carol', provider: 'oidc' } });

    // A login the flooding address had already started is not hurt by the cap either.
    const callback = await signInAtProvider(String(started[0].headers.location), 'alice');
    const tokens = await fetch(callback, { redirect: 'manual' });
    expect(tokens.status).toBe(200);
    // …and finishing it gave that address one place back, exactly one.
    const next = await Promise.all([from(FLOODER, authorize()), from(FLOODER, authorize())]);
    expect(next.map((answer) => answer.status).sort()).toEqual([307, 429]);
  }, 60_000);
});
