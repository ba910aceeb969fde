import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ContainerNode, TreeNode } from '../tree/tree.types';
import { CatalogDatabaseError, openCatalogDatabase } from './catalog-database';
import { CatalogStore, NodeRow } from './catalog-store';
import { CatalogContext, registerCatalog, registerCatalogNode } from './catalog-handle';
import { dataNodeFor, dataSourceDocument } from './catalog-data-nodes';
import { externalNode, isExternal } from './register-external';

export { dataSourceDocument };

export { catalogHandle, closeCatalogs } from './catalog-handle';
export type { CatalogContext, CatalogHandle } from './catalog-handle';

/** Tiled's sorting of a SQL catalog: the empty key, i.e. creation order. */
const CATALOG_SORTING = [{ key: '', direction: 1 }] as const;


/**
 * A catalog node as the tree contract wants it. Every lookup builds new node objects from the database,
 * and none is cacheable: after any write the next request sees the new state.
 */
export async function catalogNode(context: CatalogContext, row: NodeRow | null, segments: string[]): Promise<TreeNode> {
  let node: TreeNode;
  const sources = row ? await context.store.dataSources(row.id) : [];
  // Registered files (POST /register) read through the adapter registry, containers (HDF5, Zarr) included.
  if (row && isExternal(sources)) node = await externalNode(context, row, sources);
  else if (row === null || row.structureFamily === 'container') node = containerFor(context, row, segments);
  else node = await dataNodeFor(context, row, sources);
  registerCatalogNode(node, { context, row, segments });
  return node;
}

function containerFor(context: CatalogContext, row: NodeRow | null, segments: string[]): ContainerNode {
  const parentId = row?.id ?? null;
  // Nothing is memoised on the node: the root object lives as long as the server, and every read must
  // see the writes committed before it.
  return {
    family: 'container',
    metadata: row?.metadata ?? {},
    specs: row?.specs ?? [],
    accessBlob: row?.accessBlob ?? {},
    sorting: CATALOG_SORTING,
    cacheable: false,
    keys: async () => (await context.store.children(parentId)).map((r) => r.key),
    get: async (key) => {
      const child = await context.store.child(parentId, key);
      return child ? catalogNode(context, child, [...segments, key]) : undefined;
    },
    dataSources: async () => (row ? (await context.store.dataSources(row.id)).map(dataSourceDocument) : []),
  };
}

function storageList(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  // Tiled's older spelling: a mapping whose values are the locations.
  if (typeof value === 'object' && Object.values(value).every((v) => typeof v === 'string')) return Object.values(value) as string[];
  throw new CatalogDatabaseError(`catalog ${name}: expected a directory or a list of directories, got ${JSON.stringify(value)}`);
}

const CATALOG_ARGS: ReadonlySet<string> = new Set(['uri', 'writable_storage', 'readable_storage', 'init_if_not_exists']);

const DATABASE_URI = /^(sqlite|duckdb|postgresql|postgres)(\+[a-z0-9_]+)?:\/\//i;

function directoryOf(location: string, baseDir: string): string {
  if (location.startsWith('file:')) return fileURLToPath(location.replace(/^file:\/\/localhost\//, 'file:///'));
  return isAbsolute(location) ? location : resolve(baseDir, location);
}

/**
 * Tiled's `tiled.catalog:from_uri`: open (and, if asked, initialise) the catalog database and serve it.
 * `args` as in a Tiled configuration: uri, writable_storage, readable_storage, init_if_not_exists.
 */
export async function catalogFromArgs(args: Record<string, unknown>, baseDir: string): Promise<{ root: TreeNode; context: CatalogContext }> {
  // Tiled's pool settings have no meaning here; anything else it accepts would change what is served.
  const unknown = Object.keys(args).filter((k) => !CATALOG_ARGS.has(k) && !/^(catalog|storage)_(pool_size|max_overflow)$/.test(k));
  if (unknown.length) throw new CatalogDatabaseError(`${unknown.join(', ')}: not supported by tiled-ts; a catalog takes uri, writable_storage, readable_storage and init_if_not_exists`);
  const uri = args.uri;
  if (typeof uri !== 'string' || uri === '') throw new CatalogDatabaseError("a catalog tree needs args.uri, the catalog database (e.g. sqlite:///catalog.db or postgresql://…)");
  const writable = storageList(args.writable_storage, 'writable_storage');
  const readable = storageList(args.readable_storage, 'readable_storage');
  // Relative SQLite paths resolve against the configuration's directory, as every other path does.
  const tabularStorage = writable.filter((w) => DATABASE_URI.test(w)).map((w) => w.replace(/^(sqlite(?:\+[a-z0-9_]+)?:\/\/\/)(?!\/)(?!:memory:)(.+)$/i, (_m, scheme: string, path: string) => `${scheme}${resolve(baseDir, path)}`));
  const writableDirs = writable.filter((w) => !DATABASE_URI.test(w)).map((w) => directoryOf(w, baseDir));
  const readableDirs = [...writableDirs, ...readable.map((r) => directoryOf(r, baseDir))];
  const dataSource = await openCatalogDatabase(uri, { initIfNotExists: args.init_if_not_exists === true, cwd: baseDir });
  const context: CatalogContext = { store: new CatalogStore(dataSource), writableDirs, readableDirs, tabularStorage };
  registerCatalog(context);
  return { root: await catalogNode(context, null, []), context };
}
