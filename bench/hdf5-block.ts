/**
 * `npm run bench:hdf5`: one 8 MiB block of an HDF5 dataset read through the HDF5 adapter (h5wasm in its
 * worker thread, the block copied back to the caller) against a bare positioned read of the same number
 * of bytes from the same file, in the same process and run. Reads alternate between the two so a busy
 * neighbour on a shared machine slows both alike; the medians and their ratio are reported, with the
 * reading process's peak resident memory (the dataset is eight times the block and several times
 * h5wasm's initial WASM heap; the sample file is written by a child process so its writer does not count).
 */
import { execFileSync } from 'node:child_process';
import { open } from 'node:fs/promises';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hdf5Adapter } from '../src/adapters/hdf5';
import type { ArrayNode, ContainerNode } from '../src/catalog/tree/tree.types';

const FRAMES = 8;
const SIDE = 1024;
const BLOCK_BYTES = SIDE * SIDE * 8;
const dynamicImport = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function writeSample(path: string): Promise<void> {
  const h5 = await dynamicImport<typeof import('h5wasm')>('h5wasm/node');
  await h5.ready;
  const file = new h5.File(path, 'w');
  const data = Float64Array.from({ length: FRAMES * SIDE * SIDE }, (_, i) => i);
  file.create_dataset({ name: 'frames', shape: [FRAMES, SIDE, SIDE], dtype: '<d', chunks: [1, SIDE, SIDE], data });
  file.close();
}

async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_HDF5_ROUNDS ?? 24);
  const dir = mkdtempSync(join(tmpdir(), 'bench-hdf5-'));
  try {
    const path = join(dir, 'frames.h5');
    // Written by a child process, so the writer's memory does not count in this process's peak.
    execFileSync(process.execPath, [__filename, '--write', path], { stdio: 'inherit' });
    const root = (await hdf5Adapter.open({ mimetype: hdf5Adapter.mimetype, paths: [path] })) as ContainerNode;
    const frames = (await root.get('frames')) as ArrayNode;
    const handle = await open(path, 'r');
    const size = (await handle.stat()).size;
    const adapterMs: number[] = [];
    const bareMs: number[] = [];
    try {
      for (let r = 0; r < rounds + 2; r++) {
        const f = r % FRAMES;
        let t = performance.now();
        const block = (await frames.readBlock([f, 0, 0])) as Float64Array;
        const adapter = performance.now() - t;
        if (block.byteLength !== BLOCK_BYTES || block[7] !== f * SIDE * SIDE + 7) throw new Error(`block ${f} read wrong values`);
        t = performance.now();
        const buffer = Buffer.allocUnsafe(BLOCK_BYTES);
        await handle.read(buffer, 0, BLOCK_BYTES, Math.min(f * BLOCK_BYTES, size - BLOCK_BYTES));
        const bare = performance.now() - t;
        // The first two rounds warm the page cache, the JIT and the reader thread.
        if (r >= 2) {
          adapterMs.push(adapter);
          bareMs.push(bare);
        }
      }
    } finally {
      await handle.close();
    }
    const a = median(adapterMs);
    const b = median(bareMs);
    const mbps = (ms: number): string => `${((BLOCK_BYTES / 1e6) / (ms / 1000)).toFixed(0)} MB/s`;
    process.stdout.write(
      [
        `HDF5 block read, ${BLOCK_BYTES / 1048576} MiB float64 block of a ${(FRAMES * BLOCK_BYTES) / 1048576} MiB chunked dataset, ${rounds} rounds — Node.js ${process.version}`,
        `| Reader | median ms | throughput |`,
        `|---|---:|---:|`,
        `| hdf5 adapter (h5wasm worker) | ${a.toFixed(1)} | ${mbps(a)} |`,
        `| bare fs read of the same bytes | ${b.toFixed(1)} | ${mbps(b)} |`,
        `ratio (bare time / adapter time): ${((100 * b) / a).toFixed(0)} %`,
        `peak resident memory of the reading process (server-side code, reader thread and WASM heap included): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`,
        '',
      ].join('\n'),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

(process.argv[2] === '--write' ? writeSample(process.argv[3]) : main()).then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:hdf5: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
