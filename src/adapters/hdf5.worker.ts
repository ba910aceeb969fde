/**
 * The HDF5 reader thread. h5wasm is libhdf5 compiled to WebAssembly: its reads are synchronous and a
 * fault inside it (a corrupt file driving libhdf5 into an abort) poisons the whole WASM instance.
 * Running it here keeps both away from the server's event loop; the parent (hdf5.ts) restarts
 * this thread when it dies. Files are read in place through h5wasm's Node build (no copy into a
 * virtual file system), and a read allocates only its own block in the WASM heap, so the heap stays
 * near the size of the largest block served.
 */
import fs, { fstatSync, statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ThreadResponse } from './reader-thread';
import { dynamicImport } from '../common/esm';
import { versionOfStats } from '../common/file-version';

type H5 = typeof import('h5wasm');
type H5File = InstanceType<H5['File']>;

export type Hdf5Request =
  | { id: number; op: 'node'; path: string; h5path: string }
  | { id: number; op: 'read'; path: string; h5path: string; offset: number[]; count: number[] };

export interface Hdf5DatasetInfo {
  /** h5wasm's type class: 0 integer, 1 float, 8 enum (h5py's bool), others unsupported. */
  type: number;
  size: number;
  signed: boolean;
  littleEndian: boolean;
  shape: number[];
  chunks: number[] | null;
  /** For enums: the base type and members, so h5py's FALSE/TRUE enum can be served as bool. */
  enumType?: { type: number; size: number; signed: boolean; members: Record<string, number> };
}

/** A group's member: its name, and for a dataset its element type, so the parent can tell what it can serve. */
export interface Hdf5Child {
  name: string;
  dataset?: Pick<Hdf5DatasetInfo, 'type' | 'size' | 'signed' | 'littleEndian' | 'enumType'>;
}

export type Hdf5NodeInfo =
  | { kind: 'group'; children: Hdf5Child[]; attrs: Record<string, unknown> }
  | { kind: 'dataset'; info: Hdf5DatasetInfo; attrs: Record<string, unknown> }
  | { kind: 'missing' };

/** A run of a block's bytes as stored in the file: `length` bytes at `position`, in the block's C order. */
export interface StoredRun {
  position: number;
  length: number;
}

/**
 * Where a block's bytes lie in the file, verbatim, for the file version `version`: the parent reads them
 * there itself while the file keeps that version.
 */
export interface StoredBlock {
  version: string;
  runs: StoredRun[];
}

export type Hdf5Result = { node?: Hdf5NodeInfo; bytes?: ArrayBuffer; stored?: StoredBlock };
export type Hdf5Response = ThreadResponse<Hdf5Result>;

// libhdf5 prints its error stack to stderr, which h5wasm's Node build writes with fs.writeSync on fd 2
// (and console.error for its own messages). Both are captured in this thread, and the deepest line of the
// stack becomes the message a user sees instead of a wall of text on the server's stderr.
const diagnostics: string[] = [];
function capture(text: string): void {
  diagnostics.push(text);
  if (diagnostics.length > 400) diagnostics.splice(0, diagnostics.length - 400);
}
const writeSync = fs.writeSync.bind(fs) as (...args: unknown[]) => number;
(fs as { writeSync: unknown }).writeSync = (fd: unknown, buffer: unknown, ...rest: unknown[]): number => {
  if (fd !== 1 && fd !== 2) return writeSync(fd, buffer, ...rest);
  if (typeof buffer === 'string') {
    capture(buffer);
    return Buffer.byteLength(buffer);
  }
  const view = buffer as Uint8Array;
  const offset = typeof rest[0] === 'number' ? rest[0] : 0;
  const length = typeof rest[1] === 'number' ? rest[1] : view.byteLength - offset;
  capture(Buffer.from(view.buffer, view.byteOffset + offset, length).toString('utf8'));
  return length;
};
/**
 * libhdf5 reads through Emscripten's raw Node file system, one fs.readSync(fd, heap, pointer, length,
 * position) per I/O. While `watching` is set, the reads of exactly `length` bytes are noted, with where
 * they landed in the WASM heap: candidates for where a block of that size is stored whole.
 */
interface Landed {
  fd: number;
  position: number;
  heap?: ArrayBufferLike;
  pointer: number;
}
let watching: { length: number; landed: Landed[] } | undefined;
const readSync = fs.readSync.bind(fs) as (...args: unknown[]) => number;
(fs as { readSync: unknown }).readSync = (fd: unknown, buffer: unknown, ...rest: unknown[]): number => {
  const count = readSync(fd, buffer, ...rest);
  const [pointer, , position] = rest;
  if (watching && count === watching.length && typeof fd === 'number' && (typeof position === 'number' || typeof position === 'bigint')) {
    const view = ArrayBuffer.isView(buffer) ? buffer : undefined;
    watching.landed.push({ fd, position: Number(position), heap: view?.buffer, pointer: (view?.byteOffset ?? 0) + (typeof pointer === 'number' ? pointer : 0) });
  }
  return count;
};
console.error = (...args: unknown[]): void => capture(`${args.map(String).join(' ')}\n`);
console.warn = console.error;

const loaded: Promise<H5> = dynamicImport<H5>('h5wasm/node').then(async (h5) => {
  await h5.ready;
  return h5;
});
// A failed load is reported to each request (below); it must not also end the thread as an unhandled rejection.
loaded.catch(() => undefined);

/** Open files, most recently used last; reopened when the file on disk changes. */
const MAX_OPEN_FILES = 32;
const files = new Map<string, { file: H5File; stamp: string }>();

function fileFor(h5: H5, path: string): H5File {
  const st = statSync(path);
  if (!st.isFile()) throw Object.assign(new Error('not a regular file'), { code: 'EISDIR' });
  const stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const cached = files.get(path);
  if (cached) {
    files.delete(path);
    if (cached.stamp === stamp) {
      files.set(path, cached);
      return cached.file;
    }
    closeQuietly(cached.file);
  }
  const file = new h5.File(path, 'r');
  if (typeof file.file_id === 'bigint' ? file.file_id < 0n : Number(file.file_id) < 0) throw new Error(hdf5Reason() ?? 'not an HDF5 file');
  files.set(path, { file, stamp });
  if (files.size > MAX_OPEN_FILES) {
    const [oldest, entry] = files.entries().next().value as [string, { file: H5File }];
    files.delete(oldest);
    closeQuietly(entry.file);
  }
  return file;
}

function closeQuietly(file: H5File): void {
  try {
    file.close();
  } catch {
    // Closing a file whose handle libhdf5 already dropped: nothing left to release.
  }
}

/** The most specific line of libhdf5's last error stack, e.g. "truncated file: eof = 800, … stored_eof = 8908". */
function hdf5Reason(): string | undefined {
  const text = diagnostics.join('');
  const deepest = [...text.matchAll(/#\d+: .*? in [^(]+\(\): ([^\n]+)\n\s+major: [^\n]*\n\s+minor: ([^\n]*)/g)].pop();
  if (!deepest) return undefined;
  return `${deepest[2].trim()}: ${deepest[1].trim()}`;
}

function attributesOf(object: { attrs: Record<string, { json_value: unknown }> }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(object.attrs)) {
    try {
      out[name] = object.attrs[name].json_value;
    } catch {
      // An attribute of a type h5wasm cannot decode (a reference, an opaque blob) is left out, not fatal.
    }
  }
  return out;
}

function datasetInfo(dataset: InstanceType<H5['Dataset']>): Hdf5DatasetInfo {
  const m = dataset.metadata as unknown as Hdf5DatasetInfo & { enum_type?: Hdf5DatasetInfo['enumType'] };
  return {
    type: m.type,
    size: m.size,
    signed: m.signed,
    littleEndian: m.littleEndian,
    shape: (m.shape ?? []).map(Number),
    chunks: m.chunks ? m.chunks.map(Number) : null,
    enumType: m.enum_type ? { type: m.enum_type.type, size: m.enum_type.size, signed: m.enum_type.signed, members: m.enum_type.members } : undefined,
  };
}

function describe(h5: H5, path: string, h5path: string): Hdf5NodeInfo {
  const file = fileFor(h5, path);
  const object = h5path === '/' ? file : file.get(h5path);
  if (object instanceof h5.Group) {
    const children: Hdf5Child[] = [];
    for (const name of object.keys()) {
      const child = h5path === '/' ? `/${name}` : `${h5path}/${name}`;
      const type = object.get_type(child);
      if (type === h5.Module.H5G_GROUP) children.push({ name });
      else if (type === h5.Module.H5G_DATASET) children.push({ name, dataset: datasetInfo(file.get(child) as InstanceType<H5['Dataset']>) });
    }
    return { kind: 'group', children, attrs: attributesOf(object as never) };
  }
  if (object instanceof h5.Dataset) return { kind: 'dataset', info: datasetInfo(object), attrs: attributesOf(object as never) };
  return { kind: 'missing' };
}

function scalarArray(info: Hdf5DatasetInfo, value: number | bigint): ArrayBufferView {
  const size = info.enumType ? info.enumType.size : info.size;
  const signed = info.enumType ? info.enumType.signed : info.signed;
  if (typeof value === 'bigint') return signed ? BigInt64Array.of(value) : BigUint64Array.of(value);
  if (info.type === 1) return size === 4 ? Float32Array.of(value) : Float64Array.of(value);
  const ints = { 1: [Uint8Array, Int8Array], 2: [Uint16Array, Int16Array], 4: [Uint32Array, Int32Array] } as const;
  const pair = ints[size as 1 | 2 | 4];
  if (!pair) throw new Error(`no typed array for a ${size}-byte scalar`);
  return pair[signed ? 1 : 0].of(value);
}


/**
 * Reads a block, and tells where it is stored when its bytes lie verbatim in one run of the file: an
 * unfiltered little-endian integer or float dataset (nothing converted or decompressed) whose block is one
 * whole chunk, or one contiguous range of a contiguous dataset. libhdf5 reads such a block with one I/O of
 * the block's size (into its chunk cache or straight into the output); that candidate is then checked
 * against the file, so what the parent later reads there is these very bytes. Fill values of unwritten
 * chunks, filtered, big-endian or external data, and blocks spanning several chunks are not located.
 */
function read(h5: H5, path: string, h5path: string, offset: number[], count: number[]): { bytes: ArrayBuffer; stored?: StoredBlock } {
  const dataset = fileFor(h5, path).get(h5path);
  if (!(dataset instanceof h5.Dataset)) throw new Error(`${h5path} is no longer a dataset`);
  const info = dataset.metadata as unknown as Hdf5DatasetInfo & { enum_type?: unknown };
  const nbytes = count.reduce((a, b) => a * b, info.size);
  const locate = offset.length > 0 && nbytes >= MIN_LOCATED_BYTES && VERBATIM_CLASSES.has(info.type) && info.littleEndian && !info.enum_type && dataset.filters.length === 0;
  if (!locate) return { bytes: readValue(h5, dataset, info, offset, count) };
  const version = versionOfStats(statSync(path, { bigint: true }));
  const landed: Landed[] = [];
  let bytes: ArrayBuffer;
  try {
    watching = { length: nbytes, landed };
    bytes = readValue(h5, dataset, info, offset, count);
  } finally {
    watching = undefined;
  }
  return { bytes, stored: storedRun(landed, new Uint8Array(bytes), version) };
}

/** h5wasm type classes (integer, float) whose little-endian values it reads without any conversion. */
const VERBATIM_CLASSES = new Set([0, 1]);

/** Blocks smaller than this are left to the reader thread: libhdf5 reads them through its sieve buffer, in pieces. */
const MIN_LOCATED_BYTES = 64 * 1024;

/**
 * The candidate read whose file bytes are the block's, with the file still at `version`. The bytes it
 * left in the heap are compared first (libhdf5 copies a chunk out of its chunk cache untouched when
 * nothing is converted or filtered); when the heap has moved on (grown, or the output buffer freed and
 * reused), the file itself is read again at that offset and compared.
 */
function storedRun(landed: Landed[], bytes: Uint8Array, version: string): StoredBlock | undefined {
  // One read of the block's size is the chunk; several mean something else (a read of several chunks).
  if (landed.length !== 1) return undefined;
  const [{ fd, position, heap, pointer }] = landed;
  // Raw data stored in another file (external storage, virtual datasets) is left to libhdf5.
  if (versionOfStats(fstatSync(fd, { bigint: true })) !== version) return undefined;
  const stored = { version, runs: [{ position, length: bytes.byteLength }] };
  if (heap && heap.byteLength >= pointer + bytes.byteLength && Buffer.from(heap, pointer, bytes.byteLength).equals(bytes)) return stored;
  const check = Buffer.allocUnsafeSlow(bytes.byteLength);
  return readSync(fd, check, 0, check.byteLength, position) === check.byteLength && check.equals(bytes) ? stored : undefined;
}

function readValue(h5: H5, dataset: InstanceType<H5['Dataset']>, info: Hdf5DatasetInfo, offset: number[], count: number[]): ArrayBuffer {
  let value: unknown = offset.length === 0 ? dataset.value : dataset.slice(offset.map((start, i) => [start, start + count[i]]));
  // A scalar dataset's value comes back as a plain number or BigInt.
  if (typeof value === 'number' || typeof value === 'bigint') value = scalarArray(info, value);
  if (!ArrayBuffer.isView(value)) throw new Error(`${dataset.path}: h5wasm returned no typed array`);
  const view = value as ArrayBufferView;
  const { buffer } = view;
  if (buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === buffer.byteLength) return buffer;
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice().buffer;
}

parentPort?.on('message', (request: Hdf5Request) => {
  void loaded
    .then((h5) => {
      diagnostics.length = 0;
      if (request.op === 'node') {
        const response: Hdf5Response = { id: request.id, ok: true, node: describe(h5, request.path, request.h5path) };
        parentPort?.postMessage(response);
      } else {
        const { bytes, stored } = read(h5, request.path, request.h5path, request.offset, request.count);
        const response: Hdf5Response = { id: request.id, ok: true, bytes, stored };
        parentPort?.postMessage(response, [bytes]);
      }
    })
    .catch((error: unknown) => {
      const code = (error as { code?: unknown } | null)?.code;
      // libhdf5's own reason is more specific than h5wasm's message ("name not defined!", "not an HDF5 file").
      const message = hdf5Reason() ?? (error instanceof Error ? error.message : String(error));
      const response: Hdf5Response = { id: request.id, ok: false, message, code: typeof code === 'string' ? code : undefined };
      parentPort?.postMessage(response);
      // A WebAssembly trap leaves libhdf5's state undefined: exit so the parent starts a fresh instance.
      if (error instanceof (globalThis as unknown as { WebAssembly: { RuntimeError: new () => Error } }).WebAssembly.RuntimeError) process.exit(70);
    });
});
