/**
 * The HDF5 sample the file cases read (bench/files-bench.ts), and the adapter-level half of the HDF5 case:
 * one 8 MiB block of a chunked HDF5 dataset read through the HDF5 adapter (h5wasm in its worker thread,
 * the block copied back to the caller) against a bare positioned read of the same number of bytes from
 * the same file, alternating so a busy neighbour on a shared machine slows both alike.
 * `npm run bench:hdf5` is `npm run bench -- --only "files: HDF5"` (this adapter-level row and the same
 * block through HTTP).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hdf5Adapter } from '../src/adapters/hdf5';
import type { ArrayNode, ContainerNode } from '../src/catalog/tree/tree.types';
import { dynamicImport } from '../src/common/esm';

export const HDF5_SIDE = 1024;
export const HDF5_BLOCK_BYTES = HDF5_SIDE * HDF5_SIDE * 8;
/** The dataset's name in the sample file, a [frames, 1024, 1024] float64 array chunked one frame per chunk. */
export const HDF5_DATASET = 'frames';

async function writeSample(path: string, frames: number): Promise<void> {
  const h5 = await dynamicImport<typeof import('h5wasm')>('h5wasm/node');
  await h5.ready;
  const file = new h5.File(path, 'w');
  const data = Float64Array.from({ length: frames * HDF5_SIDE * HDF5_SIDE }, (_, i) => i);
  file.create_dataset({ name: HDF5_DATASET, shape: [frames, HDF5_SIDE, HDF5_SIDE], dtype: '<d', chunks: [1, HDF5_SIDE, HDF5_SIDE], data });
  file.close();
}

/**
 * Writes the sample in a child process, so the writer's memory (the whole dataset) does not count in the
 * reading process's peak resident memory.
 */
export function writeHdf5Sample(path: string, frames: number): void {
  execFileSync(process.execPath, [__filename, '--write', path, String(frames)], { stdio: 'inherit' });
}

/** Value 7 of frame f, as the sample writes it: a check that a read returned the right block. */
export function hdf5SampleValue7(frame: number): number {
  return frame * HDF5_SIDE * HDF5_SIDE + 7;
}

/** Median ms per block: the adapter in this process against a bare positioned read of the same bytes. */
export async function hdf5AdapterVsBare(path: string, frames: number, rounds: number): Promise<{ adapterMs: number[]; bareMs: number[] }> {
  const root = (await hdf5Adapter.open({ mimetype: hdf5Adapter.mimetype, paths: [path] })) as ContainerNode;
  const dataset = (await root.get(HDF5_DATASET)) as ArrayNode;
  const handle = await open(path, 'r');
  const size = (await handle.stat()).size;
  const adapterMs: number[] = [];
  const bareMs: number[] = [];
  try {
    for (let r = 0; r < rounds + 2; r++) {
      const f = r % frames;
      let t = performance.now();
      const block = (await dataset.readBlock([f, 0, 0])) as Float64Array;
      const adapter = performance.now() - t;
      if (block.byteLength !== HDF5_BLOCK_BYTES || block[7] !== hdf5SampleValue7(f)) throw new Error(`HDF5 block ${f} read wrong values`);
      t = performance.now();
      const buffer = Buffer.allocUnsafe(HDF5_BLOCK_BYTES);
      await handle.read(buffer, 0, HDF5_BLOCK_BYTES, Math.min(f * HDF5_BLOCK_BYTES, size - HDF5_BLOCK_BYTES));
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
  return { adapterMs, bareMs };
}

/**
 * Run directly (`node dist/bench/hdf5-block.js`): the adapter-level comparison alone, with the reading
 * process's peak resident memory — the form test/e2e/files-arrays.e2e-spec.ts checks. The same numbers are
 * the "files: HDF5 block 8 MB, adapter" row of `npm run bench`.
 */
async function main(): Promise<void> {
  const frames = 8;
  const rounds = Number(process.env.BENCH_HDF5_ROUNDS ?? 24);
  const dir = mkdtempSync(join(tmpdir(), 'bench-hdf5-'));
  try {
    const path = join(dir, 'frames.h5');
    writeHdf5Sample(path, frames);
    const t = await hdf5AdapterVsBare(path, frames, rounds);
    const median = (values: number[]): number => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)];
    const a = median(t.adapterMs);
    const b = median(t.bareMs);
    const mbps = (ms: number): string => `${(HDF5_BLOCK_BYTES / 1e6 / (ms / 1000)).toFixed(0)} MB/s`;
    process.stdout.write(
      [
        `HDF5 block read, ${HDF5_BLOCK_BYTES / 1048576} MiB float64 block of a ${(frames * HDF5_BLOCK_BYTES) / 1048576} MiB chunked dataset, ${rounds} rounds — Node.js ${process.version}`,
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

if (require.main === module) {
  (process.argv[2] === '--write' ? writeSample(process.argv[3], Number(process.argv[4])) : main()).then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench:hdf5: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
