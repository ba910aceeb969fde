import { realpath, stat } from 'node:fs/promises';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import type { AdapterRegistry } from '../../adapters/registry';
import { Logger } from '@nestjs/common';
import { DTYPES } from '../tree/dtype';
import type { DType, TreeNode } from '../tree/tree.types';
import type { DataSourceRow, NodeRow } from './catalog-store';
import type { CatalogContext } from './catalog-handle';

/*
 * Registered files: catalog nodes whose data source points at external assets (files the server did not
 * write). They are read through the adapter registry by mimetype, from the asset paths, as Tiled 0.2.16's
 * catalog does with `adapters_by_mimetype`; the node's metadata and specs are the catalog's.
 */

let registry: AdapterRegistry | undefined;
const logger = new Logger('Catalog');

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The registry `tiled serve directory` builds from its `--ext` and `--adapter` flags, for the catalog it serves. */
export function setExternalRegistry(value: AdapterRegistry): void {
  registry = value;
}

/**
 * The adapter registry a catalog's registered files open through: its own `adapters_by_mimetype`, else the
 * process-wide one (loaded on first use: adapters pull in their libraries).
 */
export async function externalRegistry(context: CatalogContext): Promise<AdapterRegistry> {
  if (context.adapters) return context.adapters;
  if (!registry) registry = (await import('../../adapters/registry')).createAdapterRegistry();
  return registry;
}

/** True when a node's data comes from registered (external) files. */
export function isExternal(sources: readonly DataSourceRow[]): boolean {
  return sources.length > 0 && sources[0].management === 'external';
}

/** The local path of a `file:` URI, or a 4xx naming what is wrong with it. */
export function pathOfUri(uri: string): string {
  if (!uri.startsWith('file:')) throw new TiledHttpError(400, `Only file: assets can be registered, got ${JSON.stringify(uri.slice(0, 200))}`);
  try {
    return fileURLToPath(uri.replace(/^file:\/\/localhost\//, 'file:///'));
  } catch {
    throw new TiledHttpError(400, `Not a valid file: URI: ${JSON.stringify(uri.slice(0, 200))}`);
  }
}

/**
 * The asset's real path if it lies inside one of the catalog's readable_storage directories (symbolic
 * links resolved, so a link cannot lead out); otherwise Tiled's refusal, as a 403.
 */
export async function ensureReadable(context: CatalogContext, uri: string): Promise<string> {
  const path = pathOfUri(uri);
  const refuse = (): never => {
    throw new TiledHttpError(
      403,
      `Refusing to serve ${uri} because it is outside the readable storage area for this server. Only files inside the catalog's readable_storage may be registered.`,
    );
  };
  let real: string;
  try {
    real = await realpath(path);
  } catch {
    // A missing file is refused by where it would be; the adapter reports it missing if it is inside.
    real = path;
  }
  for (const dir of context.readableDirs) {
    const root = await realpath(dir).catch(() => dir);
    if (real === root || real.startsWith(root + sep)) return real;
  }
  return refuse();
}

/** Opened registered files, by data source, mimetype, paths and the files' mtime and size; oldest dropped first. */
const opened = new Map<string, Promise<TreeNode>>();
export const OPENED_CACHE_SIZE = 128;

/**
 * Every request locates its node afresh; opening a file (parsing a CSV, an HDF5 file's headers) once per
 * request would make each read pay for it. A changed file has a new stamp and is opened again.
 */
async function openCached(source: DataSourceRow, paths: readonly string[], open: () => Promise<TreeNode>): Promise<TreeNode> {
  const stamps = await Promise.all(paths.map((p) => stat(p).then((s) => `${s.mtimeMs}:${s.size}`, () => 'missing')));
  const key = `${source.id}\u0000${source.mimetype}\u0000${paths.join('\u0000')}\u0000${stamps.join(',')}`;
  let node = opened.get(key);
  if (!node) {
    node = open();
    opened.set(key, node);
    // A failed open is not kept: the next request tries again (the file may be back).
    node.catch(() => opened.delete(key));
    if (opened.size > OPENED_CACHE_SIZE) opened.delete(opened.keys().next().value!);
  }
  return node;
}

/** Open a registered node through the adapter of its data source's mimetype, with the catalog's metadata. */
export async function externalNode(context: CatalogContext, row: NodeRow, sources: DataSourceRow[]): Promise<TreeNode> {
  const [source] = sources;
  const { AdapterError } = await import('../../adapters/adapter.types');
  const { dataSourceDocument } = await import('./catalog-data-nodes');
  const adapters = await externalRegistry(context);
  const registration = source.mimetype ? adapters.lookup(source.mimetype) : undefined;
  if (!registration) throw new AdapterError(`Server configuration has no adapter for mimetype ${JSON.stringify(source.mimetype)}`, 415);
  const assets = [...source.assets].sort((a, b) => (a.num ?? 0) - (b.num ?? 0));
  const paths: string[] = [];
  for (const asset of assets) paths.push(await ensureReadable(context, asset.dataUri));
  const common = { metadata: row.metadata, specs: row.specs, accessBlob: row.accessBlob, cacheable: false, dataSources: () => sources.map(dataSourceDocument) };
  try {
    return { ...(await openCached(source, paths, () => registration.open({ paths, mimetype: source.mimetype! }))), ...common };
  } catch (error) {
    let failure: Error;
    if (error instanceof TiledHttpError || error instanceof AdapterError) failure = error;
    else if ((error as { code?: unknown })?.code === 'ENOENT') failure = new AdapterError(`The registered file of ${row.key} no longer exists`, 404);
    else failure = new AdapterError(`Cannot open the registered file of ${row.key} as ${source.mimetype}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`, 500);
    logger.warn(`Registered node ${JSON.stringify(row.key)} (${paths.join(', ')}): ${failure.message}`);
    return { ...brokenNode(row.structureFamily, source.structure, failure), ...common };
  }
}

/**
 * A registered node whose file cannot be opened any more (deleted, truncated): its catalog record is still
 * listed and can be deleted, and every read of its data answers with the error, for this node only.
 */
function brokenNode(family: string, structure: Record<string, unknown> | null, failure: Error): DistributiveOmit<TreeNode, 'metadata'> {
  const fail = (): never => {
    throw failure;
  };
  if (family === 'array' && structure) {
    const type = structure.data_type as { kind?: string; itemsize?: number } | undefined;
    const dtype = (Object.keys(DTYPES) as DType[]).find((d) => DTYPES[d].kind === type?.kind && DTYPES[d].itemsize === type?.itemsize) ?? 'float64';
    return { family: 'array', dtype, shape: structure.shape as number[], chunks: structure.chunks as number[][], readBlock: fail };
  }
  if (family === 'table' && structure) {
    const columns = Array.isArray(structure.columns) ? (structure.columns as string[]) : [];
    return { family: 'table', columns: columns.map((name) => ({ name, type: 'string' as const })), npartitions: Number(structure.npartitions) || 1, readPartition: fail };
  }
  return { family: 'container', keys: fail, get: fail };
}
