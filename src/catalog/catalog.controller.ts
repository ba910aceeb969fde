import { Body, Controller, Get, Post, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { Scopes } from '../auth/auth.decorators';
import { TiledHttpError } from '../common/errors/tiled-http.error';
import { BodyResponse, RespondsWithBody, ResponseSchema, encodedResponse } from '../common/http/responds';
import { apiBase, etagOf, toJson, wantsMsgpack } from '../common/http/wire';
import { DeclaresBody, DeclaresQuery, type JsonSchema } from '../common/validation/openapi-schema';
import { ARRAY_TYPES, CatalogDataService, TABLE_DEFAULT, TABLE_TYPES, checkListLength } from './catalog-data.service';
import { CONTAINER_DEFAULT, CONTAINER_TYPES, HDF5 } from './encoders/registry';
import { CatalogService, Located } from './catalog.service';
import {
  ARRAY_BLOCK_QUERY,
  ARRAY_FULL_QUERY,
  CONTAINER_FULL_QUERY,
  DISTINCT_QUERY,
  EXPORT_QUERY,
  METADATA_QUERY,
  SEARCH_QUERY,
  TABLE_FULL_QUERY,
  TABLE_PARTITION_POST_QUERY,
  TABLE_PARTITION_QUERY,
  attachment,
} from './dto/catalog-queries.dto';
import { COLUMNS_REQUEST, DISTINCT_RESPONSE, FIELDS_REQUEST, METADATA_RESPONSE, SEARCH_RESPONSE } from './dto/catalog-schemas';
import { negotiate } from './http/negotiate';
import { queryOf } from './http/query-params';
import type { ArrayNode, SparseNode, TableNode } from './tree/tree.types';

type RouteScope = 'read:metadata' | 'read:data';

/** The raw query string: the cache key of documents built from it. */
function rawQuery(request: FastifyRequest): string {
  const at = request.url.indexOf('?');
  return at < 0 ? '' : request.url.slice(at + 1);
}

/** The JSON form of each data route's answer; the other negotiated formats are listed by media type. */
const ARRAY_JSON: JsonSchema = { type: 'array', description: 'The array as nested lists (format=json); other formats by ?format= or Accept' };
const TABLE_JSON: JsonSchema = { type: 'object', description: 'The table as JSON (format=json); other formats by ?format= or Accept' };
const CONTAINER_JSON: JsonSchema = {
  type: 'object',
  properties: { contents: { type: 'object', additionalProperties: true }, metadata: { type: 'object', additionalProperties: true } },
  description: 'The subtree as {contents, metadata} (format=json), metadata only; HDF5 carries the data',
};
const COLUMNS_BODY = { openApi: COLUMNS_REQUEST, bodyOptional: true };
const FIELDS_BODY = { openApi: FIELDS_REQUEST, bodyOptional: true };

/**
 * Every catalog read route of Tiled 0.2.16 (docs/catalog.md); scopes as in its route table. Each handler
 * returns the encoded answer (documents are cached encoded, with their ETag); `encodeResult` sends it
 * with ETag/304 and gzip.
 */
@Controller('api/v1')
export class CatalogController {
  constructor(
    private readonly catalog: CatalogService,
    private readonly data: CatalogDataService,
  ) {}

  @Scopes(['read:metadata'])
  @Get(['metadata', 'metadata/*'])
  @RespondsWithBody()
  @ResponseSchema(METADATA_RESPONSE, ['application/x-msgpack'])
  @DeclaresQuery(METADATA_QUERY)
  async metadata(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const located = await this.locate(request, 'read:metadata');
    return encodedResponse(await this.catalog.metadata(located, queryOf(request), apiBase(request), wantsMsgpack(request.headers.accept), rawQuery(request)));
  }

  @Scopes(['read:metadata'])
  @Get(['search', 'search/*'])
  @RespondsWithBody()
  @ResponseSchema(SEARCH_RESPONSE, ['application/x-msgpack'])
  @DeclaresQuery(SEARCH_QUERY)
  async search(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const located = await this.locate(request, 'read:metadata');
    const encoded = await this.catalog.search(located, queryOf(request), apiBase(request), wantsMsgpack(request.headers.accept), rawQuery(request));
    return encodedResponse(encoded, { 'cache-control': 'must-revalidate' });
  }

  @Scopes(['read:metadata'])
  @Get(['distinct', 'distinct/*'])
  @RespondsWithBody()
  @ResponseSchema(DISTINCT_RESPONSE, ['application/x-msgpack'])
  @DeclaresQuery(DISTINCT_QUERY)
  async distinct(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const located = await this.locate(request, 'read:metadata');
    return encodedResponse(await this.catalog.distinct(located, queryOf(request), wantsMsgpack(request.headers.accept), rawQuery(request)));
  }

  @Scopes(['read:data'])
  @Get(['array/block', 'array/block/*'])
  @RespondsWithBody()
  @ResponseSchema(ARRAY_JSON, ARRAY_TYPES)
  @DeclaresQuery(ARRAY_BLOCK_QUERY)
  async arrayBlock(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const located = await this.locateFamily(request, ['array', 'sparse']);
    const query = queryOf(request);
    const { type } = negotiate(request, query, ...this.data.arrayFormats(located.node));
    return encodedResponse(await this.data.arrayBlock(located.node as ArrayNode | SparseNode, query, type), attachment(query));
  }

  @Scopes(['read:data'])
  @Get(['array/full', 'array/full/*'])
  @RespondsWithBody()
  @ResponseSchema(ARRAY_JSON, ARRAY_TYPES)
  @DeclaresQuery(ARRAY_FULL_QUERY)
  async arrayFull(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const located = await this.locateFamily(request, ['array', 'sparse']);
    const query = queryOf(request);
    const { type } = negotiate(request, query, ...this.data.arrayFormats(located.node));
    return encodedResponse(await this.data.arrayFull(located.node as ArrayNode | SparseNode, query, type), attachment(query));
  }

  @Scopes(['read:data'])
  @Get(['table/partition', 'table/partition/*'])
  @RespondsWithBody()
  @ResponseSchema(TABLE_JSON, TABLE_TYPES)
  @DeclaresQuery(TABLE_PARTITION_QUERY)
  tablePartition(@Req() request: FastifyRequest): Promise<BodyResponse> {
    return this.table(request, undefined, 'partition');
  }

  @Scopes(['read:data'])
  @Post(['table/partition', 'table/partition/*'])
  @RespondsWithBody()
  @ResponseSchema(TABLE_JSON, TABLE_TYPES)
  @DeclaresBody(COLUMNS_BODY)
  @DeclaresQuery(TABLE_PARTITION_POST_QUERY)
  tablePartitionPost(@Req() request: FastifyRequest, @Body() body: unknown): Promise<BodyResponse> {
    return this.table(request, body ?? [], 'partition');
  }

  @Scopes(['read:data'])
  @Get(['table/full', 'table/full/*'])
  @RespondsWithBody()
  @ResponseSchema(TABLE_JSON, TABLE_TYPES)
  @DeclaresQuery(TABLE_FULL_QUERY)
  tableFull(@Req() request: FastifyRequest): Promise<BodyResponse> {
    return this.table(request, undefined, 'full');
  }

  @Scopes(['read:data'])
  @Post(['table/full', 'table/full/*'])
  @RespondsWithBody()
  @ResponseSchema(TABLE_JSON, TABLE_TYPES)
  @DeclaresBody(COLUMNS_BODY)
  @DeclaresQuery(EXPORT_QUERY)
  tableFullPost(@Req() request: FastifyRequest, @Body() body: unknown): Promise<BodyResponse> {
    return this.table(request, body ?? [], 'full');
  }

  @Scopes(['read:data'])
  @Get(['container/full', 'container/full/*'])
  @RespondsWithBody()
  @ResponseSchema(CONTAINER_JSON, CONTAINER_TYPES)
  @DeclaresQuery(CONTAINER_FULL_QUERY)
  containerFull(@Req() request: FastifyRequest): Promise<BodyResponse> {
    return this.container(request, undefined);
  }

  @Scopes(['read:data'])
  @Post(['container/full', 'container/full/*'])
  @RespondsWithBody()
  @ResponseSchema(CONTAINER_JSON, CONTAINER_TYPES)
  @DeclaresBody(FIELDS_BODY)
  @DeclaresQuery(EXPORT_QUERY)
  containerFullPost(@Req() request: FastifyRequest, @Body() body: unknown): Promise<BodyResponse> {
    return this.container(request, body ?? []);
  }

  /** Deprecated union of /container/full and /table/full that old clients still call. */
  @Scopes(['read:data'])
  @Get(['node/full', 'node/full/*'])
  @RespondsWithBody()
  @ResponseSchema(CONTAINER_JSON, [...new Set([...CONTAINER_TYPES, ...TABLE_TYPES])])
  @DeclaresQuery(CONTAINER_FULL_QUERY)
  async nodeFull(@Req() request: FastifyRequest): Promise<BodyResponse> {
    const located = await this.locate(request, 'read:data');
    this.catalog.requireFamily(located, ['container', 'table']);
    if (located.node.family === 'table') return this.table(request, undefined, 'full');
    return this.container(request, undefined);
  }

  /** Every route looks its node up here, with the route's scope checked on the node under the access policy. */
  private locate(request: FastifyRequest, scope: RouteScope): Promise<Located> {
    return this.catalog.locateFor(request, [scope]);
  }

  private async locateFamily(request: FastifyRequest, families: string[]): Promise<Located> {
    const located = await this.locate(request, 'read:data');
    this.catalog.requireFamily(located, families);
    return located;
  }

  private async table(request: FastifyRequest, body: unknown, route: 'partition' | 'full'): Promise<BodyResponse> {
    const located = await this.locateFamily(request, ['table']);
    const node = located.node as TableNode;
    const query = queryOf(request);
    const partition = route === 'partition' ? this.data.partitionParam(node, query) : 'all';
    const columns = this.data.columnsRequested(query, body, `/table/${route}`);
    const { type } = negotiate(request, query, TABLE_TYPES, TABLE_DEFAULT);
    return encodedResponse(await this.data.table(node, partition, columns, type), attachment(query));
  }

  private async container(request: FastifyRequest, body: unknown): Promise<BodyResponse> {
    const located = await this.locateFamily(request, ['container']);
    const query = queryOf(request);
    const { type } = negotiate(request, query, CONTAINER_TYPES, CONTAINER_DEFAULT);
    if (body !== undefined && !Array.isArray(body)) {
      throw new TiledHttpError(422, [{ type: 'list_type', loc: ['body'], msg: 'Input should be a valid list', input: body }]);
    }
    const fields = Array.isArray(body) ? body : [query.field ?? []].flat();
    checkListLength(fields.length, Array.isArray(body) ? ['body'] : ['query', 'field']);
    if (type === HDF5) {
      const encoded = await this.data.containerHdf5(located.node, fields.map(String), this.catalog.exportLister(located));
      return encodedResponse(encoded, attachment(query));
    }
    const payload = await this.catalog.containerExport(located, fields.map(String));
    const bytes = Buffer.from(toJson(payload));
    return encodedResponse({ body: bytes, type: 'application/json', etag: etagOf(bytes) }, attachment(query));
  }
}
