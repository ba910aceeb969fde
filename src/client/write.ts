import type { Table } from 'apache-arrow';
import { TiledClientError } from './errors';

import type { TypedArray } from './nodes';

type Arrow = typeof import('apache-arrow');
let arrowModule: Arrow | undefined;
/**
 * apache-arrow, loaded by the first table read or write: `tiled serve directory` registers its files with
 * this client, and loading Arrow with it cost that server about 20 MiB and 50 ms at startup for nothing.
 */
export function arrow(): Arrow {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded on first use, see above
  return (arrowModule ??= require('apache-arrow') as Arrow);
}

/** What the write verbs accept: a typed array in C order (the same arrays reads give back). */
export type WritableArray = TypedArray;

/** Tiled's `data_type` of a typed array (little-endian, as JavaScript typed arrays are on every platform Node runs on). */
export function dataTypeOf(data: WritableArray): { endianness: 'little' | 'not_applicable'; kind: string; itemsize: number; dt_units: null } {
  const kind = data instanceof Float32Array || data instanceof Float64Array ? 'f' : data instanceof Uint8Array || data instanceof Uint16Array || data instanceof Uint32Array || data instanceof BigUint64Array ? 'u' : 'i';
  const itemsize = data.BYTES_PER_ELEMENT;
  return { endianness: itemsize === 1 ? 'not_applicable' : 'little', kind, itemsize, dt_units: null };
}

/** The raw bytes of a typed array (no copy). */
export function bytesOf(data: WritableArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** One chunk per dimension: the whole array is written with one PUT. */
export function wholeChunks(shape: readonly number[]): number[][] {
  return shape.map((n) => [n]);
}

export function checkChunks(shape: readonly number[], chunks: readonly (readonly number[])[]): void {
  if (chunks.length !== shape.length || chunks.some((c, d) => c.reduce((a, b) => a + b, 0) !== shape[d])) {
    throw new TiledClientError(0, `chunks ${JSON.stringify(chunks)} do not add up to the shape ${JSON.stringify(shape)}`);
  }
}

/** Every block index of a chunk grid, in C order. */
export function* blockIndices(chunks: readonly (readonly number[])[]): Generator<number[]> {
  const counts = chunks.map((c) => c.length);
  if (counts.some((n) => n === 0)) return;
  const index = counts.map(() => 0);
  for (;;) {
    yield [...index];
    let d = counts.length - 1;
    while (d >= 0 && ++index[d] === counts[d]) index[d--] = 0;
    if (d < 0) return;
  }
}

/** The C-order bytes of block `block` of an array of `shape` cut by `chunks`. */
export function blockBytes(data: WritableArray, shape: readonly number[], chunks: readonly (readonly number[])[], block: readonly number[]): Uint8Array {
  const size = data.BYTES_PER_ELEMENT;
  const all = bytesOf(data);
  const offset = block.map((b, d) => chunks[d].slice(0, b).reduce((x, y) => x + y, 0));
  const blockShape = block.map((b, d) => chunks[d][b]);
  const out = new Uint8Array(blockShape.reduce((a, b) => a * b, 1) * size);
  if (out.length === 0) return out;
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const rowLength = (blockShape.at(-1) ?? 1) * size;
  const outer = blockShape.slice(0, -1);
  const position = outer.map(() => 0);
  let written = 0;
  for (;;) {
    let start = 0;
    for (let d = 0; d < shape.length; d++) start += ((d < outer.length ? position[d] : 0) + offset[d]) * strides[d];
    out.set(all.subarray(start * size, start * size + rowLength), written);
    written += rowLength;
    let d = outer.length - 1;
    while (d >= 0 && ++position[d] === outer[d]) position[d--] = 0;
    if (d < 0) return out;
  }
}

/** Tiled's `arrow_schema`: the table's schema as an Arrow IPC message, base64, in a data URI. */
export function arrowSchemaOf(table: Table): string {
  return `data:application/vnd.apache.arrow.file;base64,${Buffer.from(arrow().tableToIPC(table.slice(0, 0), 'stream')).toString('base64')}`;
}

/** A table as the Arrow IPC file the table write routes take. */
export function arrowFileOf(table: Table): Uint8Array {
  return arrow().tableToIPC(table, 'file');
}

export const OCTET_STREAM = 'application/octet-stream';
export const ARROW_FILE = 'application/vnd.apache.arrow.file';
export const MERGE_PATCH = 'application/merge-patch+json';
