/**
 * Peak memory of `tiled serve directory` while every block of a large HDF5 dataset is read through HTTP
 * (issue 11: a multi-GB dataset served with the server's memory under 300 MiB). The sample is a
 * [frames, 1024, 1024] float64 dataset chunked one 8 MiB frame per chunk, written frame by frame in a child
 * process so that the writer never holds it whole. The figure is the server process's VmHWM (peak resident
 * set, its HDF5 reader thread included), read from /proc, so Linux only.
 *
 *   npm run bench:hdf5-memory [-- frames]   (default 160 frames: 1.3 GB)
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTiledServer } from './catalog-bench';
import { HDF5_BLOCK_BYTES, HDF5_DATASET, HDF5_SIDE, hdf5SampleValue7 } from './hdf5-block';
import { benchRequest, closeBenchClient } from './http-client';
import { dynamicImport } from '../src/common/esm';

const FRAME = HDF5_SIDE * HDF5_SIDE;

async function writeFrames(path: string, frames: number): Promise<void> {
  const h5 = await dynamicImport<typeof import('h5wasm')>('h5wasm/node');
  await h5.ready;
  const file = new h5.File(path, 'w');
  const frame = (f: number): Float64Array => Float64Array.from({ length: FRAME }, (_, i) => f * FRAME + i);
  const dataset = file.create_dataset({ name: HDF5_DATASET, data: frame(0), shape: [1, HDF5_SIDE, HDF5_SIDE], maxshape: [null, HDF5_SIDE, HDF5_SIDE], dtype: '<d', chunks: [1, HDF5_SIDE, HDF5_SIDE] });
  for (let f = 1; f < frames; f++) {
    dataset.resize([f + 1, HDF5_SIDE, HDF5_SIDE]);
    dataset.write_slice([[f, f + 1], [0, HDF5_SIDE], [0, HDF5_SIDE]], frame(f));
  }
  file.close();
}

function statusMiB(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : NaN;
}

async function main(): Promise<void> {
  const frames = Number(process.argv[2] ?? 160);
  const dir = mkdtempSync(join(tmpdir(), 'tiled-bench-h5mem-'));
  try {
    const path = join(dir, 'big.h5');
    execFileSync(process.execPath, [__filename, '--write', path, String(frames)], { stdio: 'inherit' });
    const key = `bench${randomBytes(16).toString('hex')}`;
    const { child, base } = await startTiledServer(['serve', 'directory', dir, '--api-key', key], dir, 'Indexing complete.');
    try {
      const idlePeak = statusMiB(child.pid!, 'VmHWM');
      const idle = statusMiB(child.pid!, 'VmRSS');
      const started = performance.now();
      for (let f = 0; f < frames; f++) {
        const url = `${base}/api/v1/array/block/big/${HDF5_DATASET}?block=${f},0,0`;
        const { status, body } = await benchRequest(url, { headers: { authorization: `Apikey ${key}`, accept: 'application/octet-stream', 'accept-encoding': 'identity' } });
        if (status !== 200) throw new Error(`${url}: ${status} ${body.toString().slice(0, 200)}`);
        if (body.length !== HDF5_BLOCK_BYTES || body.readDoubleLE(56) !== hdf5SampleValue7(f)) throw new Error(`block ${f} came back wrong`);
      }
      const seconds = (performance.now() - started) / 1000;
      const gb = statSync(path).size / 1e9;
      console.log(`HDF5 dataset of ${gb.toFixed(2)} GB (${frames} × 8 MiB chunks), every block read once through HTTP in ${seconds.toFixed(1)} s — Node.js ${process.version}`);
      console.log(`server peak resident memory: ${statusMiB(child.pid!, 'VmHWM').toFixed(0)} MiB (target < 300 MiB); before the reads: ${idle.toFixed(0)} MiB resident, ${idlePeak.toFixed(0)} MiB peak (start and indexing); after: ${statusMiB(child.pid!, 'VmRSS').toFixed(0)} MiB resident`);
    } finally {
      closeBenchClient();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === '--write') void writeFrames(process.argv[3], Number(process.argv[4]));
else void main();
