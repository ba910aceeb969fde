import { Inject, Injectable, Logger } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { AUTH_CONTEXT, AuthContext } from '../auth/auth-context';
import { BadRequestError, NotFoundError, TiledHttpError } from '../common/errors/tiled-http.error';
import { etagOf, toJson, toMsgpack } from '../common/http/wire';
import { Candidate, Predicate, parseFilters } from './query/filters';
import { distinctOf } from './query/distinct';
import type { Filter } from './query/filter-ast';
import { MetadataSelector, parseSelectMetadata } from './query/select-metadata';
import { applySort, parseSort } from './query/sorting';
import { Encoded } from './http/send';
import { Query, all, boolParam, intParam } from './http/query-params';
import { pyList } from '../common/errors/tiled-http.error';
import { DTYPES } from './tree/dtype';
import { encodeArrowSchema } from './data/table-data';
import { dataStructureOf } from './data/structure';
import type {
  AccessBlob,
  ArrayNode,
  ChildDistinctRequest,
  ChildSearchRequest,
  ChildSearchResult,
  ContainerNode,
  NumericArray,
  TableNode,
  TreeNode,
} from './tree/tree.types';
import { ChildFilter, NodeAccessService, RequestAccess, effectiveBlob, passes } from './access/node-access';

export const CATALOG_ROOT = Symbol('CatalogRoot');

export interface Located {
  node: TreeNode;
  path: string[];
  /** The access blob governing the node: its own or its nearest ancestor's. */
  blob?: AccessBlob;
  /** Which of its children the caller may see (read:metadata); null: no restriction applies to this request. */
  view?: ChildFilter | null;
  access?: RequestAccess | null;
}

const ALL_FIELDS = ['structure_family', 'specs', 'metadata', 'structure', 'count', 'sorting', 'data_sources', 'access_blob'] as const;
const DEFAULT_SORTING = [{ key: '_', direction: 1 }];
/** Bound on cached documents per node, so varied query strings cannot grow memory without limit. */
const CACHE_ENTRIES_PER_NODE = 256;

interface ChildEntry extends Candidate {
  node: TreeNode;
}

const READ_DATA: ReadonlySet<string> = new Set(['read:data']);

/** Children per query when listing a container that searches for itself. */
const LIST_PAGE = 1000;

/** Most `metadata` keys one /distinct request may tally; each is a pass over every child. */
export const MAX_DISTINCT_KEYS = 64;
/** Longest stretch filters run before letting other requests in (ms). */
const FILTER_SLICE_MS = 10;

/**
 * The children every predicate accepts. Filters are linear-time, but a large container times a costly
 * pattern can still add up; yielding between slices keeps every other request (and /healthz) answered.
 */
async function matching(entries: readonly ChildEntry[], predicates: readonly Predicate[]): Promise<ChildEntry[]> {
  if (predicates.length === 0) return [...entries];
  const out: ChildEntry[] = [];
  let sliceStart = performance.now();
  for (const entry of entries) {
    if (predicates.every((p) => p(entry))) out.push(entry);
    if (performance.now() - sliceStart > FILTER_SLICE_MS) {
      await new Promise((resolve) => setImmediate(resolve));
      sliceStart = performance.now();
    }
  }
  return out;
}

/** How /metadata and /search render each resource, from their shared query parameters. */
interface RenderOptions {
  fields: ReadonlySet<string> | null;
  omitLinks: boolean;
  selectMetadata: MetadataSelector | null;
  includeDataSources?: boolean;
}

const FAMILY_REPR: Readonly<Record<string, string>> = {
  container: "<StructureFamily.container: 'container'>",
  array: "<StructureFamily.array: 'array'>",
  sparse: "<StructureFamily.sparse: 'sparse'>",
  table: "<StructureFamily.table: 'table'>",
};

@Injectable()
export class CatalogService {
  private readonly logger = new Logger('Catalog');
  private readonly documents = new WeakMap<TreeNode, Map<string, Encoded>>();
  private readonly childLists = new WeakMap<ContainerNode, ChildEntry[]>();
  private readonly schemas = new WeakMap<TableNode, string>();
  private readonly columnArrays = new WeakMap<TableNode, Map<string, ArrayNode | null>>();

  constructor(
    @Inject(CATALOG_ROOT) private readonly root: TreeNode,
    readonly access: NodeAccessService,
  ) {}

  /**
   * Walk the path from the root; a missing step is Tiled's 404 naming the whole path. Under an access
   * policy (Tiled's `get_entry`): each step must pass the parent's read:metadata filter and the key's
   * subtree, and the route's `scopes` must be allowed on the final node. A hidden step is answered
   * exactly like a missing one.
   */
  async locate(pathText: string | undefined, access: RequestAccess | null, scopes: readonly string[]): Promise<Located> {
    const path = (pathText ?? '').split('/').filter(Boolean);
    let node: TreeNode = this.root;
    let blob = effectiveBlob(node, undefined);
    const missing = (): NotFoundError => new NotFoundError(`No such entry: ${pyList(path)}`);
    for (let depth = 0; depth < path.length; depth++) {
      const segment = path[depth];
      if (!this.access.withinKeyPath(access, depth, segment)) {
        this.access.hiddenStep(access!, path, `outside the API key's subtree /${access!.keyPath.join('/')}`);
        throw missing();
      }
      let next: TreeNode | undefined;
      if (node.family === 'container') next = await node.get(segment);
      else if (node.family === 'table') next = (await this.columnAsArray(node, segment)) ?? undefined;
      if (!next) throw missing();
      const nextBlob = effectiveBlob(next, blob);
      if (access && node.family === 'container') {
        const filter = await this.access.childFilter(access, node, path.slice(0, depth), blob);
        if (!passes(filter, nextBlob)) {
          this.access.hiddenStep(access, path, `the policy's filters hide /${path.slice(0, depth + 1).join('/')}`);
          throw missing();
        }
      }
      node = next;
      blob = nextBlob;
    }
    await this.access.checkNode(access, node, path, blob, scopes);
    const view = access && node.family === 'container' ? await this.access.childFilter(access, node, path, blob) : null;
    return { node, path, blob, view, access };
  }

  /** What the request may reach: null when nothing restricts it (no policy, no bound key). */
  accessOf(request: FastifyRequest): RequestAccess | null {
    return this.access.forRequest((request as unknown as Record<symbol, AuthContext | undefined>)[AUTH_CONTEXT]);
  }

  /**
   * The node a request names, looked up with the request's own access and the route's scopes. Every
   * route that names a node goes through here (test/meta/route-access.e2e-spec.ts walks the route table
   * to hold every route to it); `pathText` defaults to the route's wildcard.
   */
  locateFor(request: FastifyRequest, scopes: readonly string[], pathText: string | undefined = (request.params as { '*'?: string } | undefined)?.['*']): Promise<Located> {
    return this.locate(pathText, this.accessOf(request), scopes);
  }

  /** A located container's children the caller may see (the lookup's read:metadata view). */
  async visibleChildren(located: Located): Promise<readonly { key: string; node: TreeNode }[]> {
    return located.access ? this.visibleEntries(located) : this.childEntries(located.node as ContainerNode);
  }

  /** A container's children the caller may see with `scopes` (read:metadata: the lookup's own view). */
  private async visibleEntries(located: Located, scopes?: ReadonlySet<string>): Promise<ChildEntry[]> {
    const entries = await this.childEntries(located.node as ContainerNode);
    const filter = scopes ? await this.access.childFilter(located.access ?? null, located.node, located.path, located.blob, scopes) : located.view;
    if (!filter || filter.kind === 'all') return entries;
    if (filter.kind === 'none') return [];
    return entries.filter((entry) => passes(filter, effectiveBlob(entry.node, located.blob)));
  }

  /**
   * The policy's view of a container's children as filters a container's own search can apply (a SQL
   * catalog puts them in its WHERE clause); undefined when the view hides every child.
   */
  private static viewFilters(view: ChildFilter | null | undefined): Filter[] | undefined {
    if (!view || view.kind === 'all') return [];
    if (view.kind === 'none') return undefined;
    return view.queries.map((q) => ({ type: 'access_blob_filter', userId: q.user_id, tags: q.tags }));
  }

  /** The children the caller may see, counted by the container's own search when it has one. */
  private async childCount(container: ContainerNode, view: ChildFilter | null | undefined, blob: AccessBlob | undefined): Promise<number> {
    const viewFilters = CatalogService.viewFilters(view);
    if (!viewFilters) return 0;
    if (container.search) return (await container.search({ filters: viewFilters, lookups: [], sorting: [], offset: 0, limit: 0 })).count;
    const entries = await this.childEntries(container);
    if (viewFilters.length === 0) return entries.length;
    return entries.filter((entry) => passes(view!, effectiveBlob(entry.node, blob))).length;
  }

  /** Cache-key suffix: documents built for different views of the children are different documents. */
  private static viewKey(located: Located): string {
    return located.view ? `|v:${NodeAccessService.viewKey(located.view)}` : '';
  }

  requireFamily(located: Located, families: readonly string[]): void {
    if (families.includes(located.node.family)) return;
    const set = `{${families.map((f) => FAMILY_REPR[f]).join(', ')}}`;
    throw new NotFoundError(
      `The node at ${located.path.join('/')} has structure family StructureFamily.${located.node.family} and this endpoint is compatible with structure families ${set}`,
    );
  }

  /** Table columns are addressable as array children (the client's `df["a"]`); string columns are not. */
  private async columnAsArray(table: TableNode, name: string): Promise<ArrayNode | null> {
    let byName = this.columnArrays.get(table);
    if (!byName) this.columnArrays.set(table, (byName = new Map()));
    if (byName.has(name)) return byName.get(name) ?? null;
    const column = table.columns.find((c) => c.name === name);
    if (!column || column.type === 'string') {
      byName.set(name, null);
      return null;
    }
    const dtype = column.type;
    const parts: NumericArray[] = [];
    for (let i = 0; i < table.npartitions; i++) {
      const values = (await table.readPartition(i))[name];
      const out = DTYPES[dtype].create(values.length);
      for (let j = 0; j < values.length; j++) {
        const v = values[j];
        if (dtype === 'int64') (out as BigInt64Array)[j] = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
        else (out as Float64Array)[j] = Number(v);
      }
      parts.push(out);
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const node: ArrayNode = {
      family: 'array',
      dtype,
      shape: [total],
      chunks: [parts.map((p) => p.length)],
      dims: null,
      metadata: {},
      specs: [],
      readBlock: (block) => parts[block[0]],
    };
    byName.set(name, node);
    return node;
  }

  /** Every child, unfiltered: routes list children through visibleChildren, which applies the caller's view. */
  private async childEntries(container: ContainerNode): Promise<ChildEntry[]> {
    const cached = this.childLists.get(container);
    if (cached) return cached;
    const entries: ChildEntry[] = [];
    const add = (key: string, node: TreeNode): void => {
      entries.push({ key, node, family: node.family, metadata: node.metadata ?? {}, specs: node.specs ?? [] });
    };
    if (container.search) {
      // A database lists in pages of rows, not one lookup per child.
      for (let offset = 0; ; offset += LIST_PAGE) {
        const page = await container.search({ filters: [], lookups: [], sorting: [], offset, limit: LIST_PAGE });
        for (const { key, node } of page.entries) add(key, node);
        if (page.entries.length < LIST_PAGE) break;
      }
    } else {
      for (const key of await container.keys()) {
        let node: TreeNode | undefined;
        try {
          node = await container.get(key);
        } catch (error) {
          // One child that cannot be opened (a corrupt file) fails only itself: it is left out of its
          // parent's listing, and a request for it answers with its own error.
          this.logger.warn(`Leaving ${JSON.stringify(key)} out of a listing: ${error instanceof Error ? error.message : String(error)}`);
          continue;
        }
        if (node) add(key, node);
      }
    }
    if (container.cacheable !== false) this.childLists.set(container, entries);
    return entries;
  }

  private arrowSchemaOf(table: TableNode): string {
    let schema = this.schemas.get(table);
    if (!schema) this.schemas.set(table, (schema = encodeArrowSchema(table.columns)));
    return schema;
  }

  private async structureOf(node: TreeNode, view: ChildFilter | null | undefined, blob: AccessBlob | undefined): Promise<Record<string, unknown>> {
    switch (node.family) {
      case 'container':
        return { contents: null, count: await this.childCount(node, view, blob) };
      case 'array':
      case 'table':
      case 'sparse':
        return dataStructureOf(node, (table) => this.arrowSchemaOf(table));
    }
  }

  private links(node: TreeNode, path: string[], base: string): Record<string, string> {
    const p = path.join('/');
    const self = `${base}/metadata/${p}`;
    switch (node.family) {
      case 'container':
        return { self, search: `${base}/search/${p}`, full: `${base}/container/full/${p}` };
      case 'array':
      case 'sparse':
        return { self, full: `${base}/array/full/${p}`, block: `${base}/array/block/${p}?block=${node.shape.map((_, i) => `{${i}}`).join(',')}` };
      case 'table':
        return { self, full: `${base}/table/full/${p}`, partition: `${base}/table/partition/${p}?partition={index}` };
    }
  }

  /** One resource as Tiled's `construct_resource` builds it (as 09-search.txt shows it, field quirks included). */
  async resource(
    node: TreeNode,
    path: string[],
    base: string,
    { fields, omitLinks, selectMetadata, includeDataSources }: RenderOptions,
    view: ChildFilter | null = null,
    blob: AccessBlob | undefined = node.accessBlob,
  ): Promise<Record<string, unknown>> {
    const keysOnly = fields !== null && fields.size === 1 && fields.has('');
    const want = (f: string): boolean => !keysOnly && (fields === null || fields.has(f));
    const attributes = {
      ancestors: path.slice(0, -1),
      structure_family: want('structure_family') || (!keysOnly && node.family === 'container') ? node.family : null,
      specs: want('specs') ? (node.specs ?? []) : null,
      metadata: want('metadata') ? this.metadataOf(node, selectMetadata) : null,
      structure: want('structure') ? await this.structureOf(node, view, blob) : null,
      access_blob: want('access_blob') ? (node.accessBlob ?? null) : null,
      sorting: want('sorting') && node.family === 'container' ? (node.sorting ?? DEFAULT_SORTING) : null,
      data_sources: includeDataSources && node.dataSources ? await node.dataSources() : null,
    };
    let links: Record<string, string> | null = null;
    if (!omitLinks) links = keysOnly ? { self: `${base}/metadata/${path.join('/')}` } : this.links(node, path, base);
    return { id: path.length ? path[path.length - 1] : '', attributes, links, meta: null };
  }

  private metadataOf(node: TreeNode, selectMetadata: MetadataSelector | null): unknown {
    const metadata = node.metadata ?? {};
    return selectMetadata ? selectMetadata(metadata) : metadata;
  }

  /** Cached, encoded documents per node object: the hot path answers from here without rebuilding. */
  async cachedDocument(node: TreeNode, key: string, msgpack: boolean, build: () => Promise<unknown>): Promise<Encoded> {
    const fullKey = `${msgpack ? 'm' : 'j'}|${key}`;
    let perNode = this.documents.get(node);
    const hit = perNode?.get(fullKey);
    if (hit) return hit;
    const payload = await build();
    const body = msgpack ? toMsgpack(payload) : Buffer.from(toJson(payload));
    const encoded: Encoded = { body, type: msgpack ? 'application/x-msgpack' : 'application/json', etag: etagOf(body) };
    if (node.cacheable !== false) {
      if (!perNode) this.documents.set(node, (perNode = new Map()));
      if (perNode.size >= CACHE_ENTRIES_PER_NODE) perNode.clear();
      perNode.set(fullKey, encoded);
    }
    return encoded;
  }

  static fieldsOf(query: Query): Set<string> | null {
    const values = all(query, 'fields');
    if (values.length === 0) return null;
    const allowed = new Set<string>([...ALL_FIELDS, '']);
    for (const v of values) {
      if (!allowed.has(v)) {
        throw new TiledHttpError(422, [
          {
            type: 'enum',
            loc: ['query', 'fields', values.indexOf(v)],
            msg: `Input should be ${ALL_FIELDS.map((f) => `'${f}'`).join(', ')} or ''`,
            input: v,
          },
        ]);
      }
    }
    return new Set(values);
  }

  async metadata(located: Located, query: Query, base: string, msgpack: boolean, cacheKey: string): Promise<Encoded> {
    const fields = CatalogService.fieldsOf(query);
    const omitLinks = boolParam(query, 'omit_links');
    const includeDataSources = boolParam(query, 'include_data_sources');
    intParam(query, 'max_depth', { ge: 0, le: 5 });
    const rootPath = boolParam(query, 'root_path');
    const render: RenderOptions = { fields, omitLinks, selectMetadata: parseSelectMetadata(query), includeDataSources };
    return this.cachedDocument(located.node, `${located.path.join('/')}|${base}|${cacheKey}${CatalogService.viewKey(located)}`, msgpack, async () => ({
      data: await this.resource(located.node, located.path, base, render, located.view, located.blob),
      error: null,
      links: null,
      meta: rootPath ? { root_path: '/' } : {},
    }));
  }

  async search(located: Located, query: Query, base: string, msgpack: boolean, cacheKey: string): Promise<Encoded> {
    this.requireFamily(located, ['container']);
    const container = located.node as ContainerNode;
    const fields = CatalogService.fieldsOf(query);
    const omitLinks = boolParam(query, 'omit_links');
    const includeDataSources = boolParam(query, 'include_data_sources');
    intParam(query, 'max_depth', { ge: 0, le: 5 });
    const offsetParam = intParam(query, 'page[offset]', { ge: 0 });
    const cursor = intParam(query, 'page[cursor]', { ge: 0 });
    if (offsetParam !== undefined && cursor !== undefined) throw new TiledHttpError(400, 'Cannot specify both page[cursor] and page[offset]');
    const offset = offsetParam ?? cursor ?? 0;
    const limit = intParam(query, 'page[limit]', { ge: 0, le: 300 }) ?? 100;
    const sorting = parseSort(all(query, 'sort'));
    const filters = parseFilters(query);
    // Tiled's 400 for a bad expression comes from the handler, after every other parameter was validated.
    const render: RenderOptions = { fields, omitLinks, selectMetadata: parseSelectMetadata(query), includeDataSources };
    return this.cachedDocument(container, `s|${located.path.join('/')}|${base}|${cacheKey}${CatalogService.viewKey(located)}`, msgpack, async () => {
      const countOnly = fields !== null && fields.size === 1 && fields.has('count');
      const { count, entries: page } = await this.searchChildren(located, {
        filters: filters.filters,
        lookups: filters.lookups,
        sorting,
        offset,
        limit: countOnly ? 0 : limit,
      }, filters.predicates);
      const p = located.path.join('/');
      const data = [];
      for (const entry of page) {
        // The searched container's view stands for its children's: a policy's filters depend on the caller, not the node.
        data.push(await this.resource(entry.node, [...located.path, entry.key], base, render, located.view, effectiveBlob(entry.node, located.blob)));
      }
      const self = offset === 0 ? `${base}/search/${p}?page[limit]=${limit}` : `${base}/search/${p}?page[offset]=${offset}&page[limit]=${limit}`;
      return {
        data,
        error: null,
        links: {
          self,
          first: `${base}/search/${p}?page[limit]=${limit}`,
          next: offset + limit < count ? `${base}/search/${p}?page[offset]=${offset + limit}&page[limit]=${limit}` : null,
        },
        meta: { count },
      };
    });
  }

  async distinct(located: Located, query: Query, msgpack: boolean, cacheKey: string): Promise<Encoded> {
    if (located.node.family !== 'container') throw new TiledHttpError(405, 'This node does not support distinct.');
    const container = located.node;
    const keys = all(query, 'metadata');
    if (keys.length > MAX_DISTINCT_KEYS) throw new BadRequestError(`Too many 'metadata' keys: ${keys.length}; at most ${MAX_DISTINCT_KEYS} are accepted per request`);
    const families = boolParam(query, 'structure_families');
    const specs = boolParam(query, 'specs');
    const counts = boolParam(query, 'counts');
    const filters = parseFilters(query);
    return this.cachedDocument(container, `d|${located.path.join('/')}|${cacheKey}${CatalogService.viewKey(located)}`, msgpack, async () => {
      const request: ChildDistinctRequest = { filters: filters.filters, lookups: filters.lookups, metadata: keys, structureFamilies: families, specs, counts };
      const viewFilters = CatalogService.viewFilters(located.view);
      if (container.distinct && viewFilters) return container.distinct({ ...request, filters: [...request.filters, ...viewFilters] });
      let matches: Candidate[] = viewFilters ? await matching(await this.visibleEntries(located), filters.predicates) : [];
      if (filters.lookups.length) matches = matches.filter((c) => filters.lookups.includes(c.key));
      return distinctOf(matches, request);
    });
  }

  /**
   * Lists children for an export walk (the HDF5 writer) with read:data, as the JSON export does: each
   * container reached is remembered with its path and inherited blob, so its own children are filtered too.
   */
  exportLister(located: Located): (container: ContainerNode) => Promise<readonly { key: string; node: TreeNode }[]> {
    if (!located.access) return (container) => this.childEntries(container);
    const placed = new Map<TreeNode, Located>([[located.node, located]]);
    return async (container) => {
      const at = placed.get(container);
      if (!at) return [];
      const entries = await this.visibleEntries(at, READ_DATA);
      for (const entry of entries) {
        placed.set(entry.node, { node: entry.node, path: [...at.path, entry.key], blob: effectiveBlob(entry.node, at.blob), access: at.access });
      }
      return entries;
    };
  }

  /**
   * The children of a located container that the caller may see and every filter accepts, sorted and
   * paged: by the container's own search when it has one (a database, given the policy's view as
   * filters), else in memory.
   */
  private async searchChildren(located: Located, request: ChildSearchRequest, predicates: readonly Predicate[]): Promise<ChildSearchResult> {
    const container = located.node as ContainerNode;
    const viewFilters = CatalogService.viewFilters(located.view);
    if (!viewFilters) return { count: 0, entries: [] };
    if (container.search) return container.search({ ...request, filters: [...request.filters, ...viewFilters] });
    let matches: Candidate[] = await matching(await this.visibleEntries(located), predicates);
    if (request.lookups.length) {
      const wanted = new Set(request.lookups);
      matches = wanted.size > 1 ? [] : matches.filter((c) => wanted.has(c.key));
    }
    matches = applySort(matches, request.sorting);
    return { count: matches.length, entries: (matches as ChildEntry[]).slice(request.offset, request.offset + request.limit) };
  }

  /** `{contents, metadata}` of a subtree (Tiled's container JSON export: metadata only, no data), children filtered with read:data. */
  async containerExport(located: Located, only?: readonly string[]): Promise<Record<string, unknown>> {
    const { node } = located;
    const contents: [string, unknown][] = [];
    if (node.family === 'container') {
      const wanted = only && only.length ? new Set(only) : null;
      const entries = located.access ? await this.visibleEntries(located, READ_DATA) : await this.childEntries(node);
      for (const entry of entries) {
        if (wanted && !wanted.has(entry.key)) continue;
        const child: Located = { node: entry.node, path: [...located.path, entry.key], blob: effectiveBlob(entry.node, located.blob), access: located.access };
        contents.push([entry.key, await this.containerExport(child)]);
      }
    }
    // fromEntries defines own properties: a child named `__proto__` stays a child.
    return { contents: Object.fromEntries(contents), metadata: node.metadata ?? {} };
  }
}
