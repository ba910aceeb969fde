/**
 * HDF5 files (`application/x-hdf5`, as Tiled 0.2.16): groups are containers, datasets arrays chunked
 * as stored, attributes metadata. Reading happens in one worker thread running h5wasm (hdf5.worker.ts);
 * this side keeps the tree and turns every failure of that thread into an AdapterError for the node
 * being read. A block the thread found stored verbatim in the file (an unfiltered little-endian chunk
 * or contiguous range) is read again here by positioned reads, while the file keeps that version.
 */
import { open } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { ArrayNode, ContainerNode, DType, Metadata, TreeNode } from '../catalog/tree/tree.types';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { blockRegion, chunksFor, dtypeOf, type ElementType, servedBlockShape, typedArrayOf } from './array-support';
import type { Hdf5Child, Hdf5DatasetInfo, Hdf5NodeInfo, Hdf5Request, Hdf5Result, StoredBlock } from './hdf5.worker';
import { ReaderThread } from './reader-thread';
import { fileVersion, versionOfStats } from '../common/file-version';
import { unsharedArray } from '../common/http/body-memory';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const reader = new ReaderThread<DistributiveOmit<Hdf5Request, 'id'>, Hdf5Result>({
  workerPath: join(__dirname, 'hdf5.worker.js'),
  label: 'HDF5 reader',
});

/** Where blocks read once are stored, by file, dataset and region; a few run lists each, so many fit. */
const storedBlocks = new LRUCache<string, StoredBlock>({ max: 4096 });

/**
 * The block's bytes read from where the reader thread found them, or undefined when the file is no longer
 * the version they were found in (rewritten, replaced, truncated): the thread reads it afresh then.
 */
async function readStored(path: string, stored: StoredBlock, nbytes: number): Promise<Uint8Array | undefined> {
  const handle = await open(path, 'r');
  try {
    if (versionOfStats(await handle.stat({ bigint: true })) !== stored.version) return undefined;
    // A buffer of its own (not Node's shared pool), aligned for any typed array over it.
    const out = Buffer.allocUnsafeSlow(nbytes);
    let written = 0;
    for (const run of stored.runs) {
      const { bytesRead } = await handle.read(out, written, run.length, run.position);
      if (bytesRead !== run.length) return undefined;
      written += run.length;
    }
    return written === nbytes ? out : undefined;
  } finally {
    await handle.close();
  }
}

async function describe(path: string, h5path: string, name: string): Promise<Hdf5NodeInfo> {
  const response = await reader.request({ op: 'node', path, h5path }, name);
  return response.node ?? { kind: 'missing' };
}

/** h5wasm type classes (H5T_class_t). */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_ENUM = 8;

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function elementTypeOf(info: Pick<Hdf5DatasetInfo, 'type' | 'size' | 'signed' | 'littleEndian' | 'enumType'>, what: string): ElementType {
  const { type, size, signed, littleEndian } = info;
  if (type === H5T_INTEGER) return { kind: signed ? 'i' : 'u', itemsize: size, littleEndian };
  if (type === H5T_FLOAT) return { kind: 'f', itemsize: size, littleEndian };
  const members = info.enumType?.members;
  // h5py stores numpy bools as this enum; Tiled serves them as bool.
  if (type === H5T_ENUM && size === 1 && members && Object.keys(members).length === 2 && members.FALSE === 0 && members.TRUE === 1) {
    return { kind: 'b', itemsize: 1, littleEndian: true };
  }
  const names: Record<number, string> = { 2: 'time', 3: 'string', 4: 'bitfield', 5: 'opaque', 6: 'compound', 7: 'reference', 8: 'enum', 9: 'variable-length', 10: 'array' };
  throw new AdapterError(`${what}: ${capitalize(names[type] ?? `type class ${type}`)} datasets are not supported (supported: bool, integers, float32, float64)`, 415);
}

function datasetNode(path: string, h5path: string, name: string, info: Hdf5DatasetInfo, attrs: Metadata): ArrayNode {
  const what = `${name}:${h5path}`;
  const type = elementTypeOf(info, what);
  const dtype: DType = dtypeOf(type, what);
  const shape = info.shape;
  const chunks = chunksFor(shape, servedBlockShape(shape, info.chunks, type.itemsize));
  return {
    family: 'array',
    metadata: attrs,
    dtype,
    shape,
    chunks,
    // The file's stat identifies every dataset's bytes in it: any change to the file changes the ETags of its blocks.
    blockVersion: async () => `${await fileVersion(path)}:${h5path}`,
    async readBlock(block) {
      const { offset, shape: count } = blockRegion(chunks, block);
      if (count.some((n) => n === 0)) return typedArrayOf(dtype, new Uint8Array(0));
      const expected = count.reduce((a, b) => a * b, type.itemsize);
      const key = [path, h5path, offset.join(','), count.join(',')].join('\0');
      const stored = storedBlocks.get(key);
      if (stored) {
        const bytes = await readStored(path, stored, expected).catch(() => undefined);
        // Read into a buffer of its own for this request: the server may free it once sent.
        if (bytes) return unsharedArray(typedArrayOf(dtype, bytes));
        storedBlocks.delete(key);
      }
      const response = await reader.request({ op: 'read', path, h5path, offset, count }, what);
      if (response.stored) storedBlocks.set(key, response.stored);
      const bytes = new Uint8Array(response.bytes ?? new ArrayBuffer(0));
      if (bytes.byteLength !== expected) throw new AdapterError(`${what}: Read ${bytes.byteLength} bytes, expected ${expected}`, 500);
      // h5wasm reads into the native (little-endian) type whatever the file's byte order. The buffer came
      // from the reader thread for this read alone: the server may free it once sent.
      return unsharedArray(typedArrayOf(dtype, bytes));
    },
  };
}

/**
 * A group lists the members it can serve. A dataset of an element type the tree cannot carry (strings,
 * compounds, float16: NeXus files are full of string datasets) is left out of the listing, so the rest
 * of the group can be listed and searched; asked for by name, it answers a 415 saying why.
 */
function groupNode(path: string, h5path: string, name: string, members: Hdf5Child[], attrs: Metadata): ContainerNode {
  const children = new Map<string, Promise<TreeNode | undefined>>();
  const unsupported = new Map<string, AdapterError>();
  const keys: string[] = [];
  for (const member of members) {
    const childPath = h5path === '/' ? `/${member.name}` : `${h5path}/${member.name}`;
    try {
      if (member.dataset) dtypeOf(elementTypeOf(member.dataset, `${name}:${childPath}`), `${name}:${childPath}`);
      keys.push(member.name);
    } catch (error) {
      if (!(error instanceof AdapterError)) throw error;
      unsupported.set(member.name, error);
    }
  }
  const known = new Set(keys);
  return {
    family: 'container',
    metadata: attrs,
    keys: () => keys,
    get(key) {
      const refused = unsupported.get(key);
      if (refused) return Promise.reject(refused);
      if (!known.has(key)) return undefined;
      let child = children.get(key);
      if (!child) {
        child = nodeAt(path, h5path === '/' ? `/${key}` : `${h5path}/${key}`, name);
        // A failed open is not cached: the file may be fixed or replaced.
        child.catch(() => children.delete(key));
        children.set(key, child);
      }
      return child;
    },
  };
}

async function nodeAt(path: string, h5path: string, name: string): Promise<TreeNode | undefined> {
  const info = await describe(path, h5path, name);
  if (info.kind === 'group') return groupNode(path, h5path, name, info.children, info.attrs);
  if (info.kind === 'dataset') return datasetNode(path, h5path, name, info.info, info.attrs);
  return undefined;
}

async function openHdf5(source: AdapterSource): Promise<TreeNode> {
  if (source.paths.length !== 1) throw new AdapterError('HDF5: one file per node (concatenating several files is not supported)', 415);
  const path = source.paths[0];
  const name = basename(path);
  const root = await nodeAt(path, '/', name);
  if (!root) throw new AdapterError(`${name}: Has no root group`, 422);
  return root;
}

export const hdf5Adapter: AdapterRegistration = {
  mimetype: 'application/x-hdf5',
  extensions: ['.h5', '.hdf5', '.hdf', '.nxs'],
  open: openHdf5,
};
