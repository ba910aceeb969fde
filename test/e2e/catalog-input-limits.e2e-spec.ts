import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled, useDemoServer } from '../helpers/tiled-process';

const filter = (name: string, field: string, value: string): string =>
  `filter[${name}][condition][${field}]=${encodeURIComponent(value)}`;

describe('catalog request input is bounded and prototype-safe (tiled serve demo)', () => {
  const demo = useDemoServer();

  const getJson = async (path: string): Promise<{ status: number; body: { detail?: unknown; data?: { id: string }[] } }> => {
    const response = await demo.get(path, { accept: 'application/json' });
    return { status: response.status, body: (await response.json()) as { detail?: unknown; data?: { id: string }[] } };
  };

  const post = async (path: string, body: string): Promise<{ status: number; body: { detail?: unknown } }> => {
    const response = await fetch(`${demo.server.api}${path}`, {
      method: 'POST',
      headers: { ...demo.auth, 'content-type': 'application/json', accept: 'application/json' },
      body,
    });
    return { status: response.status, body: (await response.json()) as { detail?: unknown } };
  };

  describe('regex and like filters', () => {
    // On a backtracking engine either pattern takes hours over the demo's descriptions (2^40 paths, or 50^12),
    // so an answer at all, within Jest's timeout, is the proof; no wall-clock bound, which a loaded machine breaks.
    it('answers backtracking patterns, with the right (empty) result', async () => {
      const like = await getJson(`/search/?${filter('like', 'key', 'description')}&${filter('like', 'pattern', `"${'%'.repeat(12)}!"`)}`);
      const regex = await getJson(`/search/?${filter('regex', 'key', 'description')}&${filter('regex', 'pattern', '^(?:.|.){0,40}X')}`);
      expect([like.status, like.body.data, regex.status, regex.body.data]).toEqual([200, [], 200, []]);
    });

    it('keeps like\'s meaning: % any run, _ one character, everything else literal', async () => {
      const count = async (pattern: string): Promise<number> =>
        (await getJson(`/search/many?page[limit]=300&fields=&${filter('like', 'key', 'color')}&${filter('like', 'pattern', JSON.stringify(pattern))}`)).body.data!.length;
      expect(await count('gr%')).toBe(67);
      expect(await count('gr__n')).toBe(await count('green'));
      expect(await count('g.%')).toBe(0);
      expect(await count('%%e%%')).toBe(200);
    });

    it('refuses RE2-unsupported syntax with a detail that says so', async () => {
      for (const pattern of ['(a)\\1', '(?=a)b', '(?<!a)b']) {
        const { status, body } = await getJson(`/search/many?${filter('regex', 'key', 'color')}&${filter('regex', 'pattern', pattern)}`);
        expect({ pattern, status }).toEqual({ pattern, status: 400 });
        expect(body.detail).toMatch(/^filter\[regex\]\[condition\]\[pattern\] is not a valid regular expression: .*RE2 syntax/);
      }
    });

    it('refuses patterns that are too long or expand too far', async () => {
      const long = await getJson(`/search/many?${filter('like', 'key', 'color')}&${filter('like', 'pattern', JSON.stringify('a'.repeat(257)))}`);
      expect(long).toEqual({ status: 400, body: { detail: 'filter[like][condition][pattern] is too long: 257 characters; at most 256 are accepted' } });
      const wide = await getJson(`/search/many?${filter('regex', 'key', 'color')}&${filter('regex', 'pattern', '[\\s\\S]{0,1000}'.repeat(3))}`);
      expect(wide.status).toBe(400);
      expect(wide.body.detail).toMatch(/^filter\[regex\]\[condition\]\[pattern\] is too complex/);
    });
  });

  describe('names taken from the request', () => {
    it('ignores filters named like Object.prototype members, as Tiled ignores any unknown filter', async () => {
      for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
        for (const route of ['search', 'distinct']) {
          const { status } = await getJson(`/${route}/many?${filter(name, 'key', 'x')}`);
          expect({ name, route, status }).toEqual({ name, route, status: 200 });
        }
      }
    });

    it('answers 406 to format=constructor like any unknown format', async () => {
      for (const format of ['constructor', '__proto__', 'toString']) {
        const { status, body } = await getJson(`/array/block/small?block=0,0&format=${format}`);
        expect({ format, status }).toEqual({ format, status: 406 });
        expect(body.detail).toMatch(new RegExp(`Requested: ${format}\\.$`));
      }
    });
  });

  describe('array responses in text formats', () => {
    it('refuses JSON or CSV of a 2048 × 1024 array before encoding it, pointing at slicing and the binary format', async () => {
      for (const format of ['application/json', 'text/csv']) {
        const { status, body } = await getJson(`/array/full/big?format=${encodeURIComponent(format)}`);
        expect({ format, status }).toEqual({ format, status: 400 });
        expect(body.detail).toContain('Response of 2097152 elements is too large to encode as');
        expect(body.detail).toContain("slicing ('?slice=...')");
      }
    });

    it('still encodes a slice of it, and the whole array in binary', async () => {
      const slice = await demo.get('/array/full/big?slice=0:2,0:3&format=application/json', { accept: 'application/json' });
      expect(slice.status).toBe(200);
      expect(await slice.json()).toEqual([[0, 1, 2], [0.001, 1.001, 2.001]]);
      const binary = await demo.get('/array/full/big', { accept: 'application/octet-stream' });
      expect(binary.status).toBe(200);
      expect((await binary.arrayBuffer()).byteLength).toBe(2048 * 1024 * 8);
    });
  });

  describe('select_metadata', () => {
    it('refuses an expression that is too long or nested too deeply before parsing it', async () => {
      expect(await getJson(`/metadata/?select_metadata=${'['.repeat(3000)}`)).toEqual({
        status: 400,
        body: { detail: "'select_metadata' is too long: 3000 characters; at most 1000 are accepted" },
      });
      expect(await getJson(`/metadata/?select_metadata=${'['.repeat(40)}`)).toEqual({
        status: 400,
        body: { detail: "'select_metadata' is nested too deeply; at most 32 levels are accepted" },
      });
      expect((await getJson(`/metadata/nested?select_metadata=${encodeURIComponent('sample.id')}`)).status).toBe(200);
    });
  });

  describe('request-sized collections', () => {
    it('refuses more than 64 filter conditions, sort keys or distinct keys', async () => {
      const filters = Array.from({ length: 65 }, () => `${filter('eq', 'key', 'index')}&${filter('eq', 'value', '1')}`).join('&');
      expect(await getJson(`/search/many?${filters}`)).toEqual({ status: 400, body: { detail: 'Too many filter conditions: 65; at most 64 are accepted per request' } });
      const sorts = Array.from({ length: 65 }, (_, i) => `sort=k${i}`).join('&');
      expect(await getJson(`/search/many?${sorts}`)).toEqual({ status: 400, body: { detail: 'Too many sort keys: 65; at most 64 are accepted' } });
      const keys = Array.from({ length: 65 }, (_, i) => `metadata=k${i}`).join('&');
      expect(await getJson(`/distinct/many?${keys}`)).toEqual({ status: 400, body: { detail: "Too many 'metadata' keys: 65; at most 64 are accepted per request" } });
    });

    it('refuses a column list of more than 1000 names with FastAPI\'s too_long', async () => {
      const { status, body } = await post('/table/full/table', JSON.stringify(Array.from({ length: 1001 }, () => 'x')));
      expect(status).toBe(422);
      expect(body.detail).toEqual([
        expect.objectContaining({ type: 'too_long', loc: ['body'], msg: 'List should have at most 1000 items after validation, not 1001' }),
      ]);
      expect((await post('/container/full/nested', JSON.stringify(Array.from({ length: 1001 }, () => 'x')))).status).toBe(422);
    });
  });

  describe('request bodies', () => {
    it('answers 413 naming the route\'s limit to a body that is too large', async () => {
      const { status, body } = await post('/table/full/table', JSON.stringify(Array.from({ length: 300_000 }, () => 'x')));
      expect({ status, body }).toEqual({ status: 413, body: { detail: 'Request body is too large: this route accepts at most 1048576 bytes' } });
    });

    it('lets a client that sends a too-large body whole read the 413, every time, not a reset connection', async () => {
      // Sending all 4 MB before reading is what most clients do; answering and closing mid-upload made
      // their next write fail with EPIPE before they saw the answer.
      const body = Buffer.from(JSON.stringify(Array.from({ length: 400_000 }, (_, i) => `c${i}`)));
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const outcomes: string[] = [];
      const errors: string[] = [];
      try {
        for (let i = 0; i < 20; i++) {
          outcomes.push(
            await new Promise<string>((resolve) => {
              const url = new URL(`${demo.server.api}/table/full/table`);
              const sent = httpRequest(
                { host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { ...demo.auth, 'content-type': 'application/json', 'content-length': body.length } },
                (response) => {
                  const chunks: Buffer[] = [];
                  response.on('data', (chunk: Buffer) => chunks.push(chunk));
                  response.on('end', () => resolve(`${response.statusCode} ${JSON.parse(Buffer.concat(chunks).toString()).detail}`));
                },
              );
              sent.on('error', (error: NodeJS.ErrnoException) => {
                errors.push(error.code ?? error.message);
                resolve('no answer');
              });
              sent.end(body);
            }),
          );
        }
      } finally {
        agent.destroy();
      }
      expect(errors).toEqual([]);
      expect(new Set(outcomes)).toEqual(new Set(['413 Request body is too large: this route accepts at most 1048576 bytes']));
    });

    it('refuses deeply nested JSON before parsing it', async () => {
      const { status, body } = await post('/table/full/table', `${'['.repeat(10_000)}${']'.repeat(10_000)}`);
      expect({ status, body }).toEqual({ status: 400, body: { detail: 'Request body is nested too deeply: at most 32 levels of JSON arrays and objects are accepted' } });
      // Brackets inside strings are text, not nesting.
      expect((await post('/table/full/table', JSON.stringify(['['.repeat(100)]))).body.detail).toMatch(/^No such field/);
    });

    it('does not echo a large input back in a 422', async () => {
      const wide = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`k${i}`, i]));
      const { status, body } = await post('/table/full/table', JSON.stringify(wide));
      expect(status).toBe(422);
      expect(body.detail).toEqual([expect.objectContaining({ type: 'list_type', input: '[input omitted: too large or too deeply nested to echo]' })]);
      const small = await post('/table/full/table', JSON.stringify({ a: 1 }));
      expect(small.body.detail).toEqual([expect.objectContaining({ input: { a: 1 } })]);
    });
  });
});

describe('a column listed many times (tiled serve module)', () => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-wide-'));
    const catalog = join(__dirname, '..', '..', 'dist', 'src', 'catalog');
    writeFileSync(
      join(dir, 'tree.js'),
      `const { containerNode, tableNode } = require(${JSON.stringify(catalog)});\n` +
        `exports.tree = containerNode({ long: tableNode([{ x: Float64Array.from({ length: 40000 }, (_, i) => i) }]) });\n`,
    );
    server = await startTiled(['serve', 'module', './tree.js:tree', '--api-key', 'c'.repeat(64)], { cwd: dir });
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a selection whose table would exceed the response limit, before encoding it', async () => {
    const response = await fetch(`${server.api}/table/full/long`, {
      method: 'POST',
      headers: { authorization: `Apikey ${'c'.repeat(64)}`, 'content-type': 'application/json', accept: 'text/csv' },
      body: JSON.stringify(Array.from({ length: 1000 }, () => 'x')),
    });
    expect({ status: response.status, body: await response.json() }).toEqual({
      status: 400,
      body: { detail: 'Response would exceed 300000000. Select a subset of the columns to request a smaller chunks.' },
    });
  });
});
