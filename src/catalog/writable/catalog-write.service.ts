import { randomUUID } from 'node:crypto';
import { readdir, rm, rmdir } from 'node:fs/promises';
import { dirname, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Injectable, Logger } from '@nestjs/common';
import { applyPatch, JsonPatchError, Operation } from 'fast-json-patch';
import { apply as applyMergePatch } from 'json-merge-patch';
import { NotFoundError, pyList, TiledHttpError, UnprocessableError } from '../../common/errors/tiled-http.error';
import type { FastifyRequest } from 'fastify';
import type { RequestAccess } from '../access/node-access';
import { CatalogService, Located } from '../catalog.service';
import type { Metadata, Spec, TreeNode } from '../tree/tree.types';
import { CatalogHandle, catalogHandle, childParentId } from './catalog-handle';
import { KeyCollision, type DataSourceRow, type NodeRow } from './catalog-store';
import type { NewDataSource } from './catalog-data-nodes';
import { needsChildren, validateSpecs } from './spec-validation';
import { bodyProblem, CreateNodeDto, isObject, MAX_SPECS, parseSpecs, PatchMetadataDto, ReplaceMetadataDto } from '../dto/catalog-write-bodies.dto';

/** Longest key accepted for a new node. */
export const MAX_KEY_LENGTH = 255;
const MERGE_PATCH = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';
const WRITABLE_FAMILIES = new Set(['container', 'array', 'table', 'sparse']);

type Json = Record<string, unknown>;

/** A key must name one path segment: no '/', no control characters, not '.' or '..' (it becomes a directory name). */
export function checkKey(key: string): void {
  // eslint-disable-next-line no-control-regex
  const bad = key.includes('/') ? "it contains '/'" : /[\u0000-\u001f\u007f]/.test(key) ? 'it contains a control character' : key === '.' || key === '..' ? 'it is a relative path' : key.length > MAX_KEY_LENGTH ? `it is longer than ${MAX_KEY_LENGTH} characters` : null;
  if (bad) throw new TiledHttpError(422, `Invalid key ${JSON.stringify(key)}: ${bad}. A key names one path segment.`);
}

export function linksFor(family: string, structure: Json | null, base: string, path: string): Record<string, string> {
  const self = `${base}/metadata/${path}`;
  if (family === 'container') return { full: `${base}/container/full/${path}`, search: `${base}/search/${path}`, self };
  if (family === 'table') return { full: `${base}/table/full/${path}`, partition: `${base}/table/partition/${path}?partition={index}`, self };
  const shape = Array.isArray(structure?.shape) ? (structure.shape as unknown[]) : [];
  // Tiled's links_for_node: sparse arrays have an array's links.
  return { block: `${base}/array/block/${path}?block=${shape.map((_, i) => `{${i}}`).join(',')}`, full: `${base}/array/full/${path}`, self };
}

/** The node to change, if it belongs to a catalog; otherwise the route's 405. */
function handleOf(node: TreeNode, detail: string): CatalogHandle {
  const handle = catalogHandle(node);
  if (!handle) throw new TiledHttpError(405, detail);
  return handle;
}

function rowOf(handle: CatalogHandle, detail: string): NodeRow {
  if (!handle.row) throw new TiledHttpError(405, detail);
  return handle.row;
}

function displayPath(pathText: string | undefined): string {
  return pathText ?? '';
}

/** Every catalog write of Tiled 0.2.16 except the data routes (see CatalogDataWriteService). */
@Injectable()
export class CatalogWriteService {
  private readonly logger = new Logger(CatalogWriteService.name);

  constructor(private readonly catalog: CatalogService) {}

  /** What the request may reach (its policy view, its key's subtree): every method here takes it. */
  accessOf(request: FastifyRequest): RequestAccess | null {
    return this.catalog.accessOf(request);
  }

  /** POST /metadata/{path}: create a child of the node at `path`. */
  async create(pathText: string | undefined, body: CreateNodeDto, base: string, access: RequestAccess | null): Promise<Json> {
    const { family, metadata, specs, sources, rawSources } = body;
    if (sources.some((s) => s.assets)) {
      throw new TiledHttpError(400, 'Externally-managed assets cannot be registered using POST /metadata/{path}. Use POST /register/{path} instead.');
    }

    // Tiled's post_metadata: both scopes on the parent, and a bound key only inside its subtree.
    const located = await this.catalog.locate(pathText, access, ['write:metadata', 'create:node']);
    const path = displayPath(pathText);
    const handle = catalogHandle(located.node);
    if (!handle) throw new TiledHttpError(405, `Data cannot be written at the path ${path}`);
    if (located.node.family !== 'container') {
      throw new TiledHttpError(405, `Cannot create a node under ${path}: it is a ${located.node.family}, and only containers have children`);
    }
    if (handle.row && (await handle.context.store.dataSources(handle.row.id)).some((s) => s.management === 'external')) {
      throw new TiledHttpError(405, `Cannot create a node under ${path}: it is a registered file, whose children come from the file`);
    }
    if (sources.length && handle.context.writableDirs.length === 0) throw new TiledHttpError(405, `Data cannot be written at the path ${path}`);
    if (!WRITABLE_FAMILIES.has(family)) throw new TiledHttpError(400, `Creating ${family} nodes is not supported by tiled-ts; it writes containers, arrays, tables and sparse arrays`);
    validateSpecs(specs, family, null);
    if (family !== 'container' && sources.length !== 1) {
      throw bodyProblem(['data_sources'], `A ${family} node is created with exactly one data source, got ${sources.length}`, rawSources);
    }
    if (family === 'container' && sources.length) throw bodyProblem(['data_sources'], 'A container is created without data sources', rawSources);

    const key = body.id ?? randomUUID();
    checkKey(key);
    const blob = await this.catalog.access.initBlob(access, body.accessBlob);
    // Loaded on first use: the storage formats and their libraries are not part of every server's start.
    const { initDataStorage, dataSourceDocument } = await import('./catalog-data-nodes');
    const parentId = childParentId(handle);
    const segments = [...handle.segments, key];
    const created: { files: string[] } = { files: [] };
    let stored: DataSourceRow[];
    try {
      const store = handle.context.store;
      stored = await store.write(async (tx) => {
        // The files are made inside the transaction: if they cannot be, no node is committed; if the
        // commit fails, they are removed below. Either both exist or neither. On SQLite, readers in this
        // process share the writer's connection and would see the node row before the commit, so the
        // files come first (the key is checked first: the IMMEDIATE transaction admits no other writer);
        // on PostgreSQL the unique index decides first, and nobody else sees the row before the commit.
        const init = (): Promise<NewDataSource[]> =>
          Promise.all(sources.map((source) => initDataStorage(handle.context, family, source.structure, segments, created.files, source.mimetype)));
        let inits: NewDataSource[] = [];
        if (!store.postgres) {
          if (await tx.childExists(parentId, key)) throw new KeyCollision(key);
          inits = await init();
        }
        const node = await tx.insertNode(parentId, key, family, metadata, specs, blob.accessBlob);
        if (store.postgres) inits = await init();
        const out: DataSourceRow[] = [];
        for (const [i, source] of sources.entries()) {
          const made = inits[i];
          const id = await tx.insertDataSource(node.id, {
            structureFamily: family,
            structure: made.structure,
            mimetype: made.mimetype,
            parameters: made.parameters,
            properties: source.properties,
            management: 'writable',
          });
          const assets = [];
          for (const asset of made.assets) assets.push({ ...asset, id: await tx.insertAsset(id, asset), size: null });
          out.push({ id, structureFamily: family, structure: made.structure, mimetype: made.mimetype, parameters: made.parameters, properties: source.properties, management: 'writable', assets });
        }
        return out;
      });
    } catch (error) {
      await Promise.all(created.files.map((f) => rm(f, { recursive: true, force: true }).catch(() => undefined)));
      if (error instanceof KeyCollision) throw new TiledHttpError(409, `/${segments.join('/')}`);
      throw error;
    }
    const structure = stored[0]?.structure ?? null;
    const response: Json = {
      id: key,
      links: linksFor(family, structure, base, `${path}/${key}`),
      data_sources: stored.map(dataSourceDocument),
    };
    // Without an access policy Tiled stores {} and says so when the request asked for something else.
    if (blob.modified) response.access_blob = blob.accessBlob;
    return response;
  }

  /** PUT /metadata/{path}: replace metadata, specs (and, with a policy, the access blob); null/absent keeps each. */
  async replace(pathText: string | undefined, body: ReplaceMetadataDto, dropRevision: boolean, access: RequestAccess | null): Promise<Json> {
    const { metadata, specs, accessBlob } = body;
    return this.saveMetadata(pathText, access, dropRevision, (row) => ({ metadata: metadata ?? row.metadata, specs: specs ?? row.specs, accessBlob: accessBlob ?? row.accessBlob }), accessBlob !== undefined);
  }

  /** PATCH /metadata/{path}: RFC 6902 JSON patch or RFC 7386 merge patch of metadata, specs and access blob. */
  async patch(pathText: string | undefined, body: PatchMetadataDto, dropRevision: boolean, access: RequestAccess | null): Promise<Json> {
    const type = body.contentType;
    if (type !== JSON_PATCH && type !== MERGE_PATCH) {
      await this.metadataTarget(pathText, access);
      throw new TiledHttpError(406, `valid content types: ${JSON_PATCH}, ${MERGE_PATCH}`);
    }
    return this.saveMetadata(pathText, access, dropRevision, (row) => {
      let metadata: unknown;
      let specs: unknown;
      let accessBlob: unknown;
      if (type === JSON_PATCH) {
        metadata = jsonPatch(row.metadata, body.metadata ?? [], 'metadata');
        specs = jsonPatch(row.specs, body.specs ?? [], 'specs');
        accessBlob = jsonPatch(row.accessBlob, body.accessBlob ?? [], 'access_blob');
      } else {
        metadata = applyMergePatch(structuredClone(row.metadata), body.metadata ?? {});
        // `specs: null` means "unchanged"; `[]` clears them (a list replaces a list in a merge patch).
        specs = body.specs == null ? row.specs : applyMergePatch(structuredClone(row.specs), body.specs);
        accessBlob = body.accessBlob == null ? row.accessBlob : applyMergePatch(structuredClone(row.accessBlob), body.accessBlob);
      }
      if (!isObject(metadata)) throw new TiledHttpError(422, 'The patched metadata must be a JSON object');
      if (!Array.isArray(specs)) throw new TiledHttpError(422, 'The patched specs must be a list');
      if (specs.length > MAX_SPECS) throw new TiledHttpError(422, `Update cannot result in more than ${MAX_SPECS} specs`);
      return { metadata, specs: parseSpecs(specs), accessBlob };
    }, body.accessBlob != null);
  }

  private async metadataTarget(pathText: string | undefined, access: RequestAccess | null): Promise<{ row: NodeRow; handle: CatalogHandle; located: Located }> {
    const located = await this.catalog.locate(pathText, access, ['write:metadata']);
    const detail = 'This node does not support update of metadata.';
    const handle = handleOf(located.node, detail);
    return { row: rowOf(handle, detail), handle, located };
  }

  /**
   * Read the node's current metadata, compute the new one and store it, all in one transaction holding the
   * node's row: concurrent patches (from this or another server process) apply one after the other and none
   * is lost, and each gets its own revision number.
   */
  private async saveMetadata(
    pathText: string | undefined,
    access: RequestAccess | null,
    dropRevision: boolean,
    compute: (current: NodeRow) => { metadata: Metadata; specs: Spec[]; accessBlob: unknown },
    blobRequested: boolean,
  ): Promise<Json> {
    const { row, handle, located } = await this.metadataTarget(pathText, access);
    const blob = await handle.context.store.write(async (tx) => {
      const locked = await tx.lockNode(row.id);
      if (!locked) throw new NotFoundError(`No such entry: ${pyList(pathText?.split('/').filter(Boolean) ?? [])}`);
      const { metadata, specs, accessBlob } = compute(locked);
      // Tiled validates the resulting specs against the node as it is (its children, for `composite`).
      validateSpecs(specs, locked.structureFamily, needsChildren(specs) ? await tx.childSummaries(row.id) : null);
      // Decided on the locked row: two owners changing tags at once cannot both judge a stale blob.
      const decided = await this.catalog.access.modifyBlob(access, located.node, located.path, locked.accessBlob, blobRequested ? accessBlob : undefined);
      await tx.replaceMetadata(row.id, { metadata, specs, accessBlob: decided.accessBlob }, dropRevision);
      return decided;
    });
    const response: Json = { id: row.key };
    // Without an access policy the stored blob cannot change; Tiled answers with the unchanged one.
    if (blob.modified) response.access_blob = blob.accessBlob;
    return response;
  }

  /** GET /revisions/{path}. */
  async revisions(pathText: string | undefined, offset: number, limit: number, base: string, access: RequestAccess | null): Promise<Json> {
    const located = await this.catalog.locate(pathText, access, ['read:metadata']);
    const detail = 'This node does not support revisions.';
    const row = rowOf(handleOf(located.node, detail), detail);
    const { revisions, count } = await catalogHandle(located.node)!.context.store.revisions(row.id, offset, limit);
    const p = located.path.join('/');
    return {
      data: revisions.map((r) => ({ revision_number: r.revisionNumber, attributes: { metadata: r.metadata, specs: r.specs, time_updated: r.timeUpdated } })),
      error: null,
      links: {
        self: `${base}/revisions/${p}?page[offset]=${offset}&page[limit]=${limit}`,
        first: `${base}/revisions/${p}?page[offset]=0&page[limit]=${limit}`,
        next: offset + limit < count ? `${base}/revisions/${p}?page[offset]=${offset + limit}&page[limit]=${limit}` : null,
      },
      meta: { count },
    };
  }

  /** DELETE /revisions/{path}?number=N. */
  async deleteRevision(pathText: string | undefined, number: number, access: RequestAccess | null): Promise<void> {
    const located = await this.catalog.locate(pathText, access, ['delete:revision']);
    const detail = 'This node does not support a del request for revisions.';
    const handle = handleOf(located.node, detail);
    const row = rowOf(handle, detail);
    const deleted = await handle.context.store.write((tx) => tx.deleteRevision(row.id, number));
    if (!deleted) throw new TiledHttpError(404, `No revision ${number} for node ${row.id}`);
  }

  /** DELETE /metadata/{path}: Tiled's rules: children only with `recursive`, server-written data only without `external_only`. */
  async delete(pathText: string | undefined, recursive: boolean, externalOnly: boolean, access: RequestAccess | null): Promise<void> {
    const located = await this.catalog.locate(pathText, access, ['delete:node', 'delete:revision']);
    const detail = 'This node does not support deletion.';
    const handle = handleOf(located.node, detail);
    const row = rowOf(handle, detail);
    const removed = await handle.context.store.write(async (tx) => {
      if (!recursive && (await tx.hasChildren(row.id))) {
        throw new TiledHttpError(409, 'Cannot delete a node that is not empty. Delete its contents first or pass `recursive=True`.');
      }
      const ids = await tx.subtree(row.id);
      if (externalOnly && (await tx.hasInternalData(ids))) {
        throw new TiledHttpError(
          409,
          'Some items in this tree are internally managed. Deleting the records will also delete the underlying data files. If you want to delete them, pass external_only=False.',
        );
      }
      return tx.deleteNodes(ids.reverse());
    });
    // Files go only after the records are gone for good: a failed commit leaves both in place.
    for (const asset of removed) {
      if (!asset.dataUri.startsWith('file:')) continue;
      const path = fileURLToPath(asset.dataUri);
      try {
        await rm(path, { recursive: true, force: true });
        await removeEmptyParents(path, handle.context.writableDirs);
      } catch (error) {
        this.logger.warn(`Could not delete the data of a deleted node: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/** The directories that held a node's data mirror its path; those left empty go too, up to the storage root. */
async function removeEmptyParents(path: string, roots: readonly string[]): Promise<void> {
  const root = roots.find((r) => path.startsWith(r + sep));
  if (!root) return;
  for (let dir = dirname(path); dir.startsWith(root + sep); dir = dirname(dir)) {
    if ((await readdir(dir)).length > 0) return;
    await rmdir(dir);
  }
}

function jsonPatch(document: unknown, operations: unknown, field: string): unknown {
  if (!Array.isArray(operations)) throw new UnprocessableError([{ type: 'list_type', loc: ['body', field], msg: 'Input should be a valid list of JSON patch operations', input: operations }]);
  try {
    return applyPatch(structuredClone(document), operations as Operation[], true, false).newDocument;
  } catch (error) {
    // Whatever a malformed operation list makes the library throw, it is the request's fault.
    const reason = error instanceof JsonPatchError ? `${error.name} (${error.message.split('\n')[0]})` : 'malformed operations';
    throw new TiledHttpError(422, `Invalid JSON patch of ${field}: ${reason}`);
  }
}
