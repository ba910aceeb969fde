import { toJson } from '../../src/common/http/wire';
import { RunningServer, startTiled } from '../helpers/tiled-process';

/*
 * The hot-path optimisations (docs/benchmarks.md) must not change what goes on the wire: the native
 * JSON path gives the same bytes as the replacer path, and pooled CSRF tokens are still fresh per response.
 */
describe('toJson', () => {
  const replaced = (payload: unknown): string =>
    JSON.stringify(payload, function (this: Record<string, unknown>, key: string, value: unknown) {
      const raw = this[key];
      if (raw instanceof Date) return raw.toISOString().replace(/\.\d{3}Z$/, '+00:00');
      if (typeof value === 'bigint') return Number(value);
      return value;
    });

  it('writes dates as Tiled does and bigints as numbers, however deep', () => {
    const payload = { a: new Date(Date.UTC(2024, 0, 15, 9, 30)), b: [1n, { c: new Date(0) }], d: null };
    expect(toJson(payload)).toBe('{"a":"2024-01-15T09:30:00+00:00","b":[1,{"c":"1970-01-01T00:00:00+00:00"}],"d":null}');
  });

  it('gives the same bytes as the replacer for documents with and without special values', () => {
    const documents: unknown[] = [
      { data: { id: 'small', attributes: { metadata: { units: 'counts' }, structure: { shape: [10, 10] } } }, error: null, links: null, meta: {} },
      [{ x: 1, y: [true, false, 'z'] }, null, 3.5],
      { when: new Date(1_700_000_000_000), nested: { list: [{ big: 2n ** 40n }] } },
      { buffer: Buffer.from('ab'), text: 'ü "quoted"' },
      'plain',
    ];
    for (const document of documents) expect(toJson(document)).toBe(replaced(document));
  });
});

describe('CSRF cookie tokens', () => {
  let server: RunningServer;

  beforeAll(async () => {
    server = await startTiled(['serve', 'demo', '--api-key', 'hotpathkey123']);
  });
  afterAll(async () => server.stop());

  it('are fresh 32-byte base64url values on every response, across many responses', async () => {
    const tokens: string[] = [];
    // More responses than one refill of the token pool holds.
    for (let i = 0; i < 300; i++) {
      const response = await fetch(`${server.url}/healthz`);
      const cookie = response.headers.getSetCookie().find((c) => c.startsWith('tiled_csrf='));
      expect(cookie).toMatch(/^tiled_csrf=[A-Za-z0-9_-]{43}; HttpOnly; Path=\/; SameSite=lax$/);
      tokens.push(cookie!.slice('tiled_csrf='.length, cookie!.indexOf(';')));
    }
    expect(new Set(tokens).size).toBe(tokens.length);
  });
});

describe('the guard’s cache of route declarations', () => {
  it('keeps apart two controllers that share an inherited handler but declare different scopes', async () => {
    const { spawnSync } = await import('node:child_process');
    const { join } = await import('node:path');
    const result = spawnSync(process.execPath, [join(__dirname, 'fixtures', 'inherited-handler-app.js')], { encoding: 'utf8' });
    expect(result.stderr).toBe('');
    // A read:data caller: the read route stays open, the write route must not inherit its cached rule.
    expect(JSON.parse(result.stdout)).toEqual({ '/readable/shared': [200, 200], '/writable/shared': [401] });
  });
});
