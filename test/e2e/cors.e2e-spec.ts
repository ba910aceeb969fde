import { createServer, Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SuiteBrowser } from '../helpers/browser';
import { RunningServer, startTiled } from '../helpers/tiled-process';

const KEY = 'CorsTestKey0123456789abcdef';

/** What a script on another origin sees when it calls the API with an Apikey header (which needs a preflight). */
async function fetchFromPage(browser: SuiteBrowser, pageUrl: string, apiUrl: string): Promise<{ status?: number; body?: unknown; etag?: string | null; error?: string }> {
  const page = await browser.newPage();
  try {
    await page.goto(pageUrl);
    return await page.evaluate(
      async ([url, key]) => {
        try {
          const response = await fetch(url, { headers: { Authorization: `Apikey ${key}` } });
          return { status: response.status, body: await response.json(), etag: response.headers.get('etag') };
        } catch (error) {
          return { error: String(error) };
        }
      },
      [apiUrl, KEY] as const,
    );
  } finally {
    await page.close();
  }
}

describe('allow_origins: CORS for browser apps on other origins', () => {
  let pages: Server;
  let pagePort: number;
  let dir: string;
  let server: RunningServer;
  const browser = new SuiteBrowser();

  beforeAll(async () => {
    pages = createServer((_request, response) => response.end('<!doctype html><title>app</title>'));
    await new Promise<void>((resolve) => pages.listen(0, '127.0.0.1', resolve));
    pagePort = (pages.address() as AddressInfo).port;
    dir = mkdtempSync(join(tmpdir(), 'tiled-cors-'));
    const config = join(dir, 'config.yml');
    writeFileSync(config, `trees: [{path: /, tree: demo}]\nallow_origins: ["http://127.0.0.1:${pagePort}"]\n`);
    server = await startTiled(['serve', 'config', config, '--api-key', KEY]);
  });
  afterAll(async () => {
    await browser.close();
    await server?.stop();
    await new Promise((resolve) => pages.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  browser.it('lets a listed origin read metadata with an API key, headers included', async () => {
    const result = await fetchFromPage(browser, `http://127.0.0.1:${pagePort}/`, `${server.api}/metadata/small`);
    expect(result.error).toBeUndefined();
    expect(result.status).toBe(200);
    expect((result.body as { data: { id: string } }).data.id).toBe('small');
    expect(result.etag).toMatch(/^[0-9a-f]{32}$/);
  });

  browser.it('blocks an origin that is not listed (localhost is another origin than 127.0.0.1)', async () => {
    const result = await fetchFromPage(browser, `http://localhost:${pagePort}/`, `${server.api}/metadata/small`);
    expect(result.error).toMatch(/Failed to fetch/);
  });

  it('answers a preflight as Tiled does for a listed origin, and not at all for others', async () => {
    const preflight = (origin: string) =>
      fetch(`${server.api}/metadata/`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
      });
    const allowed = await preflight(`http://127.0.0.1:${pagePort}`);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(`http://127.0.0.1:${pagePort}`);
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    expect(allowed.headers.get('access-control-allow-headers')).toBe('authorization');
    expect(allowed.headers.get('access-control-max-age')).toBe('600');
    const refused = await preflight('http://evil.example');
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('without allow_origins', () => {
  it('adds no CORS headers, so browsers keep the same-origin rule', async () => {
    const server = await startTiled(['serve', 'demo', '--api-key', KEY]);
    try {
      const response = await fetch(`${server.api}/metadata/small`, { headers: { origin: 'http://app.example', authorization: `Apikey ${KEY}` } });
      expect(response.status).toBe(200);
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await server.stop();
    }
  });
});
