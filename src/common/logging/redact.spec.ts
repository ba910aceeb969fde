import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import fc from 'fast-check';
import Fastify, { FastifyInstance } from 'fastify';
import { LogPseudonyms, redactUrl } from './redact';

const KEY = 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

describe('redactUrl', () => {
  it.each([
    ['/api/v1/metadata/?api_key=KEY', '/api/v1/metadata/?api_key=[redacted]'],
    // The reproducers of the issue: the server decodes the name, so the log must too.
    ['/api/v1/metadata/?api%5Fkey=KEY', '/api/v1/metadata/?api_key=[redacted]'],
    ['/api/v1/metadata/?%61pi_key=KEY', '/api/v1/metadata/?api_key=[redacted]'],
    ['/api/v1/metadata/?API_KEY=KEY&Api-Key=KEY', '/api/v1/metadata/?API_KEY=[redacted]&Api-Key=[redacted]'],
    ['/api/v1/metadata/?api_key=KEY&api_key=KEY', '/api/v1/metadata/?api_key=[redacted]&api_key=[redacted]'],
    ['/api/v1/metadata/?api+key=KEY', '/api/v1/metadata/?api+key=[redacted]'],
    // find-my-way also starts the query at a `#`.
    ['/api/v1/metadata/#api_key=KEY', '/api/v1/metadata/#api_key=[redacted]'],
    ['/api/v1/auth/provider/sso/code?code=C&state=S', '/api/v1/auth/provider/sso/code?code=[redacted]&state=[redacted]'],
    ['/api/v1/auth/provider/sso/device_code?code=U&state=S&csrf=T', '/api/v1/auth/provider/sso/device_code?code=[redacted]&state=[redacted]&csrf=[redacted]'],
    ['/x?access_token=A&refresh_token=R&password=P&client_secret=C', '/x?access_token=[redacted]&refresh_token=[redacted]&password=[redacted]&client_secret=[redacted]'],
    [`/api/v1/auth/apikey?first_eight=${KEY}`, `/api/v1/auth/apikey?first_eight=${KEY.slice(0, 8)}[redacted]`],
    [`/api/v1/auth/apikey?first%5Feight=${KEY}`, `/api/v1/auth/apikey?first_eight=${KEY.slice(0, 8)}[redacted]`],
    ['/api/v1/auth/apikey?first_eight=a3f1c2d4', '/api/v1/auth/apikey?first_eight=a3f1c2d4'],
    // A prefix that decodes to characters which could forge a log line is not printed at all.
    ['/api/v1/auth/apikey?first_eight=%0A%0Aforged%20line', '/api/v1/auth/apikey?first_eight=[redacted]'],
  ])('should log %s as %s', (url, logged) => {
    expect(redactUrl(url)).toBe(logged);
  });

  it.each(['/api/v1/metadata/', '/api/v1/search/?filter[eq][condition][key]=color&page[offset]=0', '/?', '/api/v1/metadata/?api_key', '/api/v1/metadata/?%E0%A4%A=1&x'])(
    'should leave %s as it is',
    (url) => {
      expect(redactUrl(url)).toBe(url);
    },
  );
});

/**
 * The property that matters: whatever spelling the server itself reads as a credential never reaches the
 * log. The server's reading is Fastify's own (router split plus query parser), asked over loopback with
 * the request target exactly as written (`fetch` would drop a `#…` part before sending it).
 */
describe('redactUrl against the query Fastify parses', () => {
  let app: FastifyInstance;
  let port: number;
  beforeAll(async () => {
    app = Fastify({ routerOptions: { ignoreTrailingSlash: true } });
    app.get('/*', async (request) => request.query);
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  const parsedQuery = (target: string): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      get({ host: '127.0.0.1', port, path: target }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve(JSON.parse(body) as Record<string, unknown>));
      }).on('error', reject);
    });

  const NAMES = ['api_key', 'access_token', 'refresh_token', 'code', 'device_code', 'state', 'csrf', 'password'];
  /** Each character as itself or as a percent-escape in either hex case, as a hostile client might send it. */
  const spelled = (text: string): fc.Arbitrary<string> =>
    fc.tuple(...[...text].map((ch) => fc.constantFrom(ch, `%${ch.charCodeAt(0).toString(16).padStart(2, '0')}`, `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`))).map((parts) => parts.join(''));
  const noise = fc.constantFrom('', 'x=1', 'page%5Blimit%5D=5', 'note=a+b', 'flag', 'q=%ZZ');

  it('should never log a credential value the server reads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...NAMES).chain((name) => fc.tuple(fc.constant(name), spelled(name))),
        fc.stringMatching(/^[0-9a-f]{24}$/).chain((secret) => fc.tuple(fc.constant(secret), spelled(secret))),
        fc.array(noise, { maxLength: 3 }),
        fc.array(noise, { maxLength: 3 }),
        fc.constantFrom('?', '#'),
        async ([name, spelledName], [secret, spelledSecret], before, after, delimiter) => {
          const url = `/api/v1/metadata/${delimiter}${[...before, `${spelledName}=${spelledSecret}`, ...after].join('&')}`;
          const query = await parsedQuery(url);
          // The generator only produces spellings the server really reads as this credential.
          expect([query[name]].flat()).toContain(secret);
          const logged = redactUrl(url);
          expect(decodeURIComponent(logged.replace(/%(?![0-9a-fA-F]{2})/g, '%25'))).not.toContain(secret);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('the routes', () => {
  /** A route whose path carried a credential would need redaction of its own: none may, unnoticed. */
  it('should carry no credential in any path parameter', () => {
    const table = readFileSync(join(__dirname, '..', '..', '..', 'test', 'meta', 'routes.multi-user.txt'), 'utf8');
    const parameters = new Set([...table.matchAll(/\/:(\w+)/g)].map((match) => match[1]));
    expect([...parameters].sort()).toEqual(['asset', 'provider', 'sessionId', 'uuid']);
  });
});

describe('LogPseudonyms', () => {
  it('should give a name the same tag under the same secret key, and a different one under another key or provider', () => {
    const a = new LogPseudonyms('deployment-secret');
    const b = new LogPseudonyms('deployment-secret');
    expect(a.tag('toy', 'hunter2-typed-as-a-name')).toMatch(/^[0-9a-f]{12}$/);
    expect(a.tag('toy', 'hunter2-typed-as-a-name')).toBe(b.tag('toy', 'hunter2-typed-as-a-name'));
    expect(new LogPseudonyms('other-secret').tag('toy', 'hunter2-typed-as-a-name')).not.toBe(a.tag('toy', 'hunter2-typed-as-a-name'));
    expect(a.tag('ldap', 'hunter2-typed-as-a-name')).not.toBe(a.tag('toy', 'hunter2-typed-as-a-name'));
  });

  it('should draw a random key per process when no secret key is configured', () => {
    expect(new LogPseudonyms(undefined).tag('toy', 'alice')).not.toBe(new LogPseudonyms(undefined).tag('toy', 'alice'));
  });
});
