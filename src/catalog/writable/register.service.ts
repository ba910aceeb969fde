import type { RequestAccess } from '../access/node-access';
import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { TiledHttpError, UnprocessableError } from '../../common/errors/tiled-http.error';
import { CatalogService } from '../catalog.service';
import { dataStructureOf } from '../data/structure';
import type { TreeNode } from '../tree/tree.types';
import { catalogHandle, childParentId } from './catalog-handle';
import { KeyCollision, type DataSourceRow } from './catalog-store';
import { checkKey, linksFor, parseSpecs } from './catalog-write.service';
import { ensureReadable, externalRegistry, isExternal } from './register-external';

type Json = Record<string, unknown>;

/** Most assets one data source may name (a long image sequence); bounds the work of one request. */
export const MAX_ASSETS = 100_000;
const FAMILIES = new Set(['container', 'array', 'table']);

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function problem(loc: (string | number)[], msg: string, input: unknown, type = 'value_error'): UnprocessableError {
  return new UnprocessableError([{ type, loc: ['body', ...loc], msg, input }]);
}

interface RegisteredAsset {
  dataUri: string;
  isDirectory: boolean;
  parameter: string | null;
  num: number | null;
}

interface RegisteredSource {
  structureFamily: string;
  structure: Json | null;
  mimetype: string;
  parameters: Json;
  properties: Json;
  assets: RegisteredAsset[];
}

/** The structure document of an opened node, as the data source stores it (Tiled's client sends the same). */
function structureOf(node: TreeNode): Json | null {
  return node.family === 'container' ? null : (dataStructureOf(node) as Json);
}

function parseAsset(value: unknown, loc: (string | number)[]): RegisteredAsset {
  if (!isObject(value)) throw problem(loc, 'Input should be a valid dictionary', value, 'dict_type');
  if (typeof value.data_uri !== 'string' || value.data_uri.length > 4096) throw problem([...loc, 'data_uri'], 'Input should be a file: URI of at most 4096 characters', value.data_uri ?? null);
  const num = value.num ?? null;
  if (num !== null && !Number.isSafeInteger(num)) throw problem([...loc, 'num'], 'Input should be a valid integer', num, 'int_type');
  const parameter = value.parameter ?? null;
  if (parameter !== null && typeof parameter !== 'string') throw problem([...loc, 'parameter'], 'Input should be a valid string', parameter, 'string_type');
  return { dataUri: value.data_uri, isDirectory: value.is_directory === true, parameter, num: num as number | null };
}

function parseSource(value: unknown, loc: (string | number)[], minAssets = 1): RegisteredSource {
  if (!isObject(value)) throw problem(loc, 'Input should be a valid dictionary', value, 'dict_type');
  const management = value.management ?? 'external';
  if (management !== 'external') throw problem([...loc, 'management'], "POST /register registers data sources managed outside the server ('external')", management);
  if (typeof value.mimetype !== 'string' || value.mimetype === '') throw problem([...loc, 'mimetype'], 'A registered data source needs the mimetype its adapter is chosen by', value.mimetype ?? null);
  const structure = value.structure ?? null;
  if (structure !== null && !isObject(structure)) throw problem([...loc, 'structure'], 'Input should be a valid dictionary', structure, 'dict_type');
  const parameters = value.parameters ?? {};
  if (!isObject(parameters)) throw problem([...loc, 'parameters'], 'Input should be a valid dictionary', parameters, 'dict_type');
  const properties = value.properties ?? {};
  if (!isObject(properties)) throw problem([...loc, 'properties'], 'Input should be a valid dictionary', properties, 'dict_type');
  const assets = value.assets ?? [];
  if (!Array.isArray(assets) || assets.length < minAssets || assets.length > MAX_ASSETS) {
    throw problem([...loc, 'assets'], `A registered data source names between ${minAssets} and ${MAX_ASSETS} assets`, Array.isArray(assets) ? `${assets.length} assets` : assets);
  }
  return {
    structureFamily: typeof value.structure_family === 'string' ? value.structure_family : '',
    structure,
    mimetype: value.mimetype,
    parameters,
    properties,
    assets: assets.map((a, i) => parseAsset(a, [...loc, 'assets', i])),
  };
}

/** POST /register/{path} (Tiled 0.2.16): a node whose data is files outside the server's own storage. */
@Injectable()
export class RegisterService {
  constructor(private readonly catalog: CatalogService) {}

  async register(pathText: string | undefined, body: unknown, base: string, access: RequestAccess | null): Promise<Json> {
    if (!isObject(body)) throw problem([], 'Input should be a valid dictionary or object to extract fields from', body, 'model_attributes_type');
    const family = body.structure_family;
    if (typeof family !== 'string' || !FAMILIES.has(family)) throw problem(['structure_family'], "Input should be 'container', 'array' or 'table'", family ?? null, family === undefined ? 'missing' : 'enum');
    const metadata = body.metadata ?? {};
    if (!isObject(metadata)) throw problem(['metadata'], 'Input should be a valid dictionary', metadata, 'dict_type');
    const specs = parseSpecs(body.specs);
    const rawSources = body.data_sources ?? [];
    if (!Array.isArray(rawSources)) throw problem(['data_sources'], 'Input should be a valid list', rawSources, 'list_type');
    if (body.id !== undefined && body.id !== null && typeof body.id !== 'string') throw problem(['id'], 'Input should be a valid string', body.id, 'string_type');
    const sources = rawSources.map((source, i) => parseSource(source, ['data_sources', i]));
    if (family !== 'container' && sources.length !== 1) throw problem(['data_sources'], `A registered ${family} has exactly one data source, got ${sources.length}`, rawSources);
    if (sources.length > 1) throw problem(['data_sources'], `A registered container has at most one data source, got ${sources.length}`, rawSources);

    const path = pathText ?? '';
    // As POST /metadata: the route's scopes on the parent, and a bound key only inside its subtree.
    const located = await this.catalog.locate(pathText, access, ['write:metadata', 'create:node', 'register']);
    const handle = catalogHandle(located.node);
    if (!handle) throw new TiledHttpError(405, `Data cannot be registered at the path ${path}`);
    if (located.node.family !== 'container') throw new TiledHttpError(405, `Cannot register a node under ${path}: it is a ${located.node.family}, and only containers have children`);
    if (handle.row && isExternal(await handle.context.store.dataSources(handle.row.id))) {
      throw new TiledHttpError(405, `Cannot register a node under ${path}: it is a registered file, whose children come from the file`);
    }
    const key = typeof body.id === 'string' && body.id !== '' ? body.id : randomUUID();
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

    const blob = await this.catalog.access.initBlob(access, body.access_blob ?? null);
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
  async putDataSource(pathText: string | undefined, body: unknown, access: RequestAccess | null): Promise<void> {
    if (!isObject(body) || !isObject(body.data_source)) throw problem(['data_source'], 'Field required', isObject(body) ? (body.data_source ?? null) : body, 'missing');
    const raw = body.data_source;
    if (!Number.isSafeInteger(raw.id)) throw problem(['data_source', 'id'], 'Input should be a valid integer: the id of the data source to replace', raw.id ?? null, 'int_type');
    const id = raw.id as number;
    const source = parseSource(raw, ['data_source'], 0);
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
