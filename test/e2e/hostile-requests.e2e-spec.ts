import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningServer, startTiled } from '../helpers/tiled-process';
import { writeToyConfig } from '../helpers/toy-config';

interface Answer {
  status: number;
  body: string;
}

/** A GET over node:http, a new connection each time. */
function get(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { accept: 'application/json' }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A POST (or PUT) over a raw socket that, like curl, reads before it uploads: a body refused by its Content-Length
 * is answered at once and the connection closed, so a client still uploading may lose that answer to the
 * reset. The body is sent only if no answer came within 300 ms.
 */
function post(url: string, body: Buffer, method = 'POST'): Promise<Answer> {
  const { port, pathname, search } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString();
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.write(
      `${method} ${pathname}${search} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\naccept: application/json\r\n` +
        `content-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n`,
    );
    setTimeout(() => {
      if (chunks.length === 0) socket.end(body);
    }, 300);
  });
}

const filter = (name: string, field: string, value: string): string => `filter[${name}][condition][${field}]=${encodeURIComponent(value)}`;

describe('no single request stops the server (tiled serve demo --public)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTiled(['serve', 'demo', '--public'], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
  });
  afterAll(async () => server?.stop());

  it('keeps answering /healthz within 200 ms while each hostile request is answered without a 5xx', async () => {
    // Built before polling starts, so the test process itself never stalls the poller.
    const hostile: { name: string; path: string; method?: string; body?: Buffer; status: number }[] = [
      {
        name: 'like with a run of % (V8 backtracked for 30 s)',
        path: `/search/?${filter('like', 'key', 'description')}&${filter('like', 'pattern', `"${'%'.repeat(12)}!"`)}`,
        status: 200,
      },
      {
        name: 'regex with an alternation under a counted repeat',
        path: `/search/?${filter('regex', 'key', 'description')}&${filter('regex', 'pattern', '^(?:.|.){0,40}X')}`,
        status: 200,
      },
      { name: 'a filter named __proto__', path: `/search/?${filter('__proto__', 'key', 'x')}`, status: 200 },
      { name: '3,000 [ in select_metadata', path: `/metadata/?select_metadata=${'['.repeat(3000)}`, status: 400 },
      {
        name: 'a 10 MB list of 2,000,000 column names',
        path: '/table/full/table',
        body: Buffer.from(JSON.stringify(Array.from({ length: 2_000_000 }, () => 'x'))),
        status: 413,
      },
      {
        name: '10,000 [ then 10,000 ]',
        path: '/table/full/table',
        body: Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
        status: 400,
      },
      // 262,144 float32 values, the most a text format may carry: formatting them as Python does took 0.5 s in one go.
      { name: 'the largest array allowed as JSON', path: '/array/full/arrays/chunked_f32?slice=0:512,0:512&format=json', status: 200 },
      { name: 'the largest array allowed as CSV', path: '/array/full/arrays/chunked_f32?slice=0:512,512:1024&format=csv', status: 200 },
      {
        // Data write routes take up to write_body_limit (256 MiB) of array bytes; JSON sent there was parsed up to that size too.
        name: 'a 4 MB JSON list to a data write route',
        path: '/array/block/arrays/float64_1d?block=0',
        method: 'PUT',
        body: Buffer.from(JSON.stringify(Array.from({ length: 400_000 }, (_, i) => `s${i}`))),
        status: 413,
      },
      { name: 'a 9 MB [[[ body to the refresh route', path: '/auth/session/refresh', body: Buffer.alloc(9 * 1024 * 1024, '['), status: 413 },
    ];

    const waits: { ms: number; during: string }[] = [];
    let current = 'warm-up';
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const started = performance.now();
        const response = await get(`${server.url}/healthz`);
        waits.push({ ms: performance.now() - started, during: current });
        expect(response.status).toBe(200);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();

    try {
      // The first answers of a fresh process include its warm-up (JIT, lazy modules), not a hostile request.
      while (waits.length < 5) await new Promise((resolve) => setTimeout(resolve, 10));
      for (const { name, path, method, body, status } of hostile) {
        current = name;
        const answer = body ? await post(`${server.api}${path}`, body, method) : await get(`${server.api}${path}`);
        expect({ name, status: answer.status }).toEqual({ name, status });
        if (answer.status >= 400) {
          const detail = (JSON.parse(answer.body) as { detail?: unknown }).detail;
          expect({ name, detail: typeof detail === 'string' && detail.length > 0 }).toEqual({ name, detail: true });
        }
      }
      // Let the poller see the server after the last request, too.
      current = 'after the last request';
      await new Promise((resolve) => setTimeout(resolve, 200));
    } finally {
      polling = false;
      await poller;
    }
    const measured = waits.filter((w) => w.during !== 'warm-up');
    expect(measured.length).toBeGreaterThan(5);
    const longest = measured.reduce((a, b) => (b.ms > a.ms ? b : a));
    expect({ during: longest.during, under200ms: longest.ms < 200 }).toEqual({ during: longest.during, under200ms: true });
    expect(server.process.exitCode).toBeNull();
    expect((await get(`${server.url}/healthz`)).status).toBe(200);
  }, 60_000);

  /** Send `head`, then `piece` once a second until the server closes the connection. */
  async function trickleUntilClosed(head: string, piece: string): Promise<{ elapsed: number; received: string }> {
    const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(head);
    const started = Date.now();
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const trickle = setInterval(() => socket.write(piece), 1000);
    await new Promise<void>((resolve) => {
      socket.once('close', () => resolve());
      socket.on('error', () => undefined);
    });
    clearInterval(trickle);
    return { elapsed: Date.now() - started, received };
  }

  it('closes a connection that trickles its request body, within the 30 s request timeout', async () => {
    const { elapsed, received } = await trickleUntilClosed(
      'POST /api/v1/table/full/table HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[',
      '"x",',
    );
    expect(elapsed).toBeGreaterThanOrEqual(29_000);
    expect(elapsed).toBeLessThan(33_000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  }, 45_000);

  it('closes a connection that trickles its headers, within the 10 s headers timeout', async () => {
    const { elapsed, received } = await trickleUntilClosed('GET /healthz HTTP/1.1\r\n', 'x-slow: 1\r\n');
    expect(elapsed).toBeGreaterThanOrEqual(9_000);
    expect(elapsed).toBeLessThan(15_000);
    expect(received).toMatch(/^HTTP\/1\.1 408/);
  }, 30_000);
});

describe('auth routes take small bodies (multi-user)', () => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-auth-limits-'));
    server = await startTiled(['serve', 'config', writeToyConfig(dir, { users: { alice: 'secret1' } })]);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 413 naming 16384 bytes to a 20 KB refresh body, and 422 to a small wrong one', async () => {
    const big = await post(`${server.api}/auth/session/refresh`, Buffer.from(JSON.stringify({ refresh_token: 'x'.repeat(20_000) })));
    expect(big).toEqual({ status: 413, body: JSON.stringify({ detail: 'Request body is too large: this route accepts at most 16384 bytes' }) });
    const deep = await post(`${server.api}/auth/session/refresh`, Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`));
    expect(deep.status).toBe(400);
    const wrong = await post(`${server.api}/auth/session/refresh`, Buffer.from('{}'));
    expect(wrong.status).toBe(422);
  });
});
