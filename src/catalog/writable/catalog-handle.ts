import type { TreeNode } from '../tree/tree.types';
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
