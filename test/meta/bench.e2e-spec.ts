import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BENCH = join(__dirname, '..', '..', 'dist', 'bench', 'bench.js');

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

/** The commands docs/benchmarks.md shows, run for real (shortened). */
describe('npm run bench', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-spec-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('measures a case against the bare server, prints the aligned table and targets, and stops its servers', async () => {
    const json = join(dir, 'result.json');
    const { code, stdout } = await runBench(['--quick', '--only', 'metadata', '--json', json]);
    expect(code).toBe(0);
    // The report says which Node it measured, in its header and in the JSON.
    const header = stdout.split('\n').find((line) => /^\d{4}-\d\d-\d\dT/.test(line));
    expect(header).toContain(` — Node.js ${process.version} — `);
    const lines = stdout.split('\n').filter((line) => line.startsWith('|'));
    expect(lines[0]).toMatch(/^\| Case +\| +Body \| tiled-ts req\/s \| bare req\/s \| ratio \|/);
    expect(new Set(lines.map((line) => line.length)).size).toBe(1);
    expect(lines[2]).toMatch(/^\| metadata \(Apikey header\) \| +\d+ B \| +\d+ \| +\d+ \| +\d+ % \|/);
    expect(stdout).toMatch(/First 200 after process start: tiled-ts median \d+ ms/);
    expect(stdout).toMatch(/Targets:\n {2}(MET |MISSED) metadata ≥ 50 % of bare req\/s/);

    const result = JSON.parse(readFileSync(json, 'utf8')) as { node: string; servers: { tiled: string; bare: string } };
    expect(result.node).toBe(process.version);
    for (const base of [result.servers.tiled, result.servers.bare]) {
      await expect(fetch(`${base}/healthz`)).rejects.toThrow();
    }
  });

  it('times a catalog case through HTTP beside its baseline, without the demo servers', async () => {
    const { code, stdout } = await runBench(['--quick', '--only', 'catalog: node creations']);
    expect(code).toBe(0);
    const lines = stdout.split('\n').filter((line) => line.startsWith('|'));
    expect(lines[0]).toMatch(/^\| Case +\| Engine +\| Unit +\| +tiled-ts \| +baseline \| ratio \| target +\|$/);
    expect(lines[2]).toMatch(/^\| catalog: node creations\/s \| sqlite +\| nodes\/s +\| +\d+ \| +\d+ \| +\d+ % \| ≥ 1,000\/s: (met|MISSED) +\|$/);
    expect(stdout).not.toMatch(/req\/s/);
  });

  it('refuses a malformed option with one line and exit code 2', async () => {
    const { code, stdout, stderr } = await runBench(['--duration', 'soon']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('bench: --duration must be a positive number, not "soon"\n');
  });
});
