import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createZarrArray, writeZarrBlock, zarrArrayNode } from '../src/catalog/storage';
import type { ArrayStructure, ZarrCompression } from '../src/catalog/storage';

/*
 * Storage-level cases: the catalog's data files written and read in this process, each side by side with the
 * same bytes written or read by a bare fs.writeFile / fs.readFile on the same disk. No HTTP.
 */

export interface StorageCase {
  name: string;
  /** What tiled-ts does once; `bare` does the same I/O with nothing else. */
  tiled: () => Promise<unknown>;
  bare: () => Promise<unknown>;
}

export interface StorageResult {
  name: string;
  bytes: number;
  /** Median milliseconds per operation. */
  tiledMs: number;
  bareMs: number;
}

const SIDE = 1024;
const BLOCK_BYTES = SIDE * SIDE * 8;

/** A 1024 × 1024 float64 array in one chunk: one 8 MB block. */
export function structure(): ArrayStructure {
  return { data_type: { endianness: 'little', kind: 'f', itemsize: 8, dt_units: null }, shape: [SIDE, SIDE], chunks: [[SIDE], [SIDE]], dims: null, resizable: false };
}

/** One 8 MB float64 block (random, so compression gains nothing and costs its full price). */
export function block(): Uint8Array {
  const values = new Float64Array(SIDE * SIDE);
  for (let i = 0; i < values.length; i++) values[i] = Math.random();
  return new Uint8Array(values.buffer);
}

const COMPRESSIONS: ZarrCompression[] = ['none', 'zstd'];

function caseName(operation: 'write' | 'read', compression: ZarrCompression): string {
  return `Zarr block ${operation} 8 MB${compression === 'none' ? '' : `, ${compression}`}`;
}

/** Every case name, known before any setup, so a run filtered to other cases costs nothing here. */
export function storageCaseNames(): string[] {
  return COMPRESSIONS.flatMap((c) => [caseName('write', c), caseName('read', c)]);
}

async function storageCases(dir: string): Promise<StorageCase[]> {
  const bytes = block();
  const bareFile = join(dir, 'bare.bin');
  await writeFile(bareFile, bytes);
  const cases: StorageCase[] = [];
  for (const compression of COMPRESSIONS) {
    const array = join(dir, `zarr-${compression}`);
    await createZarrArray(array, structure(), { compression });
    await writeZarrBlock(array, structure(), [0, 0], bytes);
    const node = zarrArrayNode(array, structure(), {});
    cases.push(
      { name: caseName('write', compression), tiled: () => writeZarrBlock(array, structure(), [0, 0], bytes), bare: () => writeFile(bareFile, bytes) },
      { name: caseName('read', compression), tiled: async () => node.readBlock([0, 0]), bare: () => readFile(bareFile) },
    );
  }
  return cases;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

async function time(operation: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await operation();
  return performance.now() - started;
}

/**
 * Runs every storage case whose name contains `only`: `iterations` operations per side, alternating
 * tiled-ts and bare one operation at a time so a neighbour's burst lands on both, after one unmeasured
 * operation each.
 */
export async function runStorageBench(iterations: number, only?: string): Promise<StorageResult[]> {
  if (!storageCaseNames().some((name) => !only || name.includes(only))) return [];
  const dir = await mkdtemp(join(tmpdir(), 'tiled-bench-storage-'));
  try {
    const results: StorageResult[] = [];
    for (const c of (await storageCases(dir)).filter((c) => !only || c.name.includes(only))) {
      await c.tiled();
      await c.bare();
      const tiled: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < iterations; i++) {
        tiled.push(await time(c.tiled));
        bare.push(await time(c.bare));
      }
      results.push({ name: c.name, bytes: BLOCK_BYTES, tiledMs: median(tiled), bareMs: median(bare) });
    }
    return results;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
