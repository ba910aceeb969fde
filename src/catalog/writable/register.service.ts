import type { RequestAccess } from '../access/node-access';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TiledHttpError } from '../../common/errors/tiled-http.error';
import { CatalogService } from '../catalog.service';
import { dataStructureOf } from '../data/structure';
import type { TreeNode } from '../tree/tree.types';
import { catalogHandle, childParentId } from './catalog-handle';
import { KeyCollision, type DataSourceRow } from './catalog-store';
import { checkKey, linksFor } from './catalog-write.service';
import type { PutDataSourceDto, RegisterNodeDto } from '../dto/catalog-write-bodies.dto';
import { ensureReadable, externalRegistry, isExternal } from './register-external';

type Json = Record<string, unknown>;

/** The structure document of an opened node, as the data source stores it (Tiled's client sends the same). */
function structureOf(node: TreeNode): Json | null {
  return node.family === 'container' ? null : (dataStructureOf(node) as Json);
}

/** POST /register/{path} (Tiled 0.2.16): a node whose data is files outside the server's own storage. */
@Injectable()
export class RegisterService {
  constructor(private readonly catalog: CatalogService) {}

  async register(pathText: string | undefined, body: RegisterNodeDto, base: string, access: RequestAccess | null): Promise<Json> {
    const { family, metadata, specs, sources } = body;
    const path = pathText ?? '';
    // As POST /metadata: the route's scopes on the parent, and a bound key only inside its subtree.
    const located = await this.catalog.locate(pathText, access, ['write:metadata', 'create:node', 'register']);
    const handle = catalogHandle(located.node);
    if (!handle) throw new TiledHttpError(405, `Data cannot be registered at the path ${path}`);
    if (located.node.family !== 'container') throw new TiledHttpError(405, `Cannot register a node under ${path}: it is a ${located.node.family}, and only containers have children`);
    if (handle.row && isExternal(await handle.context.store.dataSources(handle.row.id))) {
      throw new TiledHttpError(405, `Cannot register a node under ${path}: it is a registered file, whose children come from the file`);
    }
    const key = body.id ?? randomUUID();
    checkKey(key);

    // Opened now, before anything is stored: a file the server cannot read, or a mimetype it has no adapter
    // for, is refused here instead of becoming a node that fails on every read.
    const adapters = await externalRegistry(handle.context);
    for (const source of sources) {
      const registration = adapters.lookup(source.mimetype);
      if (!registration) throw new TiledHttpError(415, `The given data source mimetype, ${source.mimetype}, is not one that the Tiled server knows how to read.`);
      const paths = [];
      for (const asset of [...source.assets].sort((a, b) => (a.num ?? 0) - (b.num ?? 0))) paths.push(await ensureReadable(handle.context, asset.dataUri));
      const node = await registration.open({ paths, mimetype: source.mimetype });
      if (node.family !== family) throw new TiledHttpError(422, `The file opens as a ${node.family} with ${source.mimetype}, not as the ${family} registered`);
      source.structureFamily = node.family;
      source.structure ??= structureOf(node);
    }

    const blob = await this.catalog.access.initBlob(access, body.accessBlob);
    const parentId = childParentId(handle);
    const segments = [...handle.segments, key];
    let stored: DataSourceRow[];
    try {
      stored = await handle.context.store.write(async (tx) => {
        const node = await tx.insertNode(parentId, key, family, metadata, specs, blob.accessBlob);
        const out: DataSourceRow[] = [];
        for (const source of sources) {
          const row = { structureFamily: source.structureFamily, structure: source.structure, mimetype: source.mimetype, parameters: source.parameters, properties: source.properties, management: 'external' as const };
          const id = await tx.insertDataSource(node.id, row);
          const assets = [];
          for (const asset of source.assets) assets.push({ ...asset, id: await tx.insertAsset(id, asset), size: null });
          out.push({ id, ...row, assets });
        }
        return out;
      });
    } catch (error) {
      if (error instanceof KeyCollision) throw new TiledHttpError(409, `/${segments.join('/')}`);
      throw error;
    }
    // Loaded on first use, as the other write routes do: a server of other trees never loads the storage formats.
    const { dataSourceDocument } = await import('./catalog-data-nodes');
    const response: Json = { id: key, links: linksFor(family, stored[0]?.structure ?? null, base, `${path}/${key}`), data_sources: stored.map(dataSourceDocument) };
    if (blob.modified) response.access_blob = blob.accessBlob;
    return response;
  }

  /**
   * PUT /data_source/{path} (Tiled 0.2.16): replace the description of one of the node's registered data
   * sources and add assets to it, e.g. new frames of an image sequence. The files are opened first.
   */
  async putDataSource(pathText: string | undefined, body: PutDataSourceDto, access: RequestAccess | null): Promise<void> {
    const { id, source } = body;
    const located = await this.catalog.locate(pathText, access, ['write:metadata', 'register']);
    const handle = catalogHandle(located.node);
    if (!handle?.row) throw new TiledHttpError(405, 'This node does not support a put of data sources.');
    const row = handle.row;
    const current = (await handle.context.store.dataSources(row.id)).find((d) => d.id === id);
    if (!current) throw new TiledHttpError(404, `No data_source ${id} on this node.`);
    if (current.management !== 'external') throw new TiledHttpError(405, 'tiled-ts replaces only the data sources of registered files (management "external"); write data through the data routes');
    const adapters = await externalRegistry(handle.context);
    const registration = adapters.lookup(source.mimetype);
    if (!registration) throw new TiledHttpError(415, `The given data source mimetype, ${source.mimetype}, is not one that the Tiled server knows how to read.`);
    const known = new Set(current.assets.map((a) => a.dataUri));
    const all = [...current.assets, ...source.assets.filter((a) => !known.has(a.dataUri))].sort((a, b) => (a.num ?? 0) - (b.num ?? 0));
    const paths = [];
    for (const asset of all) paths.push(await ensureReadable(handle.context, asset.dataUri));
    const node = await registration.open({ paths, mimetype: source.mimetype });
    if (node.family !== row.structureFamily) throw new TiledHttpError(422, `The files open as a ${node.family} with ${source.mimetype}, not as the node's ${row.structureFamily}`);
    const replaced = await handle.context.store.write((tx) =>
      tx.replaceDataSource(
        row.id,
        { id, structureFamily: node.family, structure: source.structure ?? structureOf(node), mimetype: source.mimetype, parameters: source.parameters, properties: source.properties, management: 'external' },
        source.assets,
      ),
    );
    if (!replaced) throw new TiledHttpError(404, `No data_source ${id} on this node.`);
  }
}
