import { promisify } from 'node:util';
import { constants, zstdCompress, zstdDecompress } from 'node:zlib';
import { writeFileAtomic } from './atomic-file';

type Zarrita = typeof import('zarrita');
type FileSystemStoreClass = typeof import('@zarrita/storage').FileSystemStore;

/**
 * zarrita publishes ES modules with an "import"-only export, which `require` (what TypeScript emits for
 * this CommonJS project, even for `import()`) cannot resolve; a real dynamic import can.
 */
// A Function body is not compiled by TypeScript, so its import() stays an import().
export const importEsm = new Function('specifier', 'return import(specifier)') as <T>(specifier: string) => Promise<T>;

const compress = promisify(zstdCompress);
const decompress = promisify(zstdDecompress);

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
    return new Uint8Array(await compress(bytes, { params }));
  }

  async decode(bytes: Uint8Array): Promise<Uint8Array> {
    return new Uint8Array(await decompress(bytes));
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
    const zarr = await importEsm<Zarrita>('zarrita');
    const { FileSystemStore } = await importEsm<typeof import('@zarrita/storage')>('@zarrita/storage');
    zarr.registry.set('zstd', () => NodeZstdCodec as never);
    zarr.registry.set('numcodecs.zstd', () => NodeZstdCodec as never);
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
