import { randomUUID } from 'node:crypto';
import { readFile, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metadata, NumericArray } from '../tree/tree.types';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { importEsm } from '../../common/esm';

/** One group or dataset of an HDF5 export, by its path from the file's root. */
export type Hdf5Item =
  | { kind: 'group'; path: readonly string[]; metadata: Metadata }
  | { kind: 'dataset'; path: readonly string[]; metadata: Metadata; data: NumericArray | string[]; shape: readonly number[] };

interface H5Object {
  create_attribute(name: string, data: unknown, shape?: number[] | null, dtype?: string | null): void;
}
interface H5Group extends H5Object {
  create_group(name: string): H5Group;
  create_dataset(options: { name: string; data: unknown; shape?: number[] }): H5Object;
}
interface H5File extends H5Group {
  close(): void;
}
interface H5Wasm {
  ready: Promise<unknown>;
  File: new (path: string, mode: string) => H5File;
}

/**
 * Metadata values as HDF5 attributes, typed as h5py types the same Python values when Tiled writes them
 * (`attrs.create(key, value)`): integers as int64, other numbers as float64, strings and lists of them
 * natively. h5py's boolean is an enum h5wasm cannot write, so booleans are uint8 0/1; anything else
 * (objects, mixed lists, null) is JSON text, where Tiled's h5py would refuse the export.
 */
function writeAttributes(target: H5Object, metadata: Metadata): void {
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (name === '') continue;
    if (typeof value === 'string') target.create_attribute(name, value);
    else if (typeof value === 'number') target.create_attribute(name, numbers([value]), []);
    else if (typeof value === 'bigint') target.create_attribute(name, new BigInt64Array([value]), []);
    else if (typeof value === 'boolean') target.create_attribute(name, new Uint8Array([value ? 1 : 0]), []);
    else if (value instanceof Date) target.create_attribute(name, value.toISOString());
    else if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'string')) target.create_attribute(name, value);
    else if (Array.isArray(value) && value.length && value.every((v) => typeof v === 'number')) target.create_attribute(name, numbers(value), [value.length]);
    else target.create_attribute(name, JSON.stringify(value) ?? 'null');
  }
}

/** int64 when every value is an integer JSON could carry exactly, as numpy types a list of Python ints; float64 otherwise. */
function numbers(values: readonly number[]): BigInt64Array | Float64Array {
  return values.every(Number.isSafeInteger) ? BigInt64Array.from(values, BigInt) : Float64Array.from(values);
}

function writeItem(groups: Map<string, H5Group>, item: Hdf5Item): void {
  const parent = groups.get(item.path.slice(0, -1).join('/'));
  if (!parent) return;
  const name = item.path[item.path.length - 1];
  if (item.kind === 'group') {
    const group = parent.create_group(name);
    writeAttributes(group, item.metadata);
    groups.set(item.path.join('/'), group);
  } else {
    writeAttributes(parent.create_dataset({ name, data: item.data, shape: [...item.shape] }), item.metadata);
  }
}

/** A name or value HDF5 cannot hold is the format's limit (Tiled: "does not fit into HDF5"), not a server error. */
function writeChecked(path: readonly string[], write: () => void): void {
  try {
    write();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TiledHttpError(406, `This node cannot be exported as application/x-hdf5 (at '/${path.join('/')}': ${reason}). Choose a different format.`);
  }
}

/**
 * Write the items (parents before children) as one HDF5 file with h5wasm and return its bytes. Runs on an
 * encoder thread (encoder-pool.ts): h5wasm is synchronous, and its heap is then the thread's, not the server's.
 */
export async function writeHdf5(rootMetadata: Metadata, items: readonly Hdf5Item[]): Promise<Uint8Array> {
  const h5wasm = await importEsm<H5Wasm>('h5wasm/node');
  await h5wasm.ready;
  const file = join(tmpdir(), `tiled-ts-export-${randomUUID()}.h5`);
  try {
    const root = new h5wasm.File(file, 'w');
    try {
      const groups = new Map<string, H5Group>([['', root]]);
      writeChecked([], () => writeAttributes(root, rootMetadata));
      for (const item of items) writeChecked(item.path, () => writeItem(groups, item));
    } finally {
      root.close();
    }
    return await readFile(file);
  } finally {
    await unlink(file).catch(() => undefined);
  }
}
