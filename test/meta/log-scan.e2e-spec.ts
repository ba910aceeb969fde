import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logDir, scanLogs } from '../helpers/log-capture';
import { startTiled } from '../helpers/tiled-process';

/**
 * The whole-suite log scan. Jest runs this spec after every other one (test/helpers/log-scan.sequencer.js):
 * each server those specs started wrote its output to the run's log directory, and each secret they
 * minted or sent went on the run's list (test/helpers/log-capture.ts). A secret in any log fails the run.
 *
 * It never passes by having nothing to look at: it first starts a server of its own, with the access log
 * on, and uses a key in the URL, so even run alone (`npx jest test/meta/log-scan.e2e-spec.ts`) there is at
 * least that log and that key to scan, and it checks on planted logs that the scan finds what it must.
 */
describe('secrets in the server logs of this test run', () => {
  const dir = (): string => {
    const found = logDir();
    if (!found) throw new Error('no log directory: run through jest.config.js, whose globalSetup creates one');
    return found;
  };

  describe('the scan itself', () => {
    let planted: string;
    beforeEach(() => {
      planted = mkdtempSync(join(tmpdir(), 'tiled-log-scan-'));
    });
    afterEach(() => rmSync(planted, { recursive: true, force: true }));

    const KEY = 'c0ffee00'.repeat(8);
    const banner = `\n    Use the following URL to connect to Tiled:\n\n    "http://127.0.0.1:8000?api_key=${KEY}"\n\n`;

    it('should find a planted secret and name the file and the first eight characters', () => {
      writeFileSync(join(planted, 'secrets.jsonl'), `${JSON.stringify({ secret: KEY, source: 'planted' })}\n`);
      writeFileSync(join(planted, 'clean.log'), '[abc] 127.0.0.1:1 (anon) - "GET /api/v1/?api_key=[redacted] HTTP/1.1" 200\n');
      writeFileSync(join(planted, 'leaky.log'), `[abc] 127.0.0.1:1 (anon) - "GET /api/v1/?api%5Fkey=${KEY} HTTP/1.1" 200\n`);
      expect(scanLogs(planted)).toEqual({ logFiles: ['clean.log', 'leaky.log'], secrets: 1, hits: [{ file: 'leaky.log', prefix: 'c0ffee00', source: 'planted' }] });
    });

    it('should allow the connect banner once, and nothing else with its key', () => {
      writeFileSync(join(planted, 'secrets.jsonl'), `${JSON.stringify({ secret: KEY, source: 'the connect banner' })}\n`);
      writeFileSync(join(planted, 'banner.log'), `${banner}Tiled (tiled-ts) running on http://127.0.0.1:8000 (Press CTRL+C to quit)\n`);
      writeFileSync(join(planted, 'two-banners.log'), `${banner}${banner}`);
      writeFileSync(join(planted, 'banner-and-more.log'), `${banner}[ERROR] Unhandled error on GET /?api_key=${KEY}\n`);
      writeFileSync(join(planted, 'banner-reworded.log'), banner.replace('Use the following URL', 'Use this URL'));
      expect(scanLogs(planted).hits.map((hit) => hit.file).sort()).toEqual(['banner-and-more.log', 'banner-reworded.log', 'two-banners.log']);
    });
  });

  it('should capture a server access log and record the key a request sent', async () => {
    const server = await startTiled(['serve', 'demo', '--verbose'], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
    try {
      const key = server.printedKey!;
      expect((await fetch(`${server.api}/metadata/?api%5Fkey=${key}`)).status).toBe(200);
      await server.waitForOutput('"GET /api/v1/metadata/?api_key=[redacted] HTTP/1.1" 200');
    } finally {
      await server.stop();
    }
    const own = readdirSync(dir()).filter((name) => name.startsWith('test__meta__log-scan.e2e-spec.'));
    expect(own.some((name) => readFileSync(join(dir(), name), 'utf8').includes('?api_key=[redacted]'))).toBe(true);
    expect(readFileSync(join(dir(), 'secrets.jsonl'), 'utf8')).toContain(server.printedKey);
  });

  it('should find no secret the suite saw in any server log of the run', () => {
    const { logFiles, secrets, hits } = scanLogs(dir());
    expect(logFiles.length).toBeGreaterThan(0);
    expect(secrets).toBeGreaterThan(0);
    const report = hits.map((hit) => `${hit.file}: ${hit.prefix}… (${hit.source})`);
    expect(report).toEqual([]);
  });
});
