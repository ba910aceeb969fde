import type { AdapterRegistry } from '../../adapters/registry';
import type { AccessBlob } from '../../plugins-api';
import type { Metadata, Spec, TreeNode } from '../tree/tree.types';
import type { CatalogStore, NodeRow } from './catalog-store';

/*
 * What the write routes need to know about served catalog nodes, kept apart from the catalog's database
 * and storage code: the catalog module imports this at every start, and a server of other trees must not
 * load TypeORM, the drivers or the storage formats (single-user cold start).
 */

/** A catalog being served: its database and where its data lives. */
export interface CatalogContext {
  store: CatalogStore;
  /** Directories new data is written under; empty: the catalog is read-only for data. */
  writableDirs: string[];
  /** Directories data may be read from (the writable ones included). */
  readableDirs: string[];
  /** Entries of writable_storage that are database URIs (Tiled's tabular storage), for appendable tables. */
  tabularStorage: string[];
  /** The served root, which the configuration describes and no row holds (Tiled's `RootNode`). */
  root: CatalogRoot;
  /** The catalog's own `adapters_by_mimetype`, for its registered files; undefined: the process-wide registry. */
  adapters?: AdapterRegistry;
}

/** The tree arguments `metadata`, `specs`, `top_level_access_blob` and `mount_node`, resolved. */
export interface CatalogRoot {
  metadata: Metadata;
  specs: Spec[];
  /** `top_level_access_blob`; undefined when not configured: then the root governs nothing (docs/access-control.md). */
  accessBlob: AccessBlob | undefined;
  /** The node `mount_node` names, whose children the root serves; null: the catalog's top level. */
  parentId: number | null;
  /** That node's path in the catalog: data of new nodes goes under the same path in the storage directories. */
  segments: string[];
}

/** The id the children of a served catalog node are stored under: its row's, or for the root the mounted node's. */
export function childParentId(handle: CatalogHandle): number | null {
  return handle.row ? handle.row.id : handle.context.root.parentId;
}

/** What the write routes need to know about a served catalog node. */
export interface CatalogHandle {
  context: CatalogContext;
  /** null: the catalog's root. */
  row: NodeRow | null;
  /** The node's path inside its catalog (its URL path may have a mount prefix). */
  segments: string[];
}

const handles = new WeakMap<TreeNode, CatalogHandle>();
/** Every catalog this process opened, so they can be closed: a PostgreSQL pool would otherwise keep the process alive. */
const opened = new Set<CatalogContext>();

export function registerCatalogNode(node: TreeNode, handle: CatalogHandle): void {
  handles.set(node, handle);
}

export function registerCatalog(context: CatalogContext): void {
  opened.add(context);
}

/** The catalog behind a served node, or undefined for nodes of other (read-only) trees. */
export function catalogHandle(node: TreeNode): CatalogHandle | undefined {
  return handles.get(node);
}

/** Close every catalog database (and SQL storage pool) this process opened: server shutdown, `admin check-config`, a failed start. */
export async function closeCatalogs(): Promise<void> {
  if (opened.size === 0) return;
  const all = [...opened];
  opened.clear();
  const { closeSqlStorage } = await import('../storage');
  await Promise.all([...all.map((context) => context.store.dataSource.destroy().catch(() => undefined)), closeSqlStorage().catch(() => undefined)]);
}
