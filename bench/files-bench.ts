import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { alternate, median, startTiledServer, withBareServer } from './catalog-bench';
import { benchRequest } from './http-client';
import type { CatalogBenchRow } from './catalog-bench';
import { HDF5_BLOCK_BYTES, HDF5_DATASET, hdf5AdapterVsBare, hdf5SampleValue7, writeHdf5Sample } from './hdf5-block';
import { bareWalk, makeIndexingFolder, serveDirectoryIndexing, serverWalk, timedCount } from './indexing';
import { block, structure } from './storage-bench';
import { createZarrArray, writeZarrBlock } from '../src/catalog/storage';

/*
 * Files served by `tiled serve directory` (issue 11), each case beside a baseline measured in the same run:
 *
 * | Case | tiled-ts side | baseline |
 * |---|---|---|
 * | files: HDF5 block 8 MB, HTTP | GET /array/block of one chunk of an HDF5 dataset | a positioned fs read of the same number of bytes of the file |
 * | files: HDF5 block 8 MB, adapter | the HDF5 adapter's readBlock in this process, no HTTP | the same positioned read |
 * | files: Zarr block 8 MB, HTTP | GET /array/block of an uncompressed Zarr v3 array | fs.readFile of its chunk file |
 * | files: 8 MB over bare HTTP (ceiling) | GET of an 8 MB body a bare node:http process holds in memory, with the same client | the same positioned read as the HDF5 case: what no HTTP server can beat here |
 * | files: indexing | `tiled serve directory`, "Server is up" → "Indexing complete." | a bare readdir + stat walk of the folder |
 * | files: indexing, walker | the server's walker (naming rules, links checked) in this process | the same bare walk |
 */

export const FILES_CASES = [
  'files: HDF5 block 8 MB, HTTP',
  'files: HDF5 block 8 MB, adapter',
  'files: Zarr block 8 MB, HTTP',
  'files: indexing',
  'files: indexing, walker',
  'files: 8 MB over bare HTTP (ceiling)',
];

/** A node:http server in a process of its own, answering every GET with the same 8 MB of memory. */
const BARE_8MB_SERVER = `
  const body = Buffer.alloc(${8 * 1024 * 1024}, 7);
  const server = require('node:http').createServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
    response.end(body);
  });
  server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function bareHttpCeiling(h5: string, iterations: number): Promise<{ tiled: number[]; baseline: number[] }> {
  return withBareServer(BARE_8MB_SERVER, [], async (base) => {
    const handle = await open(h5, 'r');
    try {
      return await alternate(
        iterations,
        async () => {
          const response = await benchRequest(base, { headers: { 'accept-encoding': 'identity' } });
          if (response.body.byteLength !== 8 * 1024 * 1024) throw new Error('the bare server sent a short body');
        },
        () => handle.read(Buffer.allocUnsafe(HDF5_BLOCK_BYTES), 0, HDF5_BLOCK_BYTES, 0),
      );
    } finally {
      await handle.close();
    }
  });
}

export interface FilesBenchSizes {
  /** Frames (8 MB chunks) of the HDF5 dataset; blocks are read in turn so the page cache is not one chunk. */
  hdf5Frames: number;
  /** Small CSV files in the indexed folder. */
  indexedFiles: number;
}

const ratioRow = (name: string, engine: string, t: { tiled: number[]; baseline: number[] }): CatalogBenchRow => {
  const ratio = median(t.baseline) / median(t.tiled);
  return { name, engine, unit: 'median ms', tiled: median(t.tiled).toFixed(1), baseline: median(t.baseline).toFixed(1), ratio, target: '≥ 50 %', met: ratio >= 0.5 };
};

/** Runs the file cases whose name contains `only` (all without it); `seconds` sets the number of alternating reads. */
export async function runFilesBench(seconds: number, sizes: FilesBenchSizes, only: string | undefined, log: (message: string) => void): Promise<CatalogBenchRow[]> {
  const wanted = FILES_CASES.filter((name) => !only || name.includes(only));
  if (wanted.length === 0) return [];
  const rows: CatalogBenchRow[] = [];
  const iterations = Math.max(6, Math.round(seconds * 3));
  const wantBlocks = wanted.some((name) => name.includes('block'));
  if (wantBlocks) {
    const dir = mkdtempSync(join(tmpdir(), 'tiled-bench-files-'));
    let server: ChildProcess | undefined;
    try {
      log(`Writing an HDF5 file of ${sizes.hdf5Frames} × 8 MB chunks and an 8 MB Zarr array for the file cases…`);
      const h5 = join(dir, 'h5frames.h5');
      writeHdf5Sample(h5, sizes.hdf5Frames);
      const zarrStore = join(dir, 'zframes.zarr');
      const bytes = block();
      await createZarrArray(zarrStore, structure(), { compression: 'none' });
      await writeZarrBlock(zarrStore, structure(), [0, 0], bytes);

      if (wanted.includes(FILES_CASES[1])) {
        log(`Timing "${FILES_CASES[1]}"…`);
        const t = await hdf5AdapterVsBare(h5, sizes.hdf5Frames, iterations);
        rows.push(ratioRow(FILES_CASES[1], 'hdf5', { tiled: t.adapterMs, baseline: t.bareMs }));
      }

      if (wanted.includes(FILES_CASES[5])) {
        log(`Timing "${FILES_CASES[5]}"…`);
        const t = await bareHttpCeiling(h5, iterations);
        rows.push({ ...ratioRow(FILES_CASES[5], 'node:http', t), target: 'report', met: null });
      }

      if (wanted.includes(FILES_CASES[0]) || wanted.includes(FILES_CASES[2])) {
        const key = `bench${randomBytes(16).toString('hex')}`;
        const started = await startTiledServer(['serve', 'directory', dir, '--api-key', key], dir, 'Indexing complete.');
        server = started.child;
        // Uncompressed, as the bare read is: fetch would otherwise offer gzip, and the server would spend the
        // request compressing 8 MB (docs/benchmarks.md gives that figure too).
        const headers = { authorization: `Apikey ${key}`, accept: 'application/octet-stream', 'accept-encoding': process.env.BENCH_ACCEPT_ENCODING ?? 'identity' };
        const getBlock = async (path: string): Promise<Buffer> => {
          const response = await benchRequest(`${started.base}/api/v1/array/block/${path}`, { headers });
          if (!response.ok) throw new Error(`GET array/block/${path}: ${response.status} ${response.body.toString().slice(0, 300)}`);
          return response.body;
        };
        if (wanted.includes(FILES_CASES[0])) {
          log(`Timing "${FILES_CASES[0]}"…`);
          const handle = await open(h5, 'r');
          const size = (await handle.stat()).size;
          try {
            let i = 0;
            let j = 0;
            const t = await alternate(
              iterations,
              async () => {
                const f = i++ % sizes.hdf5Frames;
                const body = await getBlock(`h5frames/${HDF5_DATASET}?block=${f},0,0`);
                if (body.length !== HDF5_BLOCK_BYTES || body.readDoubleLE(56) !== hdf5SampleValue7(f)) throw new Error(`HDF5 block ${f} came back wrong through HTTP`);
              },
              () => handle.read(Buffer.allocUnsafe(HDF5_BLOCK_BYTES), 0, HDF5_BLOCK_BYTES, Math.min((j++ % sizes.hdf5Frames) * HDF5_BLOCK_BYTES, size - HDF5_BLOCK_BYTES)),
            );
            rows.push(ratioRow(FILES_CASES[0], 'hdf5', t));
          } finally {
            await handle.close();
          }
        }
        if (wanted.includes(FILES_CASES[2])) {
          log(`Timing "${FILES_CASES[2]}"…`);
          const chunk = join(zarrStore, 'c', '0', '0');
          const t = await alternate(
            iterations,
            async () => {
              const body = await getBlock('zframes?block=0,0');
              if (!body.equals(bytes)) throw new Error('the Zarr block came back wrong through HTTP');
            },
            () => readFile(chunk),
          );
          rows.push(ratioRow(FILES_CASES[2], 'zarr', t));
        }
      }
    } finally {
      if (server && server.exitCode === null) {
        const exited = new Promise((resolve) => server!.once('exit', resolve));
        server.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    }
  }

  if (wanted.includes(FILES_CASES[3]) || wanted.includes(FILES_CASES[4])) {
    log(`Indexing a folder of ${sizes.indexedFiles.toLocaleString('en')} small files…`);
    const dir = makeIndexingFolder(sizes.indexedFiles);
    try {
      const bare = await timedCount(() => bareWalk(dir));
      const rate = (n: number, s: number): number => n / s;
      const unit = `files/s (${sizes.indexedFiles.toLocaleString('en')})`;
      if (wanted.includes(FILES_CASES[4])) {
        const walker = await timedCount(() => serverWalk(dir));
        if (walker.count !== sizes.indexedFiles) throw new Error(`the walker found ${walker.count} of ${sizes.indexedFiles} files`);
        const ratio = rate(walker.count, walker.seconds) / rate(bare.count, bare.seconds);
        rows.push({ name: FILES_CASES[4], engine: 'walk', unit, tiled: rate(walker.count, walker.seconds).toFixed(0), baseline: rate(bare.count, bare.seconds).toFixed(0), ratio, target: 'report', met: null });
      }
      if (wanted.includes(FILES_CASES[3])) {
        const seconds = await serveDirectoryIndexing(dir);
        const ratio = rate(sizes.indexedFiles, seconds) / rate(bare.count, bare.seconds);
        rows.push({ name: FILES_CASES[3], engine: 'serve directory', unit, tiled: rate(sizes.indexedFiles, seconds).toFixed(0), baseline: rate(bare.count, bare.seconds).toFixed(0), ratio, target: 'report', met: null });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
