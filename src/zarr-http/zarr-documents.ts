import { numpyDescr } from '../catalog/encoders/npy';
import { DTYPES } from '../catalog/tree/dtype';
import type { ArrayNode, Metadata } from '../catalog/tree/tree.types';
import { BLOSC_CONFIG, zarrChunkShape } from './zarr-chunks';

/** `.zarray`, field for field as Tiled 0.2.16 writes it. */
export function zarrayDocument(node: ArrayNode): Record<string, unknown> {
  return {
    chunks: zarrChunkShape(node),
    compressor: BLOSC_CONFIG,
    dtype: numpyDescr(node.dtype),
    fill_value: null,
    filters: null,
    order: 'C',
    shape: [...node.shape],
    zarr_format: 2,
  };
}

/** Zarr v3's JSON spelling of a scalar: non-finite floats are strings. */
function jsonScalar(value: number | bigint, node: ArrayNode): unknown {
  if (node.dtype === 'bool') return Boolean(value);
  if (typeof value === 'bigint') return Number(value);
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  return value;
}

/**
 * An array's `zarr.json` as Tiled 0.2.16 writes it: Blosc/LZ4 chunks in '/'-separated keys, the node's
 * metadata as attributes; a 0-D array's fill value is its value (its one chunk may never be read).
 */
export async function zarrJsonArray(node: ArrayNode): Promise<Record<string, unknown>> {
  const info = DTYPES[node.dtype];
  const fill = node.shape.length === 0 ? jsonScalar((await node.readBlock([]))[0], node) : node.dtype === 'bool' ? false : 0;
  return {
    zarr_format: 3,
    node_type: 'array',
    shape: [...node.shape],
    data_type: node.dtype,
    chunk_grid: { name: 'regular', configuration: { chunk_shape: zarrChunkShape(node) } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } },
    fill_value: fill,
    codecs: [
      { name: 'bytes', configuration: { endian: 'little' } },
      {
        name: 'blosc',
        configuration: { typesize: info.itemsize, cname: BLOSC_CONFIG.cname, clevel: BLOSC_CONFIG.clevel, shuffle: 'shuffle', blocksize: BLOSC_CONFIG.blocksize },
      },
    ],
    // Left out without dims: Tiled writes null, which the Zarr v3 spec does not allow (an array or
    // nothing) and strict readers such as tensorstore refuse.
    ...(node.dims && node.dims.length ? { dimension_names: [...node.dims] } : {}),
    attributes: node.metadata ?? {},
  };
}

export function zarrJsonGroup(metadata: Metadata): Record<string, unknown> {
  return { zarr_format: 3, node_type: 'group', attributes: metadata ?? {} };
}
