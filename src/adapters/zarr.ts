/**
 * Zarr v2 and v3 stores on disk (`application/x-zarr`, as Tiled 0.2.16): groups are containers,
 * arrays are arrays chunked as stored, attributes are metadata. zarrita reads the metadata documents
 * and decodes chunks; a block read fetches only the chunk files it overlaps (one, since blocks are the
 * stored chunks, except at the array's edge where the stored chunk is cropped).
 */
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { DTYPES, isDType } from '../catalog/tree/dtype';
import type { ArrayNode, ContainerNode, Metadata, TreeNode } from '../catalog/tree/tree.types';
import { AdapterError, type AdapterRegistration, type AdapterSource } from './adapter.types';
import { blockRegion, chunksFor, fileError, servedBlockShape, typedArrayOf } from './array-support';
import { dynamicImport } from '../common/esm';
import { fileVersion } from '../common/file-version';
import { chunkFilesOf, type ChunkFiles } from '../catalog/storage/zarr-chunk-files';

type Zarrita = typeof import('zarrita');
type FsStoreModule = typeof import('@zarrita/storage/dist/src/fs');
type Store = InstanceType<FsStoreModule['default']>;
type ZarrArray = Awaited<ReturnType<Zarrita['open']['v3']>> & { kind: 'array' };

let libraries: Promise<{ zarr: Zarrita; FileSystemStore: FsStoreModule['default'] }> | undefined;
function load(): Promise<{ zarr: Zarrita; FileSystemStore: FsStoreModule['default'] }> {
  libraries ??= Promise.all([dynamicImport<Zarrita>('zarrita'), dynamicImport<FsStoreModule>('@zarrita/storage/fs')]).then(([zarr, fs]) => ({
    zarr,
    FileSystemStore: fs.default,
  }));
  return libraries;
}

const METADATA_FILES = ['zarr.json', '.zarray', '.zgroup'];

/** True when `dir` holds a Zarr node's metadata document (v3 zarr.json, v2 .zarray/.zgroup). */
async function isZarrNode(dir: string): Promise<boolean> {
  for (const file of METADATA_FILES) {
    if (await stat(join(dir, file)).then((s) => s.isFile(), () => false)) return true;
  }
  return false;
}

function attributesOf(attrs: Record<string, unknown>): Metadata {
  return { ...attrs };
}

/**
 * A block that is exactly one stored chunk in C order, as decoded: no copy into a new array as
 * `zarr.get` makes (8 MB per 8 MB block). Undefined for anything else (edge chunks, merged chunks,
 * other orders), which `zarr.get` assembles.
 */
async function wholeChunk(array: ZarrArray, offset: number[], count: number[]): Promise<ArrayBufferView | undefined> {
  const chunkShape = array.chunks;
  if (count.some((n, d) => n !== chunkShape[d] || offset[d] % n !== 0)) return undefined;
  const chunk = await array.getChunk(offset.map((o, d) => o / chunkShape[d]));
  let step = 1;
  for (let d = chunkShape.length - 1; d >= 0; d--) {
    if (chunk.stride[d] !== step) return undefined;
    step *= chunkShape[d];
  }
  return chunk.data as ArrayBufferView;
}

function arrayNode(array: ZarrArray, what: string, files: ChunkFiles | undefined): ArrayNode {
  const { zarr } = loadedLibraries();
  const dtype = array.dtype as string;
  if (!isDType(dtype)) throw new AdapterError(`${what}: Element type ${dtype} is not supported (supported: bool, int8-64, uint8-64, float32, float64)`, 415);
  const shape = [...array.shape];
  const chunks = chunksFor(shape, servedBlockShape(shape, array.chunks, DTYPES[dtype].itemsize));
  return {
    family: 'array',
    metadata: attributesOf(array.attrs),
    dtype,
    shape,
    chunks,
    // A block inside one stored chunk is identified by the stats of that chunk's file and of the metadata
    // (fill value, codecs): no hashing of its bytes, and the data service keeps it among recent blocks.
    async blockVersion(block) {
      if (!files) return undefined;
      const { offset, shape: count } = blockRegion(chunks, block);
      const stored = array.chunks;
      const coords = offset.map((start, d) => Math.floor(start / stored[d]));
      if (count.some((n, d) => n === 0 || Math.floor((offset[d] + n - 1) / stored[d]) !== coords[d])) return undefined;
      const [metadata, chunk] = await Promise.all([fileVersion(files.metadata), fileVersion(files.chunkFile(coords))]);
      return `${metadata}/${chunk}`;
    },
    async readBlock(block) {
      const { offset, shape: count } = blockRegion(chunks, block);
      try {
        let data = shape.length > 0 ? await wholeChunk(array, offset, count) : undefined;
        if (!data) {
          const selection = offset.map((start, i) => zarr.slice(start, start + count[i]));
          const result = shape.length === 0 ? await zarr.get(array, null) : await zarr.get(array, selection);
          data = (result as { data: ArrayBufferView }).data;
        }
        return typedArrayOf(dtype, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      } catch (error) {
        throw fileError(what, error);
      }
    },
  };
}

let resolvedLibraries: Awaited<ReturnType<typeof load>> | undefined;
function loadedLibraries(): Awaited<ReturnType<typeof load>> {
  if (!resolvedLibraries) throw new Error('zarrita used before it was loaded');
  return resolvedLibraries;
}

async function nodeAt(store: Store, dir: string, zarrPath: string, name: string): Promise<TreeNode> {
  const { zarr } = loadedLibraries();
  const what = zarrPath === '/' ? name : `${name}${zarrPath}`;
  let node: Awaited<ReturnType<Zarrita['open']>>;
  try {
    node = await zarr.open(zarr.root(store).resolve(zarrPath));
  } catch (error) {
    throw fileError(what, error);
  }
  if (node.kind === 'array') return arrayNode(node as ZarrArray, what, await chunkFilesOf(dir));
  const keys = await childKeys(dir, what);
  const children = new Map<string, Promise<TreeNode>>();
  const known = new Set(keys);
  const container: ContainerNode = {
    family: 'container',
    metadata: attributesOf(node.attrs),
    keys: () => keys,
    get(key) {
      if (!known.has(key)) return undefined;
      let child = children.get(key);
      if (!child) {
        child = nodeAt(store, join(dir, key), zarrPath === '/' ? `/${key}` : `${zarrPath}/${key}`, name);
        child.catch(() => children.delete(key));
        children.set(key, child);
      }
      return child;
    },
  };
  return container;
}

/** Sub-folders that are Zarr nodes, in name order (Zarr v3 has no listing of its own). */
async function childKeys(dir: string, what: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    throw fileError(what, error);
  }
  const keys: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.isDirectory() && !entry.name.startsWith('.') && (await isZarrNode(join(dir, entry.name)))) keys.push(entry.name);
  }
  return keys;
}

async function openZarr(source: AdapterSource): Promise<TreeNode> {
  const dir = source.paths[0];
  const name = basename(dir);
  resolvedLibraries = await load();
  if (!(await stat(dir).then((s) => s.isDirectory(), () => false))) throw new AdapterError(`${name}: A Zarr store must be a folder`, 415);
  if (!(await isZarrNode(dir))) throw new AdapterError(`${name}: Not a Zarr store (no zarr.json, .zgroup or .zarray)`, 415);
  return nodeAt(new resolvedLibraries.FileSystemStore(dir), dir, '/', name);
}

export const zarrAdapter: AdapterRegistration = {
  mimetype: 'application/x-zarr',
  extensions: ['.zarr'],
  directory: true,
  open: openZarr,
};
