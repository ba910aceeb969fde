/*
 * The indexing half of the file cases (bench/files-bench.ts): a folder of small CSV files, a bare recursive
 * walk of it (readdir + stat), the server's walker in this process, and the time a real
 * `tiled serve directory` takes from "Server is up" to "Indexing complete.".
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { walkDirectory } from '../src/adapters/directory';

const TILED_BIN = join(__dirname, '..', '..', 'bin', 'tiled.js');

/** `files` CSV files, 100 per sub-folder, as a folder of runs usually looks. */
export function makeIndexingFolder(files: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'tiled-bench-index-'));
  for (let i = 0; i < files; i++) {
    const sub = join(dir, `run${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(sub);
    writeFileSync(join(sub, `scan_${i}.csv`), 'a,b\n1,2\n');
  }
  return dir;
}

export async function bareWalk(dir: string): Promise<number> {
  let count = 0;
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if ((await stat(path)).isDirectory()) count += await bareWalk(path);
    else count++;
  }
  return count;
}

/** The server's walker (naming rules, links checked), in this process: files it would serve. */
export async function serverWalk(dir: string): Promise<number> {
  let count = 0;
  for await (const entry of walkDirectory(dir, { logger: { log: () => undefined, warn: () => undefined } })) if (entry.mimetype) count++;
  return count;
}

export async function timedCount(what: () => Promise<number>): Promise<{ seconds: number; count: number }> {
  const start = performance.now();
  const count = await what();
  return { seconds: (performance.now() - start) / 1000, count };
}

/** Seconds from "Server is up" to "Indexing complete." of a real `tiled serve directory`, which is then stopped. */
export function serveDirectoryIndexing(dir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TILED_BIN, 'serve', 'directory', dir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let up = 0;
    let seconds: number | undefined;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!up && output.includes('Server is up.')) up = performance.now();
      if (up && seconds === undefined && output.includes('Indexing complete.')) {
        seconds = (performance.now() - up) / 1000;
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => (seconds === undefined ? reject(new Error(`tiled serve directory exited with ${code}:\n${output}`)) : resolve(seconds)));
  });
}
