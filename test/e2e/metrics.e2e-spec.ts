import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as yaml from 'js-yaml';
import { RunningServer, runTiled, startTiled, useDemoServer } from '../helpers/tiled-process';

/**
 * `GET /api/v1/metrics` (Tiled's metrics.prometheus) over real HTTP against the real CLI: who may scrape,
 * what a scrape shows after real requests, what it must never show, the config switch, and the examples
 * of docs/metrics.md.
 */
const ROOT = join(__dirname, '..', '..');
const TOY = join(ROOT, 'example_configs', 'toy_authentication.yml');
const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
const run = promisify(execFile);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a text-format scrape (comment lines skipped). */
function samples(text: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
    found.push({ name: match[1], labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the one sample with this name whose labels include `labels`; 0 if there is none yet. */
function valueOf(text: string, name: string, labels: Record<string, string>): number {
  const matching = samples(text).filter(
    (sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels[key] === value),
  );
  expect(matching.length).toBeLessThanOrEqual(1);
  return matching[0]?.value ?? 0;
}

const METADATA_OK = { method: 'GET', code: '200', endpoint: '/api/v1/metadata/*' };

describe('GET /api/v1/metrics in single-user mode', () => {
  const demo = useDemoServer();

  async function scrape(): Promise<string> {
    const response = await demo.get('/metrics');
    expect(response.status).toBe(200);
    return response.text();
  }

  it('should refuse an anonymous caller with 401 and the metrics scope challenge', async () => {
    const response = await fetch(`${demo.server.api}/metrics`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer scope="metrics"');
    expect(await response.json()).toEqual({ detail: 'Not authenticated' });
  });

  it('should refuse a wrong key with 401', async () => {
    const response = await fetch(`${demo.server.api}/metrics`, { headers: { authorization: 'Apikey wrongkey0123' } });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ detail: 'Invalid API key' });
  });

  it('should give the printed key the Prometheus text format, labelled by route pattern, counting every request', async () => {
    expect((await demo.get('/metadata/small')).status).toBe(200);
    const response = await demo.get('/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROMETHEUS_TEXT);
    const first = await response.text();
    expect(first).toContain('# TYPE tiled_request_duration_seconds histogram');
    expect(first).toContain('# TYPE tiled_response_content_length_bytes histogram');
    expect(first).toMatch(/^tiled_request_duration_seconds_bucket\{le="0\.005",method="GET",code="200",endpoint="\/api\/v1\/metadata\/\*"\} \d+$/m);
    expect(first).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(first).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    const count = valueOf(first, 'tiled_request_duration_seconds_count', METADATA_OK);
    expect(count).toBeGreaterThanOrEqual(1);
    const bytes = valueOf(first, 'tiled_response_content_length_bytes_sum', METADATA_OK);
    expect(bytes).toBeGreaterThan(0);

    // Another node, the same series: the label is the route, not the path.
    expect((await demo.get('/metadata/medium')).status).toBe(200);
    expect((await demo.get('/metadata/small')).status).toBe(200);
    const second = await scrape();
    expect(valueOf(second, 'tiled_request_duration_seconds_count', METADATA_OK)).toBe(count + 2);
    expect(valueOf(second, 'tiled_response_content_length_bytes_count', METADATA_OK)).toBe(count + 2);
    // The first scrape was recorded once it had been answered.
    expect(valueOf(second, 'tiled_request_duration_seconds_count', { method: 'GET', code: '200', endpoint: '/api/v1/metrics' })).toBeGreaterThanOrEqual(1);
  });

  it('should never show a key from ?api_key=, a node path or an unknown URL, only route patterns', async () => {
    const key = demo.server.printedKey!;
    expect((await fetch(`${demo.server.api}/metadata/small?api_key=${key}`)).status).toBe(200);
    expect((await fetch(`${demo.server.api}/metadata/small?api_key=notthekey0123456789`)).status).toBe(401);
    expect((await demo.get('/metadata/no-such-node-qzx')).status).toBe(404);
    expect((await fetch(`${demo.server.url}/no/such/url-qzx?api_key=${key}`)).status).toBe(404);
    const text = await scrape();
    expect(text).not.toContain(key);
    expect(text).not.toContain('notthekey0123456789');
    expect(text).not.toContain('qzx');
    expect(valueOf(text, 'tiled_request_duration_seconds_count', { method: 'GET', code: '404', endpoint: 'unmatched' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(text, 'tiled_request_duration_seconds_count', { method: 'GET', code: '404', endpoint: '/api/v1/metadata/*' })).toBeGreaterThanOrEqual(1);
    const endpoints = new Set(samples(text).filter((sample) => sample.name.startsWith('tiled_')).map((sample) => sample.labels.endpoint).filter(Boolean));
    for (const endpoint of endpoints) expect(endpoint).toMatch(/^(unmatched|\/[a-z0-9/_:*]*)$/);
  });

  it('should count accepted and rejected single-user keys and refused anonymous callers', async () => {
    const before = await scrape();
    expect((await demo.get('/metadata/small')).status).toBe(200);
    expect((await fetch(`${demo.server.api}/metadata/small`, { headers: { authorization: 'Apikey wrongkey0123' } })).status).toBe(401);
    expect((await fetch(`${demo.server.api}/metadata/small`)).status).toBe(401);
    // Public routes check no credentials: not an authentication.
    expect((await fetch(`${demo.server.url}/healthz`)).status).toBe(200);
    const after = await scrape();
    const delta = (method: string, outcome: string): number =>
      valueOf(after, 'tiled_authentications_total', { method, outcome }) - valueOf(before, 'tiled_authentications_total', { method, outcome });
    // +1 accepted: the scrape `before` itself, recorded after it was answered.
    expect(delta('single-user', 'accepted')).toBe(2);
    expect(delta('single-user', 'rejected')).toBe(1);
    expect(delta('anonymous', 'rejected')).toBe(1);
    expect(delta('anonymous', 'accepted')).toBe(0);
  });
});

describe('GET /api/v1/metrics in multi-user mode (the toy_authentication example)', () => {
  let dir: string;
  let server: RunningServer;
  const env = { ALICE_PASSWORD: 'secret1', ADMIN_PASSWORD: 'admin-pw', BOB_PASSWORD: undefined, CARA_PASSWORD: undefined };
  const tokens: Record<'alice' | 'admin', string> = { alice: '', admin: '' };

  const metrics = (headers: Record<string, string> = {}): Promise<Response> => fetch(`${server.api}/metrics`, { headers });
  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const apikey = (secret: string): Record<string, string> => ({ authorization: `Apikey ${secret}` });

  async function login(username: string, password: string): Promise<string> {
    const response = await fetch(`${server.api}/auth/provider/toy/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username, password }).toString(),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { access_token: string }).access_token;
  }

  async function newKey(token: string, scopes: string[] | null): Promise<string> {
    const response = await fetch(`${server.api}/auth/apikey`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json' },
      body: JSON.stringify({ expires_in: null, scopes }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { secret: string }).secret;
  }

  async function expectScopeRefusal(response: Response): Promise<void> {
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer scope="metrics"');
    expect(((await response.json()) as { detail: string }).detail).toMatch(/^Not enough permissions\. Requires scopes \['metrics'\]\. Request had scopes \[/);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-metrics-'));
    server = await startTiled(['serve', 'config', TOY], { cwd: dir, env });
    tokens.alice = await login('alice', 'secret1');
    tokens.admin = await login('admin', 'admin-pw');
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('should refuse an anonymous caller with 401 Not authenticated', async () => {
    const response = await metrics();
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Bearer scope="metrics"');
    expect(await response.json()).toEqual({ detail: 'Not authenticated' });
  });

  it("should refuse a user's access token and her inherit key with 401 and the metrics scope challenge", async () => {
    await expectScopeRefusal(await metrics(bearer(tokens.alice)));
    await expectScopeRefusal(await metrics(apikey(await newKey(tokens.alice, null))));
  });

  it("should serve an admin's token, inherit key and metrics-only key; the metrics-only key reads no data", async () => {
    expect((await metrics(bearer(tokens.admin))).status).toBe(200);
    const inherit = await metrics(apikey(await newKey(tokens.admin, null)));
    expect(inherit.status).toBe(200);
    expect(inherit.headers.get('content-type')).toBe(PROMETHEUS_TEXT);
    const scraper = await newKey(tokens.admin, ['metrics']);
    expect((await metrics(apikey(scraper))).status).toBe(200);
    expect((await fetch(`${server.api}/metadata/`, { headers: apikey(scraper) })).status).toBe(401);
  });

  it('should count accepted and rejected API keys and tokens', async () => {
    const scraper = apikey(await newKey(tokens.admin, ['metrics']));
    const before = await (await metrics(scraper)).text();
    expect((await fetch(`${server.api}/metadata/`, { headers: bearer(tokens.alice) })).status).toBe(200);
    expect((await fetch(`${server.api}/metadata/`, { headers: apikey('0'.repeat(72)) })).status).toBe(401);
    expect((await fetch(`${server.api}/metadata/`, { headers: bearer('not.a.token') })).status).toBe(401);
    const after = await (await metrics(scraper)).text();
    const delta = (method: string, outcome: string): number =>
      valueOf(after, 'tiled_authentications_total', { method, outcome }) - valueOf(before, 'tiled_authentications_total', { method, outcome });
    // The scrape `before` is an accepted API key too.
    expect(delta('apikey', 'accepted')).toBe(1);
    expect(delta('apikey', 'rejected')).toBe(1);
    expect(delta('token', 'accepted')).toBe(1);
    expect(delta('token', 'rejected')).toBe(1);
    expect(after).not.toContain('0'.repeat(72));
    expect(after).not.toContain('single-user');
  });
});

describe('GET /api/v1/metrics in public mode', () => {
  it('should still refuse anonymous callers: public mode grants reading data, not metrics', async () => {
    const server = await startTiled(['serve', 'demo', '--public'], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
    try {
      expect((await fetch(`${server.api}/metadata/small`)).status).toBe(200);
      const response = await fetch(`${server.api}/metrics`);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe('Bearer scope="metrics"');
      expect(((await response.json()) as { detail: string }).detail).toMatch(/^Not enough permissions\. Requires scopes \['metrics'\]/);
      expect((await fetch(`${server.api}/metrics`, { headers: { authorization: `Apikey ${server.printedKey}` } })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });
});

describe('metrics in the configuration', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tiled-metrics-config-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('should have no metrics route with metrics: {prometheus: false}, and serve data as before', async () => {
    const file = join(dir, 'off.yml');
    writeFileSync(file, 'trees: [{path: /, tree: demo}]\nmetrics:\n  prometheus: false\n');
    const server = await startTiled(['serve', 'config', file], { env: { TILED_SINGLE_USER_API_KEY: undefined } });
    try {
      const headers = { authorization: `Apikey ${server.printedKey}` };
      const response = await fetch(`${server.api}/metrics`, { headers });
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ detail: 'Not Found' });
      expect((await fetch(`${server.api}/metadata/small`, { headers })).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('should refuse an invalid metrics value before listening, exit 2, naming the key path', async () => {
    const file = join(dir, 'bad.yml');
    writeFileSync(file, 'trees: [{path: /, tree: demo}]\nmetrics:\n  prometheus: sometimes\n  pushgateway: true\n');
    const result = await runTiled(['serve', 'config', file, '--port', '0']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('bad.yml: metrics.prometheus: expected true or false, got the string "sometimes"');
    expect(result.stderr).toContain('bad.yml: metrics.pushgateway: unknown key; expected one of: prometheus');
    expect(result.stdout).not.toContain('running on');
  });
});

describe('docs/metrics.md examples', () => {
  const DOC = readFileSync(join(ROOT, 'docs', 'metrics.md'), 'utf8');
  const consoleBlock = /^```console\n([\s\S]*?)^```$/m.exec(DOC)![1];
  const scrapeConfig = [...DOC.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]).find((body) => body.includes('scrape_configs'))!;
  let server: RunningServer;

  /** `$ command` lines, each followed by the output the doc shows for it. */
  const steps = (): { command: string; expected: string[] }[] => {
    const found: { command: string; expected: string[] }[] = [];
    for (const line of consoleBlock.replace(/\n$/, '').split('\n')) {
      if (line.startsWith('$ ')) found.push({ command: line.slice(2), expected: [] });
      else found[found.length - 1].expected.push(line);
    }
    return found;
  };

  beforeAll(async () => {
    const serve = /^TILED_SINGLE_USER_API_KEY=(\S+) tiled (.*)$/.exec(steps()[0].command);
    expect(serve).not.toBeNull();
    server = await startTiled(serve![2].split(' '), { env: { TILED_SINGLE_USER_API_KEY: serve![1] } });
  });
  afterAll(async () => server?.stop());

  it('shows exactly what the curl commands print against a fresh server', async () => {
    for (const step of steps().slice(1)) {
      const { stdout } = await run('bash', ['-c', `set -o pipefail; ${step.command.replace(/http:\/\/127\.0\.0\.1:8000/g, server.url)}`]);
      expect({ command: step.command, output: stdout.replace(/\n$/, '') }).toEqual({ command: step.command, output: step.expected.join('\n') });
    }
  });

  it('has a Prometheus scrape config that reads the metrics, sending the key as Prometheus does', async () => {
    const job = (yaml.load(scrapeConfig) as {
      scrape_configs: { metrics_path: string; authorization: { type: string; credentials: string }; static_configs: { targets: string[] }[] }[];
    }).scrape_configs[0];
    expect(job.static_configs[0].targets).toEqual(['127.0.0.1:8000']);
    // Prometheus: `Authorization: <type> <credentials>`, scheme http, this host and path.
    const response = await fetch(`${server.url}${job.metrics_path}`, {
      headers: { authorization: `${job.authorization.type} ${job.authorization.credentials}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe(PROMETHEUS_TEXT);
  });
});
