import { BadRequestError } from '../common/errors/tiled-http.error';
import { copyRegionBetween, readSelection, select } from '../catalog/data/ndarray';
import { BLOSC_CONFIG } from '../catalog/encoders/blosc-config';
import { encodeOffThread, ownBuffer } from '../catalog/encoders/encoder-pool';
import { DTYPES } from '../catalog/tree/dtype';
import type { ArrayNode } from '../catalog/tree/tree.types';
import { pyTuple } from '../catalog/http/python-repr';

/** Tiled 0.2.16's Zarr view (tiled/server/zarr.py): chunks of at most this many elements a side. */
export const ZARR_BLOCK_SIZE = 10_000;
/**
 * Largest uncompressed chunk served. Chunks are copied to an encoder thread and compressed in Blosc's
 * WebAssembly heap there, which never shrinks, so this also bounds what one request leaves behind.
 */
export const ZARR_CHUNK_BYTE_LIMIT = 64 * 1024 * 1024;

export { BLOSC_CONFIG };

/** One regular chunk shape for Tiled's (possibly irregular) chunks: the largest chunk per dimension, capped. */
export function zarrChunkShape(node: ArrayNode): number[] {
  return node.chunks.map((lengths) => Math.min(ZARR_BLOCK_SIZE, Math.max(...lengths, 1)));
}

function pyIntList(values: readonly number[]): string {
  return `[${values.join(', ')}]`;
}

/**
 * The Blosc-compressed bytes of one Zarr chunk: the region of the array it covers, read block by block,
 * zero-padded to the full chunk shape at the array's far edges (as Tiled pads them).
 */
export async function encodeZarrChunk(node: ArrayNode, index: readonly number[]): Promise<Buffer> {
  const spec = zarrChunkShape(node);
  const scalarKey = spec.length === 0 && index.length === 1 && index[0] === 0;
  if (!scalarKey && spec.length !== index.length) {
    throw new BadRequestError(`Requested zarr block index ${pyIntList(index)} is inconsistent with the shape of array, ${pyTuple(node.shape)}.`);
  }
  const position = scalarKey ? [] : index;
  const start = position.map((i, d) => i * spec[d]);
  if (start.some((s, d) => s >= Math.max(node.shape[d], 1))) throw new BadRequestError(`Index of zarr block ${pyIntList(index)} is out of range.`);
  const info = DTYPES[node.dtype];
  const count = spec.reduce((a, b) => a * b, 1);
  if (count * info.itemsize > ZARR_CHUNK_BYTE_LIMIT) {
    throw new BadRequestError(`Zarr chunk of ${count * info.itemsize} bytes exceeds the limit of ${ZARR_CHUNK_BYTE_LIMIT} bytes; read this array through /api/v1/array/block instead.`);
  }
  const stop = start.map((s, d) => Math.min(s + spec[d], node.shape[d]));
  const region = stop.map((s, d) => s - start[d]);
  const values = await readSelection(node, select(node.shape, start.map((s, d) => ({ kind: 'slice' as const, start: s, stop: stop[d] }))));
  let chunk = values;
  if (region.some((r, d) => r !== spec[d])) {
    chunk = info.create(count);
    const origin = spec.map(() => 0);
    copyRegionBetween(values, region, origin, chunk, spec, origin, region);
  }
  // Blosc runs synchronously in WebAssembly (about 15 ms a mebibyte here): on an encoder thread.
  const own = ownBuffer(chunk);
  return encodeOffThread({ kind: 'blosc', bytes: new Uint8Array(own.buffer, own.byteOffset, own.byteLength) });
}
