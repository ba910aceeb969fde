import { LRUCache } from 'lru-cache';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fileVersion } from '../../common/file-version';
import type { ArrayNode, Metadata, NumericArray, Spec } from '../tree/tree.types';
import { arrayLayout, ArrayLayout, ArrayStructure, checkGrid, regularChunks } from './array-structure';
import { writeFileAtomic } from './atomic-file';
import { bytesView, copyRegion, sizeOf, viewAs } from './ndregion';
import { StorageError, StorageErrorCode } from './storage.errors';
import { loadZarrita, NodeZstdCodec } from './zarrita';
import { chunkFilesOf, type ChunkFiles } from './zarr-chunk-files';

/**
 * How chunks are compressed. `zstd` is what Tiled 0.2.16 writes (zarr-python 3's default); the default here
 * is `none`, which writes and reads an 8 MB chunk several times faster (docs/storage.md has the figures).
 */
export type ZarrCompression = 'zstd' | 'none';

export interface CreateZarrOptions {
  compression?: ZarrCompression;
}

interface CodecJson {
  name: string;
  configuration?: Record<string, unknown>;
}

/** The fields of a Zarr v3 `zarr.json` this module reads; the rest is kept as written. */
interface ZarrJson {
  zarr_format: 3;
  node_type: 'array';
  shape: number[];
  codecs: CodecJson[];
  chunk_grid: { name: string; configuration: { chunk_shape: number[] } };
  [key: string]: unknown;
}

const ZARR_JSON = 'zarr.json';

/** Per chunk file (or array, for its metadata): the write in progress, so read-modify-writes in this process do not interleave. */
const inFlight = new Map<string, Promise<unknown>>();

async function exclusively<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = inFlight.get(key) ?? Promise.resolve();
  const current = previous.then(work, work);
  const settled = current.then(
    () => undefined,
    () => undefined,
  );
  inFlight.set(key, settled);
  try {
    return await current;
  } finally {
    if (inFlight.get(key) === settled) inFlight.delete(key);
  }
}

function codecsFor(layout: ArrayLayout, compression: ZarrCompression): CodecJson[] {
  // zarr-python names the byte order only where there is one.
  const bytes: CodecJson = layout.itemsize > 1 ? { name: 'bytes', configuration: { endian: 'little' } } : { name: 'bytes' };
  return compression === 'zstd' ? [bytes, { name: 'zstd', configuration: { level: 0, checksum: false } }] : [bytes];
}

/**
 * Creates an empty Zarr v3 array for `structure` in `dir` (created if missing): regular chunks of the
 * structure's first chunk lengths, fill value 0 (false for bool), chunk keys `c/i/j`, as zarr-python 3 lays
 * them out, uncompressed unless `options.compression` says otherwise. The shape is the structure's own
 * (Tiled 0.2.16 rounds it up to whole chunks; see docs/storage.md). An array already in `dir` (left by a
 * write that never committed) is discarded.
 */
export async function createZarrArray(dir: string, structure: ArrayStructure, options: CreateZarrOptions = {}): Promise<void> {
  const layout = arrayLayout(structure);
  // Chunks an array of a crashed earlier write left here would show through the new one. The catalog
  // hands over a directory only once the node's key is its own, so what is here is an orphan.
  await Promise.all(['c', ZARR_JSON, '.zarray', '.zattrs'].map((name) => rm(join(dir, name), { recursive: true, force: true })));
  const { zarr, store } = await loadZarrita();
  await zarr.create(zarr.root(store(dir)), {
    shape: layout.shape,
    chunkShape: layout.chunkShape,
    dtype: layout.dtype,
    codecs: codecsFor(layout, options.compression ?? 'none') as Array<{ name: string; configuration: Record<string, unknown> }>,
    fillValue: layout.dtype === 'bool' ? false : 0,
    ...(layout.dims ? { dimensionNames: layout.dims } : {}),
  });
}

async function readZarrJson(dir: string): Promise<ZarrJson> {
  return JSON.parse(await readFile(join(dir, ZARR_JSON), 'utf8')) as ZarrJson;
}

async function encodeChunk(meta: ZarrJson, bytes: Uint8Array): Promise<Uint8Array> {
  let out = bytes;
  for (const codec of meta.codecs) {
    if (codec.name === 'bytes') continue;
    if (codec.name !== 'zstd') throw new Error(`Unsupported codec in ${ZARR_JSON}: ${codec.name}`);
    out = await NodeZstdCodec.fromConfig(codec.configuration as { level?: number }).encode(out);
  }
  return out;
}

async function decodeChunk(meta: ZarrJson, path: string): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  for (const codec of [...meta.codecs].reverse()) {
    if (codec.name === 'zstd') bytes = await NodeZstdCodec.fromConfig(codec.configuration as { level?: number }).decode(bytes);
  }
  return bytes;
}

/**
 * Where each array directory keeps its chunks, with the zarr.json version that said so. A node is built
 * afresh for every request; this spares each read a parse of zarr.json.
 */
const keyLayouts = new LRUCache<string, { version: string; files: ChunkFiles | undefined }>({ max: 4096 });

function chunkPath(dir: string, coords: readonly number[]): string {
  return join(dir, 'c', ...coords.map(String));
}

/**
 * Writes the C-order `bytes` of a box of `regionShape` elements at `offset` into every chunk it touches.
 * A chunk the box covers entirely (within the array's shape) is written without being read first.
 */
async function writeRegion(dir: string, layout: ArrayLayout, meta: ZarrJson, offset: readonly number[], regionShape: readonly number[], bytes: Uint8Array): Promise<void> {
  const { chunkShape, shape, itemsize } = layout;
  const rank = shape.length;
  if (regionShape.some((n) => n === 0)) return;
  const first = offset.map((o, d) => Math.floor(o / chunkShape[d]));
  const last = offset.map((o, d) => Math.floor((o + regionShape[d] - 1) / chunkShape[d]));
  const coords = [...first];
  const chunkBytes = sizeOf(chunkShape) * itemsize;
  for (;;) {
    const origin = coords.map((c, d) => c * chunkShape[d]);
    const lo = origin.map((o, d) => Math.max(o, offset[d]));
    const hi = origin.map((o, d) => Math.min(o + chunkShape[d], offset[d] + regionShape[d]));
    const box = lo.map((l, d) => hi[d] - l);
    // Only the part of a chunk inside the array counts: an edge chunk is covered when the box reaches the array's end.
    const covered = origin.every((o, d) => lo[d] === o && hi[d] === Math.min(o + chunkShape[d], shape[d]));
    const path = chunkPath(dir, coords);
    const whole = covered && box.every((n, d) => n === chunkShape[d]) && bytes.byteLength === chunkBytes;
    if (whole) {
      await exclusively(path, async () => writeFileAtomic(path, await encodeChunk(meta, bytes)));
    } else {
      const srcStart = lo.map((l, d) => l - offset[d]);
      const dstStart = lo.map((l, d) => l - origin[d]);
      await exclusively(path, async () => {
        const chunk = new Uint8Array(chunkBytes);
        if (!covered) {
          const existing = await decodeChunk(meta, path);
          if (existing) chunk.set(existing.subarray(0, chunkBytes));
        }
        copyRegion(bytes, regionShape, srcStart, chunk, chunkShape, dstStart, box, itemsize);
        await writeFileAtomic(path, await encodeChunk(meta, chunk));
      });
    }
    let d = rank - 1;
    while (d >= 0 && coords[d] === last[d]) coords[d] = first[d--];
    if (d < 0) return;
    coords[d]++;
  }
}

function checkLength(bytes: Uint8Array, elements: number, itemsize: number, what: string): void {
  const expected = elements * itemsize;
  if (bytes.byteLength !== expected) {
    throw new StorageError(StorageErrorCode.WrongLength, `Expected ${expected} bytes for ${what}, received ${bytes.byteLength}`);
  }
}

/** The index of block `block` of a layout and its shape; a typed error when it is out of range. */
export function blockRegion(layout: ArrayLayout, block: readonly number[]): { offset: number[]; shape: number[] } {
  const { chunks } = layout;
  if (!Array.isArray(block) || block.length !== chunks.length || !block.every((i, d) => Number.isSafeInteger(i) && i >= 0 && i < chunks[d].length)) {
    throw new StorageError(StorageErrorCode.BlockOutOfRange, `Block index ${JSON.stringify(block)} is out of range for chunks of ${chunks.map((c) => c.length).join('×') || 'a scalar'}`);
  }
  return { offset: block.map((i, d) => i * layout.chunkShape[d]), shape: block.map((i, d) => chunks[d][i]) };
}

/** Replaces the whole array with the C-order little-endian `bytes` (Tiled's PUT /array/full). */
export async function writeZarrFull(dir: string, structure: ArrayStructure, bytes: Uint8Array): Promise<void> {
  const layout = arrayLayout(structure);
  checkLength(bytes, sizeOf(layout.shape), layout.itemsize, `an array of shape [${layout.shape.join(', ')}]`);
  await writeRegion(dir, layout, await readZarrJson(dir), layout.shape.map(() => 0), layout.shape, bytes);
}

/** Replaces one block (`block[i]` indexes `structure.chunks[i]`) with its C-order bytes (Tiled's PUT /array/block). */
export async function writeZarrBlock(dir: string, structure: ArrayStructure, block: number[], bytes: Uint8Array): Promise<void> {
  const layout = arrayLayout(structure);
  const region = blockRegion(layout, block);
  checkLength(bytes, sizeOf(region.shape), layout.itemsize, `block ${JSON.stringify(block)} of shape [${region.shape.join(', ')}]`);
  await writeRegion(dir, layout, await readZarrJson(dir), region.offset, region.shape, bytes);
}

/** A Python tuple's repr, as Tiled's messages show shapes. */
function pyTuple(values: readonly number[]): string {
  return values.length === 1 ? `(${values[0]},)` : `(${values.join(', ')})`;
}

/**
 * Writes a `shape` region at `offset` (Tiled's PATCH /array/full). With `extend`, an array too small for the
 * region grows to fit (never shrinks); without, it is a 409. Returns the structure after the write, whose
 * chunks follow the array's regular grid, as Tiled's.
 */
export async function patchZarr(dir: string, structure: ArrayStructure, offset: number[], shape: number[], bytes: Uint8Array, extend: boolean): Promise<ArrayStructure> {
  const layout = arrayLayout(structure);
  const rank = layout.shape.length;
  const isCounts = (v: unknown) => Array.isArray(v) && v.every((n) => Number.isSafeInteger(n) && n >= 0);
  if (!isCounts(shape) || shape.length !== rank) {
    throw new StorageError(StorageErrorCode.ShapeMismatch, `shape must have ${rank} non-negative integers, one per dimension of the array`);
  }
  if (!isCounts(offset) || offset.length > rank) {
    throw new StorageError(StorageErrorCode.ShapeMismatch, `offset must have at most ${rank} non-negative integers`);
  }
  checkLength(bytes, sizeOf(shape), layout.itemsize, `a region of shape [${shape.join(', ')}]`);
  const start = layout.shape.map((_, d) => offset[d] ?? 0);
  const tooFar = (message: string): never => {
    throw new StorageError(StorageErrorCode.ShapeMismatch, message);
  };
  if (start.some((o, d) => !Number.isSafeInteger(o + shape[d]))) tooFar('offset plus shape must be a safe integer');
  return exclusively(dir, async () => {
    const meta = await readZarrJson(dir);
    // The shape on disk is the current one: a PATCH that extended the array may not be in `structure` yet,
    // and taking the caller's older shape would shrink the array again.
    const current = meta.shape.length === rank ? meta.shape.map((n, d) => Math.max(n, layout.shape[d])) : layout.shape;
    const newShape = current.map((n, d) => Math.max(n, start[d] + shape[d]));
    if (newShape.some((n, d) => n !== current[d])) {
      if (extend) checkGrid(newShape, layout.chunkShape, layout.itemsize, tooFar);
      if (!extend) {
        // Tiled 0.2.16 formats Python's builtin `slice` here, not the region: the text is kept for clients that match it.
        throw new StorageError(StorageErrorCode.DoesNotFit, `Slice <class 'slice'> does not fit within current array shape ${pyTuple(current)}. Use ?extend=true to extend the array dimensions to fit.`);
      }
    }
    if (newShape.some((n, d) => n !== meta.shape[d])) await writeFileAtomic(join(dir, ZARR_JSON), JSON.stringify({ ...meta, shape: newShape }, null, 2));
    const grown: ArrayLayout = { ...layout, shape: newShape, chunks: regularChunks(newShape, layout.chunkShape) };
    await writeRegion(dir, grown, meta, start, shape, bytes);
    return { data_type: structure.data_type, chunks: grown.chunks, shape: newShape, dims: layout.dims, resizable: structure.resizable ?? false };
  });
}

/** What readBlock uses of a zarrita array; every dtype tiled-ts stores decodes to a typed array (BoolArray for bool). */
interface ChunkReader {
  getChunk(coords: number[]): Promise<{ data: { buffer: ArrayBufferLike; byteOffset: number; byteLength: number } }>;
}

/**
 * The read side: an ArrayNode over the Zarr array in `dir`, described by `structure` (the catalog's record).
 * `readBlock` reads and decodes only the chunk file of that block. Zarr v2 arrays read too (Tiled wrote
 * v2 when run with zarr-python 2), as do arrays whose shape Tiled rounded up to whole chunks.
 */
export function zarrArrayNode(dir: string, structure: ArrayStructure, metadata: Metadata, specs: readonly Spec[] = []): ArrayNode {
  const layout = arrayLayout(structure);
  let opened: Promise<ChunkReader> | undefined;
  const open = () =>
    (opened ??= loadZarrita().then(async ({ zarr, store }) => (await zarr.open(store(dir), { kind: 'array' })) as unknown as ChunkReader)).catch((err: unknown) => {
      opened = undefined;
      throw err;
    });
  return {
    family: 'array',
    metadata,
    specs,
    dtype: layout.dtype,
    shape: layout.shape,
    chunks: layout.chunks,
    dims: layout.dims,
    // Every write replaces a chunk file or zarr.json by rename, so their stats identify the block's bytes
    // (and its fill value and shape). A Zarr v2 array (no zarr.json) names its chunks otherwise: hashed instead.
    async blockVersion(block: readonly number[]): Promise<string | undefined> {
      // Once the key layout is known, both stats go out together: one thread-pool round trip per read, not three.
      const known = keyLayouts.get(dir);
      if (known?.files) {
        const [meta, chunk] = await Promise.all([fileVersion(known.files.metadata), fileVersion(known.files.chunkFile(block))]);
        if (meta === known.version) return `${meta}/${chunk}`;
      }
      const meta = await fileVersion(join(dir, ZARR_JSON));
      if (meta === 'missing') return undefined;
      let keys = keyLayouts.get(dir);
      if (keys?.version !== meta) keyLayouts.set(dir, (keys = { version: meta, files: await chunkFilesOf(dir) }));
      return keys.files ? `${meta}/${await fileVersion(keys.files.chunkFile(block))}` : undefined;
    },
    async readBlock(block: readonly number[]): Promise<NumericArray> {
      const region = blockRegion(layout, [...block]);
      const elements = sizeOf(region.shape);
      if (elements === 0) return viewAs(layout.dtype, new Uint8Array(0));
      const array = await open();
      const chunk = bytesView((await array.getChunk([...block])).data);
      if (region.shape.every((n, d) => n === layout.chunkShape[d])) return viewAs(layout.dtype, chunk);
      const out = new Uint8Array(elements * layout.itemsize);
      copyRegion(chunk, layout.chunkShape, layout.chunkShape.map(() => 0), out, region.shape, region.shape.map(() => 0), region.shape, layout.itemsize);
      return viewAs(layout.dtype, out);
    },
  };
}
