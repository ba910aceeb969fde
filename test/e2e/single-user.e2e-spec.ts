import { RunningServer, startTiled } from '../helpers/tiled-process';

describe('single-user mode (tiled serve demo)', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTiled(['serve', 'demo'], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
  });
  afterAll(async () => server.stop());

  it('prints the connect URL with a fresh 64-hex key', () => {
    expect(server.output()).toContain('Use the following URL to connect to Tiled:');
    expect(server.printedKey).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a request without credentials with 401 Not authenticated', async () => {
    const response = await fetch(`${server.api}/metadata/`);
    expect(response.status).toBe(401);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ detail: 'Not authenticated' });
    expect(response.headers.get('set-cookie')).toMatch(/tiled_csrf=[\w-]{43}; HttpOnly; Path=\/; SameSite=lax/);
  });

  it('refuses a wrong key with 401 Invalid API key', async () => {
    const response = await fetch(`${server.api}/metadata/`, { headers: { authorization: 'Apikey 1234' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Invalid API key' });
  });

  it('accepts the printed key as a header', async () => {
    const response = await fetch(`${server.api}/metadata/`, { headers: { authorization: `Apikey ${server.printedKey}` } });
    expect(response.status).toBe(200);
  });

  it('accepts the printed key in the URL, then keeps working from the cookie it sets', async () => {
    const first = await fetch(`${server.api}/metadata/?api_key=${server.printedKey}`);
    expect(first.status).toBe(200);
    const cookies = first.headers.getSetCookie();
    const keyCookie = cookies.find((c) => c.startsWith('tiled_api_key='));
    expect(keyCookie).toBe(`tiled_api_key=${server.printedKey}; HttpOnly; Path=/; SameSite=lax`);
    const second = await fetch(`${server.api}/metadata/`, { headers: { cookie: keyCookie!.split(';')[0] } });
    expect(second.status).toBe(200);
  });

  it('answers /healthz without credentials', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
  });
});
