import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CatalogDatabaseError, openCatalogDatabase } from './catalog-database';
import { CatalogStore } from './catalog-store';
import type { DataSourceRow, NodeRow } from './catalog-store';
import { distinctChildren, searchChildren, visibleChildCounts } from './sql-search';
import type { NodeRow as SearchRow } from './sql-search';
import type { AdapterRegistry } from '../../adapters/registry';
import type { AccessBlob } from '../../plugins-api';
import type { ContainerNode, Metadata, Spec, TreeNode } from '../tree/tree.types';
import { CatalogContext, CatalogRoot, registerCatalog, registerCatalogNode } from './catalog-handle';
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
  // Containers have data sources too when they are registered files (an HDF5 file, a Zarr group).
  const sources = row === null ? [] : await context.store.dataSources(row.id);
  return nodeOf(context, row, segments, sources);
}

/**
 * A node from its row (and its data sources; for a container, maybe its number of children) without
 * further queries.
 */
async function nodeOf(context: CatalogContext, row: NodeRow | null, segments: string[], sources: DataSourceRow[], childCount?: ChildCount): Promise<TreeNode> {
  let node: TreeNode;
  // Registered files (POST /register) read through the adapter registry, containers (HDF5, Zarr) included.
  if (row && isExternal(sources)) node = await externalNode(context, row, sources);
  else if (row === null || row.structureFamily === 'container') node = containerFor(context, row, segments, childCount);
  else node = await dataNodeFor(context, row, sources);
  registerCatalogNode(node, { context, row, segments });
  return node;
}

/** sql-search's row as the store's, for a child of `parent`. */
function storeRow(row: SearchRow, parent: number | null): NodeRow {
  return {
    id: row.id,
    key: row.key,
    parent,
    structureFamily: row.structure_family,
    metadata: row.metadata,
    specs: row.specs,
    accessBlob: (row.access_blob ?? {}) as Record<string, unknown>,
    timeCreated: new Date(Number(row.time_created)),
    timeUpdated: new Date(Number(row.time_updated)),
  };
}

/**
 * The number of children read with the page a container came in, so rendering a page of containers (each
 * with its `count`) does not cost one query per container: `filters` is the JSON of the filters it was
 * counted under (none, or the access policy's view), and it answers a count under exactly those. The node
 * lives for one request, so it cannot go stale.
 */
interface ChildCount {
  count: number;
  filters: string;
}

function containerFor(context: CatalogContext, row: NodeRow | null, segments: string[], childCount?: ChildCount): ContainerNode {
  const parentId = row ? row.id : context.root.parentId;
  const dataSource = context.store.dataSource;
  // Nothing is memoised on the node: the root object lives as long as the server, and every read must
  // see the writes committed before it.
  return {
    family: 'container',
    metadata: row ? row.metadata : context.root.metadata,
    specs: row ? row.specs : context.root.specs,
    accessBlob: row ? row.accessBlob : (context.root.accessBlob ?? {}),
    sorting: CATALOG_SORTING,
    cacheable: false,
    keys: () => context.store.childKeys(parentId),
    get: async (key) => {
      const child = await context.store.child(parentId, key);
      return child ? catalogNode(context, child, [...segments, key]) : undefined;
    },
    // One query for the page (filters, the policy's view, sort and paging all in SQL), then one each for
    // the data sources of the page's nodes and the child counts of its containers.
    search: async (request) => {
      if (childCount !== undefined && request.limit === 0 && request.lookups.length === 0 && JSON.stringify(request.filters) === childCount.filters) {
        return { count: childCount.count, entries: [] };
      }
      const { count, rows } = await searchChildren(dataSource, parentId, request, request.sorting, request.offset, request.limit);
      const children = rows.map((r) => storeRow(r, parentId));
      const ids = children.map((c) => c.id);
      const containerIds = children.filter((c) => c.structureFamily === 'container').map((c) => c.id);
      // Every row's data sources: registered files are containers with one (an HDF5 file, a Zarr group).
      const sources = ids.length ? await context.store.dataSourcesOf(ids) : new Map<number, DataSourceRow[]>();
      // A container's `count` is what the caller's view shows (the policy's filters, not the search's): under a
      // policy the page's containers are counted as the caller sees them, still in one query.
      const view = request.filters.filter((f) => f.type === 'access_blob_filter');
      const counts = view.length === 0 ? await context.store.childCounts(containerIds) : await visibleChildCounts(dataSource, containerIds, view);
      const countedUnder = JSON.stringify(view);
      const entries: { key: string; node: TreeNode }[] = [];
      for (const child of children) {
        const count = child.structureFamily === 'container' && counts ? { count: counts.get(child.id) ?? 0, filters: countedUnder } : undefined;
        entries.push({ key: child.key, node: await nodeOf(context, child, [...segments, child.key], sources.get(child.id) ?? [], count) });
      }
      return { count, entries };
    },
    distinct: (request) => distinctChildren(dataSource, parentId, request, request),
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

const CATALOG_ARGS: ReadonlySet<string> = new Set([
  'uri',
  'writable_storage',
  'readable_storage',
  'init_if_not_exists',
  'metadata',
  'specs',
  'top_level_access_blob',
  'mount_node',
  'adapters_by_mimetype',
]);

const DATABASE_URI = /^(sqlite|duckdb|postgresql|postgres)(\+[a-z0-9_]+)?:\/\//i;

function directoryOf(location: string, baseDir: string): string {
  if (location.startsWith('file:')) return fileURLToPath(location.replace(/^file:\/\/localhost\//, 'file:///'));
  return isAbsolute(location) ? location : resolve(baseDir, location);
}

/**
 * Tiled's `tiled.catalog:from_uri`: open (and, if asked, initialise) the catalog database and serve it.
 * `args` as in a Tiled configuration (docs/configuration.md).
 */
export async function catalogFromArgs(args: Record<string, unknown>, baseDir: string): Promise<{ root: TreeNode; context: CatalogContext }> {
  // Tiled's pool settings have no meaning here; anything else it accepts would change what is served.
  const unknown = Object.keys(args).filter((k) => !CATALOG_ARGS.has(k) && !/^(catalog|storage)_(pool_size|max_overflow)$/.test(k));
  if (unknown.length) throw new CatalogDatabaseError(`${unknown.join(', ')}: not supported by tiled-ts; a catalog takes ${[...CATALOG_ARGS].join(', ')}`);
  const uri = args.uri;
  if (typeof uri !== 'string' || uri === '') throw new CatalogDatabaseError("a catalog tree needs args.uri, the catalog database (e.g. sqlite:///catalog.db or postgresql://…)");
  const settings = rootSettings(args);
  const adapters = await catalogAdapters(args.adapters_by_mimetype, baseDir);
  const writable = storageList(args.writable_storage, 'writable_storage');
  const readable = storageList(args.readable_storage, 'readable_storage');
  // Relative SQLite paths resolve against the configuration's directory, as every other path does.
  const tabularStorage = writable.filter((w) => DATABASE_URI.test(w)).map((w) => w.replace(/^(sqlite(?:\+[a-z0-9_]+)?:\/\/\/)(?!\/)(?!:memory:)(.+)$/i, (_m, scheme: string, path: string) => `${scheme}${resolve(baseDir, path)}`));
  const writableDirs = writable.filter((w) => !DATABASE_URI.test(w)).map((w) => directoryOf(w, baseDir));
  const readableDirs = [...writableDirs, ...readable.map((r) => directoryOf(r, baseDir))];
  const dataSource = await openCatalogDatabase(uri, { initIfNotExists: args.init_if_not_exists === true, cwd: baseDir });
  const store = new CatalogStore(dataSource);
  const context: CatalogContext = { store, writableDirs, readableDirs, tabularStorage, adapters, root: { ...settings, parentId: null, segments: [] } };
  registerCatalog(context);
  if (settings.mountPath.length) context.root = { ...context.root, ...(await mountedNode(store, settings.mountPath)) };
  return { root: await catalogNode(context, null, context.root.segments), context };
}

type RootSettings = Pick<CatalogRoot, 'metadata' | 'specs' | 'accessBlob'> & { mountPath: string[] };

/** `metadata`, `specs`, `top_level_access_blob` and `mount_node` as Tiled's `CatalogConfig` spells them. */
function rootSettings(args: Record<string, unknown>): RootSettings {
  const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
  const { metadata, specs, top_level_access_blob: blob, mount_node: mount } = args;
  if (metadata !== undefined && metadata !== null && !isMapping(metadata)) throw new CatalogDatabaseError(`metadata: expected a mapping, got ${JSON.stringify(metadata)}`);
  let specList: Spec[] = [];
  if (specs !== undefined && specs !== null) {
    const valid = Array.isArray(specs) && specs.every((spec) => typeof spec === 'string' || (isMapping(spec) && typeof spec.name === 'string'));
    if (!valid) throw new CatalogDatabaseError(`specs: expected a list of spec names or {name, version} mappings, got ${JSON.stringify(specs)}`);
    specList = (specs as unknown[]).map((spec) => (typeof spec === 'string' ? { name: spec, version: null } : { name: String((spec as Spec).name), version: (spec as Spec).version ?? null }));
  }
  if (blob !== undefined && blob !== null) {
    const fields: Record<string, unknown> = isMapping(blob) ? blob : { '?': blob };
    const keys = Object.keys(fields);
    const tagsOk = keys.join() === 'tags' && Array.isArray(fields.tags) && fields.tags.every((tag) => typeof tag === 'string');
    const userOk = keys.join() === 'user' && typeof fields.user === 'string';
    if (keys.length > 0 && !tagsOk && !userOk) throw new CatalogDatabaseError(`top_level_access_blob: expected {"tags": [tag, …]} or {"user": name}, got ${JSON.stringify(blob)}`);
  }
  let mountPath: string[] = [];
  if (mount !== undefined && mount !== null) {
    if (typeof mount === 'string') mountPath = mount.split('/').filter(Boolean);
    else if (Array.isArray(mount) && mount.every((segment) => typeof segment === 'string' && segment !== '')) mountPath = mount as string[];
    else throw new CatalogDatabaseError(`mount_node: expected a path such as /raw/2026 or a list of keys, got ${JSON.stringify(mount)}`);
  }
  return { metadata: (metadata as Metadata | null) ?? {}, specs: specList, accessBlob: (blob as AccessBlob | null) ?? undefined, mountPath };
}

/** The node `mount_node` names. Tiled would serve an empty root for a missing one; a typo is likelier, so it is refused. */
async function mountedNode(store: CatalogStore, path: string[]): Promise<Pick<CatalogRoot, 'parentId' | 'segments'>> {
  let parentId: number | null = null;
  for (let depth = 0; depth < path.length; depth++) {
    const row = await store.child(parentId, path[depth]);
    if (!row) throw new CatalogDatabaseError(`mount_node: the catalog has no node /${path.slice(0, depth + 1).join('/')}`);
    if (row.structureFamily !== 'container') throw new CatalogDatabaseError(`mount_node: /${path.slice(0, depth + 1).join('/')} is a ${row.structureFamily}, not a container`);
    parentId = row.id;
  }
  return { parentId, segments: path };
}

/** A catalog's own `adapters_by_mimetype` (Tiled's catalog argument), on top of the built-in adapters. */
async function catalogAdapters(mapping: unknown, baseDir: string): Promise<AdapterRegistry | undefined> {
  if (mapping === undefined || mapping === null) return undefined;
  const { AdapterConfigError, createAdapterRegistry, loadAdapters } = await import('../../adapters/registry');
  try {
    return createAdapterRegistry({ adapters: await loadAdapters(mapping, { keyPath: 'adapters_by_mimetype', baseDir }) });
  } catch (error) {
    if (error instanceof AdapterConfigError) throw new CatalogDatabaseError(error.message);
    throw error;
  }
}
