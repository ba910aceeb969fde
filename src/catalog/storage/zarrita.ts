import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { constants, zstdCompress, zstdDecompress } from 'node:zlib';
import { writeFileAtomic } from './atomic-file';

type Zarrita = typeof import('zarrita');
type FileSystemStoreClass = typeof import('@zarrita/storage').FileSystemStore;

type ExportTarget = string | { [condition: string]: ExportTarget } | null | undefined;

/** The file an export target names for Node's ES-module loader: the node, import or default condition, nested or not. */
function esmTarget(target: ExportTarget): string | undefined {
  if (typeof target === 'string') return target;
  if (!target) return undefined;
  for (const condition of ['node', 'import', 'default']) {
    const file = esmTarget(target[condition]);
    if (file) return file;
  }
  return undefined;
}

/**
 * Loads an ES-module-only package. zarrita and numcodecs publish only an "import" export condition, which
 * `require` does not match; Node (22.12+) can still require an ES module by its file, so the file is
 * looked up in the package's "exports" here. A dynamic import() would need a Function body (TypeScript
 * compiles import() to require() in this CommonJS project), and Jest resolves such an import wrongly once
 * earlier test files have loaded ES modules.
 */
export function requireEsm<T>(specifier: string): T {
  const parts = specifier.split('/');
  const nameLength = specifier.startsWith('@') ? 2 : 1;
  const name = parts.slice(0, nameLength).join('/');
  const subpath = parts.length > nameLength ? `./${parts.slice(nameLength).join('/')}` : '.';
  for (const base of require.resolve.paths(name) ?? []) {
    const dir = join(base, name);
    let manifest: { exports?: ExportTarget };
    try {
      manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as typeof manifest;
    } catch {
      continue;
    }
    const exported = manifest.exports;
    // "exports" may be one target, a map of conditions, or a map of subpaths (whose values may nest conditions).
    const bySubpath = typeof exported === 'object' && exported !== null && Object.keys(exported).some((k) => k.startsWith('.'));
    const file = esmTarget(bySubpath ? exported[subpath] : subpath === '.' ? exported : undefined);
    if (!file) throw new Error(`${name} exports no ${subpath}`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- an ES module, by its file path (see above)
    return require(join(dir, file)) as T;
  }
  throw new Error(`Cannot find package ${name}`);
}

const compress = promisify(zstdCompress);
const decompress = promisify(zstdDecompress);

/**
 * zlib's output buffer step. Its 16 KiB default costs a thread-pool round trip per step: an 8 MB chunk
 * took about three times as long as with 1 MiB steps.
 */
function outputStep(input: Uint8Array): number {
  return input.byteLength > 64 * 1024 ? 1024 * 1024 : 64 * 1024;
}

/**
 * Zarr's `zstd` codec on Node's own zstd: it runs on the libuv thread pool, where zarrita's default (a
 * WebAssembly build) would hold the event loop for the whole of a large chunk.
 */
export class NodeZstdCodec {
  readonly kind = 'bytes_to_bytes';
  constructor(private readonly level: number) {}

  static fromConfig(configuration: { level?: number } | undefined): NodeZstdCodec {
    return new NodeZstdCodec(configuration?.level ?? 0);
  }

  async encode(bytes: Uint8Array): Promise<Uint8Array> {
    // Level 0 means "the library default" in zstd, as in zarr-python.
    const params = this.level ? { [constants.ZSTD_c_compressionLevel]: this.level } : {};
    return new Uint8Array(await compress(bytes, { params, chunkSize: outputStep(bytes) }));
  }

  async decode(bytes: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await decompress(bytes, { chunkSize: outputStep(bytes) }));
  }
}

export interface ZarrLib {
  zarr: Zarrita;
  /** A zarrita store on a directory whose writes are atomic (see writeFileAtomic). */
  store(root: string): InstanceType<FileSystemStoreClass>;
}

let loading: Promise<ZarrLib> | undefined;

/** zarrita, loaded on first use (servers without a writable catalog never load it). */
export function loadZarrita(): Promise<ZarrLib> {
  loading ??= (async () => {
    const zarr = requireEsm<Zarrita>('zarrita');
    const { FileSystemStore } = requireEsm<typeof import('@zarrita/storage')>('@zarrita/storage');
    zarr.registry.set('zstd', () => NodeZstdCodec as never);
    zarr.registry.set('numcodecs.zstd', () => NodeZstdCodec as never);
    // zarrita loads these with import() on first use; required here the same way as zarrita itself.
    for (const name of ['blosc', 'lz4']) {
      const load = () => requireEsm<{ default: never }>(`numcodecs/${name}`).default;
      zarr.registry.set(name, load);
      zarr.registry.set(`numcodecs.${name}`, load);
    }
    class AtomicFileSystemStore extends FileSystemStore {
      constructor(private readonly rootDir: string) {
        super(rootDir);
      }
      override async set(key: string, value: Uint8Array): Promise<void> {
        await writeFileAtomic(`${this.rootDir}/${key.replace(/^\/+/, '')}`, value);
      }
    }
    return { zarr, store: (root: string) => new AtomicFileSystemStore(root) };
  })();
  return loading;
}
