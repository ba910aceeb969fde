/**
 * The folder walker: a directory of files becomes a tree with Tiled 0.2.16's naming rules
 * (as its `register` does), served read-only through the adapter registry (docs/files.md).
 *
 * - Hidden names (a leading dot) are skipped; `includeExt` keeps only files with those extensions.
 * - A key is the name without its extensions (`thing.tar.gz` → `thing`) unless `keepExt`.
 * - Numbered images in one folder (`frame_001.tif` …) are one entry (`frame_`) of the sequence mimetype.
 * - A folder whose name (or content) says it is a Zarr store is one entry; other folders are containers.
 * - Names that would give the same key are all left out, with a warning (Tiled drops both too).
 * - Nothing outside the directory is reachable: keys come from the walk, never from request paths, and
 *   symbolic links pointing outside are skipped unless `allowSymlinksOutside`; link loops are detected.
 */
import { watch as watchFs, type Dirent, type FSWatcher } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Logger } from '@nestjs/common';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import type { ContainerNode, TreeNode } from '../catalog/tree/tree.types';
import { AdapterError } from './adapter.types';
import { AdapterRegistry, createAdapterRegistry, SEQUENCE_PATTERNS, suffixesOf } from './registry';
import { ZARR_MIMETYPE } from './mimetypes';

export interface DirectoryOptions {
  /** Defaults to the built-in adapters. */
  registry?: AdapterRegistry;
  /** Keys keep the file extension (`--keep-ext`). */
  keepExt?: boolean;
  /** Serve only files with these extensions, e.g. ['.csv'] (`--include-ext`). */
  includeExt?: readonly string[];
  /** Follow symbolic links that point outside the directory (off: they are skipped with a warning). */
  allowSymlinksOutside?: boolean;
  /** Where walk and open problems are reported (default: a Nest logger named `Directory`). */
  logger?: WalkLogger;
}

/** One thing the walk found: a container (a plain sub-folder, `mimetype` null) or an asset to open. */
export interface WalkEntry {
  /** Keys from the served root down to this entry. */
  readonly segments: readonly string[];
  readonly mimetype: string | null;
  /** Absolute paths: the folder (containers, Zarr stores), one file, or a sequence's files in order. */
  readonly paths: readonly string[];
  /** True when the asset is a directory (a container or a Zarr store). */
  readonly directory: boolean;
  /** Changes whenever any of the files changes (mtime and size), so a changed file gets a new node. */
  readonly stamp: string;
}

/** Python's `strip_suffixes`, Tiled's default key: `a.tif` → `a`, `thing.tar.gz` → `thing`. */
export function stripSuffixes(name: string): string {
  const length = suffixesOf(name).reduce((n, s) => n + s.length, 0);
  return length ? name.slice(0, name.length - length) : name;
}

export type WalkLogger = Pick<Logger, 'log' | 'warn'>;

/** Nest's logger, loaded on first use so the walker (and its unit specs) need no Nest. */
function nestLogger(): WalkLogger {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const { Logger: NestLogger } = require('@nestjs/common') as typeof import('@nestjs/common');
  return new NestLogger('Directory');
}

const YIELD_EVERY = 200;
/** Files a folder listing opens at once. */
const OPEN_CONCURRENCY = 8;
const ZARR_MARKERS = ['zarr.json', '.zgroup', '.zarray'];

interface Found {
  name: string;
  path: string;
  isDirectory: boolean;
  stamp: string;
}

class Walker {
  private readonly registry: AdapterRegistry;
  private readonly logger: WalkLogger;
  private seen = 0;

  constructor(
    private readonly root: string,
    private readonly options: DirectoryOptions,
  ) {
    this.registry = options.registry ?? createAdapterRegistry();
    this.logger = options.logger ?? nestLogger();
  }

  private inside(path: string): boolean {
    return path === this.root || path.startsWith(this.root + sep);
  }

  /** The folder's visible children, links resolved; anything unsafe is skipped with a warning. */
  private async list(folder: string, ancestors: ReadonlySet<string>): Promise<Found[]> {
    let dirents: Dirent[];
    try {
      dirents = (await readdir(folder, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch (error) {
      this.logger.warn(`Skipping folder ${this.rel(folder)}: ${(error as Error).message}`);
      return [];
    }
    const found: Found[] = [];
    for (const dirent of dirents) {
      if (++this.seen % YIELD_EVERY === 0) await yieldToEventLoop();
      const name = dirent.name;
      if (name.startsWith('.')) continue;
      const path = join(folder, name);
      try {
        const link = dirent.isSymbolicLink();
        const real = link ? await realpath(path) : path;
        if (link && !this.inside(real) && !this.options.allowSymlinksOutside) {
          this.logger.warn(`Skipping ${this.rel(path)}: a symbolic link pointing outside the served directory`);
          continue;
        }
        const info = await stat(real);
        if (info.isDirectory() && ancestors.has(real)) {
          this.logger.warn(`Skipping ${this.rel(path)}: a symbolic link loop`);
          continue;
        }
        if (!info.isDirectory() && !info.isFile()) continue;
        found.push({ name, path: real, isDirectory: info.isDirectory(), stamp: `${info.mtimeMs}:${info.size}` });
      } catch (error) {
        const code = (error as { code?: string }).code;
        this.logger.warn(`Skipping ${this.rel(path)}: ${code === 'ELOOP' ? 'a symbolic link loop' : code === 'ENOENT' ? 'a broken symbolic link or a vanished file' : (error as Error).message}`);
      }
    }
    return found;
  }

  rel(path: string): string {
    return relative(this.root, path) || '.';
  }

  private key(name: string): string {
    return this.options.keepExt ? name : stripSuffixes(name);
  }

  private async isZarrStore(folder: Found): Promise<boolean> {
    for (const marker of ZARR_MARKERS) {
      try {
        await stat(join(folder.path, marker));
        return true;
      } catch {
        // not this marker
      }
    }
    return false;
  }

  async *walk(folder: string, segments: readonly string[], ancestors: ReadonlySet<string>): AsyncGenerator<WalkEntry> {
    const children = await this.list(folder, ancestors);
    const entries = new Map<string, WalkEntry[]>();
    const add = (key: string, entry: Omit<WalkEntry, 'segments'>): void => {
      const list = entries.get(key) ?? [];
      list.push({ ...entry, segments: [...segments, key] });
      entries.set(key, list);
    };
    const sequences = new Map<string, { mimetype: string; files: Found[] }>();
    for (const child of children) {
      if (child.isDirectory) {
        const mimetype = this.registry.mimetypeOf(child.name) ?? ((await this.isZarrStore(child)) ? ZARR_MIMETYPE : undefined);
        // Only an adapter of folders opens a folder; `data.csv/` is still a container.
        if (mimetype && this.registry.lookup(mimetype)?.directory) {
          add(this.key(child.name), { mimetype, paths: [child.path], directory: true, stamp: child.stamp });
        } else {
          add(this.key(child.name), { mimetype: null, paths: [child.path], directory: true, stamp: child.stamp });
        }
        continue;
      }
      const suffixes = suffixesOf(child.name);
      const last = suffixes[suffixes.length - 1];
      if (this.options.includeExt && !this.options.includeExt.includes(last ?? '')) continue;
      const sequence = last ? SEQUENCE_PATTERNS.get(last) : undefined;
      const match = sequence?.pattern.exec(child.name);
      if (sequence && match) {
        const name = match[1] === '' ? '_unnamed' : match[1];
        const group = sequences.get(name) ?? { mimetype: sequence.mimetype, files: [] };
        group.files.push(child);
        sequences.set(name, group);
        continue;
      }
      const mimetype = this.registry.mimetypeOf(child.name);
      if (!mimetype) {
        this.logger.log(`Skipping ${this.rel(child.path)}: no mimetype known for its extension`);
      } else if (!this.registry.lookup(mimetype) || this.registry.lookup(mimetype)?.directory) {
        this.logger.log(`Skipping ${this.rel(child.path)}: no adapter of files for ${mimetype}`);
      } else {
        add(this.key(child.name), { mimetype, paths: [child.path], directory: false, stamp: child.stamp });
      }
    }
    for (const [name, group] of sequences) {
      // Tiled sorts the sequence by file name as a string: frame_10 sorts before frame_2 unless zero-padded.
      const files = group.files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      if (!this.registry.lookup(group.mimetype)) {
        this.logger.log(`Skipping the sequence ${this.rel(join(folder, name))}*: no adapter for ${group.mimetype}`);
        continue;
      }
      add(this.key(name), { mimetype: group.mimetype, paths: files.map((f) => f.path), directory: false, stamp: files.map((f) => f.stamp).join('|') });
    }
    const subfolders: WalkEntry[] = [];
    for (const [key, list] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (list.length > 1) {
        this.logger.warn(`Collision: ${list.map((e) => this.rel(e.paths[0])).join(', ')} would all be served as "${[...segments, key].join('/')}"; skipping all of them`);
        continue;
      }
      yield list[0];
      if (list[0].mimetype === null) subfolders.push(list[0]);
    }
    for (const sub of subfolders) {
      yield* this.walk(sub.paths[0], sub.segments, new Set([...ancestors, sub.paths[0]]));
    }
  }
}

/** The served directory, resolved; a ConfigError-like message when it is not a readable directory. */
export async function resolveRoot(dir: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(resolve(dir));
  } catch {
    throw new AdapterError(`${dir} does not exist`, 404);
  }
  if (!(await stat(real)).isDirectory()) throw new AdapterError(`${dir} is not a directory`, 400);
  return real;
}

/**
 * Walk `dir`, yielding a container entry for each sub-folder (before its contents) and an entry for each
 * file, sequence or Zarr store an adapter is registered for: what `tiled register` turns into catalog nodes.
 */
export async function* walkDirectory(dir: string, options: DirectoryOptions = {}): AsyncGenerator<WalkEntry> {
  const root = await resolveRoot(dir);
  yield* new Walker(root, options).walk(root, [], new Set([root]));
}

interface Folder {
  readonly children: Map<string, Folder | WalkEntry>;
}

type Opened = { node: TreeNode } | { error: TiledHttpError };

/** What a client is told about a node that failed: its status, and a message naming the file by its path in the folder. */
function httpErrorOf(error: unknown, what: string, root: string | undefined): TiledHttpError {
  // Messages of Node and of libraries may carry absolute paths; the client learns only paths inside the folder.
  const clean = (message: string): string => (root ? message.split(root + sep).join('').split(root).join('.') : message);
  if (error instanceof TiledHttpError) return error;
  const status = (error as { status?: unknown })?.status;
  if (error instanceof AdapterError || ((error as Error)?.name === 'AdapterError' && typeof status === 'number')) {
    return new TiledHttpError((error as AdapterError).status, `${what}: ${clean((error as Error).message)}`);
  }
  const code = (error as { code?: unknown })?.code;
  if (code === 'ENOENT') return new TiledHttpError(404, `${what}: the file no longer exists`);
  if (code === 'EACCES' || code === 'EPERM') return new TiledHttpError(500, `${what}: the file cannot be read (permission denied)`);
  return new TiledHttpError(500, `${what}: ${clean(error instanceof Error ? error.message.split('\n')[0] : String(error))}`);
}

/**
 * A folder served as a tree, re-walked on `refresh()` (and on file changes with `watch()`). Folder nodes are
 * live views (`cacheable: false`); a file's node is opened on first use and kept while its stamp (mtime,
 * size) is unchanged, so a changed file gets a new node object and no cache serves its old content.
 */
export class DirectoryIndex {
  readonly root: ContainerNode;
  private snapshot: Folder = { children: new Map() };
  private readonly opened = new Map<string, Promise<Opened>>();
  private readonly folderNodes = new Map<string, ContainerNode>();
  private readonly guarded = new WeakMap<TreeNode, TreeNode>();
  private readonly logger: WalkLogger;
  private readonly registry: AdapterRegistry;
  private watching?: { onRefresh?: (count: number) => void; debounceMs: number; timer?: NodeJS.Timeout };
  private readonly watchers = new Map<string, FSWatcher>();
  /** The real paths of the served folder and every sub-folder the last walk entered. */
  private folderPaths: string[] = [];
  private refreshing?: Promise<number>;
  private again = false;
  private rootPath?: string;

  constructor(
    private readonly dir: string,
    private readonly options: DirectoryOptions = {},
  ) {
    this.logger = options.logger ?? nestLogger();
    this.registry = options.registry ?? createAdapterRegistry();
    this.root = this.folderNode([]);
  }

  /** Walk the folder again and serve what it holds now; returns the number of entries. Calls are serialized. */
  refresh(): Promise<number> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    const run = async (): Promise<number> => {
      let count: number;
      do {
        this.again = false;
        count = await this.walkOnce();
      } while (this.again);
      return count;
    };
    this.refreshing = run().finally(() => (this.refreshing = undefined));
    return this.refreshing;
  }

  private async walkOnce(): Promise<number> {
    this.rootPath ??= await resolveRoot(this.dir);
    const root: Folder = { children: new Map() };
    const folders = new Map<string, Folder>([['', root]]);
    const stamps = new Set<string>();
    const folderPaths = [this.rootPath];
    let count = 0;
    for await (const entry of new Walker(this.rootPath, { ...this.options, registry: this.registry, logger: this.logger }).walk(this.rootPath, [], new Set([this.rootPath]))) {
      const parent = folders.get(entry.segments.slice(0, -1).join('/'));
      if (!parent) continue;
      const key = entry.segments[entry.segments.length - 1];
      if (entry.mimetype === null) {
        const folder: Folder = { children: new Map() };
        folders.set(entry.segments.join('/'), folder);
        parent.children.set(key, folder);
        folderPaths.push(entry.paths[0]);
      } else {
        parent.children.set(key, entry);
        stamps.add(this.cacheKey(entry));
      }
      count++;
    }
    this.snapshot = root;
    this.folderPaths = folderPaths;
    this.syncWatchers();
    for (const key of this.opened.keys()) if (!stamps.has(key)) this.opened.delete(key);
    return count;
  }

  /**
   * Re-walk (debounced) whenever something in a served folder changes, until close(). Each folder has its
   * own watcher, kept in step with the walk: unlike a recursive watch, these can all be unref'd (so
   * `tiled admin check-config` of a watched folder still exits) and follow folders reached through links.
   */
  watch(onRefresh?: (count: number) => void, debounceMs = 300): void {
    if (this.watching) return;
    this.watching = { onRefresh, debounceMs };
    this.syncWatchers();
  }

  close(): void {
    clearTimeout(this.watching?.timer);
    this.watching = undefined;
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }

  private readonly changed = (): void => {
    const watching = this.watching;
    if (!watching) return;
    clearTimeout(watching.timer);
    watching.timer = setTimeout(() => {
      this.refresh().then(
        (count) => watching.onRefresh?.(count),
        (error: unknown) => this.logger.warn(`Re-indexing ${this.dir} failed: ${(error as Error).message}`),
      );
    }, watching.debounceMs);
    watching.timer.unref();
  };

  private syncWatchers(): void {
    if (!this.watching) return;
    const wanted = new Set(this.folderPaths.length ? this.folderPaths : [resolve(this.dir)]);
    for (const [path, watcher] of this.watchers) {
      if (wanted.has(path)) continue;
      watcher.close();
      this.watchers.delete(path);
    }
    for (const path of wanted) {
      if (this.watchers.has(path)) continue;
      try {
        const watcher = watchFs(path, this.changed);
        // A watched folder that goes away ends its watcher; the walk that follows notices the rest.
        watcher.on('error', () => {
          watcher.close();
          this.watchers.delete(path);
          this.changed();
        });
        watcher.unref();
        this.watchers.set(path, watcher);
      } catch (error) {
        this.logger.warn(`Cannot watch ${this.relative(path) || '.'}: ${(error as Error).message}`);
      }
    }
  }

  private cacheKey(entry: WalkEntry): string {
    return `${entry.mimetype}\n${entry.paths.join('\n')}\n${entry.stamp}`;
  }

  private folderAt(segments: readonly string[]): Folder | undefined {
    let folder: Folder | WalkEntry | undefined = this.snapshot;
    for (const segment of segments) {
      folder = (folder as Folder).children?.get(segment);
      if (!folder || !('children' in folder)) return undefined;
    }
    return folder as Folder;
  }

  private folderNode(segments: readonly string[]): ContainerNode {
    const id = segments.join('/');
    let node = this.folderNodes.get(id);
    if (node) return node;
    node = {
      family: 'container',
      metadata: {},
      specs: [],
      cacheable: false,
      // A file that cannot be opened is left out of its folder's listing (as Tiled's registration skips
      // it); asking for it by name answers its error. Listing opens every child anyway, for its structure.
      keys: async () => {
        const folder = this.folderAt(segments);
        if (!folder) return [];
        const children = [...folder.children];
        const usable = new Array<boolean>(children.length);
        let next = 0;
        const worker = async (): Promise<void> => {
          while (next < children.length) {
            const i = next++;
            const child = children[i][1];
            usable[i] = 'children' in child || 'node' in (await this.open(child));
          }
        };
        await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, worker));
        return children.filter((_, i) => usable[i]).map(([key]) => key);
      },
      get: async (key) => {
        const child = this.folderAt(segments)?.children.get(key);
        if (!child) return undefined;
        if ('children' in child) return this.folderNode([...segments, key]);
        const opened = await this.open(child);
        if ('error' in opened) throw opened.error;
        return opened.node;
      },
    };
    this.folderNodes.set(id, node);
    return node;
  }

  private open(entry: WalkEntry): Promise<Opened> {
    const key = this.cacheKey(entry);
    let opened = this.opened.get(key);
    if (!opened) {
      const what = this.relative(entry.paths[0]) + (entry.paths.length > 1 ? ` (a sequence of ${entry.paths.length} files)` : '');
      const registration = this.registry.lookup(entry.mimetype!);
      opened = (async (): Promise<Opened> => {
        try {
          if (!registration) throw new AdapterError(`No adapter for ${entry.mimetype}`, 415);
          for (const path of entry.paths) await this.assertInside(path);
          const node = await registration.open({ paths: entry.paths, mimetype: entry.mimetype! });
          return { node: this.guard(node, what) };
        } catch (error) {
          const http = httpErrorOf(error, what, this.rootPath);
          this.logger.warn(`Cannot open ${what} as ${entry.mimetype}: ${http.message}`);
          return { error: http };
        }
      })();
      this.opened.set(key, opened);
    }
    return opened;
  }

  private relative(path: string): string {
    return this.rootPath ? relative(this.rootPath, path) : path;
  }

  /** The walk checked the path; a link swapped since then must not lead out either. */
  private async assertInside(path: string): Promise<void> {
    if (this.options.allowSymlinksOutside || !this.rootPath) return;
    const real = await realpath(path);
    if (real !== this.rootPath && !real.startsWith(this.rootPath + sep)) throw new AdapterError('The path now points outside the served directory', 404);
  }

  /** The same node with every read turned into a clear 4xx/5xx for this node alone, and logged. */
  private guard<T extends TreeNode>(node: T, what: string): T {
    const known = this.guarded.get(node);
    if (known) return known as T;
    const fail = (error: unknown): never => {
      const http = httpErrorOf(error, what, this.rootPath);
      this.logger.warn(`Cannot read ${what}: ${http.message}`);
      throw http;
    };
    // Every read of the node, its errors turned into the node's own clear answer.
    const reporting = <A extends unknown[], R>(read: (...args: A) => R | Promise<R>) =>
      async (...args: A): Promise<R> => {
        try {
          return await read(...args);
        } catch (error) {
          return fail(error);
        }
      };
    let wrapped: TreeNode;
    switch (node.family) {
      case 'table':
        wrapped = { ...node, readPartition: reporting(node.readPartition.bind(node)) };
        break;
      case 'array':
        wrapped = { ...node, readBlock: reporting(node.readBlock.bind(node)) };
        break;
      case 'sparse':
        wrapped = { ...node, readBlock: reporting(node.readBlock.bind(node)) };
        break;
      case 'container':
        wrapped = {
          ...node,
          keys: reporting(node.keys.bind(node)),
          get: async (key) => {
            let child: TreeNode | undefined;
            try {
              child = await node.get(key);
            } catch (error) {
              return fail(error);
            }
            return child && this.guard(child, `${what}/${key}`);
          },
        };
        break;
    }
    this.guarded.set(node, wrapped);
    return wrapped as T;
  }
}

/** Serve `dir` read-only through the adapter registry: walked once now, files opened when first asked for. */
export async function directoryTree(dir: string, options: DirectoryOptions = {}): Promise<ContainerNode> {
  const index = new DirectoryIndex(dir, options);
  await index.refresh();
  return index.root;
}
