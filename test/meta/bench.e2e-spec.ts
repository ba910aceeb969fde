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

  it('names its HTTP client and times the write ceiling: a bare node:http server storing the same 8 MB', async () => {
    const { code, stdout } = await runBench(['--quick', '--only', 'catalog: 8 MB write over bare HTTP']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/each beside its baseline in this run, with the node:http client:/);
    expect(stdout).toMatch(/^\| catalog: 8 MB write over bare HTTP \(ceiling\) \| node:http \| median ms \| +\d+\.\d \| +\d+\.\d \| +\d+ % \| report: — +\|$/m);
  });

  it('reads HDF5 and Zarr blocks through a served folder and times its indexing, each beside a bare read or walk', async () => {
    const { code, stdout, stderr } = await runBench(['--quick', '--only', 'files:']);
    expect([code, stderr.match(/^bench: .*/m)?.[0]]).toEqual([0, undefined]);
    const rows = stdout.split('\n').filter((line) => line.startsWith('| files:'));
    const cells = (name: string): string[] | undefined => rows.find((line) => line.startsWith(`| ${name} `))?.split('|').map((c) => c.trim());
    for (const [name, engine] of [['files: HDF5 block 8 MB, HTTP', 'hdf5'], ['files: HDF5 block 8 MB, adapter', 'hdf5'], ['files: Zarr block 8 MB, HTTP', 'zarr']]) {
      expect(cells(name)?.slice(2, 4)).toEqual([engine, 'median ms']);
      expect(cells(name)?.[4]).toMatch(/^\d+\.\d$/);
      expect(stdout).toMatch(new RegExp(`^  (MET |MISSED) ${name} \\[${engine}\\]: ≥ 50 % \\(median ms [\\d.]+ against [\\d.]+, \\d+ %\\)$`, 'm'));
    }
    for (const name of ['files: indexing', 'files: indexing, walker']) {
      expect(cells(name)?.slice(3, 6)).toEqual(['files/s (100)', expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
    }
  });

  it('lists a tag-filtered container beside the same listing with no policy, and counts the reads a cached read costs', async () => {
    const { code, stdout, stderr } = await runBench(['--quick', '--only', 'access:']);
    expect([code, stderr.match(/^bench: .*/m)?.[0]]).toEqual([0, undefined]);
    for (const name of ['access: search page of 100', 'access: count']) {
      expect(stdout).toMatch(new RegExp(`^\\| ${name} +\\| sqlite +\\| median ms +\\| +[\\d.]+ \\| +[\\d.]+ \\| +\\d+ % \\| ≤ 2× none: (met|MISSED) +\\|$`, 'm'));
      expect(stdout).toMatch(new RegExp(`^  (MET |MISSED) ${name} \\[sqlite\\]: ≤ 2× none`, 'm'));
    }
    // The policy's tags are held in memory: its database is closed, and a read costs no more read syscalls than with no policy.
    expect(stdout).toMatch(/^\| access: read, extra DB reads +\| sqlite +\| read syscalls\/req +\| +[\d.]+, tags DB closed \| +[\d.]+ \| .* \| no extra reads: met +\|$/m);
  });

  it('refuses a malformed option with one line and exit code 2', async () => {
    const { code, stdout, stderr } = await runBench(['--duration', 'soon']);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('bench: --duration must be a positive number, not "soon"\n');
  });
});
