/*
 * `npm run bench:indexing`: how fast `tiled serve directory` indexes 10,000 small files, against a bare
 * recursive walk (readdir + stat) of the same folder in this process, and how long the real server takes
 * from "Server is up" to "Indexing complete.". Prints a table (docs/benchmarks.md, "Indexing a folder").
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { walkDirectory } from '../src/adapters/directory';

const FILES = Number(process.env.BENCH_FILES ?? 10_000);
const TILED_BIN = join(__dirname, '..', '..', 'bin', 'tiled.js');

function makeFolder(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiled-bench-index-'));
  // 100 files per sub-folder, as a folder of runs usually looks.
  for (let i = 0; i < FILES; i++) {
    const sub = join(dir, `run${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub);
    writeFileSync(join(sub, `scan_${i}.csv`), 'a,b\n1,2\n');
  }
  return dir;
}

async function bareWalk(dir: string): Promise<number> {
  let count = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) count += await bareWalk(path);
    else count++;
  }
  return count;
}

async function timed(what: () => Promise<number>): Promise<{ seconds: number; count: number }> {
  const start = performance.now();
  const count = await what();
  return { seconds: (performance.now() - start) / 1000, count };
}

/** Seconds from "Server is up" to "Indexing complete." of a real `tiled serve directory`. */
function serverIndexing(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TILED_BIN, 'serve', 'directory', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let up = 0;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!up && output.includes('Server is up.')) up = performance.now();
      if (up && output.includes('Indexing complete.')) {
        const seconds = (performance.now() - up) / 1000;
        child.kill('SIGTERM');
        resolve(seconds);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`tiled serve directory exited with ${code}:\n${output}`)));
  });
}

async function main(): Promise<void> {
  const dir = makeFolder();
  try {
    const bare = await timed(() => bareWalk(dir));
    const walker = await timed(async () => {
      let count = 0;
      for await (const entry of walkDirectory(dir, { logger: { log: () => undefined, warn: () => undefined } })) if (entry.mimetype) count++;
      return count;
    });
    const server = await serverIndexing(dir);
    const rate = (n: number, s: number): string => `${Math.round(n / s).toLocaleString('en-US')} files/s`;
    process.stdout.write(
      [
        `| Walk of ${FILES.toLocaleString('en-US')} CSV files in ${FILES / 100} folders | Time | Rate |`,
        '|---|---|---|',
        `| bare readdir + stat | ${bare.seconds.toFixed(2)} s | ${rate(bare.count, bare.seconds)} |`,
        `| walkDirectory (naming rules, links checked) | ${walker.seconds.toFixed(2)} s | ${rate(walker.count, walker.seconds)} (${Math.round((100 * bare.seconds) / walker.seconds)} % of bare) |`,
        `| \`tiled serve directory\`, "Server is up" → "Indexing complete." | ${server.toFixed(2)} s | ${rate(FILES, server)} |`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
